#!/usr/bin/env python3
"""indipyterm under a stream of sets: its CPU, its memory, and how late the screen is.

Our server runs ``bench/trafficdriver.py``; the terminal client runs in its own process on a
pseudo-terminal (so it draws for real, as over SSH: every frame is written out and the bench
reads and discards it) with the ``Bench`` device's screen open, where ``NUM`` is shown. The
driver then writes ``--rate`` setNumberVector a second for ``--seconds``, each value the
wall-clock time it was written (``prepare kind=clock``). Measured:

* latency, each time the screen has been refreshed with a new ``NUM`` (textual's
  ``call_after_refresh``), from the driver writing a set to the widget showing it (the
  server's hop included), two ways: the age of the value shown (how stale the screen is) and
  the age of the *first* set folded into that refresh (the longest any change waited, at most
  a refresh interval more); p50, p99 and max over the refreshes;
* CPU: the client process's user + system time over the stream, as a fraction of one core;
* RSS: sampled every 0.25 s from ``/proc``; peak, and the first-seconds vs last-seconds
  medians (flat means memory does not grow with the stream).

Targets (issue 31): p99 under 200 ms, CPU under half a core, RSS flat after the first seconds.
``--theirs VENV`` runs bernie-skipole's indipyterm (PyPI) the same way after ours: the same
server, driver, stream and terminal, its Bench device opened with a mouse click; its CPU and
RSS are measured, not its latency (nothing in it says when a widget showed a value).

    python bench/term_latency.py                  # 1,000 sets/s for 30 s
    python bench/term_latency.py --seconds 5      # a short smoke run
    python bench/term_latency.py --theirs /tmp/indipyterm-venv   # and bernie-skipole's 0.1.x

Linux only (``/proc``, ``pty``). Stops only the processes it started.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DRIVER = HERE / "trafficdriver.py"
DEVICE = "Bench"
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

from indirequests import control
from processes import cpu_seconds
from processes import rss_mib

# --------------------------------------------------------------------------- the client process


def run_child(port: int, out: Path) -> None:
    """The terminal client with the Bench device open; latencies to `out` when it quits."""
    sys.path.insert(0, str(REPO))
    from indipyterm.app import TermApp
    from indipyterm.devicescreen import DeviceScreen
    from indipyterm.vectorinfo import VectorInfo

    latencies: list[float] = []  # age of the value shown
    waits: list[float] = []  # age of the oldest set folded into that refresh
    first_unshown: list[float] = []  # send time of the first set since the last refresh
    ready = out.with_suffix(".ready")

    class BenchApp(TermApp):
        def on_mount(self) -> None:
            # textual calls TermApp.on_mount itself (it runs each class's handler): calling it
            # here too started a second refresh timer, so the screen was redrawn twice as often
            # as the app's own interval and the client's CPU was that of two redraw loops.
            self.on_refreshed = self.measure
            self.set_interval(0.2, self.open_bench, name="open-bench")

        def open_bench(self) -> None:
            screen = self.screen
            if isinstance(screen, DeviceScreen):
                if "NUM" in screen.panels and not ready.exists():
                    ready.write_text("ready")
            elif DEVICE in self.device_names():
                self.open_device(DEVICE)  # NUM is in the first tab

        def _on_event(self, event: Any) -> None:
            if event.eventtype == "Set" and event.vectorname == "NUM" and not first_unshown:
                first_unshown.append(float(event["v"]))
            super()._on_event(event)

        def measure(self, drawn: Sequence[VectorInfo]) -> None:
            for info in drawn:
                if info.devicename == DEVICE and info.name == "NUM":
                    member = info.member("v")
                    if member is None:
                        continue
                    sent = float(member.value)
                    first = first_unshown.pop() if first_unshown else sent
                    if sent > 1e9 and first > 1e9:  # clock values, not the initial 0

                        def shown(sent: float = sent, first: float = first) -> None:
                            now = time.time()
                            latencies.append(now - sent)
                            waits.append(now - first)

                        self.call_after_refresh(shown)

    app = BenchApp("127.0.0.1", port)
    app.run()
    out.write_text(json.dumps({
        "latencies": latencies,
        "waits": waits,
        "refreshes": app.refreshes,
        "events": app.coalescer.noted,
        "dropped": app.stream.dropped if app.stream is not None else None,
    }))


# --------------------------------------------------------------------------- the bench


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listening on port {port} after {timeout} s")


def command(port: int, text: str) -> None:
    """Send the traffic driver a command through the server (BENCH_CONTROL)."""
    with socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(control(text, DEVICE))
        time.sleep(0.2)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def python_path() -> str:
    """The repository first, then whatever PYTHONPATH already held."""
    return os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)


def spawn_client(
    command: list[str], columns: int, rows: int, pythonpath: str
) -> tuple[subprocess.Popen[bytes], int]:
    """A client on a pseudo-terminal of the given size; returns it and the master side."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "PYTHONPATH": pythonpath}
    child = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    return child, master


def drain(master: int, counter: list[int], tail: bytearray) -> None:
    """Read and discard what the client draws (a terminal would show it); the last 64 KiB
    are kept to tell what is on the screen, and to explain a client that fails."""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        if not data:
            return
        counter[0] += len(data)
        tail[:] = (tail + data)[-65536:]


_ESCAPE = re.compile(rb"\x1b\[[0-9;<>?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def plain(tail: bytearray) -> bytes:
    """What a terminal drew, without its escape sequences (text only, roughly in order)."""
    return _ESCAPE.sub(b"", bytes(tail))


class Drawing:
    """`command` on a pseudo-terminal of `columns` x `rows` (`spawn_client`), what it draws
    read and discarded on a thread (`drain`): the bytes so far in ``drawn[0]``, the last
    64 KiB in `tail`."""

    def __init__(self, command: list[str], columns: int, rows: int, pythonpath: str) -> None:
        self.child, self.master = spawn_client(command, columns, rows, pythonpath)
        self.drawn = [0]
        self.tail = bytearray()
        threading.Thread(target=drain, args=(self.master, self.drawn, self.tail),
                         daemon=True).start()

    def wait_ready(self, out: Path, what: str) -> None:
        """Until our client child says its screen is open (it writes `out` with the suffix
        ``.ready``); SystemExit with what it drew if it ends or 30 s pass first."""
        deadline = time.monotonic() + 30
        while not out.with_suffix(".ready").exists():
            if self.child.poll() is not None or time.monotonic() > deadline:
                shown = plain(self.tail)[-2000:].decode(errors="replace")
                raise SystemExit(f"the client did not open {what}:\n{shown}")
            time.sleep(0.1)

    def quit(self) -> None:
        """ctrl+q, as a user quits; the client's end waited for."""
        os.write(self.master, b"\x11")
        self.child.wait(timeout=20)

    def close(self) -> None:
        """The client stopped if it still runs, the terminal closed."""
        stop(self.child)
        with contextlib.suppress(OSError):
            os.close(self.master)


def child_command(script: str, port: int, out: Path) -> list[str]:
    """The command that runs `script` as its own client child (`parsed`'s ``--child``)."""
    return [sys.executable, str(Path(script).resolve()), "--child", "--port", str(port),
            "--out", str(out)]


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """A child stopped if it still runs: SIGTERM, then a kill after 10 s."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def parsed(parser: argparse.ArgumentParser, run_child: Callable[[int, Path], None]
           ) -> tuple[argparse.Namespace, int, int] | None:
    """`parser`'s arguments (each terminal bench's own options first) with the ones every
    terminal bench takes, and the terminal's size: (arguments, columns, rows). None when this
    process was the client child (``--child``, started by the bench on the pty with
    ``--port`` and ``--out``): `run_child` has run it."""
    parser.add_argument("--size", default="120x40", help="terminal COLUMNSxROWS (120x40)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.port, args.out)
        return None
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    return args, columns, rows


def open_theirs(pty: Drawing) -> None:
    """bernie-skipole's indipyterm: a device is a button on its start screen, which only a
    click opens reliably; click it (an SGR mouse press and release, as a terminal sends)."""
    deadline = time.monotonic() + 30
    while b"Bench" not in plain(pty.tail):
        if pty.child.poll() is not None or time.monotonic() > deadline:
            shown = plain(pty.tail)[-2000:].decode(errors="replace")
            raise SystemExit(f"their client did not list the Bench device:\n{shown}")
        time.sleep(0.1)
    time.sleep(1.0)
    # The Devices pane is the left third; the first device's button is on the 4th row.
    os.write(pty.master, b"\x1b[<0;19;4M")
    os.write(pty.master, b"\x1b[<0;19;4m")
    deadline = time.monotonic() + 30
    while b"Inputnewnumber" not in plain(pty.tail).replace(b" ", b""):
        if pty.child.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("their client did not open the Bench device screen")
        time.sleep(0.1)
    time.sleep(1.0)


def bench(
    rate: float, seconds: float, columns: int, rows: int, theirs: Path | None = None
) -> dict[str, Any]:
    """One run of ours (theirs None) or of bernie-skipole's indipyterm installed in the venv
    `theirs` (no latency then: it has no hook to read the widget's time from)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": python_path()}
    server = subprocess.Popen(
        [sys.executable, "-m", "indipyserver", "-p", str(port), "--host", "127.0.0.1",
         str(DRIVER)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    pty = None
    try:
        wait_port(port, 10)
        with tempfile.TemporaryDirectory(prefix="term-latency-") as folder:
            out = Path(folder) / "result.json"
            if theirs is None:
                pty = Drawing(child_command(__file__, port, out), columns, rows, python_path())
                pty.wait_ready(out, "the Bench device screen")
            else:
                argv = [str(theirs / "bin" / "indipyterm"), "--port", str(port)]
                pty = Drawing(argv, columns, rows, "")
                open_theirs(pty)
            command(port, f"prepare id=1 kind=clock rate={rate:g} seconds={seconds:g}")
            time.sleep(0.5)
            samples: list[tuple[float, float]] = []
            cpu0, wall0, bytes0 = cpu_seconds(pty.child.pid), time.monotonic(), pty.drawn[0]
            command(port, "go id=1")
            while time.monotonic() - wall0 < seconds:
                samples.append((time.monotonic() - wall0, rss_mib(pty.child.pid)))
                time.sleep(0.25)
            cpu1, wall1, bytes1 = cpu_seconds(pty.child.pid), time.monotonic(), pty.drawn[0]
            time.sleep(1.0)  # the last refreshes
            pty.quit()
            result = (
                json.loads(out.read_text()) if theirs is None
                else {"latencies": [], "waits": [], "refreshes": None, "events": None,
                      "dropped": None}
            )
    finally:
        if pty is not None:
            pty.close()
        stop(server)

    latencies_ms = [1000 * x for x in result["latencies"]]
    waits_ms = [1000 * x for x in result["waits"]]
    rss = [mib for _, mib in samples]
    early = [mib for t, mib in samples if 2.0 <= t < 2.0 + max(1.0, seconds / 6)]
    late = [mib for t, mib in samples if t >= seconds - max(1.0, seconds / 6)]
    return {
        "client": "ours" if theirs is None else f"bernie-skipole's indipyterm ({theirs})",
        "rate": rate,
        "seconds": seconds,
        "terminal": f"{columns}x{rows}",
        "cpu_cores": (cpu1 - cpu0) / (wall1 - wall0),
        "rss_peak_mib": max(rss) if rss else 0.0,
        "rss_early_mib": statistics.median(early) if early else float("nan"),
        "rss_late_mib": statistics.median(late) if late else float("nan"),
        "latency_p50_ms": percentile(latencies_ms, 0.50) if latencies_ms else float("nan"),
        "latency_p99_ms": percentile(latencies_ms, 0.99) if latencies_ms else float("nan"),
        "latency_max_ms": max(latencies_ms) if latencies_ms else float("nan"),
        "wait_p50_ms": percentile(waits_ms, 0.50) if waits_ms else float("nan"),
        "wait_p99_ms": percentile(waits_ms, 0.99) if waits_ms else float("nan"),
        "wait_max_ms": max(waits_ms) if waits_ms else float("nan"),
        "samples": len(latencies_ms),
        "refreshes": result["refreshes"],
        "events": result["events"],
        "dropped": result["dropped"],
        "drawn_kib_per_s": (bytes1 - bytes0) / 1024 / (wall1 - wall0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="sets a second (1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the stream (30)")
    parser.add_argument(
        "--theirs", type=Path, metavar="VENV",
        help="also run bernie-skipole's indipyterm from this venv (created with "
             "`python -m venv VENV && VENV/bin/pip install indipyterm` when missing); CPU and "
             "RSS only",
    )
    got = parsed(parser, run_child)
    if got is None:
        return
    args, columns, rows = got
    results = [bench(args.rate, args.seconds, columns, rows)]
    if args.theirs is not None:
        if not (args.theirs / "bin" / "indipyterm").exists():
            subprocess.run([sys.executable, "-m", "venv", str(args.theirs)], check=True)
            subprocess.run([str(args.theirs / "bin" / "pip"), "install", "-q", "indipyterm"],
                           check=True)
        results.append(bench(args.rate, args.seconds, columns, rows, args.theirs))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for result in results:
        report(result)


def report(result: dict[str, Any]) -> None:
    print(f"{result['client']}: {result['rate']:g} setNumberVector/s for {result['seconds']:g} s, "
          f"terminal {result['terminal']} (a pty; drawn {result['drawn_kib_per_s']:.0f} KiB/s)")
    if result["samples"]:
        print(f"  value shown, its age   p50 {result['latency_p50_ms']:.1f} ms   "
              f"p99 {result['latency_p99_ms']:.1f} ms   max {result['latency_max_ms']:.1f} ms   "
              f"({result['samples']} refreshes of NUM)")
        print(f"  first set of a refresh p50 {result['wait_p50_ms']:.1f} ms   "
              f"p99 {result['wait_p99_ms']:.1f} ms   max {result['wait_max_ms']:.1f} ms   "
              f"(set -> widget for the earliest set each refresh folds in; target p99 < 200 ms)")
    else:
        print("  latency                not measured (no hook into this client)")
    print(f"  client CPU             {result['cpu_cores']:.2f} of a core (target < 0.5)")
    print(f"  client RSS             peak {result['rss_peak_mib']:.1f} MiB; "
          f"early {result['rss_early_mib']:.1f} MiB, late {result['rss_late_mib']:.1f} MiB "
          f"(target: flat)")
    if result["events"] is not None:
        print(f"  events read {result['events']}, dropped by the client's stream "
              f"{result['dropped']}, screen refreshes {result['refreshes']}")

if __name__ == "__main__":
    main()
