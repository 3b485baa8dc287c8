"""bench/floor.py's reference forwarders: each mode must pass a round trip both ways and outlive
a client that leaves, or the round-trip table would compare the servers with a broken floor."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serverkit import load_bench

from indipycore.protocol import PingReply
from indipycore.protocol import PingRequest
from indipycore.protocol import serialise

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
    [[], ["--raw"], ["--reader"], ["--inline"], ["--raw", "--busy-before", "1", "--busy-after", "1"],
     ["--raw", "--socket"]],
    ids=["floor", "rawfloor", "readerfloor", "inlinefloor", "busy", "sockfloor"],
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


def test_the_socket_floor_answers_each_ping_once_even_cut_across_reads() -> None:
    """sockfloor answers the driver's pingRequests (the BLOB streams' driver writes a BLOB and
    its ping, then waits for the reply), once each, wherever a read cuts the BLOB or the ping:
    a request answered twice or never would stall or skew the BLOB table's floor row."""
    floor = load_bench("floor")
    pings = [serialise(PingRequest(f"SetBLOB/{k}")) for k in range(3)]
    blob = b"<setBLOBVector>" + b"A" * 3000 + b"</setBLOBVector>\n"
    for cut in range(1, len(blob) + len(pings[0])):
        sent: list[bytes] = []
        pings_seen = floor.PingAnswerer(sent.append)
        for ping in pings:  # what the driver writes before it waits: a BLOB, then its ping
            written = blob + ping
            for piece in (written[:cut], written[cut:]):
                if piece:
                    pings_seen.feed(memoryview(piece))
        assert sent == [serialise(PingReply(f"SetBLOB/{k}")).rstrip() for k in range(3)], cut


def test_run_times_each_floor_only_where_it_measures_something() -> None:
    """`run.py --servers ...,sockfloor` times the socket floor in the BLOB streams only (the
    others need an INDI server or a pipe driver), the other floors in the round trip only,
    and the servers everywhere."""
    run = load_bench("run")
    assert run.floor_runs("sockfloor", "blob") and run.floor_runs("sockfloor", "blobharness")
    assert not run.floor_runs("sockfloor", "roundtrip")
    assert run.floor_runs("rawfloor", "roundtrip") and not run.floor_runs("rawfloor", "blob")
    assert all(run.floor_runs(k, s) for k in ("ours", "indiserver") for s in ("blob", "burst"))
