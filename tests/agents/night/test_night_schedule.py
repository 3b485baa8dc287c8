"""Issue 82 item 4, end to end: a plan with a [schedule] run by the Imager Agent our server
hosts beside our simulated camera, wheel and mount (executables), on a night of its own (the
runs' clock starts at 19:00 UTC on 3 December; a sleep passes its time at once, exposures
and slews take theirs): the blocks in the schedule's order, not the plan's, a wait between
two blocks; AGENT_SCHEDULE lists them, SEQUENCE_STATE and PLAN_STATUS say the block in hand;
a hold (AGENT_SAFETY UNSAFE then SAFE) re-plans; a restart (the plan loaded again: a new
Sequencer on the same journal) takes nothing twice."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import TELESCOPE_PROGRAM
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from waiting import until

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan

START = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)


class NightClock:
    """Real time from START, plus every sleep's seconds at once."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.skipped = 0.0

    def clock(self) -> datetime:
        return START + timedelta(seconds=time.monotonic() - self.began + self.skipped)

    async def sleep(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)


def scheduled() -> Plan:
    """Three targets near the pole (always high at the mount's Greenwich): "Low" first in
    the plan but of lower priority than "High"; "Late" only from 20:00."""
    def constrained(name: str, ra: float, dec: float, count: int,
                    **constraints: object) -> object:
        made = target(name, Batch(count, 1.0, "Red"), ra=ra, dec=dec)
        return type(made)(made.name, made.ra, made.dec, made.batches, slew=True,
                          constraints=Constraints(**constraints))  # type: ignore[arg-type]

    return night("scheduled",
                 constrained("Low", 2.0, 80.0, 2, priority=2),  # type: ignore[arg-type]
                 constrained("High", 10.0, 82.0, 3, priority=1),  # type: ignore[arg-type]
                 constrained("Late", 6.0, 85.0, 2, priority=1,  # type: ignore[arg-type]
                             after=START + timedelta(hours=1)),
                 camera=CCD, wheel="Python Filter Wheel", mount="Python Mount",
                 schedule=Schedule(min_altitude=20, frame_overhead=10.0))


def said(client: object) -> str:
    """SEQUENCE_STATE's state and message and the schedule, for a failure's text."""
    state = client.devices.vector(AGENT, "SEQUENCE_STATE")  # type: ignore[attr-defined]
    blocks = client.get(AGENT, "AGENT_SCHEDULE", "BLOCKS")  # type: ignore[attr-defined]
    return f"{state.state.value if state else None} {state.message if state else ''!r} " \
           f"{blocks!r}"


def order_of(files: list[str]) -> list[str]:
    order: list[str] = []
    for name in files:
        if not order or order[-1] != name.split("_")[0]:
            order.append(name.split("_")[0])
    return order


async def test_the_agent_runs_the_schedule_replans_after_a_hold_and_a_restart(
        tmp_path: Path) -> None:
    times = NightClock()
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM,
                      timing={"clock": times.clock, "sleep": times.sleep}) as agent:
        client, frames = agent.client, agent.frames / "night"
        plan = scheduled()
        await load_and_start(client, tmp_path, plan)
        await until(lambda: len(fits_files(frames)) >= 1 if frames.exists() else False, 60,
                    lambda: f"the first frame: {said(client)}")
        listing = client.get(AGENT, "AGENT_SCHEDULE", "BLOCKS")
        assert [line.split(" ")[1] for line in str(listing).splitlines()] == [
            "High", "Low", "Late"], listing
        assert str(client.get(AGENT, "AGENT_SCHEDULE", "IN_HAND")).startswith("block ")
        state = client.devices.vector(AGENT, "SEQUENCE_STATE")
        assert state is not None and "High (3 frames)" in (state.message or "")
        status = client.devices.vector(AGENT, "PLAN_STATUS")
        assert status is not None and "High (3 frames)" in (status.message or "")
        # a hold: the schedule is made again once safe
        await client.set(AGENT, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=10)
        await until(lambda: "held" in (client.devices.vector(
            AGENT, "SEQUENCE_STATE").message or ""), 30, "the hold")  # type: ignore[union-attr]
        before = str(client.get(AGENT, "AGENT_SCHEDULE", "BLOCKS"))
        times.skipped += 20 * 60  # twenty minutes of clouds
        await client.set(AGENT, "AGENT_SAFETY", {"SAFE": "On"}, timeout=10)
        await until(lambda: str(client.get(AGENT, "AGENT_SCHEDULE", "BLOCKS")) != before,
                    30, "the schedule made again")
        after = str(client.get(AGENT, "AGENT_SCHEDULE", "BLOCKS"))
        assert after.splitlines()[0] >= f"{times.clock() - timedelta(minutes=2):%H:%M}"
        # a restart: paused, the plan loaded again (a new Sequencer on the same journal)
        await until(lambda: len(fits_files(frames)) >= 3, 60, "three frames")
        await client.set(AGENT, "AGENT_PAUSE_PROCESS", {"PAUSE": "On"}, wait=False)
        await sequence_ends(client, 60, ("Idle",))
        taken = fits_files(frames)
        await load_and_start(client, tmp_path, plan)
        assert (await sequence_ends(client, 120))[0] == "Ok"
        saved = fits_files(frames)
        assert set(taken) <= set(saved) and len(saved) == 7
        by_time = sorted(saved, key=lambda name: (frames / name).stat().st_mtime_ns)
        assert order_of(by_time) == ["High", "Low", "Late"]
        assert times.clock() > START + timedelta(hours=1)  # waited for Late's block
