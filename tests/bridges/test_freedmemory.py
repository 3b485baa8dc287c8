"""indiredis.freedmemory: a bridge process reuses the pages of the BLOB buffers it freed.
Each check runs in a process of its own: the setting is the whole process's."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# One BLOB's buffers as a bridge makes them: the element joined from its pieces (kept until
# the next one, as paho keeps a QoS 2 message), paho's packet of it and its slices.
_ROUNDS = """
import resource
from indiredis.freedmemory import keep_freed_memory
print(keep_freed_memory())
N = 13_500_000
src = bytes(N)
kept = None
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    joined = b"".join([src[:N // 2], src[N // 2:]])
    packet = bytearray(joined)
    part = packet[3_000_000:]
    rest = part[4_000_000:]
    del packet, part, rest
    kept = joined
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sum(faults[4:]))
"""


def _run(env: dict[str, str]) -> list[str]:
    env = {**env, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _ROUNDS], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout.split()


def test_blob_sized_buffers_reuse_freed_pages_once_set() -> None:
    """With the thresholds set, eight more BLOBs' worth of buffers after the first ones fault
    in fewer pages than one element holds (glibc's defaults map and unmap them afresh)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    applied, faults = _run(env)
    assert applied == "True"
    assert int(faults) < 13_500_000 // 4096


def test_the_environment_s_own_malloc_settings_win() -> None:
    """A MALLOC_TRIM_THRESHOLD_ in the environment: nothing is set over it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    applied, _ = _run({**env, "MALLOC_TRIM_THRESHOLD_": str(1 << 20)})
    assert applied == "False"
