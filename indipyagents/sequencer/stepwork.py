"""`StepWork`: how each kind of step is carried out on the rig (plan/steps.py's `Doer`: a
step's `by(work)` calls the method of its kind). Each returns `Done`, or None when a pause cut
a wait short (the step is not done and is waited again on resume); a device's failure is the
rig's `DeviceLost`/`DeviceRefused`, which the engine turns into the control's events.

A frame: the triggers asked in turn (`triggers/`), the wheel turned, the exposure (bounded by
its length and the camera's margin; a flat by level `flatwork`'s, its test exposures before
it; a sky flat `skyflatwork`'s, skipped once the sky no longer allows its filter), the
agent's cards written into its FITS header, saved whole (`FrameStore`) and journalled saved;
the engine journals it done. A light frame of a plan with ``[grading]`` is then measured and
judged in a thread while the next one exposes (`gradework`); its verdict is taken in before
the next frame is saved, and before a slew, a wait, the end or a pause.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from indipycore import astro
from indipycore.fits import Card

from ..calframes.sheet import write_sheet
from ..journal import FrameStore
from ..journal.flatbook import FlatBook
from ..plan.steps import EndStep
from ..plan.steps import FrameStep
from ..plan.steps import SlewStep
from ..plan.steps import WaitStep
from ..rig.protocols import DeviceRefused
from ..rig.protocols import Frame
from .control import Control
from .flatdarkwork import flat_dark_exposure
from .flatdarkwork import is_flat_dark
from .flatwork import FlatWork
from .gradework import GradeWork
from .hands import NAP
from .hands import Framed
from .hands import Framing
from .hands import Hands
from .hands import SkipFrame
from .hands import Slewed
from .headers import with_cards
from .skyflatwork import SkyFlatWork
from .triggers import FrameAt
from .triggers import Trigger

logger = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class Done:
    """A step carried out; `shown` the frame saved (its file's name, without the frame
    type's folder, and bytes), for the observer."""

    shown: tuple[str, bytes] | None = None


class StepWork:
    """The steps on `hands`' rig, frames saved in `store`; `unsafe` says whether it is unsafe
    now, `report` tells the run's progress (before each exposure)."""

    def __init__(self, hands: Hands, store: FrameStore, triggers: Sequence[Trigger], *,
                 unsafe: Callable[[], bool], report: Callable[[], Awaitable[None]],
                 flat_book: FlatBook | None = None,
                 control: Control[Any] | None = None) -> None:
        self.hands = hands
        self.grades = GradeWork(hands, store, control or Control([]))
        self.flats = FlatWork(hands, flat_book)
        self.sky_flats = SkyFlatWork(hands, self.flats, unsafe)
        self.store = store
        self.triggers = triggers
        self.unsafe = unsafe
        self.report = report

    async def prepare(self) -> Done:
        """Name the wheel, mount and focuser the camera's header reads (ACTIVE_DEVICES)."""
        rig = self.hands.rig
        await self.hands.move(rig.camera.name_devices(
            mount=rig.mount.name if rig.mount else "",
            focuser=rig.focuser.name if rig.focuser else "",
            wheel=rig.wheel.name if rig.wheel else "",
            **({"panel": rig.panel.name} if rig.panel else {})), rig.camera.name)
        return Done()

    async def slew(self, step: SlewStep) -> Done | None:
        if await self.grades.settle():
            return None  # a frame rejected: taken again before the mount leaves its target
        hands = self.hands
        target, mount = hands.plan.targets[step.target_index], hands.rig.mount
        if mount is None or target.ra is None or target.dec is None:
            logger.warning("%s: no mount or no coordinates, the slew is skipped", target.name)
            return Done()
        await hands.move(mount.unpark(), mount.name)
        await hands.move(mount.slew_to(target.ra, target.dec), mount.name)
        side = await hands.move(mount.pier_side(), mount.name)
        hands.tell(Slewed(step.target_index, side))
        hands.journal.note("slew", target=step.target_index, pier_side=side)
        return Done()

    async def wait(self, step: WaitStep) -> Done | None:
        """Until the target's time, then its altitude: naps a pause cuts short."""
        if await self.grades.settle():
            return None  # a frame rejected: taken again first
        hands = self.hands
        target = hands.plan.targets[step.target_index]
        until = target.wait.until
        if until is not None and not await hands.nap_until(until):
            return None
        wanted = target.wait.altitude
        if wanted is None or target.ra is None or target.dec is None:
            return Done()
        site = await hands.site()
        who = hands.rig.mount.name if hands.rig.mount else "the plan"
        if site is None:
            raise DeviceRefused(who, "waiting for an altitude needs the site "
                                     "(the mount's GEOGRAPHIC_COORD or the plan's [site])")
        highest = 90.0 - abs(site.latitude - target.dec)
        if highest < wanted:
            raise DeviceRefused(who, f"{target.name} never rises above {highest:.1f} degrees, "
                                     f"so never to {wanted:g}")
        started = hands.clock()
        while hands.altitude(target, site) < wanted:
            if (hands.clock() - started).total_seconds() > astro.SIDEREAL_DAY_SECONDS:
                raise DeviceRefused(who, f"{target.name} did not reach {wanted:g} degrees "
                                         "within a day")
            if not await hands.nap(NAP, pausable=True):
                return None
        return Done()

    async def frame(self, step: FrameStep) -> Done | None:
        hands = self.hands
        target, batch, rig = hands.plan.targets[step.target_index], step.batch, hands.rig
        hands.tell(Framing(step))
        at = FrameAt(step, target, self.unsafe())
        try:
            for trigger in self.triggers:
                due = await trigger.due(at)
                if due is not None:
                    await trigger.carry_out(at, due)
        except SkipFrame as skip:
            return self._skipped(step, skip)
        if batch.filter is not None and rig.wheel is not None:
            await hands.move(rig.wheel.select(batch.filter), rig.wheel.name)
        await self.report()
        sky = batch.adu is not None and batch.source != "panel"
        try:
            seconds = flat_dark_exposure(hands.plan, self.store.folder, step) \
                if is_flat_dark(hands.plan, step) else batch.exposure
            taken = await self.sky_flats.take(step) if sky else \
                await self.flats.take(step) if batch.adu is not None else \
                await hands.bounded(rig.camera.expose(seconds, binning=batch.binning,
                                                      frame_type=batch.frame_type,
                                                      gain=batch.gain, offset=batch.offset),
                                    seconds + hands.camera_margin, rig.camera.name)
        except SkipFrame as skip:  # the night's flats of a level never reached
            return self._skipped(step, skip)
        if not isinstance(taken, Frame):  # a pause cut a wait (None), or the sky said no
            if taken is not None:
                hands.journal.note("skipped", step=step.id, why=taken)
            return None if taken is None else Done()
        frame = taken
        data = frame.data
        if frame.format.lower().startswith(".fits"):
            read = [card for reader in hands.frame_readers for card in await reader(step, data)]
            data = with_cards(data, [*self.cards(step), *read])
        await self.grades.settle()  # the frame before's verdict: measured while this exposed
        self.store.save(step.file_name, data)
        hands.journal.frame_saved(step.id, step.file_name, len(data),
                                  hashlib.sha256(data).hexdigest())
        hands.tell(Framed(step))
        if self.grades.wanted(step, data):
            await self.grades.begin(step, data)
        if batch.adu is not None and not sky:
            await self.flats.after(step)
        return Done((PurePosixPath(step.file_name).name, data))

    def _skipped(self, step: FrameStep, skip: SkipFrame) -> Done:
        """`step` done, nothing saved: logged and journalled ``skipped`` with why."""
        logger.warning("%s: skipped: %s", step.id, skip)
        self.hands.journal.note("skipped", step=step.id, why=str(skip))
        return Done()

    async def end(self, step: EndStep) -> Done | None:
        """Park, close the dome and warm as the plan's End says; then, for a night that took
        calibration frames (or keeps a dark library), ``calibration.json`` beside its frames.
        A frame rejected meanwhile is taken first (None: the end is not done)."""
        if await self.grades.settle():
            return None
        await self.close_night(quietly=False)
        hands = self.hands
        library = hands.night_library
        if library is not None or any(batch.frame_type != "Light" for target
                                      in hands.plan.targets for batch in target.batches):
            try:
                write_sheet(self.store.folder, hands.clock(),
                            library.library if library is not None else None)
            except OSError as error:
                logger.warning("calibration.json not written: %s", error)
        return Done()

    async def close_night(self, *, quietly: bool, warm: bool = True) -> None:
        """The End's park, the plan's dome closed after it (a dome may wait for its mount),
        the warm (unless not `warm`: a day between two nights of a schedule, when nothing
        would cool the camera again); `quietly` (an abort's): each failure logged and the
        next done anyway."""
        hands, rig, end = self.hands, self.hands.rig, self.hands.plan.end
        await self.grades.settle()  # an abort's: the last frame's verdict kept
        await self.stop_guider()  # before the park: a guider left on pulses a parked mount
        acts: list[tuple[Callable[[], Awaitable[None]], str, str]] = []
        if end.park and rig.mount is not None:
            acts.append((rig.mount.park, rig.mount.name, "park"))
        if end.close_dome and rig.dome is not None:
            acts.append((rig.dome.close, rig.dome.name, "close"))
        if end.warm and warm:
            acts.append((rig.camera.warm, rig.camera.name, "warm"))
        if rig.panel is not None:  # a flat's light left on by a pause or an abort
            await hands.quietly(rig.panel.light(False), rig.panel.name, "light off")
        for act, device, what in acts:
            if quietly:
                await hands.quietly(act(), device, what)
            else:
                await hands.move(act(), device)

    async def rest(self) -> None:
        """A pause: the verdicts under way taken in, the guider stopped."""
        await self.grades.settle()
        await self.stop_guider()

    async def stop_guider(self) -> None:
        """The plan's guider stopped, a failure only logged: the night's end, an abort and a
        pause leave no guider pulsing a mount the night no longer images with (issue 89 item
        7: 23 "pulse refused: parked" in two minutes). The guiding trigger starts it again
        before the next guided light frame. A guider the plan does not name is not the
        night's, and is left alone."""
        guider = self.hands.rig.guider
        if guider is not None:
            await self.hands.quietly(guider.stop(), guider.name, "stop guiding")

    def cards(self, step: FrameStep) -> list[Card]:
        """The agent's cards: the target, the plan, the step, the batch's gain and offset
        (GAIN, OFFSET: what Siril and PixInsight group calibration frames by; the camera's
        own header has them only where its driver writes them), and the triggers' (AFHFR...)."""
        plan, batch = self.hands.plan, step.batch
        cards: list[Card] = [("OBJECT", plan.targets[step.target_index].name, "the plan's target"),
                             ("PLAN", plan.name[:60], "the sequencer's plan"),
                             ("SEQSTEP", step.id[:60], "the plan's step")]
        if batch.gain is not None:
            cards.append(("GAIN", batch.gain, "the camera's gain (CCD_GAIN)"))
        if batch.offset is not None:
            cards.append(("OFFSET", batch.offset, "the camera's offset (CCD_OFFSET)"))
        for trigger in self.triggers:
            cards.extend(trigger.cards())
        return cards
