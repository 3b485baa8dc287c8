"""`GuidingTrigger`: with a guider agent in the plan's [devices], the light frames of a slewed target
are guided. Before such a frame: the guider is started where it does not guide (the night's
first light frame, after a slew, a meridian flip or a hold, when a watchdog's shutdown
stopped it), and the lights wait for its settle (the plan's [dither] settle); while it has
lost its star (PHD2's LostLock) or calibrates, the lights are held, looking every few
seconds, and go on once it guides again; after the plan's [guiding] lost_wait seconds without
guiding the night pauses with the reason naming the guider (`DeviceRefused`). A star lost
during an exposure does not cut the frame: its GUIDERMS says how it went, its grading rejects
it (``guiding lost during the exposure``, `gradework`), and the next light waits for the
guider started again and settled, as after a slew (issue 93 item 3).

Its cards: GUIDERMS, the RMS guide error (RA and Dec together) of the guide frames from the
moment the lights went (after any dither's settle) to the frame's end, in arcseconds, each
guide frame's error at the pixel scale the guider said with it (AGENT_GUIDER_STATS.PIXEL_SCALE),
and GUIDESCL, the guide pixels' scale; where the guider said no scale, GUIDERMS in guide pixels
(said in its comment) and no GUIDESCL. The grading judges ``guide_rms_max`` on the first
(`gradework` reads it back: the figure of the frame's own exposure).

Memory: whether the mount moved under the guider since it last started (a slew, a flip, a
re-pointing, a hold). Not restored: a restarted run starts the guider again.
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ...rig.protocols import DeviceRefused
from ..hands import Flipped
from ..hands import Framed
from ..hands import Framing
from ..hands import Hands
from ..hands import Held
from ..hands import News
from ..hands import Pointed
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)

#: Seconds between two looks at a guider that has lost its star.
LOOK = 2.0
#: PHD2's states in which the guider is not guiding and must be started.
NOT_STARTED = ("Stopped", "Looping")


class GuidingTrigger:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.moved = True  # the mount moved under the guider since it started (or never did)
        self.armed = False  # the frame in hand is guided: its errors are recorded

    def restore(self, notes: Notes) -> None:
        """Nothing: a restarted run starts the guider again."""

    def hear(self, news: News) -> None:
        if isinstance(news, Slewed | Flipped | Pointed | Held):
            self.moved = True
        elif isinstance(news, Framing):
            self.armed = False
        elif isinstance(news, Framed) and self.armed:
            guider = self.hands.rig.guider
            if guider is not None and guider.lost():
                logger.warning("%s: the guide star was lost during its exposure: the next "
                               "light waits for guiding to settle", news.step.id)
                self.moved = True

    async def due(self, at: FrameAt) -> Due | None:
        guider = self.hands.rig.guider
        if guider is None or at.step.batch.frame_type != "Light" or not at.target.slew:
            return None
        state = await self.hands.move(guider.state(), guider.name)
        if self.moved or state in NOT_STARTED:
            return Due(f"the guider is {state}: start it"
                       + (" (the mount moved)" if self.moved else ""))
        if state != "Guiding":
            return Due(f"the guider is {state}")
        self._arm()
        return None

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        hands, guider = self.hands, self.hands.rig.guider
        assert guider is not None
        settle = hands.plan.dither_for(at.target)
        wait = hands.plan.guiding.lost_wait
        started = hands.clock()
        logger.info("%s: lights held: %s", at.target.name, due.why)
        state = await hands.move(guider.state(), guider.name)
        while state != "Guiding" or self.moved:
            if self.moved or state in NOT_STARTED:
                if state not in NOT_STARTED:
                    await hands.move(guider.stop(), guider.name)  # a new star where it points
                self.moved = False
                await hands.move(guider.guide(settle.settle_pixels, settle.settle,
                                              settle.settle_timeout), guider.name)
                hands.journal.note("guiding", target=at.step.target_index, started=True)
            else:
                waited = (hands.clock() - started).total_seconds()
                if waited >= wait:
                    hands.journal.note("guiding", target=at.step.target_index, started=False,
                                       state=state, waited=waited)
                    raise DeviceRefused(guider.name, f"not guiding for {waited:.0f} s "
                                        f"({state}): the lights wait no longer than "
                                        f"[guiding] lost_wait = {wait:g} s")
                await hands.nap(LOOK, pausable=False)
            state = await hands.move(guider.state(), guider.name)
        logger.info("%s: guiding: the lights go on", at.target.name)
        self._arm()

    def _arm(self) -> None:
        guider = self.hands.rig.guider
        assert guider is not None
        guider.mark()
        self.armed = True

    def cards(self) -> list[Card]:
        guider = self.hands.rig.guider
        rms = None if guider is None or not self.armed else guider.rms()
        if guider is None or rms is None:
            return []
        arcsec = guider.rms_arcsec()
        if arcsec is None:
            return [("GUIDERMS", round(rms, 3), "guide RMS in the exposure, guide pixels")]
        return [("GUIDERMS", round(arcsec, 3), "guide RMS in the exposure, arcseconds"),
                ("GUIDESCL", round(arcsec / rms, 4) if rms else 0.0,
                 "guide camera pixel scale, arcsec per pixel")]
