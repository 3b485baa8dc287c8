"""A plan expanded into the ordered list of what the sequencer does, with stable ids.

Per target: a `SlewStep` (if it slews), a `WaitStep` (if it waits), then one `FrameStep` per
frame of each batch (the sequencer turns the wheel and sets the camera before a frame where they
differ); after the last target, the `EndStep`. Dithering, autofocus and the meridian flip depend
on time and temperature, so they are not steps: the sequencer decides them between frames
(`decisions`).

Each step carries what the sequencer needs of it, so nothing asks a step its class: whether it
needs the sky (`needs_sky`: held while unsafe), whether it is the night's close (`closing`: it
parks and warms, so it goes on while unsafe, last), the frame it is (`as_frame`, None but for a
frame), and `by(doer)`, which hands the step to the `Doer` method of its kind.

The journal records step ids, so the same plan text always gives the same ids: a frame's is
``M42/2/Red/Light/007`` (target, batch index, filter, frame type, number) and its file name
``lights/Red/M42_Red_Light_007.fits``, the number counting per target, filter and frame type
across the batches (and across targets of one name), so no two frames of a plan share a file
name. Each frame type has its folder where Siril's preprocessing scripts (and PixInsight's
WBPP, which groups by IMAGETYP) look for it (`frame_folder`): ``lights/<filter>/``,
``flats/<filter>/``, ``darks/``, ``biases/``; the flats' darks (the target
`FLAT_DARKS_TARGET`) in ``darkflats/<filter>/`` (Siril's scripts have no folder for them).
A plan without a ``folder`` keeps its frames in a folder of its own, named for the plan and
its night (`frames_folder`), never loose in the agent's image folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import ClassVar
from typing import Protocol
from typing import TypeVar

from .model import Batch
from .model import Plan
from .skyflats import sky_key

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
T_co = TypeVar("T_co", covariant=True)

#: Frame types that need no sky: taken while unsafe when the plan says so.
SKY_FREE = ("Dark", "Bias")


def sanitise(name: str) -> str:
    """A name as a file name's part: every character but A-Z a-z 0-9 _ - becomes "_"."""
    return _UNSAFE.sub("_", name) or "_"


def panel_flat(batch: Batch) -> bool:
    """Whether `batch` is flats by level, taken with the plan's panel (they need no sky: they
    go on with the dome closed, and while unsafe as darks and bias do)."""
    return batch.frame_type == "Flat" and batch.adu is not None and batch.source == "panel"


#: The folder of each frame type, as Siril 1.0's Mono_Preprocessing.ssf names them.
FOLDERS = {"Light": "lights", "Flat": "flats", "Dark": "darks", "Bias": "biases"}
#: The frame types kept per filter (a dark or a bias sees no filter).
PER_FILTER = ("Light", "Flat")
#: The target the night's flat-darks are taken under (``[calibration]``'s ``flat_darks``:
#: `flatnight`), and their folder (per filter: the flats' they go with).
FLAT_DARKS_TARGET = "Flat darks"
FLAT_DARKS_FOLDER = "darkflats"


def frame_folder(frame_type: str, label: str, target: str = "") -> str:
    """The folder below the night's where a frame of `frame_type` through the filter
    `label` (`filter_label`) of `target` is saved: ``lights/Red``, ``flats/Red``, ``darks``,
    ``biases``; the darks of `FLAT_DARKS_TARGET` ``darkflats/Red``."""
    if target == FLAT_DARKS_TARGET and frame_type == "Dark":
        return f"{FLAT_DARKS_FOLDER}/{label}"
    folder = FOLDERS.get(frame_type, sanitise(frame_type).lower())
    return f"{folder}/{label}" if frame_type in PER_FILTER else folder


def filter_label(value: str | int | None) -> str:
    """The filter as file names and ids say it: its name, "Slot3", or "NoFilter"."""
    if value is None:
        return "NoFilter"
    return f"Slot{value}" if isinstance(value, int) else sanitise(value)


class Doer(Protocol[T_co]):
    """What carries out each kind of step (the sequencer's step work): `Step.by` calls the
    method of the step's kind."""

    def slew(self, step: SlewStep) -> T_co: ...

    def wait(self, step: WaitStep) -> T_co: ...

    def frame(self, step: FrameStep) -> T_co: ...

    def end(self, step: EndStep) -> T_co: ...


@dataclass(frozen=True)
class _TargetStep:
    """What a target's steps before its frames have: its index, the sky needed, no frame."""

    id: str
    target_index: int
    needs_sky: ClassVar[bool] = True
    closing: ClassVar[bool] = False
    as_frame: ClassVar[None] = None


@dataclass(frozen=True)
class SlewStep(_TargetStep):
    """The slew to target `target_index`."""

    def by(self, doer: Doer[T_co]) -> T_co:
        return doer.slew(self)


@dataclass(frozen=True)
class WaitStep(_TargetStep):
    """The wait of target `target_index` (its time, or its altitude)."""

    def by(self, doer: Doer[T_co]) -> T_co:
        return doer.wait(self)


@dataclass(frozen=True)
class FrameStep:
    """One frame: `number` counts from 1 per target name, filter and frame type."""

    id: str
    file_name: str
    target_index: int
    batch_index: int
    number: int
    batch: Batch
    #: A flat-dark of sky flats: held with them (never taken before its flat while unsafe).
    after_sky_flat: bool = False
    closing: ClassVar[bool] = False

    @property
    def needs_sky(self) -> bool:
        """Light frames and flats by exposure do; darks and bias (`SKY_FREE`) and flats by
        level (`panel_flat`: the panel's light) do not, but sky flats' flat-darks do."""
        return self.after_sky_flat or (self.batch.frame_type not in SKY_FREE
                                       and not panel_flat(self.batch))

    @property
    def as_frame(self) -> FrameStep:
        return self

    def by(self, doer: Doer[T_co]) -> T_co:
        return doer.frame(self)


@dataclass(frozen=True)
class EndStep:
    """The night's close: park and warm as the plan's End says; needs no sky."""

    id: str
    needs_sky: ClassVar[bool] = False
    closing: ClassVar[bool] = True
    as_frame: ClassVar[None] = None

    def by(self, doer: Doer[T_co]) -> T_co:
        return doer.end(self)


Step = SlewStep | WaitStep | FrameStep | EndStep


def expand(plan: Plan) -> list[Step]:
    """Everything the plan does, in order, each step with its stable id."""
    steps: list[Step] = []
    numbers: dict[str, int] = {}  # file name stem (without number) -> frames so far
    keys: set[str] = set()
    sky_darks = plan.calibration.flats in ("dusk", "dawn")
    for index, target in enumerate(plan.targets):
        stem_name = sanitise(target.name)
        # a second target of the same name gets ids of its own ("#" never survives sanitise)
        key = stem_name if stem_name not in keys else f"{stem_name}#{index}"
        keys.add(key)
        if target.slew:
            steps.append(SlewStep(f"{key}/slew", index))
        if target.wait.until is not None or target.wait.altitude is not None:
            steps.append(WaitStep(f"{key}/wait", index))
        for batch_index, batch in taken_order(target.batches):
            label = filter_label(batch.filter)
            stem = f"{stem_name}_{label}_{batch.frame_type}"
            for _ in range(batch.count):
                number = numbers.get(stem, 0) + 1
                numbers[stem] = number
                steps.append(FrameStep(
                    id=f"{key}/{batch_index}/{label}/{batch.frame_type}/{number:03d}",
                    file_name=f"{frame_folder(batch.frame_type, label, target.name)}/"
                              f"{stem}_{number:03d}.fits",
                    target_index=index,
                    batch_index=batch_index, number=number, batch=batch,
                    after_sky_flat=sky_darks and target.name == FLAT_DARKS_TARGET))
    steps.append(EndStep("end"))
    return steps


def taken_order(batches: tuple[Batch, ...]) -> list[tuple[int, Batch]]:
    """A target's batches with their indexes, in the order they are taken: a target of sky
    flats (every batch by level from the dusk's sky, or every one from the dawn's) through
    the filters in the order the sky allows (`skyflats.sky_key`: narrow first at dusk, wide
    first at dawn), as the ``[calibration]`` section's are, whatever order they are written
    in; any other as written."""
    indexed = list(enumerate(batches))
    sources = {batch.source for batch in batches}
    if len(sources) == 1 and all(batch.frame_type == "Flat" and batch.adu is not None
                                 for batch in batches):
        source = sources.pop()
        if source != "panel":
            indexed.sort(key=lambda item: sky_key(item[1].filter, source))
    return indexed


def frames(steps: list[Step]) -> list[FrameStep]:
    """The frame steps of `steps`, in order."""
    return [frame for step in steps if (frame := step.as_frame) is not None]


def place_in_batch(frames: list[FrameStep], step: FrameStep) -> int:
    """`step`'s place in its batch, 1-based (`frames`: the plan's frame steps)."""
    batch = [other.id for other in frames
             if (other.target_index, other.batch_index) == (step.target_index, step.batch_index)]
    return batch.index(step.id) + 1


def frame_steps(steps: list[Step]) -> list[tuple[str, str]]:
    """(id, file name) of each frame step: what the journal's `reconcile` matches files by."""
    return [(step.id, step.file_name) for step in frames(steps)]



def night_of(moment: datetime) -> date:
    """The night `moment` belongs to, named by the date of its evening in `moment`'s own time
    (the agent gives local time): the hours before noon count with the evening before, so a
    night from 21:00 to 05:00, resumed after midnight or loaded again at 02:00, is one date."""
    return (moment - timedelta(hours=12)).date()


def frames_folder(plan: Plan, night: date) -> str:
    """Where `plan`'s frames go, below the agent's image folder: its ``folder``, else a folder
    of its own named for the plan and its `night` (``M42_and_flats-2026-11-27``)."""
    return plan.folder or f"{sanitise(plan.name)}-{night.isoformat()}"
