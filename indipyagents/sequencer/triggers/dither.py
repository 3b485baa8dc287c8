"""`Dither`: after every N light frames of a slewed target (`dither_due`), the mount moved by
a random offset of up to the plan's pixels at the plate scale of the camera's pixel behind the
mount's focal length (times the frame's binning): as guide pulses at the mount's guide rates
where it takes them, else a small slew off the target (`rig.dither`); then a settle. Never
after the last frame: it is asked before a frame.

Memory: the light frames since the target's slew, its flip or the last dither. Not restored:
a restarted run counts from its next frame.
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ...plan.decisions import dither_due
from ...rig.dither import apply
from ...rig.dither import plate_scale
from ...rig.dither import random_offset
from ..hands import Flipped
from ..hands import Framed
from ..hands import Hands
from ..hands import News
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class Dither:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.frames_since = 0

    def restore(self, notes: Notes) -> None:
        """Nothing: the count starts again after a restart."""

    def hear(self, news: News) -> None:
        if isinstance(news, Slewed | Flipped):
            self.frames_since = 0
        elif isinstance(news, Framed) and news.step.batch.frame_type == "Light":
            self.frames_since += 1

    async def due(self, at: FrameAt) -> Due | None:
        if at.step.batch.frame_type != "Light" or not at.target.slew \
                or self.hands.rig.mount is None \
                or not dither_due(self.frames_since, self.hands.plan.dither_for(at.target)):
            return None
        return Due(f"{self.frames_since} light frames since the last")

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        hands, target = self.hands, at.target
        mount = hands.rig.mount
        assert mount is not None and target.ra is not None and target.dec is not None
        dither = hands.plan.dither_for(target)
        scale = plate_scale(hands.rig.camera.pixel_size(), mount.focal_length()) \
            * at.step.batch.binning
        offset = random_offset(hands.rng, dither.pixels, scale)
        pulses = dither.method == "pulse" and mount.can_pulse()
        logger.debug("%s: dither: %s", target.name, due.why)
        await hands.move(apply(mount, offset, target=(target.ra, target.dec),
                               rates=mount.guide_rates(), by_pulses=pulses), mount.name)
        self.frames_since = 0
        hands.journal.note("dither", method="pulse" if pulses else "offset",
                           north_arcsec=offset.north, west_arcsec=offset.west,
                           arcsec_per_pixel=scale)
        await hands.nap(dither.settle, pausable=False)

    def cards(self) -> list[Card]:
        return []
