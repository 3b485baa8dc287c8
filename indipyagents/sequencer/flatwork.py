"""`FlatWork`: a flat by level (a batch's `adu`) taken with the plan's panel. The panel lit
(its dust cap closed first, where it has one), each flat exposed, its median measured
(`flat_median`: the middle half of the frame, every fourth pixel) and told to a
`plan.flatfinder.FlatFinder`: a flat within the tolerance is kept, one outside it is a test
exposure, not kept (journalled ``flat_test`` with its exposure and level), and the next is
scaled from it through the camera's bias (a bias frame's median, taken once a run when a
flat first needs scaling, and learnt). The first flat of a batch starts from the exposure learnt for that camera,
filter, binning, panel and level (`journal.flatbook.FlatBook`, in the agent's state folder)
or the batch's first guess; each later flat from the exposure the last one kept. Each
exposure found is learnt. The panel's light is turned off after the batch's last flat (and
at the night's close). A level never reached names the panel and the levels measured, the
light turned off first: in the night's ``[calibration]`` flats (`flatnight`) that batch's
flats are skipped (journalled ``skipped``, logged) and the night goes on to the next
filter; in a flats batch of the plan's own the night pauses (`DeviceRefused`).
"""

from __future__ import annotations

import statistics
import sys
from array import array
from datetime import date
from typing import NoReturn

from indipycore.fits import FITSError
from indipycore.fits import read_header

from ..journal.flatbook import FlatBook
from ..journal.flatbook import Learnt
from ..journal.flatbook import key_of
from ..plan.flatfinder import Expose
from ..plan.flatfinder import FlatFinder
from ..plan.flatfinder import Found
from ..plan.flatfinder import Limits
from ..plan.flatnight import is_calibration
from ..plan.steps import FrameStep
from ..plan.steps import expand
from ..plan.steps import filter_label
from ..plan.steps import frames
from ..rig.protocols import DeviceRefused
from ..rig.protocols import Frame
from ..rig.protocols import Panel
from .hands import Hands
from .hands import SkipFrame

__all__ = ["FlatWork", "flat_median"]

#: A 16-bit camera's full scale, where the camera does not say its own.
FULL = 65535.0


def flat_median(data: bytes) -> float:
    """The median ADU of a FITS frame's middle half (every fourth pixel of every fourth
    row): the flat's level, the vignetted corners left out."""
    header = read_header(data)
    width, height, bitpix = int(header["NAXIS1"]), int(header["NAXIS2"]), int(header["BITPIX"])
    codes = {8: "B", 16: "h", 32: "i", -32: "f", -64: "d"}
    if bitpix not in codes:
        raise FITSError(f"BITPIX {bitpix} is not read")
    pixels = array(codes[bitpix])
    pixels.frombytes(data[header.data_offset:header.data_offset + header.data_size])
    if sys.byteorder == "little" and bitpix != 8:
        pixels.byteswap()
    zero = float(header.values.get("BZERO", 0) or 0)
    scale = float(header.values.get("BSCALE", 1) or 1)
    rows = range(height // 4, height - height // 4, 4)
    sample = [pixels[row * width + column]
              for row in rows for column in range(width // 4, width - width // 4, 4)]
    return zero + scale * float(statistics.median(sample))


class FlatWork:
    """Flats by level on `hands`' rig; `book` keeps the exposures learnt (None: nothing kept
    across nights). `tests` counts the test exposures taken (the frames not kept)."""

    def __init__(self, hands: Hands, book: FlatBook | None) -> None:
        self.hands = hands
        self.book = book
        self.tests = 0
        #: Each batch's last frame step id (its light is turned off after it).
        self._last = {(one.target_index, one.batch_index): one.id
                      for one in frames(expand(hands.plan))}
        #: The exposure and brightness the last kept flat of a book key had, this run.
        self._now: dict[str, tuple[float, float | None]] = {}
        #: The bias measured this run, by camera and binning.
        self._biases: dict[tuple[str, int], float] = {}
        #: The target index of the night's ``[calibration]`` flats (`flatnight`), if any.
        self._calibration = {index for index, target in enumerate(hands.plan.targets)
                             if is_calibration(hands.plan, target)}
        #: The batches whose level was never reached, with why (their flats skipped).
        self._gave_up: dict[tuple[int, int], str] = {}

    def _panel(self) -> Panel:
        panel = self.hands.rig.panel
        if panel is None:
            raise DeviceRefused(self.hands.plan.name, "flats by level need the plan's panel "
                                "([devices] panel)")
        return panel

    async def take(self, step: FrameStep) -> Frame:
        """The flat of `step` within its tolerance (test exposures taken before it)."""
        hands, batch, camera = self.hands, step.batch, self.hands.rig.camera
        panel = self._panel()
        assert batch.adu is not None
        if (given := self._gave_up.get((step.target_index, step.batch_index))) is not None:
            raise SkipFrame(f"{given} (the batch's flats given up)")
        await hands.move(panel.light(True), panel.name)
        key = key_of(camera.name, filter_label(batch.filter), batch.binning, panel.name,
                     batch.adu)
        finder = await self._finder(step, key, panel)
        asked: Expose = finder.first()
        while True:
            if asked.brightness is not None:
                await hands.move(panel.set_brightness(asked.brightness), panel.name)
            frame = await hands.bounded(
                camera.expose(asked.seconds, binning=batch.binning, frame_type="Flat", sky=False,
                              gain=batch.gain, offset=batch.offset),
                asked.seconds + hands.camera_margin, camera.name)
            median = flat_median(frame.data)
            verdict = finder.measured(asked.seconds, median)
            if isinstance(verdict, Expose) and finder.bias is None:
                verdict = finder.knowing_bias(await self.bias(step))
            if isinstance(verdict, Found):
                self._now[key] = (verdict.seconds, verdict.brightness)
                if self.book is not None:
                    self.book.learn(key, Learnt(verdict.seconds, verdict.brightness,
                                                round(median, 1), date.today().isoformat(),
                                                finder.bias))
                return frame
            self.tests += 1
            hands.journal.note("flat_test", step=step.id, seconds=asked.seconds,
                               brightness=asked.brightness, median=round(median, 1))
            if not isinstance(verdict, Expose):  # its light goes off
                await hands.quietly(panel.light(False), panel.name, "light off")
                self._failed(step, f"{step.id}: {verdict.why}")
            asked = verdict

    @property
    def given_up(self) -> str:
        """The night's flats given up this run, each with the panel and the levels ("":
        none), as the run's report says them at its end."""
        return "; ".join(self._gave_up.values())

    def _failed(self, step: FrameStep, why: str) -> NoReturn:
        """A level never reached: the night's ``[calibration]`` flats skip the rest of
        their batch (`SkipFrame`, the night goes on to the next filter and its close); a
        batch of the plan's own pauses the night (`DeviceRefused`)."""
        name = self._panel().name
        if step.target_index in self._calibration:
            self._gave_up[(step.target_index, step.batch_index)] = f"{name}: {why}"
            raise SkipFrame(f"{name}: {why}")
        raise DeviceRefused(name, why)

    async def bias(self, step: FrameStep) -> float:
        """The camera's bias at the batch's binning: a bias frame's median (its shortest
        exposure), taken once a run, when a flat first needs scaling (journalled
        ``flat_bias``); the sky flats' (`skyflatwork`) too."""
        hands, batch, camera = self.hands, step.batch, self.hands.rig.camera
        where = (camera.name, batch.binning)
        if where not in self._biases:
            frame = await hands.bounded(
                camera.expose(0.0, binning=batch.binning, frame_type="Bias", gain=batch.gain,
                              offset=batch.offset), hands.camera_margin, camera.name)
            self._biases[where] = flat_median(frame.data)
            hands.journal.note("flat_bias", step=step.id, median=round(self._biases[where], 1))
        return self._biases[where]

    async def _finder(self, step: FrameStep, key: str, panel: Panel) -> FlatFinder:
        """The finder of `step`'s flat: from this run's last kept exposure, else the one
        learnt, else the batch's guess; the panel's brightness where it has one (its own
        if lit above its least, else its most)."""
        batch, camera = step.batch, self.hands.rig.camera
        assert batch.adu is not None
        span, dim = camera.exposure_range(), panel.brightness_range()
        limits = Limits(*(span or (0.001, 3600.0)), full=camera.full_scale() or FULL,
                        dimmest=dim[0] if dim else None, brightest=dim[1] if dim else None)
        start, brightness = batch.exposure, None
        learnt = self.book.get(key) if self.book is not None else None
        bias = self._biases.get((camera.name, batch.binning))
        if key in self._now:
            start, brightness = self._now[key]
        elif learnt is not None:
            start, brightness = learnt.seconds, learnt.brightness
        if bias is None and learnt is not None:
            bias = learnt.bias
        if dim is not None and brightness is None:
            now = await self.hands.move(panel.brightness(), panel.name)
            brightness = now if now is not None and now > dim[0] else dim[1]
        return FlatFinder(adu=batch.adu, tolerance=batch.tolerance, start=start,
                          limits=limits, brightness=brightness, bias=bias)

    async def after(self, step: FrameStep) -> None:
        """After a flat kept: the light off once its batch's last flat is."""
        if self._last.get((step.target_index, step.batch_index)) == step.id:
            panel = self._panel()
            await self.hands.move(panel.light(False), panel.name)
