"""`LibraryDarks`: the night takes only the darks its dark library lacks (issue 92 item 4).

At the first frame of each batch of the plan's `LIBRARY_TARGET` (`calframes.tonight`: its
darks come last, or during a hold with ``sky_free_while_unsafe``), the batch's need is made
from the lights (and flats: their flat-darks) saved tonight (`calframes.sheet.night_frames`:
their setting and exposure, their median temperature): when none of it was taken tonight
(unless the night is held: then darks cost no sky and are taken), or the library has fresh
darks within the tolerance, the batch's frames are skipped (`SkipFrame`, journalled with
why); else they are taken, and each dark saved is kept in the library (`DarkLibrary.keep`:
an older set of the same key replaced). Its bias batches (`with_library_darks`' `biases`) the
same, by setting and temperature (`library.bias_needs_of`). Without a `NightLibrary` on the hands (a plan that
keeps no library), it does nothing.

Memory: each library batch's decision, journalled ("library", batch and take), so a night
resumed after a crash keeps taking (or skipping) what it decided.
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ...calframes.facts import same_exposure
from ...calframes.library import bias_needs_of
from ...calframes.library import needs_of
from ...calframes.sheet import night_frames
from ...calframes.tonight import LIBRARY_TARGET
from ...calframes.tonight import NightLibrary
from ...plan.steps import FrameStep
from ..hands import Framed
from ..hands import Hands
from ..hands import News
from ..hands import SkipFrame
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)


class LibraryDarks:
    def __init__(self, hands: Hands) -> None:
        self.hands = hands
        self.decided: dict[int, bool] = {}  # batch index -> taken
        self.why: dict[int, str] = {}  # batch index -> the decision's reason

    @property
    def night(self) -> NightLibrary | None:
        return self.hands.night_library

    def restore(self, notes: Notes) -> None:
        note = notes.get("library")
        if note is not None:
            self.decided = {int(k): bool(v) for k, v in dict(note.get("decided", {})).items()}
            self.why = {int(k): str(v) for k, v in dict(note.get("why", {})).items()}

    def hear(self, news: News) -> None:
        night = self.night
        if night is not None and isinstance(news, Framed) and self._ours(news.step):
            kept = night.library.keep([night.folder / news.step.file_name])
            logger.info("dark library: %s kept", ", ".join(map(str, kept)))

    def _ours(self, step: FrameStep) -> bool:
        plan = self.hands.plan
        return plan.targets[step.target_index].name == LIBRARY_TARGET \
            and step.batch.frame_type in ("Dark", "Bias")

    async def due(self, at: FrameAt) -> Due | None:
        night = self.night
        if night is None or not self._ours(at.step):
            return None
        index = at.step.batch_index
        if index not in self.decided:
            lacks, why = self.lacks(night, at.step, held=at.unsafe)
            self.decided[index], self.why[index] = lacks, why
            self.hands.journal.note("library", decided=self.decided, why=self.why)
            logger.info("dark library, %s: %s", at.step.id, why)
        if not self.decided[index]:
            raise SkipFrame(self.why.get(index, "the dark library has them"))
        return None

    def lacks(self, night: NightLibrary, step: FrameStep, *, held: bool = False
              ) -> tuple[bool, str]:
        """Whether the library lacks the darks of `step`'s batch for tonight's lights; with
        none of them taken yet, taken only while `held` (the sky closed: they cost no sky)."""
        batch = step.batch
        lights = [frame for frame in night_frames(night.folder) if frame.kind in ("Light", "Flat")
                  and frame.setting.binning == batch.binning
                  and frame.setting.gain == batch.gain and frame.setting.offset == batch.offset]
        bias = batch.frame_type == "Bias"
        needs = bias_needs_of(lights) if bias else \
            [need for need in needs_of(lights) if same_exposure(need.exposure, batch.exposure)]
        what = f"bin {batch.binning}" if bias else f"{batch.exposure:g} s"
        if not needs:
            if held:
                return True, (f"no light of {what} yet, but the sky is closed: "
                              f"fresh {'bias' if bias else 'darks'} cost nothing now")
            return False, f"no light of {what} was taken tonight"
        lacking = night.library.lacking(needs, self.hands.clock())
        if not lacking:
            return False, f"the library has fresh {'frames' if bias else 'darks'} for {needs[0]}"
        return True, f"the library lacks {'frames' if bias else 'darks'} for {lacking[0]}"

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        """Nothing: `due` decides (and skips) alone."""

    def cards(self) -> list[Card]:
        return []
