"""`HfrRise`: the autofocus trigger's memory of the frames' HFR since the last focus run, for
the plan's ``[grading] hfr_autofocus_ratio`` (issue 93 item 3; N.I.N.A.'s "HFR increase"
trigger), beside the temperature's.

It hears each light frame saved after the last focus run (`Framed`) and its grading
(`Graded`: the frames are measured while the next one exposes, so a verdict comes a frame
late); a frame exposed before the run and graded after it is left out, so a soft frame never
becomes the sharp frames' reference. Frames without a star (clouds) are left out too: they
say nothing of the focus. `why` asks `plan.decisions.hfr_rise_due` for the step's target,
filter and binning. A focus run (whatever its reason) starts the record again.

Memory: the HFRs since the last run. Not restored: a restarted night measures its first
frames again as the reference.
"""

from __future__ import annotations

from ...plan.decisions import hfr_rise_due
from ...plan.grading import Grading
from ...plan.steps import FrameStep
from ..hands import Framed
from ..hands import Graded
from ..hands import News

__all__ = ["HfrRise"]

Kind = tuple[int, str, int]


def _kind(step: FrameStep) -> Kind:
    return step.target_index, str(step.batch.filter), step.batch.binning


class HfrRise:
    """The HFRs of `grading`'s frames (None: the plan grades nothing, nothing is kept)."""

    def __init__(self, grading: Grading | None) -> None:
        self.grading = grading
        self.hfrs: dict[Kind, list[float]] = {}
        self._since: set[str] = set()  # the steps saved since the last focus run

    def hear(self, news: News) -> None:
        if self.grading is None or self.grading.hfr_autofocus_ratio is None:
            return
        if isinstance(news, Framed):
            self._since.add(news.step.id)
        elif isinstance(news, Graded) and news.step.id in self._since and news.stars > 0:
            self._since.discard(news.step.id)
            self.hfrs.setdefault(_kind(news.step), []).append(news.hfr)

    def why(self, step: FrameStep) -> str | None:
        """Why autofocus must run before `step`, by its frames' HFR; None: not by it."""
        grading = self.grading
        if grading is None:
            return None
        return hfr_rise_due(self.hfrs.get(_kind(step), []), grading.hfr_autofocus_ratio,
                            grading.min_frames)

    def focused(self) -> None:
        """A focus run ended: the frames from now on are the reference."""
        self.hfrs.clear()
        self._since.clear()
