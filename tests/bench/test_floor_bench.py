"""bench/floor.py's reference forwarders: each mode must pass a round trip both ways and outlive
a client that leaves, or the round-trip table would compare the servers with a broken floor."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(port: int, proc: subprocess.Popen[bytes]) -> socket.socket:
    deadline = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    got = b""
    while marker not in got:
        data = sock.recv(65536)
        assert data, f"closed before {marker!r}; got {got[-200:]!r}"
        got += data
    return got


@pytest.mark.parametrize(
    "mode",
    [[], ["--raw"], ["--reader"], ["--inline"], ["--raw", "--busy-before", "1", "--busy-after", "1"]],
    ids=["floor", "rawfloor", "readerfloor", "inlinefloor", "busy"],
)
def test_floor_forwards_a_round_trip_and_outlives_a_client(mode: list[str]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "floor.py"), *mode, str(port), str(BENCH / "trafficdriver.py")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _connect(port, proc).close()  # as run.py's probe does: a client that leaves at once
        with _connect(port, proc) as sock:
            sock.sendall(b'<getProperties version="1.7"/>\n')
            _read_until(sock, b"</defNumberVector>")
            sock.sendall(
                b'<newNumberVector device="Bench" name="NUM"><oneNumber name="v">7</oneNumber>'
                b"</newNumberVector>\n"
            )
            echo = _read_until(sock, b"</setNumberVector>")
            assert b'<setNumberVector device="Bench" name="NUM"' in echo
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert b"Traceback" not in err, err.decode(errors="replace")
