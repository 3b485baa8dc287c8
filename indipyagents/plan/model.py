"""A night's plan as frozen dataclasses: what a TOML plan file says, and what Python builds.

A `Plan` is a list of `Target`s in order, each with its `Batch`es; dithering, autofocus and the
meridian flip are settings of the plan a target may override; `End` says what happens after
the last frame, `Safety` what an unsafe sky (a watchdog's verdict) lets go on. Everything is a value: the sequencer expands a plan into numbered steps
(`steps`), and the journal records which of those are done, so the plan itself never changes
while it runs. Angles: RA in hours, Dec, altitudes and hour angles in degrees (J2000).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Literal

from indipyagents import defaults

from .calibration import CalibrationFrames
from .centresettings import Centre
from .constraints import Constraints
from .constraints import Schedule
from .grading import Grading
from .notifying import NotifySettings

FrameType = Literal["Light", "Dark", "Flat", "Bias"]
FRAME_TYPES: tuple[FrameType, ...] = ("Light", "Dark", "Flat", "Bias")
DitherMethod = Literal["pulse", "offset", "guider"]
FlatSource = Literal["panel", "dusk", "dawn"]
FLAT_SOURCES: tuple[FlatSource, ...] = ("panel", "dusk", "dawn")


@dataclass(frozen=True)
class Devices:
    """The devices the plan drives, by INDI device name ("" = none of that kind). A `dome`
    named is opened before the frames that need the sky and closed at the end (`End`)."""

    camera: str = defaults.CAMERA
    wheel: str = ""
    focuser: str = ""
    mount: str = ""
    dome: str = ""
    guider: str = ""  # a guider agent ("Guider Agent"): the night guides through it
    panel: str = ""  # a light panel (flats by level): lit for them, off after


@dataclass(frozen=True)
class Batch:
    """`count` frames of `exposure` seconds through `filter` (a wheel's filter name or slot
    number; None: leave the wheel where it is). `gain`/`offset` are set where the camera has
    CCD_GAIN/CCD_OFFSET (else the plan is refused when checked against the rig).

    A flat by level (`adu` given): each frame's median within `tolerance` (a share) of
    `adu`, its exposure found by test exposures from `exposure` (the first guess) or the
    one learnt on an earlier night, with the plan's panel; `source` "dusk" or "dawn": from
    the twilight sky instead (`plan.skyflats`), the mount pointed opposite the Sun."""

    count: int
    exposure: float
    filter: str | int | None = None
    binning: int = 1
    frame_type: FrameType = "Light"
    gain: float | None = None
    offset: float | None = None
    adu: float | None = None
    tolerance: float = 0.1
    source: FlatSource = "panel"


@dataclass(frozen=True)
class Dither:
    """After every `every` light frames, move the pointing by up to `pixels` (random, both
    axes): timed guide pulses where the mount has them (`method` "pulse"), else a small slew
    ("offset"); then wait `settle` seconds. `every` 0: no dithering.

    `method` "guider": the plan's guider agent dithers by `pixels` of its guide camera (PHD2's
    dither amount) and the next frame waits until it settled as PHD2's settle says: within
    `settle_pixels` of the new lock for `settle` seconds, given up after `settle_timeout`."""

    every: int = 0
    pixels: float = 5.0
    method: DitherMethod = "pulse"
    settle: float = 2.0
    settle_pixels: float = 1.5
    settle_timeout: float = 40.0


@dataclass(frozen=True)
class Guiding:
    """With a guider named in [devices]: light frames of a slewed target wait until it guides
    (it is started where it is not: the first frame, after a slew, a flip or a hold), and wait
    while it has lost its star; after `lost_wait` seconds without guiding the night pauses,
    naming the guider."""

    lost_wait: float = 300.0


@dataclass(frozen=True)
class Autofocus:
    """When to run autofocus, and how: at the start of each target, on a filter change, every
    `every_minutes`, when the focuser's temperature moved by `temperature_delta` degrees since
    the last run (0 or False: never on that account). A run takes `points` frames of
    `exposure` s, `step` focuser steps apart, centred on the current position."""

    at_start: bool = False
    on_filter_change: bool = False
    every_minutes: float = 0.0
    temperature_delta: float = 0.0
    exposure: float = 1.0
    step: int = 20
    points: int = 9
    binning: int = 1
    filter: str | int | None = None


@dataclass(frozen=True)
class Flip:
    """The meridian flip: once the target's hour angle passes `hour_angle_limit` degrees
    west of the meridian (0: as it crosses), slew to it again so the mount changes sides,
    and wait `settle` seconds. `enabled` False: never flip."""

    enabled: bool = True
    hour_angle_limit: float = 0.0
    settle: float = 5.0


@dataclass(frozen=True)
class Wait:
    """Before a target's frames: wait until `until` (an aware datetime) and/or until the
    target stands at least `altitude` degrees high (needs the site: the mount's
    GEOGRAPHIC_COORD, or the plan's `Site`)."""

    until: datetime | None = None
    altitude: float | None = None


@dataclass(frozen=True)
class Target:
    """A target by `name` at J2000 `ra` (hours) and `dec` (degrees); `slew` False images where
    the mount points (darks, flats). `dither`, `autofocus`, `flip` override the plan's;
    `constraints` say when a scheduled plan may image it; `centre` whether it is centred by
    plate solving and its frames solved (`centresettings.py`)."""

    name: str
    ra: float | None = None
    dec: float | None = None
    batches: tuple[Batch, ...] = ()
    slew: bool = True
    wait: Wait = field(default_factory=Wait)
    dither: Dither | None = None
    autofocus: Autofocus | None = None
    flip: Flip | None = None
    constraints: Constraints | None = None
    centre: Centre = field(default_factory=Centre)


@dataclass(frozen=True)
class Site:
    """Where the telescope stands, when the mount does not say (its GEOGRAPHIC_COORD)."""

    latitude: float
    longitude: float
    elevation: float = 0.0


@dataclass(frozen=True)
class End:
    """After the last frame (or an abort by the plan's end): park the mount, close the
    plan's dome (after the mount: a dome may wait for its mount to park), warm the camera
    (cooler off)."""

    park: bool = True
    warm: bool = True
    close_dome: bool = True


@dataclass(frozen=True)
class Safety:
    """While a watchdog (or anyone) says unsafe (the agent's AGENT_SAFETY): frames that need
    no sky, darks and bias, go on only with `sky_free_while_unsafe`; still unsafe once
    `night_end` (an aware datetime) has passed, the night ends (the `End`'s park and warm)."""

    sky_free_while_unsafe: bool = False
    night_end: datetime | None = None


@dataclass(frozen=True)
class Plan:
    """A whole night. `folder` is where frames are saved on the server (relative: to the
    agent's image folder); `name` names the journal; with a `schedule`, the targets are
    imaged as the sky allows (`indipyagents.schedule`), not in order; `calibration` is the
    ``[calibration]`` section (the whole night's flats and darks, `calibration.py`);
    `notify` the ``[notify]`` section (who is told of the night, `notifying.py`)."""

    name: str
    targets: tuple[Target, ...]
    devices: Devices = field(default_factory=Devices)
    folder: str = ""
    dither: Dither = field(default_factory=Dither)
    autofocus: Autofocus = field(default_factory=Autofocus)
    flip: Flip = field(default_factory=Flip)
    end: End = field(default_factory=End)
    site: Site | None = None
    safety: Safety = field(default_factory=Safety)
    schedule: Schedule | None = None
    guiding: Guiding = field(default_factory=Guiding)
    calibration: CalibrationFrames = field(default_factory=CalibrationFrames)
    #: The ``[grading]`` section (`grading.py`); None: no frame is graded.
    grading: Grading | None = None
    notify: NotifySettings = field(default_factory=NotifySettings)

    def dither_for(self, target: Target) -> Dither:
        return target.dither or self.dither

    def autofocus_for(self, target: Target) -> Autofocus:
        return target.autofocus or self.autofocus

    def flip_for(self, target: Target) -> Flip:
        return target.flip or self.flip

    @property
    def frames_total(self) -> int:
        """How many frames the plan saves, all targets (SEQUENCE_STATE's PROGRESS_TOTAL)."""
        return sum(batch.count for target in self.targets for batch in target.batches)

    @property
    def exposure_total(self) -> float:
        """The seconds of exposure the plan saves (SEQUENCE_STATE's EXPOSURE_TOTAL)."""
        return sum(batch.count * batch.exposure
                   for target in self.targets for batch in target.batches)
