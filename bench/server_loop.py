#!/usr/bin/env python3
"""Two of our servers chained in a loop (A remote of B, B remote of A): how much traffic a
client of A sees after one set, and after the requests that used to bounce between the two.

A serves the demo thermostat and B indilib's ``indi_simulator_dome``; each refuses its own
device coming back round the loop (``routing.router``). Without that, every element would
circulate for ever: thousands a second. The test (tests/interop/test_server_chain.py) checks
the refusals and that each device stays with its owner; the counts in fixed windows, which a
storm has no event to mark, are here:

- ``after set``: elements a client of A receives in ``--window`` seconds after it sets the
  dome's CONNECTION (a few dozen: the dome driver's answer);
- ``quiet``: elements in the next ``--window`` seconds after it asked for ``device="*"``,
  a device-less enableBLOB and an unknown device, once their replay is over (0 when quiet).

Each rep starts a fresh pair. A run of 2 s windows read 26 elements after the set and 2
quiet; with the refusal taken out of the router, 44,502 and 31,702. Only the processes it starts are stopped.

    python bench/server_loop.py [-r 3] [--window 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from processes import stop_group

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

ROOT = Path(__file__).resolve().parents[1]
DOME = b"Dome Simulator"
CLOSING = re.compile(rb"</(?:def|set|new)\w+Vector>|<delProperty|<message|<pingReply")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server(workdir: Path, port: int, *args: str) -> subprocess.Popen[bytes]:
    """``python -m indipyserver`` of this checkout on `port`, its log in `workdir`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (workdir / f"server-{port}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "indipyserver", "-p", str(port),
         "-u", str(workdir / f"{port}.sock"), *args],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, cwd=workdir)


class Client:
    """A raw client of a server: everything it received, and counts of elements in it."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=0.1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.data = bytearray()
        self.sock.sendall(b'<getProperties version="1.7"/>')

    def pump(self, seconds: float) -> int:
        """Read for `seconds`; the elements that came meanwhile."""
        before = len(CLOSING.findall(self.data))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise SystemExit("the server closed the connection")
            self.data += chunk
        return len(CLOSING.findall(self.data)) - before

    def pump_until(self, needle: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.data:
            if time.monotonic() > deadline:
                raise SystemExit(f"no {needle!r} in {timeout} s")
            self.pump(0.1)


def rep(window: float) -> tuple[int, int]:
    workdir = Path(tempfile.mkdtemp(prefix="server_loop-"))
    port_a, port_b = free_port(), free_port()
    a = server(workdir, port_a, "--demo", f"@127.0.0.1:{port_b}")
    b = server(workdir, port_b, "indi_simulator_dome", f"@127.0.0.1:{port_a}")
    try:
        client = Client(port_a)
        client.pump_until(DOME)
        client.pump(1.0)  # the definitions from both
        client.sock.sendall(b'<newSwitchVector device="Dome Simulator" name="CONNECTION">'
                            b'<oneSwitch name="CONNECT">On</oneSwitch></newSwitchVector>')
        after_set = client.pump(window)
        client.sock.sendall(
            b'<getProperties device="*" version="1.7"/><enableBLOB>Also</enableBLOB>'
            b'<getProperties device="Nowhere" version="1.7"/>')
        client.pump(1.0)  # the cache replay and any hops
        quiet = client.pump(window)
        client.sock.close()
        return after_set, quiet
    finally:
        stop_group(a)
        stop_group(b)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--reps", type=int, default=3)
    parser.add_argument("--window", type=float, default=3.0, help="seconds counted")
    args = parser.parse_args()
    if shutil.which("indi_simulator_dome") is None:
        raise SystemExit("needs indilib's indi_simulator_dome (Debian indi-bin)")
    print(f"elements a client of A receives in {args.window:g} s")
    print(f"{'rep':>3} {'after set':>10} {'quiet':>6}")
    for k in range(args.reps):
        after_set, quiet = rep(args.window)
        print(f"{k + 1:>3} {after_set:>10} {quiet:>6}")


if __name__ == "__main__":
    main()
