"""Issue 89 item 10 at START: a plan naming two devices the server does not hold (a typo in
each name) is refused naming both in one START, not one START at a time. Our server with the
Imager Agent and our CCD simulator; the plan's wheel and mount are nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import night
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import QUICK_RETRY
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Target

pytestmark = pytest.mark.timeout(120)

WHEEL, MOUNT = "Filter Nowhere", "Mount Nowhere"


async def test_start_names_every_device_the_server_does_not_hold(tmp_path: Path,
                                                                 tmp_home: Path) -> None:
    """START: SEQUENCE_STATE Alert naming the wheel and the mount, each as not held by the
    server (about 11 s: the wheel waited for 10 s, `DEFINITION_WAIT`, the mount then 1 s)."""
    plan = night("typos", Target("M42", 5.588, -5.39, batches=(Batch(1, 1.0, "Red"),)),
                 camera=CCD, wheel=WHEEL, mount=MOUNT)
    async with hosted(tmp_path, CCD_PROGRAM, retry=QUICK_RETRY) as rig:
        await load_and_start(rig.client, tmp_path, plan)
        state, message = await sequence_ends(rig.client, 60)
    assert state == "Alert", message
    assert f"{WHEEL}: the INDI server at " in message and "has no such device" in message, \
        message
    assert f"{MOUNT}: the INDI server at " in message, message
