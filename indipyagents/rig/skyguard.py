"""Pure: which frames need the sky, and the refusal of one through a closed dome.

`sky_refusal` is the one guard every face passes: the camera (`IndiCamera`) asks it before
each exposure it starts, so a batch of indilib's face (BATCH.START), a plan's frame and any
other capture are refused alike while a guarded dome is closed. Lights and flats need the
sky; darks and bias do not (they measure the camera, not the sky: an observer takes them under
a shut roof, on a cloudy night), so they are never refused here; nor is a flat lit by a panel
(its caller says ``sky=False``: the panel is its light, the dome may stay closed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .protocols import DeviceRefused
from .protocols import Dome
from .protocols import GuardedDomes

__all__ = ["SKY_FRAMES", "SkyGuard", "refusal_words", "sky_refusal"]

logger = logging.getLogger(__name__)

#: The frame types that need the sky (the plan's and CCD_FRAME_TYPE's, without FRAME_).
SKY_FRAMES = frozenset({"Light", "Flat"})


def refusal_words(why: str, then: str) -> str:
    """What a refused sky frame says after the dome's name (SEQUENCE_STATE, BATCH)."""
    return (f"the dome is closed ({why}): no light frame or flat is started through it; "
            f"{then}")


def sky_refusal(frame_type: str, domes: Iterable[Dome], *,
                then: str = "open it, then start again") -> DeviceRefused | None:
    """The refusal of a `frame_type` exposure while one of `domes` is closed, naming the
    first closed one; None when the frame needs no sky or every dome is open."""
    if frame_type not in SKY_FRAMES:
        return None
    for dome in domes:
        why = dome.closed()
        if why is not None:
            return DeviceRefused(dome.name, refusal_words(why, then))
    return None


class SkyGuard:
    """`sky_refusal` on the domes `guarded` holds at each call (None: no guard), for the
    camera named `camera`: `refusal` returns it, `check` raises it; each refusal logged."""

    def __init__(self, guarded: GuardedDomes | None, camera: str) -> None:
        self.guarded = guarded
        self.camera = camera

    def refusal(self, frame_type: str, sky: bool | None = None) -> DeviceRefused | None:
        """`sky` False: the frame needs no sky whatever its type (a flat lit by a panel)."""
        if self.guarded is None or sky is False:
            return None
        refused = sky_refusal(frame_type, self.guarded.domes())
        if refused is not None:
            logger.warning("%s: %s exposure refused: %s", self.camera, frame_type, refused)
        return refused

    def check(self, frame_type: str, sky: bool | None = None) -> None:
        refused = self.refusal(frame_type, sky)
        if refused is not None:
            raise refused
