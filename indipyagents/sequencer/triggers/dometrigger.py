"""`OpenDome`: never a frame that needs the sky (a light, a flat) through a closed dome.

Before each such frame, the plan's dome (``[devices] dome``) is opened when it is closed: at
the start, and after a hold (the watchdog parked it) or anything else that closed it. The dome
is read at every frame rather than remembered, so a dome closed by anyone is seen.

A dome the watchdog guards (its ACTIVE_DEVICES.ACTIVE_DOME, on the server) that the plan does
not name is not the night's to open: while it is closed the frame is not started, and the night
pauses with the Alert naming the dome (`DeviceRefused`); the user opens it and presses START.
A plan-named dome that is still closed once opened is refused the same way (safety fails
closed).

Memory: none (the dome says where it stands).
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ...rig.protocols import DeviceRefused
from ...rig.protocols import Dome
from ...rig.skyguard import refusal_words
from ..hands import Hands
from ..hands import News
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class OpenDome:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands

    def restore(self, notes: Notes) -> None:
        """Nothing: the dome is read before each frame."""

    def hear(self, news: News) -> None:
        """Nothing to keep: a hold's park is seen on the dome itself."""

    def _domes(self) -> list[tuple[Dome, bool]]:
        """The plan's dome (True: the night opens it), then each other guarded one."""
        rig = self.hands.rig
        found: list[tuple[Dome, bool]] = [] if rig.dome is None else [(rig.dome, True)]
        for dome in () if rig.guarded is None else rig.guarded.domes():
            if all(dome.name != known.name for known, _ in found):
                found.append((dome, False))
        return found

    async def due(self, at: FrameAt) -> Due | None:
        if not at.step.needs_sky:
            return None
        for dome, _ours in self._domes():
            why = dome.closed()
            if why is not None:
                return Due(f"the dome {dome.name!r} is closed ({why})")
        return None

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        for dome, ours in self._domes():
            why = dome.closed()
            if why is None:
                continue
            if not ours:
                raise DeviceRefused(dome.name, _refusal(
                    why, "the plan names no dome to open: open it, then START"))
            logger.info("the dome %r is closed (%s): opening it before %s", dome.name, why,
                        at.step.id)
            await self.hands.move(dome.open(), dome.name)
            still = dome.closed()
            if still is not None:
                raise DeviceRefused(dome.name, _refusal(still, "it did not open"))
            self.hands.journal.note("dome", opened=dome.name, was=why)

    def cards(self) -> list[Card]:
        return []


def _refusal(why: str, then: str) -> str:
    """What SEQUENCE_STATE's Alert says, after the dome's name."""
    return refusal_words(why, then)
