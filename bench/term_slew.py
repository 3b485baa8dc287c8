#!/usr/bin/env python3
"""indipyterm beside a slewing mount: the client's CPU while the coordinates move on screen.

What a user on a small computer beside the telescope sees: our server (``indipyserver``)
serves our mount simulator (``indipysimulators.telescope``, slewing at ``--slew-rate``
degrees a second, reporting EQUATORIAL_EOD_COORD four times a second); the terminal client
runs in its own process on a pseudo-terminal (so it draws for real, as over SSH; the bench
reads and discards what it writes) with the mount's screen open at its coordinates. The bench
connects the mount and sends a goto far enough to slew through the whole window, then
measures over ``--seconds``:

* CPU: the client process's user + system time, as a fraction of one core;
* drawn: the bytes the client wrote to its terminal a second;
* refreshes: the app's redraws (each folds in what changed since the last);
* layouts: textual's full re-layouts of the screen (``Screen._refresh_layout``), each a
  reflow of every widget on it: what a value update should not need.

    python bench/term_slew.py                    # 30 s of a 1 deg/s slew, 120x40
    python bench/term_slew.py --seconds 10 --size 80x24

Linux only (``/proc``, ``pty``). Stops only the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEVICE = "Python Mount"
VECTOR = "EQUATORIAL_EOD_COORD"
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

from processes import cpu_seconds
from term_latency import Drawing
from term_latency import child_command
from term_latency import free_port
from term_latency import parsed
from term_latency import python_path
from term_latency import stop
from term_latency import wait_port

DRIVER_SCRIPT = """\
from indipysimulators.telescope import make_driver as _make


def make_driver():
    return _make(slew_rate={rate!r})
"""


# --------------------------------------------------------------------------- the client process


def run_child(port: int, out: Path) -> None:
    """The terminal client with the mount's coordinates on screen; its full re-layouts
    (monotonic times) and refreshes written to `out` when it quits."""
    from textual.screen import Screen

    from indipyterm.app import TermApp
    from indipyterm.devicescreen import DeviceScreen

    layouts: list[float] = []
    original = Screen._refresh_layout

    def counted(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        layouts.append(time.monotonic())
        original(self, *args, **kwargs)

    Screen._refresh_layout = counted  # type: ignore[method-assign]
    ready = out.with_suffix(".ready")
    refreshes: list[float] = []

    class SlewApp(TermApp):
        def on_mount(self) -> None:  # TermApp.on_mount runs too (textual calls each class's)
            self.on_refreshed = lambda _drawn: refreshes.append(time.monotonic())
            self.set_interval(0.2, self.open_mount, name="open-mount")

        def open_mount(self) -> None:
            screen = self.screen
            if isinstance(screen, DeviceScreen):
                panel = screen.panels.get(VECTOR)
                if panel is not None and panel.is_mounted and not ready.exists():
                    ready.write_text("ready")
            elif DEVICE in self.device_names() and self._vector(DEVICE, VECTOR) is not None:
                self.open_device(DEVICE, VECTOR)

    app = SlewApp("127.0.0.1", port, discover=False)
    app.run()
    out.write_text(json.dumps({"layouts": layouts, "refreshes": refreshes}))


# --------------------------------------------------------------------------- the bench


async def connect_and_goto(port: int, slew_seconds: float, rate: float) -> None:
    """Connect the mount and send a goto from the pole, down the meridian, that lasts
    `slew_seconds` at `rate` degrees a second."""
    import indipyclient

    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.set(DEVICE, "CONNECTION", {"CONNECT": "On"})
        coords = await client.wait_for(DEVICE, VECTOR, timeout=20)
        ra = float(coords["RA"])
        dec = max(-30.0, float(coords["DEC"]) - rate * slew_seconds)
        await client.set(DEVICE, VECTOR, {"RA": ra, "DEC": dec}, wait=False)
        await client.wait_for(DEVICE, VECTOR, state="Busy", timeout=10)


async def still_busy(port: int) -> bool:
    import indipyclient

    async with indipyclient.connect("127.0.0.1", port) as client:
        coords = await client.wait_for(DEVICE, VECTOR, timeout=10)
        return str(coords.state) == "Busy"


def bench(seconds: float, rate: float, columns: int, rows: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": python_path()}
    server = pty = None
    with tempfile.TemporaryDirectory(prefix="term-slew-") as folder:
        script = Path(folder) / "slewing_mount.py"
        script.write_text(DRIVER_SCRIPT.format(rate=rate))
        out = Path(folder) / "result.json"
        try:
            server = subprocess.Popen(
                [sys.executable, "-m", "indipyserver", "-p", str(port), "--host", "127.0.0.1",
                 "--no-announce", "--driver-script", str(script)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            wait_port(port, 10)
            pty = Drawing(child_command(__file__, port, out), columns, rows, python_path())
            asyncio.run(connect_and_goto(port, seconds + 15, rate))
            pty.wait_ready(out, "the mount's screen")
            time.sleep(2.0)  # the screen settled, the slew under way
            cpu0, wall0, bytes0 = cpu_seconds(pty.child.pid), time.monotonic(), pty.drawn[0]
            time.sleep(seconds)
            cpu1, wall1, bytes1 = cpu_seconds(pty.child.pid), time.monotonic(), pty.drawn[0]
            slewing = asyncio.run(still_busy(port))
            pty.quit()
            result = json.loads(out.read_text())
        finally:
            if pty is not None:
                pty.close()
            stop(server)
    layouts = [t for t in result["layouts"] if wall0 <= t <= wall1]
    refreshes = [t for t in result["refreshes"] if wall0 <= t <= wall1]
    return {
        "seconds": wall1 - wall0,
        "slew_rate": rate,
        "terminal": f"{columns}x{rows}",
        "cpu_cores": (cpu1 - cpu0) / (wall1 - wall0),
        "drawn_kib_per_s": (bytes1 - bytes0) / 1024 / (wall1 - wall0),
        "layouts": len(layouts),
        "refreshes": len(refreshes),
        "still_slewing": slewing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window (30)")
    parser.add_argument("--slew-rate", type=float, default=1.0, help="degrees a second (1)")
    got = parsed(parser, run_child)
    if got is None:
        return
    args, columns, rows = got
    result = bench(args.seconds, args.slew_rate, columns, rows)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"indipyterm beside a mount slewing at {result['slew_rate']:g} deg/s for "
          f"{result['seconds']:.1f} s, terminal {result['terminal']} (a pty)")
    print(f"  client CPU      {result['cpu_cores']:.3f} of a core")
    print(f"  drawn           {result['drawn_kib_per_s']:.1f} KiB/s")
    print(f"  full layouts    {result['layouts']} ({result['refreshes']} refreshes of the app)")
    print(f"  still slewing at the end: {'yes' if result['still_slewing'] else 'NO'}")


if __name__ == "__main__":
    main()
