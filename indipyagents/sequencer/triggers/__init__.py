"""The behaviours between frames, one small object each with its own memory (`trigger.py`
says what a trigger is): the dome opened (or the night paused while a guarded dome is
closed), pointing the mount again after a restart or a hold, the meridian flip, the dither,
autofocus; and the dark library's darks taken only where it lacks them. They are asked in
the order of `KINDS` before each frame: the library's decision first (a dark it has is not
taken, nor anything done for it), then the dome (nothing
else is worth doing through a closed one), then the mount pointed, a flip before a dither (a flip resets the dither's count), the centring after
both moves and before the dither, autofocus last,
where the mount will stay. A new trigger is a new module and a line in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..hands import Hands
from .centre import CentreTarget
from .dithertrigger import DitherTrigger
from .dometrigger import OpenDome
from .flip import MeridianFlip
from .focustrigger import AutofocusTrigger
from .guiding import GuidingTrigger
from .librarydarks import LibraryDarks
from .repoint import Repoint
from .trigger import Due
from .trigger import FrameAt
from .trigger import Trigger

__all__ = ["KINDS", "Due", "FrameAt", "Trigger", "triggers"]

#: Every trigger, in the order they are asked before a frame.
KINDS: tuple[Callable[[Hands], Trigger], ...] = (LibraryDarks, OpenDome, Repoint, MeridianFlip,
                                                 CentreTarget, GuidingTrigger, DitherTrigger,
                                                 AutofocusTrigger)


def triggers(hands: Hands) -> list[Trigger]:
    """One of each kind, acting through `hands`."""
    return [kind(hands) for kind in KINDS]
