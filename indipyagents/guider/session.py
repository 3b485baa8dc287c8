"""`Session`: the guider at work: frames from the guide camera (the rig's `IndiCamera`),
measured in a thread (the agents' one star room, `indipyagents.stars`), handed to the
`GuiderMachine`, its pulses sent through the rig's guide port (`GuidePort`: the
TELESCOPE_TIMED_GUIDE_NS/WE of the mount or of the camera's ST4 port, as ACTIVE_GUIDER says;
both axes at once), its events to PHD2's clients and its state to the face.

`run` is the agent's one long task: it sleeps until something asks for frames (loop, guide),
then takes them back to back until the machine stops. A frame that fails (the camera lost,
refused) counts as a frame without a star, said with the reason, and the loop waits a second
before the next try; a refused pulse ends a calibration with the reason (CalibrationFailed)
or is said as PHD2's Alert while guiding. The calibration step is sized from the mount's
GUIDE_RATE (the pulse device's if it has one), its declination and the plate scale
(CCD_INFO's pixel, TELESCOPE_INFO's focal length) unless AGENT_GUIDER_SETTINGS.STEP fixes it.

Beside it, `keep` runs the rig's `Keeper` on the link for the agent's life: the camera, the
mount and the pulse device are connected at the start and whenever their server brings them
back disconnected (a driver restarted, a server started again), not only when a PHD2 client
asks for frames: a night resumed after a power cut has nobody to ask.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from indipyclient import Client
from indipyclient.model import events as ev
from indipycore.fits import FITSError
from indipycore.protocol import State
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry

from ..link import AgentLink
from ..rig.camera import IndiCamera
from ..rig.guideport import GuidePort
from ..rig.indiset import connect_device
from ..rig.indiset import is_connected
from ..rig.keeper import Keeper
from ..rig.mount import IndiMount
from ..rig.protocols import RigError
from . import calkeep
from .events import Alert
from .events import CalibrationComplete
from .events import GuideEvent
from .events import told_of
from .face import GuiderFace
from .guidemath import expected_rate
from .guidemath import step_ms
from .guidetypes import Refused
from .machine import GuiderMachine
from .machine import Seen
from .machine import Star
from .machine import Step
from .phd2wire import Settle
from .reasons import Reason
from .reasons import said
from .settlewatch import SettleWatches
from .settlewatch import Watch
from .singleframe import SingleFrame
from .singleframe import capture
from .states import AppState

__all__ = ["Session"]

logger = logging.getLogger(__name__)

Publish = Callable[[GuideEvent], None]
#: The link kept up for the keeper: 1, 2, 4... 10 s between tries, for ever.
LINK_RETRY = Retry(ExponentialBackoff(initial=1.0, cap=10.0, jitter="equal"))


class Session:
    """The guiding loop for `face`'s devices on `link`'s server; `publish` sends PHD2's
    events (the `Phd2Server`'s, or nothing)."""

    def __init__(self, link: AgentLink, face: GuiderFace, machine: GuiderMachine | None = None,
                 publish: Publish | None = None, state: Path | None = None) -> None:
        self.link = link
        #: Where the calibration is kept across restarts (`calkeep`; None: not kept).
        self.state = state
        #: What a calibration begun now is made with: mount, camera, binning, declination.
        self._here: tuple[str, str, int, float] | None = None
        self.face = face
        self.machine = machine or GuiderMachine(face.mount())
        self.publish: Publish = publish or (lambda event: None)
        self.frames = 0
        self.last_stars: tuple[Any, ...] = ()
        #: The last guide frame read (its number and FITS bytes), for get_star_image.
        self.last_frame: tuple[int, bytes] | None = None
        self.size = (0, 0)
        #: PHD2's capture_single_frame asked for, taken by the frames loop (None: none).
        self.single: SingleFrame | None = None
        self._wake = asyncio.Event()
        self._cameras: dict[str, IndiCamera] = {}
        #: The camera whose pixel size was waited for (a camera that never says one costs
        #: one wait a connection, not one a `pixel_scale`).
        self._waited: IndiCamera | None = None
        #: The INDI requests waiting for their settle (`settlewatch`), and those ended.
        self.watches = SettleWatches()
        self._ended: list[Watch] = []
        self.keeper = Keeper(self.devices, lambda: face.log)

    # -- commands (PHD2's methods and the face's requests) -------------------------------

    def apply(self, step: Step, watch: Watch | None = None) -> None:
        """`step`'s events to PHD2's clients; `watch` waits for the settle it begins."""
        for event in step.events:
            if isinstance(event, CalibrationComplete):
                self._keep()
            elif (text := told_of(event)) is not None:
                info = isinstance(event, Alert) and event.level == "info"
                logger.log(logging.INFO if info else logging.WARNING, "%s", text)
            self.publish(event)
        self._ended += self.watches.feed(step.events, watch)

    async def tell_face(self) -> None:
        """The watches ended since last time, to the face (their vectors Ok or Alert)."""
        ended, self._ended = self._ended, []
        for watch in ended:
            await self.face.settled(watch)

    async def client(self) -> Client:
        return await self.link.client()

    def devices(self) -> tuple[str, ...]:
        """The camera, the mount and the pulse device (once each)."""
        return tuple(dict.fromkeys((self.face.camera(), self.face.mount(), self.face.guider())))

    async def connected(self) -> bool:
        client = await self.client()
        return all(is_connected(client, name) for name in self.devices())

    async def connect(self) -> None:
        client = await self.client()
        for name in self.devices():
            await connect_device(client, name)

    async def loop(self) -> None:
        await self.connect()
        self.apply(self.machine.loop())
        self._wake.set()

    async def start_guiding(self, settle: Settle, recalibrate: bool,
                            watch: Watch | None = None) -> None:
        await self.connect()
        mount = self.face.mount()
        if IndiMount(await self.client(), mount).parked():
            raise Refused(f"the mount ({mount}) is parked: unpark it, then guide")
        self.machine.mount = self.face.mount()
        if self.machine.state in (AppState.STOPPED, AppState.LOOPING) or recalibrate:
            self.machine.tuning = replace(self.face.tuning(await self._step_ms()),
                                          expected_ra=await self._expected_rate())
        await self._restore(recalibrate)
        self.apply(self.machine.loop())
        self.apply(self.machine.guide(settle, recalibrate), watch)
        self._wake.set()

    async def _restore(self, recalibrate: bool) -> None:
        """PHD2's auto restore: the calibration kept, if made with this mount, camera and
        binning, adjusted for the declination and pier side here; else it is redone."""
        client = await self.client()
        mount, camera = self.face.mount(), self.face.camera()
        binning = _number(client, camera, "CCD_BINNING", "HOR_BIN")
        dec = _number(client, mount, "EQUATORIAL_EOD_COORD", "DEC") or 0.0
        self._binned(int(binning or 1))  # binning changed while stopped
        self._here = (mount, camera, int(binning or 1), dec)
        if self.state is None or recalibrate or self.machine.calibration is not None:
            return
        kept = calkeep.load(self.state)
        if kept is None:
            return
        why = calkeep.reusable(kept, mount, camera, int(binning or 1))
        if why:
            logger.info("calibration not restored, calibrating anew: %s", why)
            return
        pier = _on_member(client, mount, "TELESCOPE_PIER_SIDE")
        self.machine.calibration = calkeep.adjusted(kept.calibration, dec, pier,
                                                    self.machine.tuning.flip_dec)
        logger.info("calibration restored (made at Dec %.1f, %s; now Dec %.1f, %s)",
                 kept.calibration.declination, kept.calibration.pier_side, dec, pier)

    def forget_calibration(self) -> None:
        """The kept calibration removed (PHD2's clear_calibration: the next guide calibrates)."""
        if self.state is not None:
            try:
                (self.state / calkeep.FILE_NAME).unlink(missing_ok=True)
            except OSError as e:
                logger.warning("kept calibration not removed: %s", e)

    def _keep(self) -> None:
        """The calibration just made, kept in the state folder (a failed write logged)."""
        cal, here = self.machine.calibration, self._here
        if self.state is None or cal is None or here is None:
            return
        try:
            calkeep.save(self.state, calkeep.Kept(replace(cal, declination=here[3]),
                                                  here[0], here[1], here[2]))
        except OSError as e:
            logger.warning("calibration not kept: %s", e)

    def _binned(self, binning: int) -> None:
        """The frame just read at `binning`: a binning other than the one the guider runs at
        (a live CCD_BINNING) scales the calibration, and the scaled one is kept."""
        here = self._here
        if here is None or here[2] == binning:
            return
        self._here = (here[0], here[1], binning, here[3])
        self.apply(self.machine.rebinned(here[2], binning))
        if self.machine.calibration is not None and self.machine.calibrator.cal is None:
            self._keep()

    def set_paused(self, paused: bool, full: bool = False) -> None:
        """PHD2's set_paused; the frames loop woken: a pause "full" had ended its frames."""
        self.apply(self.machine.set_paused(paused, full))
        self._wake.set()

    def single_frame(self, request: SingleFrame) -> None:
        """PHD2's capture_single_frame: taken by the frames loop (`singleframe.capture`)."""
        self.single = request
        self._wake.set()

    async def dither(self, amount: float, ra_only: bool, settle: Settle,
                     watch: Watch | None = None) -> None:
        self.apply(self.machine.dither(amount, ra_only, settle), watch)

    async def stop(self) -> None:
        self.apply(self.machine.stop())
        await self.tell_face()
        await self.face.show(self.machine, self.frames)

    async def pixel_scale(self) -> float | None:
        """Arcseconds a pixel (CCD_INFO's pixel, binning 1, TELESCOPE_INFO's focal length).
        The pixel is waited for (`IndiCamera.wait_pixel_size`, once a connection): indilib's
        CCD defines CCD_INFO with zeros on a connect and says its size a moment later, so a
        read at once gave no scale, and a calibration sized its steps from a guess."""
        client = self.link._client
        if client is None:
            return None
        camera = self.camera(client)
        if camera is self._waited:
            pixel = camera.pixel_size()
        else:
            pixel = await camera.wait_pixel_size()
            self._waited = camera
        focal = _number(client, self.face.mount(), "TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH")
        if pixel is None or not focal:
            return None
        return 206.264806 * pixel / focal

    async def frame_scale(self) -> float | None:
        """Arcseconds a pixel of the guide frames: `pixel_scale` at the camera's binning now
        (CCD_BINNING), as PHD2's get_pixel_scale answers (its GuideStep's pixels are the
        binned frame's)."""
        scale = await self.pixel_scale()
        client = self.link._client
        if scale is None or client is None:
            return scale
        return scale * int(_number(client, self.face.camera(), "CCD_BINNING", "HOR_BIN") or 1)

    async def _expected_rate(self) -> float:
        """Pixels a millisecond a West pulse should move the star (0.0: unknown): from the
        GUIDE_RATE of the device that takes the pulses only (a camera's ST4 port without one,
        as indilib's CCD simulator, moves the star at a rate of its own: unknown)."""
        client = await self.client()
        mount = self.face.mount()
        rate = _number(client, self.face.guider(), "GUIDE_RATE", "GUIDE_RATE_WE")
        dec = _number(client, mount, "EQUATORIAL_EOD_COORD", "DEC")
        scale = await self.pixel_scale()
        if not rate or dec is None or not scale:
            return 0.0
        return expected_rate(scale, rate, dec)

    async def _step_ms(self) -> int:
        client = await self.client()
        mount = self.face.mount()
        rate = _number(client, self.face.guider(), "GUIDE_RATE", "GUIDE_RATE_WE") \
            or _number(client, mount, "GUIDE_RATE", "GUIDE_RATE_WE") or 0.5
        dec = _number(client, mount, "EQUATORIAL_EOD_COORD", "DEC") or 0.0
        scale = await self.pixel_scale() or 2.5
        return step_ms(self.face.value("MIN_CALIBRATION_DRIFT"), scale, rate, dec)

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        """Frames while the machine captures, and the devices kept connected, forever."""
        await self.keeper.beside(("guider: devices kept connected", self.keep()),
                                 ("guider: frames", self._frames()))

    async def _frames(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.single is not None:
                await capture(self, self.single)
            while self.machine.capturing:
                await self.one_frame()

    async def keep(self) -> None:
        """The link's events to the `Keeper`, the link opened again when it gives up."""
        while True:
            await LINK_RETRY.call_with_retry(self._keep_once,
                                             errors=(ConnectionError, OSError))

    async def _keep_once(self) -> None:
        client = await self.client()
        stream = client.events()
        try:
            self.keeper.attach(client)
            async for event in stream:
                self.keeper.event(event)
        finally:
            stream.close()
        raise ConnectionError(f"the link to {client.host}:{client.port} gave up")

    def camera(self, client: Client) -> IndiCamera:
        name = self.face.camera()
        camera = self._cameras.get(name)
        if camera is None or camera.client is not client:
            camera = self._cameras[name] = IndiCamera(client, name)
        return camera

    async def one_frame(self) -> None:
        client = await self.client()
        mount = self.face.mount()
        self.frames += 1
        problem = ""
        data = b""
        motion = Motion(mount, _slewing(client, mount), _on_member(client, mount,
                                                                   "TELESCOPE_PIER_SIDE"))
        binning = int(_number(client, self.face.camera(), "CCD_BINNING", "HOR_BIN") or 1)
        with client.waiters.watching(motion.hear):
            try:
                frame = await self.camera(client).expose(self.face.exposure(), binning=binning)
                data = frame.data
                stars, width, height = await asyncio.to_thread(_measure, data)
            except (RigError, FITSError, ImportError) as exc:
                problem, found = str(exc), None
                width, height = self.size
            else:
                found, self.size = stars, (width, height)
                self.last_stars = stars
                self.last_frame = (self.frames, data)
        if IndiMount(client, mount).parked() \
                and self.machine.state in (AppState.GUIDING, AppState.LOST_LOCK,
                                       AppState.CALIBRATING):
            reason = said(Reason.PARKED, before=f"the mount ({mount}) ")
            logger.warning("%s", reason)
            self.apply(self.machine.mount_parked(reason))
            await self.tell_face()
            await self.face.show(self.machine, self.frames, reason=reason)
            return
        pier = _on_member(client, mount, "TELESCOPE_PIER_SIDE")
        slewing = motion.moved(_slewing(client, mount), pier)
        seen = Seen(found, width, height, self.frames, time.monotonic(), pier, slewing, problem)
        if found is not None:
            self._binned(binning)
        step = self.machine.frame(seen)
        self.apply(step)
        await self._pulses(client, self.face.guider(), step.pulses)
        await self.tell_face()
        best = max(found, key=lambda s: s.flux) if found else None
        told = next((t for e in step.events if (t := told_of(e)) is not None), "")
        scale = await self.pixel_scale()  # the frame's pixels are binned ones
        await self.face.show(self.machine, self.frames, None if best is None else best.snr,
                             reason=told, scale=scale * binning if scale else 0.0)
        if data:
            await self.face.frame(data)
        if problem:
            logger.warning("guide frame %d: %s", self.frames, problem)
            await asyncio.sleep(1.0)

    async def _pulses(self, client: Client, device: str, pulses: Mapping[str, int]) -> None:
        """`pulses` (ms by direction) through `device`'s guide port (the rig's `GuidePort`:
        the mount's or a camera's ST4 port), both axes at once; a refusal told to the machine
        with the device named."""
        north = pulses.get("N", 0) - pulses.get("S", 0)
        west = pulses.get("W", 0) - pulses.get("E", 0)
        try:
            await GuidePort(client, device).pulse(north, west)
        except RigError as exc:
            who = f"the mount ({device})" if device == self.face.mount() \
                else f"the ST4 port of {device}"
            self.apply(self.machine.pulse_failed(
                said(Reason.PULSE_REFUSED, f": {exc}", before=f"{who} ")))


class Motion:
    """Whether the mount moved while a frame was exposed and read, PHD2's way of dropping a
    frame taken while the mount slewed: Busy when the exposure was asked for, Busy heard
    meanwhile (`hear`, on the client's events), Busy when read, or another pier side. The
    state when the frame is read alone is not enough: a frame begun before a slew (or during
    it) and read after it (a long exposure, a loaded machine) was drawn while the mount moved,
    and judged as a frame of the still mount its missing star looked lost (StarLost)."""

    def __init__(self, mount: str, slewing: bool, pier: str | None) -> None:
        self.mount, self.pier, self.slewed = mount, pier, slewing

    def hear(self, event: ev.Event) -> bool:
        """Notes a Busy EQUATORIAL_EOD_COORD of the mount; never done (watches to the end)."""
        if isinstance(event, ev.setVector) and event.devicename == self.mount \
                and event.vectorname == "EQUATORIAL_EOD_COORD" and event.state is State.BUSY:
            self.slewed = True
        return False

    def moved(self, slewing: bool, pier: str | None) -> bool:
        """With the mount's state when the frame is read: did it move during the frame?"""
        return self.slewed or slewing or pier != self.pier


def _slewing(client: Client, mount: str) -> bool:
    coord = client.devices.vector(mount, "EQUATORIAL_EOD_COORD")
    return coord is not None and coord.state is State.BUSY


def _number(client: Client, device: str, vector: str, member: str) -> float | None:
    found = client.devices.vector(device, vector)
    if found is None or member not in found:
        return None
    try:
        value = float(found[member])
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _on_member(client: Client, device: str, vector: str) -> str | None:
    found = client.devices.vector(device, vector)
    if found is None:
        return None
    return next((name for name in found if found[name] == "On"), None)


def _measure(data: bytes) -> tuple[tuple[Star, ...], int, int]:
    """The frame's stars (`indipyagents.stars.measure.guide_stars`), imported on first use:
    without the extra [agents] the agent still starts and answers, and each frame says what
    to install."""
    from ..stars.measure import guide_stars

    return guide_stars(data)
