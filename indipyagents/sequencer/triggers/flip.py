"""`MeridianFlip`: once per target, at the first light frame after its hour angle passed the
plan's limit (`flip_due`), the same target slewed to again so a German mount changes sides,
then a settle; never while a frame is exposed (steps never overlap). A mount still on the same
side afterwards would track the tube into the pier: `DeviceRefused`, the night pauses and
START tries the flip again.

Memory: each target's pier side after its slew (note "slew") and the targets flipped (note
"flip"), both restored after a restart.
"""

from __future__ import annotations

import logging

from indipycore import astro
from indipycore.fits import Card

from ...plan.decisions import flip_due
from ...plan.decisions import hour_angle
from ...rig.protocols import DeviceRefused
from ..hands import Flipped
from ..hands import Hands
from ..hands import News
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class MeridianFlip:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.pier_before: dict[int, str | None] = {}
        self.flipped: set[int] = set()

    def restore(self, notes: Notes) -> None:
        slew = notes.get("slew")
        if slew is not None:
            self.pier_before[int(slew["target"])] = slew.get("pier_side")
        flip = notes.get("flip")
        if flip is not None:
            self.flipped.add(int(flip["target"]))

    def hear(self, news: News) -> None:
        if isinstance(news, Slewed):
            self.pier_before[news.target] = news.pier_side
            self.flipped.discard(news.target)
        elif isinstance(news, Flipped):
            self.flipped.add(news.target)

    async def due(self, at: FrameAt) -> Due | None:
        index, target = at.step.target_index, at.target
        if at.step.batch.frame_type != "Light" or not target.slew \
                or self.hands.rig.mount is None or index in self.flipped \
                or target.ra is None or target.dec is None:
            return None
        site = await self.hands.site()
        if site is None:
            return None
        now = self.hands.clock()
        ra, _dec = astro.precess_from_j2000(target.ra, target.dec, now)
        angle = hour_angle(ra, astro.local_sidereal_time(now, site.longitude))
        flip = self.hands.plan.flip_for(target)
        if not flip_due(angle, flip, self.pier_before.get(index)):
            return None
        return Due(f"hour angle {angle:.2f} degrees, past {flip.hour_angle_limit:.2f}", angle)

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        hands, index, target = self.hands, at.step.target_index, at.target
        mount = hands.rig.mount
        assert mount is not None and target.ra is not None and target.dec is not None
        logger.info("%s: %s: meridian flip", target.name, due.why)
        await hands.move(mount.slew_to(target.ra, target.dec), mount.name)
        side = await hands.move(mount.pier_side(), mount.name)
        if side is not None and side == self.pier_before.get(index):
            # Still tracking on the same side, past the meridian: the next frames would run
            # the tube towards the pier. The night pauses; START tries the flip again.
            raise DeviceRefused(mount.name, f"still on the {side} side after the meridian "
                                "flip's slew: it did not flip (its meridian limits?)")
        hands.tell(Flipped(index, side))
        hands.journal.note("flip", target=index, hour_angle=due.reading, pier_side=side)
        await hands.nap(hands.plan.flip_for(target).settle, pausable=False)

    def cards(self) -> list[Card]:
        return []
