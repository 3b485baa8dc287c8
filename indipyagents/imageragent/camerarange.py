"""`CameraRange`: the sequencer's face's `vet`, a plan's flats checked at load against the
camera's range as the agent's server already shows it.

A flat's ``adu`` (a panel's batch, a sky batch, ``[calibration]``'s) above the camera's full
scale (CCD_INFO's CCD_BITSPERPIXEL: 2**bits - 1) is refused when the plan is loaded, at its
line, not found out at START. The camera says its bits only once it is defined and
connected: where it is not (no such device within `wait` seconds, not connected, no
CCD_INFO, the server out of reach), the load goes on and the factory's check at START
(`plan.check.check_against`, of which `check_levels` is the part used here) is the fallback.
A plan with no adu asked costs no look at all. Nothing is connected or set here.
"""

from __future__ import annotations

import asyncio
import logging

from ..link import AgentLink
from ..plan.check import RigFacts
from ..plan.check import check_levels
from ..plan.model import Plan
from ..plan.needs import needs
from ..plan.toml import PlanError
from ..rig.camera import IndiCamera
from ..rig.indiset import is_connected

__all__ = ["LOOK", "CameraRange"]

logger = logging.getLogger(__name__)

#: Seconds a load waits, at most, for the camera's CCD_INFO (the link just opened: the
#: server's definitions follow its connection); a camera already known costs no wait.
LOOK = 2.0


class CameraRange:
    """The vet on the agent's `link` (opened by the first plan that asks an adu)."""

    def __init__(self, link: AgentLink, wait: float = LOOK) -> None:
        self.link = link
        self.wait = wait

    async def __call__(self, plan: Plan, text: str, source: str) -> None:
        if not any(need.kind == "level" for need in needs(plan)):
            return
        camera = plan.devices.camera
        full = await self.full_scale(camera)
        if full is None:
            logger.info("plan %s: the camera %r does not say its range yet: its flats' adu "
                        "is checked at START", plan.name, camera)
            return
        problems = check_levels(plan, RigFacts(camera=camera, full=full), text=text,
                                source=source)
        if problems:
            raise PlanError.every(problems)

    async def full_scale(self, camera: str) -> float | None:
        """`camera`'s full scale as the server shows it now (`IndiCamera.full_scale`), or
        None where it does not say it within `wait`."""
        try:
            async with asyncio.timeout(self.wait):
                client = await self.link.client()
                await client.wait_for(camera, "CONNECTION", timeout=self.wait)
                if not is_connected(client, camera):  # CCD_INFO is defined once connected
                    return None
                await client.wait_for(camera, "CCD_INFO", timeout=self.wait)
        except (TimeoutError, OSError) as exc:  # ConnectionError is an OSError
            logger.debug("the camera %r's range not seen at load: %s", camera, exc)
            return None
        return IndiCamera(client, camera).full_scale()
