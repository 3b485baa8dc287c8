"""`SafetyVerdict`: AGENT_SAFETY and AGENT_SAFETY_CAUSE, a client's verdict (a watchdog's) on
the sky, as the sequencer's face takes it.

UNSAFE (with AGENT_SAFETY_CAUSE's text, set first) holds the running sequence, SAFE lets it go
on; the verdict is kept for the next run (`hand_to`), and only once a client has said one: a
run that was never told keeps what its journal says.
"""

from __future__ import annotations

import logging

from indipydriver.rxevents import newSwitchVector
from indipydriver.rxevents import newTextVector
from indipydriver.vectors import SwitchVector
from indipydriver.vectors import TextVector

from .engine import Sequencer

__all__ = ["SafetyVerdict"]


class SafetyVerdict:
    """The verdict on `safety` (SAFE, UNSAFE) and its cause on `cause`; `logger` the face's
    device's (replaced when the face is attached)."""

    def __init__(self, safety: SwitchVector, cause: TextVector) -> None:
        self.safety = safety
        self.cause = cause
        self.logger = logging.getLogger(__name__)
        #: Whether a client set AGENT_SAFETY: then its verdict, not a journal's, holds a run.
        self.told = False

    async def cause_said(self, event: newTextVector) -> None:
        self.cause["CAUSE"] = str(event.get("CAUSE", self.cause["CAUSE"]))
        await self.cause.send_setVector(state="Ok")

    async def said(self, event: newSwitchVector, sequencer: Sequencer | None) -> None:
        """A client's verdict: UNSAFE (with AGENT_SAFETY_CAUSE's text) or SAFE; the vector is
        Ok once the running `sequencer` has taken it (a sky frame in hand already aborted)."""
        if event.get("UNSAFE") == "On":
            safe = False
        elif event.get("SAFE") == "On":
            safe = True
        else:
            await self.safety.send_setVector(state="Alert", message="set SAFE or UNSAFE On")
            return
        cause = "" if safe else str(self.cause["CAUSE"])
        self.told = True
        self.safety.update({"SAFE": "On" if safe else "Off", "UNSAFE": "Off" if safe else "On"})
        if sequencer is not None:
            await sequencer.set_safety(safe, cause)
        if safe:
            self.logger.info("safe: the sequence may use the sky")
        else:
            self.logger.warning("unsafe (%s): the sequence holds", cause or "no cause given")
        await self.safety.send_setVector(state="Ok")
        if safe and self.cause["CAUSE"]:
            self.cause["CAUSE"] = ""
            await self.cause.send_setVector(state="Ok")

    async def hand_to(self, sequencer: Sequencer) -> None:
        """The verdict a client said, given to a run about to start (none said: nothing)."""
        if self.told:
            await sequencer.set_safety(self.safety["SAFE"] == "On", str(self.cause["CAUSE"]))
