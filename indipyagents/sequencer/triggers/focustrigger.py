"""`AutofocusTrigger`: the injected focus run (`focus/autofocus.py`'s), when the plan says
(`autofocus_due`): at a target's start, on a filter change, every N minutes, on a temperature
change of the focuser's thermometer; and, beside the temperature, when the frames' median HFR
grew past the plan's ``[grading] hfr_autofocus_ratio`` (`hfrrise.HfrRise`). Not before a dark or bias frame while unsafe (it needs
stars). Its HFR and position go into the next frames' headers (AFHFR, AFPOS); a failed run is
journalled and imaging goes on.

Memory: the target of the last frame (a target's start) and its filter, the targets focused,
when and at what temperature the last run was, its HFR and position; all but the first two
restored from the journal's note "autofocus". The frames' HFRs since the last run
(`HfrRise`) are not restored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from indipycore.fits import Card

from ...plan.decisions import autofocus_due
from ..hands import Framed
from ..hands import Framing
from ..hands import Hands
from ..hands import News
from .hfrrise import HfrRise
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class AutofocusTrigger:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.target_now: int | None = None
        self.first_of_target = False
        self.last_filter: object = None
        self.focused: set[int] = set()
        self.time: datetime | None = None
        self.temperature: float | None = None
        self.hfr: float | None = None
        self.position: int | None = None
        self.rise = HfrRise(hands.plan.grading)

    def restore(self, notes: Notes) -> None:
        focus = notes.get("autofocus")
        if focus is None:
            return
        self.focused.add(int(focus["target"]))
        self.time = datetime.fromisoformat(str(focus["at"]))
        self.temperature = focus.get("temperature")
        if focus.get("ok"):
            self.hfr = float(focus["hfr"])
            if focus.get("position") is not None:
                self.position = int(focus["position"])

    def hear(self, news: News) -> None:
        self.rise.hear(news)
        if isinstance(news, Framing):
            self.first_of_target = self.target_now != news.step.target_index
            self.target_now = news.step.target_index
        elif isinstance(news, Framed):
            self.last_filter = news.step.batch.filter

    async def due(self, at: FrameAt) -> Due | None:
        focuser = self.hands.rig.focuser
        if self.hands.focus is None or focuser is None or not at.step.needs_sky and at.unsafe:
            return None
        now = self.hands.clock()
        temperature = await self.hands.move(focuser.temperature(), focuser.name)
        why = autofocus_due(
            self.hands.plan.autofocus_for(at.target),
            first_of_target=self.first_of_target and at.step.target_index not in self.focused,
            filter_changed=self.last_filter is not None
            and at.step.batch.filter != self.last_filter,
            minutes_since=None if self.time is None
            else (now - self.time).total_seconds() / 60.0,
            temperature_moved=None if temperature is None or self.temperature is None
            else temperature - self.temperature) or self.rise.why(at.step)
        return None if why is None else Due(why, temperature)

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        hands, focus, focuser = self.hands, self.hands.focus, self.hands.rig.focuser
        assert focus is not None and focuser is not None
        logger.info("autofocus: %s", due.why)
        settings = hands.plan.autofocus_for(at.target)
        wheel = hands.rig.wheel
        if settings.filter is not None and wheel is not None:
            await hands.move(wheel.select(settings.filter), wheel.name)
        bound = settings.points * (settings.exposure + hands.camera_margin) + hands.move_bound
        result = await hands.bounded(focus(hands.rig.camera, focuser, settings), bound,
                                     focuser.name)
        self.focused.add(at.step.target_index)
        self.rise.focused()
        self.time = hands.clock()
        self.temperature = due.reading
        if result.ok:
            self.hfr = result.hfr
            self.position = result.position
        else:
            logger.warning("autofocus failed (%s): imaging goes on", result.reason)
        hands.journal.note("autofocus", target=at.step.target_index, why=due.why, ok=result.ok,
                           position=result.position, hfr=result.hfr, frames=result.frames,
                           reason=result.reason, at=self.time.isoformat(),
                           temperature=due.reading)

    def cards(self) -> list[Card]:
        cards: list[Card] = []
        if self.hfr is not None:
            cards.append(("AFHFR", round(self.hfr, 3), "HFR of the last autofocus, pixels"))
        if self.position is not None:
            # The camera's FOCUSPOS (where it snoops a focuser) is where the focuser is now;
            # this says where autofocus left it, whatever camera took the frame.
            cards.append(("AFPOS", self.position, "focuser position of the last autofocus"))
        return cards
