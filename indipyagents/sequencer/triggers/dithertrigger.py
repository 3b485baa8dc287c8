"""`DitherTrigger`: after every N light frames of a slewed target (`dither_due`), the mount moved by
a random offset of up to the plan's pixels at the plate scale of the camera's pixel behind the
mount's focal length (times the frame's binning): as guide pulses at the mount's guide rates
where it takes them, else a small slew off the target (`rig.dither`); then a settle. Never
after the last frame: it is asked before a frame.

With `method = "guider"` the plan's guider agent dithers by up to `pixels` of its guide
camera and the frame waits for its settle (PHD2's: within `settle_pixels` for `settle`
seconds, `settle_timeout` at most). A dither that did not settle in time is logged and
journalled and the frame goes on (as NINA's and Ekos's do); the `GuidingTrigger`, asked
before it, has made sure the guider guides.

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
from ...rig.protocols import DeviceRefused
from ..hands import Flipped
from ..hands import Framed
from ..hands import Hands
from ..hands import News
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class DitherTrigger:
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
        dither = self.hands.plan.dither_for(at.target)
        rig = self.hands.rig
        if at.step.batch.frame_type != "Light" or not at.target.slew \
                or (rig.guider if dither.method == "guider" else rig.mount) is None \
                or not dither_due(self.frames_since, dither):
            return None
        return Due(f"{self.frames_since} light frames since the last")

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        if self.hands.plan.dither_for(at.target).method == "guider":
            await self._by_guider(at, due)
            return
        hands, target = self.hands, at.target
        mount = hands.rig.mount
        assert mount is not None and target.ra is not None and target.dec is not None
        dither = hands.plan.dither_for(target)
        scale = plate_scale(await hands.rig.camera.wait_pixel_size(), mount.focal_length()) \
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

    async def _by_guider(self, at: FrameAt, due: Due) -> None:
        hands, guider = self.hands, self.hands.rig.guider
        assert guider is not None
        dither = hands.plan.dither_for(at.target)
        logger.debug("%s: dither by %s: %s", at.target.name, guider.name, due.why)
        reason = ""
        try:
            await hands.move(guider.dither(dither.pixels, dither.settle_pixels, dither.settle,
                                           dither.settle_timeout), guider.name)
        except DeviceRefused as refused:
            reason = refused.reason
            logger.warning("%s: the dither did not settle (%s): the frame goes on",
                           at.target.name, reason)
        self.frames_since = 0
        hands.journal.note("dither", method="guider", guider=guider.name,
                           pixels=dither.pixels, settled=not reason, reason=reason)

    def cards(self) -> list[Card]:
        return []
