"""`CloudHold`: clouds acted on (issue 93 item 3), where the plan's ``[grading]`` says
``clouds_after``.

Each verdict of the frames' grading is `seen`: ``clouds_after`` frames in a row rejected for
their stars collapsed (`grading.through_cloud`: no star, or fewer than ``clouds_ratio`` of
the median's) hold the night as unsafe weather does: the control's CLOUDS (a verdict of the
sky beside the client's, `control.py`), so no step that needs the sky starts meanwhile, and
with the plan's ``sky_free_while_unsafe`` the darks and bias go on. The hold is journalled (a
note "clouds", ``held`` true with its cause and target), which the notifier tells.

While held, the engine's wait (`holding.wait_held`) awaits `testing()`: the verdicts under
way taken in (the last frames through cloud rejected), then every
``clouds_every`` seconds on the night's clock (the first one that long after the hold began)
a test frame of ``clouds_test`` seconds, binned 2x2, is exposed and measured, never saved
nor counted. Once its stars are over ``clouds_ratio`` of the accepted frames' median
(`grading.clear_again`), the note says ``held`` false and CLEAR lets the night go on by
itself; the frames rejected through cloud are taken again as any rejected frame is. While
a client also says unsafe (rain, a closed dome) no test frame is taken.

Memory: the frames in a row through cloud. Not restored: a night resumed after a restart
takes its next frame, whose grading holds it again if the clouds are still there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from ..plan.grading import Figures
from ..plan.grading import Grading
from ..plan.grading import clear_again
from ..plan.grading import through_cloud
from ..plan.steps import FrameStep
from ..rig.protocols import Frame
from ..rig.protocols import RigError
from ..stars.measureworker import MeasureWorker
from .control import Control
from .control import Event
from .hands import Hands

__all__ = ["TEST_BINNING", "CloudHold"]

logger = logging.getLogger(__name__)

#: A test frame's binning: short and binned, it shows the stars in a few seconds.
TEST_BINNING = 2


class CloudHold:
    """The clouds of `hands`' night under `grading`'s rules, held through `control`, test
    frames measured by the night's `worker` (a process: sep would hold the loop); `accepted`
    gives the accepted frames' figures of a step's kind, `settle` takes the verdicts under
    way in (`GradeWork`'s)."""

    def __init__(self, hands: Hands, grading: Grading | None, control: Control[Any],
                 worker: MeasureWorker, accepted: Callable[[FrameStep], Sequence[Figures]],
                 settle: Callable[[], Awaitable[bool]]) -> None:
        self.hands = hands
        self.settle = settle
        self.worker = worker
        self.grading = grading
        self.control = control
        self.accepted = accepted
        self.in_a_row = 0
        self.cause = ""
        self._last: FrameStep | None = None
        self._testing: asyncio.Future[None] | None = None

    def seen(self, step: FrameStep, reasons: Sequence[str]) -> None:
        """A frame's verdict: counted towards a hold, which begins at ``clouds_after``."""
        grading = self.grading
        if grading is None or grading.clouds_after is None:
            return
        if not through_cloud(reasons, grading):
            self.in_a_row = 0
            return
        self.in_a_row += 1
        self._last = step
        if self.in_a_row < grading.clouds_after or self.control.clouded:
            return
        target = self.hands.plan.targets[step.target_index].name
        self.cause = f"clouds: {self.in_a_row} frames in a row ({reasons[0]})"
        logger.warning("%s: %s: the night holds until a test frame shows the stars", target,
                       self.cause)
        self.hands.journal.note("clouds", held=True, cause=self.cause, target=target)
        self.control.feed(Event.CLOUDS)

    def testing(self) -> asyncio.Future[None] | None:
        """While clouds hold the night: the test frames until one shows the stars (then
        CLEAR fed); None otherwise."""
        if self._testing is not None:  # the engine's wait cancelled it; Python 3.11's
            self._testing.cancel()      # wait_for may swallow a cancel: cancelled again
        if not self.control.clouded or self.grading is None or self._last is None:
            return None
        self._testing = asyncio.ensure_future(self._until_clear(self.grading, self._last))
        return self._testing

    async def _until_clear(self, grading: Grading, step: FrameStep) -> None:
        hands = self.hands
        camera = hands.rig.camera
        target = hands.plan.targets[step.target_index].name
        await self.settle()  # the last frame through cloud judged (and so taken again)
        while self._current():
            await hands.sleep(grading.clouds_every)
            if self.control.told_unsafe:
                continue  # a client's hold too (rain, the dome): no test frame meanwhile
            try:
                frame = await hands.bounded(
                    camera.expose(grading.clouds_test, binning=TEST_BINNING,
                                  frame_type="Light"),
                    grading.clouds_test + hands.camera_margin, camera.name)
                stars = await self._stars(frame)
            except (RigError, ValueError) as error:
                logger.warning("clouds: the test frame failed (%s): tried again later", error)
                continue
            if not clear_again(stars, self.accepted(step), grading):
                logger.info("clouds: a test frame shows %d stars: still held", stars)
                continue
            if not self._current():
                return
            logger.info("clouds: a test frame shows %d stars: the night goes on", stars)
            hands.journal.note("clouds", held=False, target=target, stars=stars)
            self.in_a_row = 0
            self.cause = ""
            self.control.feed(Event.CLEAR)
            return


    async def _stars(self, frame: Frame) -> int:
        """The stars of a test frame (ValueError: not measured, the worker lost too)."""
        try:
            return (await self.worker.measure(frame.data)).stars
        except Exception as error:  # a frame not measured is a failed test
            raise ValueError(f"not measured: {error}") from error

    def _current(self) -> bool:
        """Whether the test frames under way are still wanted: held by clouds, and not left
        behind by another wait's (a cancel Python 3.11's `wait_for` swallowed)."""
        return self.control.clouded and asyncio.current_task() is self._testing
