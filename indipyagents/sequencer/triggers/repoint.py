"""`Repoint`: the mount pointed at the target again before a frame that needs the sky, when
this run has not pointed it there: after a restart (the slew is journalled done, but a mount
whose driver or power came back may point anywhere: our simulator starts at the pole) and after
a hold (a watchdog may have parked it). The flip's memory is kept (the mount picks the side).

Memory: the targets pointed at by this run. Not restored: after a restart nothing is.
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ..hands import Flipped
from ..hands import Hands
from ..hands import Held
from ..hands import News
from ..hands import Pointed
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class Repoint:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.pointed: set[int] = set()

    def restore(self, notes: Notes) -> None:
        """Nothing: a restarted run has pointed at nothing yet."""

    def hear(self, news: News) -> None:
        if isinstance(news, Slewed | Flipped | Pointed):
            self.pointed.add(news.target)
        elif isinstance(news, Held):
            self.pointed.clear()

    async def due(self, at: FrameAt) -> Due | None:
        index = at.step.target_index
        if not at.step.needs_sky or not at.target.slew or self.hands.rig.mount is None \
                or index in self.pointed:
            return None
        return Due("the mount may point elsewhere (a restart, a hold)")

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        mount, target = self.hands.rig.mount, at.target
        assert mount is not None and target.ra is not None and target.dec is not None
        logger.info("%s: pointing the mount at it again: %s", target.name, due.why)
        await self.hands.move(mount.unpark(), mount.name)
        await self.hands.move(mount.slew_to(target.ra, target.dec), mount.name)
        self.hands.tell(Pointed(at.step.target_index))
        self.hands.journal.note("repoint", target=at.step.target_index)

    def cards(self) -> list[Card]:
        return []
