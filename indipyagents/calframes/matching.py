"""Which darks, flats and bias go with which lights: pure, on `FrameFacts`.

The lights are grouped by what their calibration frames must share (camera, binning, gain,
offset, exposure, filter); each group gets
- the darks of its setting and exposure whose temperature is within the tolerance of the
  group's (its lights' median; Ekos's library default is 1 C),
- the flats of its camera, binning and filter (gain and offset where both say one),
- the flat-darks: darks at the flats' exposures and temperature (those through the flats'
  filter, ``darkflats/<filter>/``, where there are any),
- the bias frames of its setting,
and says which of these it has none of (`missing`): the lights' darks (their dark current
and hot pixels), and flats per filter to take the optical path out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from .facts import FrameFacts
from .facts import Setting
from .facts import same_exposure

__all__ = ["Assignment", "assign", "dark_matches", "near"]

#: Ekos's dark library default: a dark matches within 1 C.
TOLERANCE = 1.0


@dataclass(frozen=True)
class Assignment:
    """One group of lights and the frames that calibrate them (paths as the facts name them)."""

    setting: Setting
    exposure: float
    filter: str | None
    temperature: float | None
    lights: list[str]
    darks: list[str] = field(default_factory=list)
    flats: list[str] = field(default_factory=list)
    flat_darks: list[str] = field(default_factory=list)
    biases: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """What this group has none of: "darks", "flats"."""
        lacking = []
        if not self.darks:
            lacking.append("darks")
        if not self.flats:
            lacking.append("flats")
        return lacking


def near(a: float | None, b: float | None, tolerance: float) -> bool:
    """Two sensor temperatures within `tolerance` (C); none known on either side matches only
    none (a camera without a cooler)."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tolerance + 1e-9


def dark_matches(dark: FrameFacts, setting: Setting, exposure: float,
                 temperature: float | None, tolerance: float = TOLERANCE) -> bool:
    """Whether `dark` calibrates frames of `setting` and `exposure` at `temperature`."""
    return (dark.kind == "Dark" and dark.setting == setting
            and same_exposure(dark.exposure, exposure)
            and near(dark.temperature, temperature, tolerance))


def median_temperature(frames: Iterable[FrameFacts]) -> float | None:
    known = [frame.temperature for frame in frames if frame.temperature is not None]
    return statistics.median(known) if known else None


def _flat_fits(flat: FrameFacts, light: FrameFacts) -> bool:
    a, b = flat.setting, light.setting
    return (flat.kind == "Flat" and a.camera == b.camera and a.binning == b.binning
            and flat.filter == light.filter
            and (a.gain is None or b.gain is None or a.gain == b.gain)
            and (a.offset is None or b.offset is None or a.offset == b.offset))


def assign(frames: Sequence[FrameFacts], tolerance: float = TOLERANCE) -> list[Assignment]:
    """The lights of `frames` grouped, each group with its calibration frames (see the module
    docstring), in the order of the groups' first light."""
    groups: dict[tuple[Setting, float, str | None], list[FrameFacts]] = {}
    for frame in frames:
        if frame.kind == "Light":
            key = next((k for k in groups if k[0] == frame.setting and k[2] == frame.filter
                        and same_exposure(k[1], frame.exposure)),
                       (frame.setting, frame.exposure, frame.filter))
            groups.setdefault(key, []).append(frame)
    return [_assignment(frames, lights, tolerance) for lights in groups.values()]


def _assignment(frames: Sequence[FrameFacts], lights: list[FrameFacts],
                tolerance: float) -> Assignment:
    first = lights[0]
    setting, exposure = first.setting, first.exposure
    temperature = median_temperature(lights)
    darks = [f.path for f in frames if dark_matches(f, setting, exposure, temperature,
                                                    tolerance)]
    flats = [f for f in frames if _flat_fits(f, first)]
    flat_darks: list[str] = []
    if flats:
        exposures = sorted({f.exposure for f in flats})
        flat_temperature = median_temperature(flats)
        fitting = [f for f in frames if any(dark_matches(f, flats[0].setting, seconds,
                                                         flat_temperature, tolerance)
                                            for seconds in exposures)]
        # the flat-darks taken through the flats' filter (``darkflats/<filter>/``) first
        flat_darks = [f.path for f in [f for f in fitting if f.filter == first.filter]
                      or fitting]
    biases = [f.path for f in frames if f.kind == "Bias" and f.setting == setting]
    return Assignment(setting, exposure, first.filter, temperature, [f.path for f in lights],
                      darks, [f.path for f in flats], flat_darks, biases)
