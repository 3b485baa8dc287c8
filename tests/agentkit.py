"""The agents' tests' one kit: the agent's device name, plans built from the model (`Plan`,
`Target`, `Batch`) and written with the package's own `plan_to_toml`, and a plan run on an
agent through its vectors. A test that is about the TOML text itself (a parse error and its
line) keeps its text; every other test builds its plan here, so a change to the plan's format
is made once, in `plan/toml.py`."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import cast

import indipyclient
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import End
from indipyagents.plan.model import FrameType
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.toml import plan_to_toml

#: The agent's device, as indilib's ``indi_imager_agent`` names it: what a client of either
#: asks for, so the tests spell it out rather than take it from our code.
AGENT = "Imager Agent"


def night(name: str, *targets: Target, folder: str = "night", camera: str,
          wheel: str = "", focuser: str = "", mount: str = "", dome: str = "",
          park: bool = False, warm: bool = False, close_dome: bool = False,
          **settings: Any) -> Plan:
    """A plan of `targets` on the devices named; by default its end parks, closes and warms
    nothing (a test's night leaves its rig as it was). `settings`: the plan's other parts
    (dither, autofocus, flip, safety, site)."""
    return Plan(name, targets, Devices(camera, wheel, focuser, mount, dome), folder,
                end=End(park=park, warm=warm, close_dome=close_dome), **settings)


def target(name: str, *batches: Batch, ra: float | None = None, dec: float | None = None,
           slew: bool | None = None) -> Target:
    """A target and its batches, in order; slewed to when it has coordinates (unless `slew`
    says), as a plan file that leaves out ``slew`` means."""
    return Target(name, ra, dec, batches, slew=ra is not None if slew is None else slew)


def write_plan(path: Path, plan: Plan) -> Path:
    """`plan` written to `path` as the TOML a user would write; `path`."""
    path.write_text(plan_to_toml(plan))
    return path


def darks_plan(camera: str, wheel: str = "", *, folder: str = "night", filter: str = "",
               count: int = 2, exposure: float = 0.5, kind: str = "") -> str:
    """A plan of `count` frames with no slew (dark frames, or light through `filter` when
    a wheel is named, unless `kind` says), its end warming the camera only."""
    batch = Batch(count, exposure, filter or None,
                  frame_type=cast(FrameType, kind or ("Light" if wheel else "Dark")))
    return plan_to_toml(night("anywhere", target("Here", batch), folder=folder, camera=camera,
                              wheel=wheel, warm=True))


async def run_plan(port: int, plan: Path, images: Path, timeout: float = 120) -> str:
    """Load `plan` on the agent of the server at `port`, save under `images`, start it and
    return SEQUENCE_STATE's state at its end (with its message on failure)."""
    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(images)}, timeout=10)
        loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(plan)}, timeout=10)
        assert loaded.ok, loaded
        await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        vector = await client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"),
                                       timeout=timeout)
        return f"{vector.state} {vector.message}".strip()


class NightClock:
    """A night of the agent's runs' own (issue 82's tests): real time from `start`, plus every
    sleep's seconds at once, so a wait between two blocks or two nights passes in a moment
    while exposures and slews take theirs. From `hold_from` on (a moment of the night), a
    sleep waits for `release` first (`held` is set then): a test looks at the agent between
    two nights, then lets the day pass or aborts."""

    def __init__(self, start: datetime, hold_from: datetime | None = None) -> None:
        self.start = start
        self.began = time.monotonic()
        self.skipped = 0.0
        self.hold_from = hold_from
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    def clock(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began + self.skipped)

    async def sleep(self, seconds: float) -> None:
        if self.hold_from is not None and self.clock() >= self.hold_from:
            self.held.set()
            await self.release.wait()
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)
