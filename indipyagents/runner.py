"""`Runner`: one runner at a time on an agent's camera.

indilib's face (BATCH.START) and the sequencer's (AGENT_START_PROCESS: SEQUENCE, FOCUSING)
sit on one device and drive the same camera. Each once checked only its own task, so a plan
started during a batch exposed beside it on the same camera. The assembly gives both faces
one `Runner`: a start claims it by saying what runs ("a batch", "the sequence 'M42'",
"focusing"); a second start while it is held is refused at once with `Busy`, which names
what runs, and what runs is left alone. The claim is released when the run ends, whichever
way (done, failed, aborted, cancelled).
"""

from __future__ import annotations

import logging

__all__ = ["Busy", "Claim", "Runner"]

logger = logging.getLogger(__name__)


class Busy(Exception):
    """A start refused: `running` (e.g. "a batch") holds the agent's camera."""

    def __init__(self, running: str) -> None:
        super().__init__(f"{running} runs: abort it or wait for its end")
        self.running = running


class Claim:
    """The camera held by one run until `release` (which may be called more than once)."""

    def __init__(self, runner: Runner, what: str) -> None:
        self._runner = runner
        self.what = what

    @property
    def held(self) -> bool:
        return self._runner._claim is self

    def release(self) -> None:
        if self._runner._claim is self:
            self._runner._claim = None
            logger.debug("%s ended: the camera is free", self.what)


class Runner:
    """Who runs on the agent's camera now, if anyone. Claims are taken and checked in one
    step, with no await in between, so two starts in the same loop never both win."""

    def __init__(self) -> None:
        self._claim: Claim | None = None

    @property
    def running(self) -> str | None:
        """What runs ("a batch", ...), or None."""
        return self._claim.what if self._claim is not None else None

    def claim(self, what: str) -> Claim:
        """Hold the camera for `what`; `Busy` naming what runs when another holds it."""
        if self._claim is not None:
            raise Busy(self._claim.what)
        self._claim = Claim(self, what)
        return self._claim
