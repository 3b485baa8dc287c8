"""The scheduler's figures (issue 82 item 7): many targets over many nights, and a re-plan
after a hold.

    python bench/schedule.py                       # 50 targets, 30 nights, 5 reps
    python bench/schedule.py --targets 100 --nights 60 --reps 3

The plan: `--targets` targets spread over the sky (seeded: RA anywhere, Dec -30..+85), one to
three batches each of 10-60 frames of 60-600 s, priorities 1-20, min_altitude 25-40, the Moon
kept 20-60 degrees away, from 48 N 2 E, nights from 2026-12-01. Timed in-process with
`time.perf_counter` (the schedule is pure: no I/O to wait for):

- the whole schedule, every night's sky and every target's windows computed afresh
  (`greedy.schedule`), against the issue's bar of 10 s;
- a re-plan after a hold: the first night scheduled, its frames done up to 23:00 UTC, the night
  held 45 minutes, then `greedy.replan` from 23:45 with what is left, for tonight (the bar: 1 s)
  and for every night left.

Medians and ranges over `--reps`; exit status 1 if a median misses its bar.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.schedule.frames import remaining_of
from indipyagents.schedule.greedy import replan
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.sky import Place

SITE = Place(48.0, 2.0, 100.0)
FIRST = date(2026, 12, 1)
HOLD_AT = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
RESUME_AT = datetime(2026, 12, 1, 23, 45, tzinfo=UTC)
WHOLE_BAR = 10.0
REPLAN_BAR = 1.0


def make_plan(count: int, seed: int = 82) -> Plan:
    rng = random.Random(seed)
    targets = []
    for index in range(count):
        batches = tuple(Batch(rng.randint(10, 60), float(rng.choice((60, 120, 300, 600))),
                              filter=rng.choice(("L", "R", "G", "B", "Ha")))
                        for _ in range(rng.randint(1, 3)))
        targets.append(Target(
            f"T{index:03d}", rng.uniform(0, 24), rng.uniform(-30, 85), batches=batches,
            constraints=Constraints(min_altitude=rng.uniform(25, 40),
                                    moon_separation=rng.uniform(20, 60),
                                    priority=rng.randint(1, 20))))
    return Plan("bench", tuple(targets), devices=Devices(mount="Telescope Simulator"),
                schedule=Schedule())


CPU: list[float] = []


def timed(call: object) -> tuple[float, object]:
    """Wall-clock seconds (the bar's) and the result; the process's CPU seconds go to `CPU`
    (on a shared machine the wall clock also counts the others' load)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = call()  # type: ignore[operator]
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, result


def summary(label: str, seconds: list[float], cpu: list[float], bar: float | None) -> bool:
    median = statistics.median(seconds)
    verdict = "" if bar is None else (f"  (bar {bar:g} s: {'met' if median < bar else 'MISSED'})")
    print(f"{label}: median {median:.3f} s, range {min(seconds):.3f}-{max(seconds):.3f} s "
          f"(CPU median {statistics.median(cpu):.3f} s) over {len(seconds)} reps{verdict}")
    return bar is None or median < bar


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", type=int, default=50)
    p.add_argument("--nights", type=int, default=30)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    plan = make_plan(args.targets)
    frames = sum(b.count for t in plan.targets for b in t.batches)
    print(f"{args.targets} targets, {frames} frames, {args.nights} nights from {FIRST} "
          f"at {SITE.latitude} N {SITE.longitude} E")
    whole, tonight, rest = [], [], []
    for _ in range(args.reps):
        seconds, result = timed(lambda: schedule(plan, SITE, FIRST, args.nights))
        whole.append(seconds)
    whole_cpu = CPU[:]
    CPU.clear()
    assert hasattr(result, "nights")
    blocks = sum(len(night.blocks) for night in result.nights)
    print(f"  {blocks} blocks; {len(result.unschedulable)} targets with frames left")
    first, = schedule(plan, SITE, FIRST, 1).nights
    done = [[0] * len(t.batches) for t in plan.targets]
    for block in first.blocks:
        if block.end <= HOLD_AT:
            left = block.frames
            for b, batch in enumerate(plan.targets[block.index].batches):
                take = min(left, batch.count - done[block.index][b])
                done[block.index][b] += take
                left -= take
    remaining = remaining_of(plan, done)
    for _ in range(args.reps):
        tonight.append(timed(lambda: replan(plan, SITE, RESUME_AT, remaining))[0])
        rest.append(timed(lambda: replan(plan, SITE, RESUME_AT, remaining, args.nights))[0])
    ok = summary(f"whole schedule, {args.targets} targets x {args.nights} nights", whole,
                 whole_cpu, WHOLE_BAR if (args.targets, args.nights) == (50, 30) else None)
    ok = summary("re-plan after a 45 min hold, tonight", tonight, CPU[0::2],
                 REPLAN_BAR) and ok
    summary(f"re-plan after a 45 min hold, {args.nights} nights", rest, CPU[1::2], None)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
