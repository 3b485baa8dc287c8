"""bench/zerocopy.py moves every payload by each of the kernel's paths it compares, so the
figures it prints (the reason the server sends with writev, bench/RESULTS.md) measure
payloads that really arrived."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from serverkit import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "zerocopy.py"


@pytest.mark.parametrize("family", ["tcp", "unix"])
@pytest.mark.parametrize("method", ["send", "sendfile", "splice"])
def test_each_method_delivers_the_payload_byte_for_byte(family: str, method: str) -> None:
    """What a method sends is the memfd's content, whole and in order, twice running."""
    zerocopy = load_bench("zerocopy")
    payload = os.urandom(3_000_001)
    memfd = os.memfd_create("zerocopy-test")
    os.write(memfd, payload)
    sender, receiver = zerocopy.pair(family)
    try:
        sender.setblocking(False)
        one = zerocopy.sender_for(method, sender, payload, memfd)
        got = bytearray()
        receiver.setblocking(False)
        thread = threading.Thread(target=lambda: (one(), one()))
        thread.start()
        while len(got) < 2 * len(payload):
            try:
                got += receiver.recv(1 << 20)
            except BlockingIOError:  # nothing to read yet
                select.select([receiver], [], [], 1.0)
        thread.join(10)
        assert bytes(got) == payload * 2
    finally:
        sender.close()
        receiver.close()
        os.close(memfd)


def test_the_command_prints_a_row_per_socket_and_method() -> None:
    """A short run reports all six rows with a speed for each."""
    done = subprocess.run([sys.executable, str(BENCH), "--mb", "0.5", "--count", "5", "-r", "1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines()
            if line.startswith(("| tcp |", "| unix |"))]
    assert [r.split("|")[1:3] for r in rows] == [
        [f" {f} ", f" {m} "] for f in ("tcp", "unix") for m in ("send", "sendfile", "splice")]
    assert all(float(r.split("|")[3].replace(",", "")) > 0 for r in rows)
