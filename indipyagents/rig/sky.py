"""Pure: which frames need the sky, and the refusal of one through a closed dome.

`sky_refusal` is the one guard every face passes: the camera (`IndiCamera`) asks it before
each exposure it starts, so a batch of indilib's face (BATCH.START), a plan's frame and any
other capture are refused alike while a guarded dome is closed. Lights and flats need the
sky; darks and bias do not (they measure the camera, not the sky: an observer takes them under
a shut roof, on a cloudy night), so they are never refused here.
"""

from __future__ import annotations

from collections.abc import Iterable

from .protocols import DeviceRefused
from .protocols import Dome

__all__ = ["SKY_FRAMES", "refusal_words", "sky_refusal"]

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
