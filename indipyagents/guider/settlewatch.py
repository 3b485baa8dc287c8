"""`SettleWatches`, pure: which settle a request over INDI waits for, and how it ended.

PHD2's clients follow its events (SettleBegin, SettleDone); an INDI client has only the state
of the vector it set. So AGENT_START_PROCESS and AGENT_GUIDER_DITHER stay Busy until the
settle their request began is done, then say Ok, or Alert with PHD2's reason. A request's
settle is the one its own step begins (a dither's, a guide while guiding); a guide that must
first find a star and calibrate begins it frames later, so its watch is pending until the next
SettleBegin, and fails on what ends such a request early: CalibrationFailed, a SettleDone
without a settle begun (no usable star), guiding stopped. A settle ended by a newer one (a
second dither) fails its watch with PHD2's words, "a new settle began".
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SettleWatches", "Watch"]

Event = tuple[str, Mapping[str, Any]]
STOPPED = ("GuidingStopped", "LoopingExposuresStopped")


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

    def feed(self, events: Iterable[Event], watch: Watch | None = None) -> list[Watch]:
        """A step's events (`watch`: the request whose own step this is); the watches they
        ended, each once."""
        ended: list[Watch] = []
        mine = [] if watch is None else [watch]

        def finish(found: Watch, ok: bool, reason: str) -> None:
            found.end(ok, reason)
            ended.append(found)

        for name, fields in events:
            pending = [w for w in self.waiting if w.serial is None and not w.done]
            if name == "SettleBegin":
                self.serial += 1
                for found in mine or pending:
                    found.serial = self.serial
                mine = []
            elif name == "SettleDone":
                ok = fields.get("Status") == 0
                reason = str(fields.get("Error", "")) if not ok else ""
                for found in self.waiting:
                    if not found.done and (found.serial == self.serial or found.serial is None):
                        finish(found, ok, reason)
            elif name == "CalibrationFailed":
                for found in pending:
                    finish(found, False, f"calibration failed: {fields.get('Reason', '')}")
            elif name in STOPPED:
                for found in self.waiting:
                    if not found.done:
                        finish(found, False, "guiding stopped")
        if watch is not None and not watch.done:
            self.waiting.append(watch)
        self.waiting = [w for w in self.waiting if not w.done]
        return ended
