"""What the same work costs when it comes alone: CPU per message, back to back and after a gap.

    python bench/wakecost.py                 # 2,000 messages back to back, 300 at each gap
    python bench/wakecost.py -n 500 --gaps 0 0.01

Issue 61 item 2 measures ``mqtttoredis``'s CPU per stored message with ``bench/fleet.py``: about
0.16-0.19 ms at 100-300 sites (1,000-3,000 messages a second), and 0.22-0.35 ms at 10 sites
(100 a second), where the process sleeps between messages. This times the bridge's own work on
one message with no I/O at all -- ``parse_element``, ``StoreWriter.apply`` and the RESP bytes
of its commands, on a fleet reading (``fleet.reading``) of a defined device -- in one thread, by
``time.thread_time``, once back to back and once after each gap (``time.sleep``), the fleet's
gaps: 1 ms (a burst), 10 ms (10 sites' bursts), 100 ms (one site's). A reference that is not
the bridge's code (``json`` round trip of a dict of the same size) is timed the same way, so
that what the machine charges a thread that has just slept is told apart from the bridge.

The figure per gap is the median of the messages' CPU times, with the ratio to back to back.
Standard library and the project only; no broker, no redis.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fleet

from indipycore.protocol.parser import parse_element
from indiredis.fromxml import StoreWriter
from indiredis.redisside import _now
from indiredis.respwriter import commands_of
from indiredis.respwriter import pack

SITE = fleet.site_name(1)


def store_work() -> Callable[[int], object]:
    """The bridge's work on message ``i``: parsed, applied to the store's model, packed."""
    writer = StoreWriter()
    for data in fleet.definitions(SITE):
        event = parse_element(data)
        assert event is not None
        writer.apply(event, None, _now())

    def one(i: int) -> object:
        data = fleet.reading(fleet.device_name(SITE, i % fleet.DEVICES), 100 + i / 1000)
        event = parse_element(data)
        assert event is not None
        commands = []
        for op in writer.apply(event, None, _now()):
            commands += commands_of(op)
        return pack(commands)

    return one


def json_work() -> Callable[[int], object]:
    """A reference of about the same size that is not the bridge's: a dict through json."""
    def one(i: int) -> object:
        values = {"name": "value", "timestamp": _now(), "value": f"{100 + i / 1000:.3f}",
                  "float_number": repr(100 + i / 1000), "min": "0", "max": "1000",
                  "step": "0", "format": "%.3f", "label": "Value", "timeout": "0"}
        return json.loads(json.dumps(values)).get("value")

    return one


def cpu_per_message(work: Callable[[int], object], count: int, gap: float) -> float:
    """Median thread CPU (s) of one call of ``work``, each after ``gap`` s asleep."""
    times: list[float] = []
    for i in range(count):
        if gap:
            time.sleep(gap)
        start = time.thread_time()
        work(i)
        times.append(time.thread_time() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="messages back to back (2000)")
    parser.add_argument("--at-gap", type=int, default=300, help="messages at each gap (300)")
    parser.add_argument("--gaps", type=float, nargs="+", default=[0.0, 0.001, 0.01, 0.1],
                        help="seconds asleep before each message (0 0.001 0.01 0.1)")
    ns = parser.parse_args(argv)
    works = {"mqtttoredis store path": store_work(), "json reference": json_work()}
    for work in works.values():  # warmed: imports, first calls
        for i in range(200):
            work(i)
    print("| work | gap ms | us CPU a message (median) | x back to back |")
    print("|---|---:|---:|---:|")
    for name, work in works.items():
        base = 0.0
        for gap in ns.gaps:
            cpu = cpu_per_message(work, ns.n if gap == 0 else ns.at_gap, gap)
            base = base or cpu
            print(f"| {name} | {gap * 1000:g} | {cpu * 1e6:.1f} | {cpu / base:.1f} |",
                  flush=True)
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
