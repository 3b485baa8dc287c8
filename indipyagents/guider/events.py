"""What the guider says, typed: one frozen dataclass for each of PHD2's events the machine,
the session and the event server give (`SettleDone`, `GuideStep`, `StarLost`...). Pure, the
standard library only.

The class is the event's kind: a reader matches types (``isinstance``, ``match``), never
names. PHD2's JSON (the event's name, its fields' names and order) is made of them only in
``phd2wire`` (`phd2wire.wire`); a field left None is one PHD2 leaves out (a GuideStep without
an RA pulse has no RADuration). The fields are in PHD2's order.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Alert",
    "AppStateEvent",
    "Calibrating",
    "CalibrationComplete",
    "CalibrationDataFlipped",
    "CalibrationFailed",
    "GuideEvent",
    "GuideStep",
    "GuidingDithered",
    "GuidingStopped",
    "LockPositionSet",
    "LoopingExposures",
    "LoopingExposuresStopped",
    "Paused",
    "Resumed",
    "SettleBegin",
    "SettleDone",
    "Settling",
    "SingleFrameComplete",
    "StarLost",
    "StarSelected",
    "StartCalibration",
    "StartGuiding",
    "Version",
    "told_of",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuideEvent:
    """Any of the guider's events."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Version(GuideEvent):
    """The first event a client gets."""

    phd_version: str
    phd_subver: str
    overlap_support: bool
    msg_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AppStateEvent(GuideEvent):
    """PHD2's AppState event: the state on connect (the last catch-up event)."""

    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert(GuideEvent):
    """Something to tell the user; `level` is PHD2's Type: info, question, warning, error."""

    msg: str
    level: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopingExposures(GuideEvent):
    """A looping frame; the star's measures when one is selected."""

    frame: int
    star_mass: int | None = None
    snr: float | None = None
    hfd: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopingExposuresStopped(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class StarSelected(GuideEvent):
    x: float
    y: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LockPositionSet(GuideEvent):
    x: float
    y: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCalibration(GuideEvent):
    mount: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibrating(GuideEvent):
    """One calibration frame: the leg (`direction`, PHD2's dir), the distance moved since the
    leg began, the star's position, the leg's step and PHD2's State text."""

    mount: str
    direction: str
    dist: float
    dx: float
    dy: float
    pos: tuple[float, float]
    step: int
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationComplete(GuideEvent):
    mount: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationFailed(GuideEvent):
    mount: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationDataFlipped(GuideEvent):
    mount: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartGuiding(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class GuideStep(GuideEvent):
    """One guided frame: the error (pixels), what the controllers asked, the pulses sent (None:
    no pulse on that axis) and the star's measures."""

    frame: int
    time: float
    mount: str
    dx: float
    dy: float
    ra_distance_raw: float
    dec_distance_raw: float
    ra_distance_guide: float
    dec_distance_guide: float
    ra_duration: int | None = None
    ra_direction: str | None = None
    dec_duration: int | None = None
    dec_direction: str | None = None
    star_mass: int
    snr: float
    hfd: float
    avg_dist: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StarLost(GuideEvent):
    """A guide frame without the star (`error_code` 2), or a guide request that found none
    (1); `status` says why."""

    frame: int
    time: float
    star_mass: int
    snr: float
    avg_dist: float
    error_code: int
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GuidingDithered(GuideEvent):
    dx: float
    dy: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GuidingStopped(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleBegin(GuideEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Settling(GuideEvent):
    """A settling frame: the distance from the lock, the time held within range so far."""

    distance: float
    time: float
    settle_time: float
    star_locked: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleDone(GuideEvent):
    """A settle ended: `status` 0 settled, 1 failed (`error` says why)."""

    status: int
    error: str | None = None
    total_frames: int
    dropped_frames: int

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleFrameComplete(GuideEvent):
    """capture_single_frame's frame taken (or not: `error`), and where it was saved."""

    success: bool
    error: str | None = None
    path: str | None = None


def told_of(event: GuideEvent) -> str | None:
    """What `event` tells the user when it is an Alert or a failed calibration, else None."""
    match event:
        case Alert(msg=msg):
            return msg
        case CalibrationFailed(reason=reason):
            return reason
    return None
