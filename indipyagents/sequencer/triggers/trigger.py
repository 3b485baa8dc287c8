"""What every trigger is: a behaviour between frames (NINA's triggers) with its own memory.

Before each frame the engine asks each trigger in turn whether it is `due` (its memory and the
plan through the pure decisions of `plan/decisions.py`), and if so has it `carry_out` its act
through the `Hands`. A trigger keeps its memory itself: it `hear`s the news of the others' acts
and of the steps (a slew, a flip, a frame saved, a hold), journals its act as a note, and
`restore`s its memory from the journal's last note of each kind after a restart. `cards` are
what its memory adds to a frame's FITS header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from indipycore.fits import Card

from ...plan.model import Target
from ...plan.steps import FrameStep
from ..hands import News

#: The journal's last note of each kind (its `JournalState.notes`).
Notes = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class FrameAt:
    """The frame about to be taken: its step, its target, and whether it is unsafe now."""

    step: FrameStep
    target: Target
    unsafe: bool


@dataclass(frozen=True, slots=True)
class Due:
    """Why a trigger is due, in words, and what it read deciding (an hour angle, degrees
    Celsius), so its act need not read it again."""

    why: str
    reading: float | None = None


class Trigger(Protocol):
    def restore(self, notes: Notes) -> None:
        """Memory from the journal's notes, after a restart."""

    def hear(self, news: News) -> None:
        """Memory kept with what the steps and the other triggers did."""

    async def due(self, at: FrameAt) -> Due | None:
        """Whether to act before the frame `at` (None: not now)."""

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        """The act, through the rig; journalled."""

    def cards(self) -> list[Card]:
        """What the memory adds to the frames' headers."""
