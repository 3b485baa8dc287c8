"""The dark library: darks' raw frames kept across nights in a folder of the agent's, keyed
by camera, binning, gain, offset, exposure and sensor temperature (within a tolerance), each
with its date (DATE-OBS), as Ekos's dark library keeps them (its defaults: 1 C, 30 days).

`lacking` (pure) says which of tonight's needs (`DarkNeed`: a light group's setting, exposure
and temperature) the library has no fresh dark for: a dark older than `max_age_days` does not
count, so it is taken again and `DarkLibrary.keep` replaces it (the darks it supersedes, of
the same key, older, are removed once the new ones are kept whole).

Bias frames are kept the same way (``darks = "library"``: by camera, binning, gain, offset and
temperature within the tolerance, replaced after `max_age_days`): a `DarkNeed` of kind
"Bias" (`bias_needs_of`), kept below ``.../bias/``.

A library's frames sit below its folder by key (``<camera>/bin1_gain100_offset10/30s/
2026-11-28_-10C/NAME.fits``): a person can see and prune it, and the headers stay
the truth (the library is read by reading them, never by trusting the path).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from indipycore.fits import FITSError
from indipycore.fits import read_header

from ..journal.durable import fsync_folder
from ..journal.durable import write_whole
from ..plan.model import FrameType
from ..plan.steps import sanitise
from .facts import FrameFacts
from .facts import Setting
from .facts import same_exposure
from .matching import TOLERANCE
from .matching import dark_matches
from .matching import median_temperature
from .matching import near

__all__ = ["DarkLibrary", "DarkNeed", "bias_needs_of", "found", "lacking", "needs_of",
           "superseded"]

log = logging.getLogger(__name__)

#: Ekos's default: a dark older than this many days is taken again.
MAX_AGE_DAYS = 30.0
#: Darks taken within this of one another are one set (one night's): a dark kept replaces
#: only those of its key taken longer before it.
SET_SPAN = timedelta(hours=12)
#: The frame types the library keeps.
KEPT: tuple[FrameType, ...] = ("Dark", "Bias")
#: Bytes of a frame read to find its header (a header of 16 blocks is a long one).
HEADER_BYTES = 2880 * 16


@dataclass(frozen=True, slots=True)
class DarkNeed:
    """Darks a group of lights needs: their setting, exposure (s) and temperature (C); of
    `kind` "Bias": the bias frames of their setting and temperature (exposure 0)."""

    setting: Setting
    exposure: float
    temperature: float | None
    kind: FrameType = "Dark"

    def __str__(self) -> str:
        s = self.setting
        temperature = "no cooler" if self.temperature is None else f"{self.temperature:g} C"
        what = "bias" if self.kind == "Bias" else f"{self.exposure:g} s"
        return (f"{s.camera or 'camera'} bin {s.binning}, gain {s.gain}, offset {s.offset}, "
                f"{what} at {temperature}")

    def met_by(self, frame: FrameFacts, tolerance: float) -> bool:
        """Whether `frame` (fresh or not) meets this need."""
        if self.kind == "Bias":
            return frame.kind == "Bias" and frame.setting == self.setting \
                and near(frame.temperature, self.temperature, tolerance)
        return dark_matches(frame, self.setting, self.exposure, self.temperature, tolerance)


def needs_of(lights: Iterable[FrameFacts]) -> list[DarkNeed]:
    """The darks `lights` need: one need per setting and exposure, at their median
    temperature, in the order first seen."""
    groups: list[list[FrameFacts]] = []
    for light in lights:
        for group in groups:
            if group[0].setting == light.setting and same_exposure(group[0].exposure,
                                                                   light.exposure):
                group.append(light)
                break
        else:
            groups.append([light])
    return [DarkNeed(g[0].setting, g[0].exposure, median_temperature(g)) for g in groups]


def bias_needs_of(frames: Iterable[FrameFacts]) -> list[DarkNeed]:
    """The bias frames `frames` need: one need per setting, at their median temperature."""
    settings: list[list[FrameFacts]] = []
    for frame in frames:
        group = next((g for g in settings if g[0].setting == frame.setting), None)
        if group is None:
            settings.append([frame])
        else:
            group.append(frame)
    return [DarkNeed(g[0].setting, 0.0, median_temperature(g), "Bias") for g in settings]


def fresh(dark: FrameFacts, now: datetime, max_age_days: float) -> bool:
    """Whether `dark` is young enough to be used `now`."""
    return now - dark.taken <= timedelta(days=max_age_days)


def found(need: DarkNeed, darks: Iterable[FrameFacts], now: datetime,
          max_age_days: float = MAX_AGE_DAYS, tolerance: float = TOLERANCE) -> list[FrameFacts]:
    """The fresh darks (or bias frames, for a need of that kind) of `darks` that meet
    `need`."""
    return [dark for dark in darks
            if need.met_by(dark, tolerance) and fresh(dark, now, max_age_days)]


def lacking(needs: Iterable[DarkNeed], darks: Sequence[FrameFacts], now: datetime,
            max_age_days: float = MAX_AGE_DAYS,
            tolerance: float = TOLERANCE) -> list[DarkNeed]:
    """The needs the library's `darks` meet with no fresh dark: what the night must take."""
    return [need for need in needs if not found(need, darks, now, max_age_days, tolerance)]


def superseded(darks: Iterable[FrameFacts], added: Sequence[FrameFacts],
               tolerance: float = TOLERANCE) -> list[FrameFacts]:
    """The library's darks that `added` replace: of the same setting and exposure as one of
    them, its temperature within `tolerance`, and taken before it by more than `SET_SPAN`
    (another night's set: the darks of one night are kept together, one at a time)."""
    return [dark for dark in darks
            if dark.path not in {new.path for new in added}
            and any(new.kind == dark.kind and new.setting == dark.setting and same_exposure(new.exposure, dark.exposure)
                    and near(new.temperature, dark.temperature, tolerance)
                    and dark.taken < new.taken - SET_SPAN for new in added)]


def read_facts(path: Path) -> FrameFacts | None:
    """A FITS file's facts (None when it is no frame we can read)."""
    try:
        with path.open("rb") as file:
            head = file.read(HEADER_BYTES)
        return FrameFacts.of(str(path), read_header(head).values)
    except (OSError, FITSError, ValueError) as error:
        log.warning("%s is left out: %s", path, error)
        return None


class DarkLibrary:
    """The darks kept in `folder` (see the module docstring); a dark older than
    `max_age_days` counts as missing; one matches within `temperature_tolerance` C."""

    def __init__(self, folder: str | os.PathLike[str], max_age_days: float = MAX_AGE_DAYS,
                 temperature_tolerance: float = TOLERANCE) -> None:
        if max_age_days <= 0 or temperature_tolerance < 0:
            raise ValueError("a dark library needs max_age_days > 0 and a tolerance >= 0")
        self.folder = Path(folder)
        self.max_age_days = max_age_days
        self.tolerance = temperature_tolerance

    def darks(self) -> list[FrameFacts]:
        """Every dark in the library (each read from its header), paths absolute."""
        return [facts for facts in self.frames() if facts.kind == "Dark"]

    def biases(self) -> list[FrameFacts]:
        """Every bias frame in the library."""
        return [facts for facts in self.frames() if facts.kind == "Bias"]

    def frames(self) -> list[FrameFacts]:
        """Every dark and bias frame in the library (each read from its header), paths
        absolute."""
        if not self.folder.is_dir():
            return []
        paths = sorted(p for p in self.folder.rglob("*.fits") if not p.name.startswith("."))
        return [facts for path in paths if (facts := read_facts(path.resolve())) is not None
                and facts.kind in KEPT]

    def lacking(self, needs: Iterable[DarkNeed], now: datetime) -> list[DarkNeed]:
        """What tonight's `needs` lack: the night takes these darks (or bias frames)."""
        return lacking(needs, self.frames(), now, self.max_age_days, self.tolerance)

    def found(self, need: DarkNeed, now: datetime) -> list[str]:
        """The library's fresh darks (or bias frames) for `need`, their paths."""
        return [dark.path for dark in found(need, self.frames(), now, self.max_age_days,
                                            self.tolerance)]

    def keep(self, paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
        """Copy the darks at `paths` (a night's) into the library, each whole, and remove the
        library's darks they supersede. Returns where they were kept; a file that is not a
        readable dark is left out (logged)."""
        added: list[FrameFacts] = []
        kept: list[Path] = []
        for path in map(Path, paths):
            facts = read_facts(path)
            if facts is None or facts.kind not in KEPT:
                continue
            place = self.folder / self.key_folder(facts) / path.name
            write_whole(place, path.read_bytes(), overwrite=True)
            kept.append(place)
            added.append(FrameFacts(str(place.resolve()), facts.kind, facts.setting,
                                    facts.exposure, facts.temperature, facts.filter,
                                    facts.taken))
        for old in superseded(self.frames(), added, self.tolerance):
            Path(old.path).unlink(missing_ok=True)
            fsync_folder(Path(old.path).parent)
            log.info("dark library: %s replaced", old.path)
        return kept

    @staticmethod
    def key_folder(dark: FrameFacts) -> Path:
        """Where a dark is kept below the library's folder, by its key and date."""
        s = dark.setting
        settings = f"bin{s.binning}" + (f"_gain{s.gain:g}" if s.gain is not None else "") + \
            (f"_offset{s.offset:g}" if s.offset is not None else "")
        when = dark.taken.strftime("%Y-%m-%d")
        temperature = "" if dark.temperature is None else f"_{round(dark.temperature):+d}C"
        exposure = "bias" if dark.kind == "Bias" else f"{dark.exposure:g}s"
        return Path(sanitise(s.camera or "camera"), settings, exposure, f"{when}{temperature}")
