"""Autofocus: frames at several focuser positions, a V-curve through their star sizes, the
focuser moved to its bottom, and a last frame to confirm.

The run, from wherever the focuser is (`autofocus`):

1. A frame there, then one `step` either side: the lowest of the three says which side the
   best position is on (or that it is between them).
2. Step further out on the side the stars shrink towards, a frame each step, until the
   smallest stars have at least two samples beyond them on both sides (the V's two arms), or
   the frames allowed run out, or the focuser's travel ends.
3. Fit the V-curve (`vcurve.fit_curve`, a hyperbola) to the samples; a curve with no minimum
   between the samples fails the run, as do smallest stars at the end of the focuser's
   travel and samples whose star sizes rise less than `MIN_RISE` towards either end (noise).
4. Move to the fitted best, then take one frame there: when its stars are no smaller than
   `CONFIRM_TOLERANCE` times the best sample's, the fit is not trusted and the focuser goes
   to that best sample instead (the run then says it did not succeed).

Every move ends going outward (to higher positions): a move inward first goes `step` past
its target and comes back, so the gears' backlash is taken up the same way for every frame
and for the final position. At most `MAX_FRAMES` frames in all (the plan's `points` bounds the
samples). A run that fails leaves the focuser where it started. Frames are measured in a
thread (`stars.measure.hfr`, the agents' one star room: numpy and sep, the extra
[agents]), so the loop keeps running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass

from ..plan.model import Autofocus
from ..rig.protocols import Camera
from ..rig.protocols import Focuser
from ..rig.protocols import Frame
from ..stars.measure import Measurement
from ..stars.measure import hfr as measure
from .vcurve import VCurveError
from .vcurve import fit_curve

__all__ = ["CONFIRM_TOLERANCE", "MAX_FRAMES", "FocusFrame", "FocusResult", "autofocus"]

#: Frames one run may take, the confirming frame included.
MAX_FRAMES = 11
#: The confirming frame's HFR may be at most this times the best sample's.
CONFIRM_TOLERANCE = 1.25
#: Each arm's outermost sample must show stars at least this times the smallest sample's: a
#: flatter set (far from focus, or a step too small for the seeing) is noise, whatever
#: minimum a curve through it has.
MIN_RISE = 1.10


@dataclass(frozen=True)
class FocusFrame:
    """One frame of a run, handed to `on_frame` as it is measured (for a client's display:
    AGENT_IMAGER_STATS' HFD, the last frame's BLOB); `measurement` None: no star counted."""

    position: int
    measurement: Measurement | None
    frame: Frame


@dataclass(frozen=True)
class FocusResult:
    """How a run ended: the focuser's `position` and the `hfr` measured there (None if not
    measured), the `frames` taken, the samples (position, HFR) as `points`, whether it
    succeeded (`ok`) and, when not, why (`reason`)."""

    position: int
    hfr: float | None
    frames: int
    points: tuple[tuple[int, float], ...]
    ok: bool
    reason: str = ""


OnFrame = Callable[[FocusFrame], Awaitable[None]]


class _Run:
    """One run's state: the samples, the frames taken, the moves."""

    def __init__(self, camera: Camera, focuser: Focuser, settings: Autofocus,
                 on_frame: OnFrame | None) -> None:
        self.camera, self.focuser, self.settings = camera, focuser, settings
        self.on_frame = on_frame
        self.low, self.high = focuser.limits()
        self.step = max(1, settings.step)
        self.samples: dict[int, float | None] = {}
        self.order: list[int] = []
        self.frames = 0
        self.here: int | None = None

    async def move(self, target: int) -> None:
        """Go to `target`, arriving outward (see the module docstring)."""
        if self.here is None:
            self.here = await self.focuser.position()
        if target == self.here:
            return
        if target < self.here:
            await self.focuser.move_to(max(self.low, target - self.step))
        self.here = await self.focuser.move_to(target)

    async def frame_at(self, position: int) -> Measurement | None:
        await self.move(position)
        s = self.settings
        frame = await self.camera.expose(s.exposure, binning=s.binning)
        self.frames += 1
        found = await asyncio.to_thread(measure, frame.data)
        if self.on_frame is not None:
            await self.on_frame(FocusFrame(position, found, frame))
        return found

    async def sample(self, position: int) -> None:
        found = await self.frame_at(position)
        self.samples[position] = found.hfr if found is not None else None
        self.order.append(position)

    def points(self) -> tuple[tuple[int, float], ...]:
        return tuple((p, h) for p in self.order if (h := self.samples[p]) is not None)

    def lowest(self) -> int | None:
        measured = [(h, p) for p, h in self.samples.items() if h is not None]
        return min(measured)[1] if measured else None

    def next_position(self) -> int | None:
        """Where the next sample goes: one `step` past the samples on an arm of the V with
        fewer than two samples beyond the smallest stars (a frame with no stars counts: it is
        far from focus); with both arms short, first the side whose outermost sample is the
        smaller; at most to the end of the focuser's travel. None when both arms are there, or
        the focuser cannot reach further."""
        best = self.lowest()
        assert best is not None
        lo, hi = min(self.samples), max(self.samples)
        wanted = []
        if sum(1 for p in self.samples if p > best) < 2 and hi < self.high:
            wanted.append((self._size(hi), min(self.high, hi + self.step)))
        if sum(1 for p in self.samples if p < best) < 2 and lo > self.low:
            wanted.append((self._size(lo), max(self.low, lo - self.step)))
        return min(wanted)[1] if wanted else None

    def rise(self) -> float:
        """The smaller of the two arms' rise: the outermost sample's star size on each side
        over the smallest sample's (a frame with no stars: no end)."""
        best = self.lowest()
        assert best is not None
        floor = self._size(best)
        return min(self._size(min(self.samples)), self._size(max(self.samples))) / floor

    def beyond_travel(self) -> int | None:
        """The limit of the focuser's travel where the smallest stars were sampled, when no
        sample lies beyond them (so the V's bottom is past the limit); else None."""
        best = self.lowest()
        return best if best in (self.low, self.high) and best in (
            min(self.samples), max(self.samples)) else None

    def _size(self, position: int) -> float:
        found = self.samples[position]
        return float("inf") if found is None else found


async def autofocus(camera: Camera, focuser: Focuser, settings: Autofocus, *,
                    on_frame: OnFrame | None = None) -> FocusResult:
    """Focus `focuser` on the stars `camera` sees, from where it is now (see the module
    docstring); `settings`' exposure, binning and step are used, its `points` (at most
    `MAX_FRAMES` - 1) bound the samples. The caller puts the focusing filter in place.
    `on_frame` is awaited with each frame. The rig's errors (`DeviceRefused`, `DeviceLost`)
    pass through: the sequencer retries or pauses."""
    run = _Run(camera, focuser, settings, on_frame)
    start = await focuser.position()
    run.here = start
    budget = max(3, min(settings.points, MAX_FRAMES - 1))

    async def failed(reason: str) -> FocusResult:
        await run.move(start)
        return FocusResult(start, None, run.frames, run.points(), False, reason)

    await run.sample(start)
    if run.samples[start] is None:
        return await failed(f"no stars measured at the start position {start}")
    for side in (max(run.low, start - run.step), min(run.high, start + run.step)):
        if side not in run.samples:
            await run.sample(side)
    while run.frames < budget and (further := run.next_position()) is not None:
        await run.sample(further)
    edge = run.beyond_travel()
    if edge is not None:
        return await failed(f"the smallest stars are at the focuser's limit {edge}: the best "
                            "focus lies beyond its travel")
    rise = run.rise()
    if rise < MIN_RISE:
        return await failed(f"no V-curve through the samples: the star sizes change by only "
                            f"{100 * (rise - 1):.0f} % towards one side (at least "
                            f"{100 * (MIN_RISE - 1):.0f} % is needed each side): far from "
                            "focus, or a step too small")
    try:
        curve = fit_curve(run.points())
    except VCurveError as exc:
        return await failed(f"no V-curve through the samples: {exc}")
    best = min(run.high, max(run.low, round(curve.best)))
    found = await run.frame_at(best)
    sampled = run.lowest()
    assert sampled is not None
    floor = run.samples[sampled]
    assert floor is not None
    if found is not None and found.hfr <= CONFIRM_TOLERANCE * floor:
        return FocusResult(best, found.hfr, run.frames, run.points(), True)
    said = "no stars" if found is None else f"HFR {found.hfr:.2f}"
    await run.move(sampled)
    return FocusResult(sampled, floor, run.frames, run.points(), False,
                       f"the fitted best {best} showed {said}, the best sample "
                       f"{floor:.2f} at {sampled}: left there")
