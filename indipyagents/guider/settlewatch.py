"""`SettleWatches`, pure: which settle a request over INDI waits for, and how it ended.

PHD2's clients follow its events (SettleBegin, SettleDone); an INDI client has only the state
of the vector it set. So AGENT_START_PROCESS and AGENT_GUIDER_DITHER stay Busy until the
settle their request began is done, then say Ok, or Alert with PHD2's reason. A request's
settle is the one its own step begins (a dither's, a guide while guiding); a guide that must
first find a star and calibrate begins it frames later, so its watch is pending until the next
SettleBegin, and fails on what ends such a request early: CalibrationFailed, a SettleDone
without a settle begun (no usable star), guiding stopped. A settle ended by a newer one (a
second dither) fails its watch with PHD2's words, "a new settle began". The events are
matched by their types (`events`), never by PHD2's names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .events import CalibrationFailed
from .events import GuideEvent
from .events import GuidingStopped
from .events import LoopingExposuresStopped
from .events import SettleBegin
from .events import SettleDone

__all__ = ["SettleWatches", "Watch"]


@dataclass(eq=False)
class Watch:
    """One request's wait: `name` says whose (the vector's member); `ok` and `reason` once
    `done`."""

    name: str
    serial: int | None = None  # the settle it waits for; None: not begun yet
    done: bool = False
    ok: bool = False
    reason: str = ""

    def end(self, ok: bool, reason: str) -> None:
        if not self.done:
            self.done, self.ok, self.reason = True, ok, reason


class SettleWatches:
    """The watches not done yet, fed each step's events in order (`feed`)."""

    def __init__(self) -> None:
        self.serial = 0  # the settles begun so far
        self.waiting: list[Watch] = []

    def feed(self, events: Iterable[GuideEvent], watch: Watch | None = None) -> list[Watch]:
        """A step's events (`watch`: the request whose own step this is); the watches they
        ended, each once."""
        ended: list[Watch] = []
        mine = [] if watch is None else [watch]

        def finish(found: Watch, ok: bool, reason: str) -> None:
            found.end(ok, reason)
            ended.append(found)

        for event in events:
            pending = [w for w in self.waiting if w.serial is None and not w.done]
            match event:
                case SettleBegin():
                    self.serial += 1
                    for found in mine or pending:
                        found.serial = self.serial
                    mine = []
                case SettleDone(status=status, error=error):
                    reason = "" if status == 0 else str(error or "")
                    for found in self.waiting:
                        if not found.done and found.serial in (self.serial, None):
                            finish(found, status == 0, reason)
                case CalibrationFailed(reason=why):
                    for found in pending:
                        finish(found, False, f"calibration failed: {why}")
                case GuidingStopped() | LoopingExposuresStopped():
                    for found in self.waiting:
                        if not found.done:
                            finish(found, False, "guiding stopped")
        if watch is not None and not watch.done:
            self.waiting.append(watch)
        self.waiting = [w for w in self.waiting if not w.done]
        return ended
