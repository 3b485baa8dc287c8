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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from processes import free_ports
from processes import stop_group
from rawclient import Hub
from rawclient import RawClient

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

ROOT = Path(__file__).resolve().parents[1]
DOME = b"Dome Simulator"


def server(workdir: Path, port: int, *args: str) -> subprocess.Popen[bytes]:
    """``python -m indipyserver`` of this checkout on `port`, its log in `workdir`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (workdir / f"server-{port}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "indipyserver", "-p", str(port),
         "-u", str(workdir / f"{port}.sock"), *args],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, cwd=workdir)


#: The elements counted: each closing tag of a vector and each one-tag element.
ELEMENTS = {f"{verb}{kind}": b"</" + f"{verb}{kind}Vector".encode() + b">"  # a byte pattern
            for verb in ("def", "set", "new")
            for kind in ("Text", "Number", "Switch", "Light", "BLOB")}
ELEMENTS |= {"del": b"<delProperty", "message": b"<message", "ping": b"<pingReply"}


class Client(RawClient):
    """A raw client of a server (bench/rawclient.py) counting the elements it receives, and
    the dome's name."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                super().__init__("127.0.0.1", port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for key, pattern in (*ELEMENTS.items(), ("dome", DOME)):
            self.watch(key, pattern)
        self.focus(*ELEMENTS, "dome")
        self.send(b'<getProperties version="1.7"/>')

    def elements(self) -> int:
        return sum(self.counts[key] for key in ELEMENTS)

    def pump(self, seconds: float) -> int:
        """Read for `seconds`; the elements that came meanwhile."""
        before = self.elements()
        self._read_until(lambda: False, seconds)
        return self.elements() - before

    def pump_until_dome(self, timeout: float = 30) -> None:
        if not self._read_until(lambda: self.counts["dome"] > 0, timeout):
            raise SystemExit(f"no {DOME!r} in {timeout} s")

    def _read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        hub = Hub([self])
        try:
            met = hub.run_until(lambda: done() or self.eof, timeout)
        finally:
            hub.close()
        if self.eof:
            raise SystemExit("the server closed the connection")
        return met


def rep(window: float) -> tuple[int, int]:
    workdir = Path(tempfile.mkdtemp(prefix="server_loop-"))
    port_a, port_b = free_ports(2)
    a = server(workdir, port_a, "--demo", f"@127.0.0.1:{port_b}")
    b = server(workdir, port_b, "indi_simulator_dome", f"@127.0.0.1:{port_a}")
    try:
        client = Client(port_a)
        client.pump_until_dome()
        client.pump(1.0)  # the definitions from both
        client.send(b'<newSwitchVector device="Dome Simulator" name="CONNECTION">'
                    b'<oneSwitch name="CONNECT">On</oneSwitch></newSwitchVector>')
        after_set = client.pump(window)
        client.send(
            b'<getProperties device="*" version="1.7"/><enableBLOB>Also</enableBLOB>'
            b'<getProperties device="Nowhere" version="1.7"/>')
        client.pump(1.0)  # the cache replay and any hops
        quiet = client.pump(window)
        client.close()
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
