"""indipy-conform on a server it cannot reach: it says why at once and ends, rather than waiting
its whole timeout for a server that has already refused (issue 58)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_a_refused_connection_ends_the_check_at_once_with_the_reason(
        free_port: int) -> None:
    """Nothing listens on the port: exit 2 with one line naming the server and the system's
    reason, long before the 120 s it was told to wait (it used to wait them all out and say
    only "could not connect within")."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "indipyconform", "-h", "127.0.0.1", "-p",
        str(free_port), "-t", "120", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(process.communicate(), 110)
    assert time.monotonic() - started < 60
    assert process.returncode == 2 and out == b""
    assert err.decode().splitlines() == [
        f"indipy-conform: cannot reach an INDI server at 127.0.0.1:{free_port}: "
        "Connection refused"]
