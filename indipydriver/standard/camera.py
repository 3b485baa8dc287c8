"""`Camera`: the CCD role. You write the exposure; it runs indilib's camera properties.

Compose it into a standard device::

    camera = Camera(Sensor(1280, 1024, 5.2), expose=my_expose, abort=my_abort, cooler=my_cooler)
    device = Device("My Camera", roles=[camera])

``my_expose(exposure)`` is a coroutine function taking an `Exposure` (``exposure.seconds``,
the frame and binning the client chose, the frame type) and returning the image: an `Image`
(pixels the role writes into a FITS file with the usual header cards) or the bytes of a
finished FITS file. The role does the rest, as indilib's INDI::CCD does for its drivers:

- defines, while connected: CCD_EXPOSURE, CCD_ABORT_EXPOSURE, CCD_FRAME, CCD_FRAME_RESET,
  CCD_BINNING, CCD_FRAME_TYPE, CCD_INFO, CCD_CAPTURE_FORMAT, CCD_TRANSFER_FORMAT,
  CCD_COMPRESSION, CCD1, CCD_FILE_PATH, UPLOAD_MODE, UPLOAD_SETTINGS, and with a `cooler`
  CCD_TEMPERATURE and CCD_COOLER (names, labels, groups, formats as indilib 1.9.9's simulator);
- an exposure: CCD_EXPOSURE Busy at once with the duration, Busy with the time left about
  every second, then the image in CCD1 (Ok, format ``.fits``, or ``.fits.z`` compressed),
  then CCD_EXPOSURE Ok with 0; a failure: CCD_EXPOSURE Alert with the reason. A new exposure
  while one runs aborts the old one first (indilib does the same);
- abort: the exposure's task is cancelled (your `expose` sees CancelledError) and your `abort`
  hook runs; CCD_ABORT_EXPOSURE Ok with ABORT Off and CCD_EXPOSURE Idle with 0, no image (both
  Alert if the hook raised);
- UPLOAD_MODE: Client sends the image as a BLOB; Local writes it to UPLOAD_DIR as
  UPLOAD_PREFIX (``XXX`` replaced by a counter) and sends its path in CCD_FILE_PATH; Both
  does both;
- cooling: a new CCD_TEMPERATURE sets the target on the `cooler` (and turns it on); the
  temperature is then sent Busy every `poll_seconds` until within `threshold` of the target
  (Ok), and sent whenever it changes otherwise;
- ACTIVE_DEVICES (Options, defined from the start and kept while disconnected, taken from
  the saved file at start, as indilib's CCD): the telescope, rotator, focuser, filter wheel
  and sky quality meter it snoops from when the driver is served (snooped.py); what they say goes into each image's header (fitsheader.py):
  TELESCOP, OBJCTRA/OBJCTDEC (J2000) with EQUINOX, FOCALLEN/APTDIA, SITELAT/SITELONG,
  AIRMASS, PIERSIDE, FILTER, FOCUSPOS..., each only when known. `extra_snoops` (member ->
  property names) snoops more number properties of those devices for the driver's own use
  (``role.active.values.number(property, member)``), as indilib's CCD simulator snoops its
  focuser's FWHM; `extra_active` (name, label) adds ACTIVE_DEVICES members of the driver's
  own after indilib's (our CCD simulator's ACTIVE_LIGHTBOX).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import zlib
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from indipycore.fits import Card
from indipycore.fits import fits_bytes
from indipycore.interface import Interface

from ..rxevents import ClientVectorEvent
from ..rxevents import RxEvent
from ..rxevents import newNumberVector
from ..vectors import BLOBVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from ..vectors import TextVector
from .cameratypes import Abort
from .cameratypes import Cooler
from .cameratypes import Expose
from .cameratypes import Exposure
from .cameratypes import Image
from .cameratypes import Sensor
from .cameravectors import CAMERA_VECTORS
from .cameravectors import FRAME_TYPES
from .fitsheader import snooped_cards
from .role import Operation
from .role import RoleDevice
from .role import RoleTasks
from .role import accept_values
from .snooped import ActiveDevices
from .vectortables import build

__all__ = ["Camera", "Cooler", "Exposure", "Image", "Sensor"]

logger = logging.getLogger(__name__)


def _numbers(event: ClientVectorEvent[Any]) -> newNumberVector:
    """The event as the number request it is (the framework routes by vector name, and each
    of these vectors is a NumberVector)."""
    if not isinstance(event, newNumberVector):
        raise TypeError(f"{event.vectorname} takes numbers, not {type(event).__name__}")
    return event


class Camera:
    """The CCD role (see the module docstring). `interface` is CCD (add GUIDER or FILTER
    with `extra_interface` for a camera with an ST4 port or a wheel of its own)."""

    #: Saved by CONFIG_SAVE (indilib's CCD::saveConfigItems).
    config_names = ("ACTIVE_DEVICES", "UPLOAD_MODE", "UPLOAD_SETTINGS", "CCD_COMPRESSION",
                    "CCD_CAPTURE_FORMAT", "CCD_TRANSFER_FORMAT", "CCD_FRAME", "CCD_BINNING")
    #: Taken from the saved file when the driver starts (indilib's CCD::initProperties:
    #: ActiveDeviceTP.load() and the config's capture, transfer and fast-exposure switches;
    #: this role has no CCD_FAST_TOGGLE, so that one is left out).
    startup_names = ("ACTIVE_DEVICES", "CCD_CAPTURE_FORMAT", "CCD_TRANSFER_FORMAT",
                     "CCD_FAST_TOGGLE")
    #: Defined from the start and kept while disconnected (indilib's CCD::ISGetProperties).
    always_names = ("ACTIVE_DEVICES",)

    def __init__(self, sensor: Sensor, expose: Expose, *, abort: Abort | None = None,
                 cooler: Cooler | None = None, extra_interface: Interface = Interface.GENERAL,
                 poll_seconds: float = 1.0, threshold: float = 0.2,
                 upload_dir: str = "", upload_prefix: str = "IMAGE_XXX",
                 active_devices: Mapping[str, str] | None = None,
                 extra_snoops: Mapping[str, Sequence[str]] | None = None,
                 extra_active: Sequence[tuple[str, str]] = ()) -> None:
        self.sensor = sensor
        self._expose = expose
        self._abort = abort
        self.cooler = cooler
        self.interface = Interface.CCD | extra_interface
        self.poll_seconds = poll_seconds
        self.threshold = threshold
        self.device: RoleDevice | None = None
        self.tasks = RoleTasks()
        self.images_sent = 0
        self._saved = 0
        self._target: float | None = None
        self._poll_wake = asyncio.Event()
        self._snooping = False  # `started` asked for the snoops
        s = sensor
        made = build(
            CAMERA_VECTORS, cooled=cooler is not None, min_exposure=s.min_exposure,
            max_exposure=s.max_exposure, width=s.width, height=s.height, max_x=s.width - 1,
            max_y=s.height - 1, max_binning=s.max_binning, pixel_size=s.pixel_size,
            pixel_size_y=s.pixel_size_y if s.pixel_size_y is not None else s.pixel_size,
            bits=s.bits, upload_dir=upload_dir or str(Path.home()), upload_prefix=upload_prefix)
        self.exposure = made.vector("CCD_EXPOSURE", NumberVector)
        self.temperature = made.optional("CCD_TEMPERATURE", NumberVector)
        self.cooler_vector = made.optional("CCD_COOLER", SwitchVector)
        self.abort_vector = made.vector("CCD_ABORT_EXPOSURE", SwitchVector)
        self.frame = made.vector("CCD_FRAME", NumberVector)
        self.frame_reset = made.vector("CCD_FRAME_RESET", SwitchVector)
        self.binning = made.vector("CCD_BINNING", NumberVector)
        self.frame_type = made.vector("CCD_FRAME_TYPE", SwitchVector)
        self.info = made.vector("CCD_INFO", NumberVector)
        self.capture_format = made.vector("CCD_CAPTURE_FORMAT", SwitchVector)
        self.transfer_format = made.vector("CCD_TRANSFER_FORMAT", SwitchVector)
        self.compression = made.vector("CCD_COMPRESSION", SwitchVector)
        self.ccd1 = made.vector("CCD1", BLOBVector)
        self.file_path = made.vector("CCD_FILE_PATH", TextVector)
        self.upload_mode = made.vector("UPLOAD_MODE", SwitchVector)
        self.upload_settings = made.vector("UPLOAD_SETTINGS", TextVector)
        # ACTIVE_DEVICES: `active_devices` overrides indilib's default names, by member;
        # `extra_snoops` adds properties the driver itself reads (`self.active.values.numbers`);
        # `extra_active` adds members of its own (name, label) after indilib's.
        self.active = ActiveDevices(active_devices, extra_snoops, extra_active)
        self._vectors = (*made.values(), self.active.vector)
        self.exposing = Operation(self.exposure, "Exposure")

    # ---------------------------------------------------------------- Role

    def vectors(self) -> Sequence[PropertyVector]:
        return self._vectors

    @property
    def polling_seconds(self) -> float:
        """`poll_seconds`, which the device's POLLING_PERIOD sets (`PollingRole`)."""
        return self.poll_seconds

    @polling_seconds.setter
    def polling_seconds(self, seconds: float) -> None:
        self.poll_seconds = seconds
        self._poll_wake.set()  # the temperature monitor starts its new wait at once

    def attach(self, device: RoleDevice) -> None:
        self.device = device
        self.tasks.attach(device)
        self.exposing.attach(device)

    @property
    def log(self) -> logging.Logger:
        return self.device.logger if self.device is not None else logger

    async def started(self) -> None:
        """The driver serves the device: snoop on the devices ACTIVE_DEVICES names (as
        saved, if it was), as indilib's CCD does in initProperties, connected or not. Once:
        the driver repeats its snoop requests when it is served again."""
        if not self._snooping:
            self._snooping = True
            await self._snoop(self.active.requests())

    async def connected(self) -> None:
        if self.cooler is not None:
            self.tasks.start(self._watch_temperature(), "Temperature monitor")

    async def disconnected(self) -> None:
        await self.exposing.abort()
        await self.tasks.stop()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        handlers: dict[str, Callable[[ClientVectorEvent[Any]], Awaitable[None]]] = {
            "CCD_EXPOSURE": self._new_exposure,
            "CCD_ABORT_EXPOSURE": self._new_abort,
            "CCD_FRAME": self._new_frame,
            "CCD_FRAME_RESET": self._new_frame_reset,
            "CCD_BINNING": self._new_binning,
            "CCD_TEMPERATURE": self._new_temperature,
            "CCD_COOLER": self._new_cooler,
            "UPLOAD_SETTINGS": accept_values,
            "ACTIVE_DEVICES": self._new_active_devices,
        }
        # The rest are OneOfMany choices the role only records (frame type, upload mode,
        # formats, compression).
        handler = handlers.get(event.vectorname or "", accept_values)
        await handler(event)

    async def _new_active_devices(self, event: ClientVectorEvent[Any]) -> None:
        requests = self.active.rename(dict(event.items()))
        await self.active.vector.send_setVector(state="Ok")
        await self._snoop(requests)

    async def _snoop(self, requests: list[tuple[str, str]]) -> None:
        if self.device is not None:
            for devicename, vectorname in requests:
                await self.device.snoop(devicename, vectorname)

    async def snooped(self, event: RxEvent) -> None:
        """Snooped traffic (the device hands it on): kept when it is from a device named in
        ACTIVE_DEVICES."""
        self.active.take(event)

    def current_frame(self) -> tuple[int, int, int, int]:
        f = self.frame
        return (round(f.getfloatvalue("X")), round(f.getfloatvalue("Y")),
                round(f.getfloatvalue("WIDTH")), round(f.getfloatvalue("HEIGHT")))

    async def _new_frame(self, request: ClientVectorEvent[Any]) -> None:
        event = _numbers(request)
        x, y, width, height = self.current_frame()
        x = round(event.getfloatvalue("X")) if "X" in event else x
        y = round(event.getfloatvalue("Y")) if "Y" in event else y
        width = round(event.getfloatvalue("WIDTH")) if "WIDTH" in event else width
        height = round(event.getfloatvalue("HEIGHT")) if "HEIGHT" in event else height
        s = self.sensor
        # As indilib: a subframe past the sensor's edge is cut to it.
        width = max(1, min(width, s.width - x))
        height = max(1, min(height, s.height - y))
        for name, value in (("X", x), ("Y", y), ("WIDTH", width), ("HEIGHT", height)):
            self.frame[name] = value
        await self.frame.send_setVector(state="Ok")

    async def _new_frame_reset(self, event: ClientVectorEvent[Any]) -> None:
        for name, value in (("X", 0), ("Y", 0), ("WIDTH", self.sensor.width),
                            ("HEIGHT", self.sensor.height)):
            self.frame[name] = value
        self.binning["HOR_BIN"] = 1
        self.binning["VER_BIN"] = 1
        self.frame_reset["RESET"] = "Off"
        await self.frame_reset.send_setVector(state="Ok")
        await self.frame.send_setVector(state="Ok")
        await self.binning.send_setVector(state="Ok")

    async def _new_binning(self, request: ClientVectorEvent[Any]) -> None:
        event = _numbers(request)
        for name in ("HOR_BIN", "VER_BIN"):
            if name in event:
                self.binning[name] = round(event.getfloatvalue(name))
        await self.binning.send_setVector(state="Ok")

    # ---------------------------------------------------------------- exposing

    def request(self, seconds: float) -> Exposure:
        """The exposure a client's CCD_EXPOSURE asks for, with the current settings."""
        x, y, width, height = self.current_frame()
        kind = next((FRAME_TYPES[n] for n, v in self.frame_type.items() if v == "On"), "Light")
        return Exposure(seconds, x, y, width, height,
                        round(self.binning.getfloatvalue("HOR_BIN")),
                        round(self.binning.getfloatvalue("VER_BIN")), kind)

    async def _new_exposure(self, request: ClientVectorEvent[Any]) -> None:
        event = _numbers(request)
        seconds = event.getfloatvalue("CCD_EXPOSURE_VALUE")
        if self.exposing.running:
            self.log.warning("A new exposure aborts the one in progress")
            await self._abort_exposure()
        self.exposure["CCD_EXPOSURE_VALUE"] = seconds
        await self.exposure.send_setVector(state="Busy")
        self.exposing.start(self._run_exposure(self.request(seconds)))

    async def _run_exposure(self, request: Exposure) -> None:
        start = time.monotonic()
        started = datetime.now(UTC)
        countdown = asyncio.get_running_loop().create_task(self._countdown(request.seconds,
                                                                           start))
        try:
            image = await self._expose(request)
        finally:
            countdown.cancel()
            await asyncio.gather(countdown, return_exceptions=True)
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        await self.exposure.send_setVector(state="Busy")
        data = image if isinstance(image, bytes) else await self._fits(image, request, started)
        await self._deliver(data)
        await self.exposure.send_setVector(state="Ok")
        self.log.info("Exposure of %g s done", request.seconds)

    async def _countdown(self, seconds: float, start: float) -> None:
        """CCD_EXPOSURE Busy with the time left, about once a second, until the image."""
        while True:
            left = seconds - (time.monotonic() - start)
            if left <= 0:
                return
            await asyncio.sleep(left % 1.0 or 1.0)
            left = max(0.0, seconds - (time.monotonic() - start))
            self.exposure["CCD_EXPOSURE_VALUE"] = round(left, 2)
            await self.exposure.send_setVector(state="Busy")

    async def _fits(self, image: Image, request: Exposure, started: datetime) -> bytes:
        pixel_x = self.sensor.pixel_size
        pixel_y = self.sensor.pixel_size_y or pixel_x
        cards: list[Card] = [
            ("EXPTIME", float(request.seconds), "Total Exposure Time (s)"),
            ("PIXSIZE1", float(pixel_x * request.bin_x), "Pixel Size 1 (microns)"),
            ("PIXSIZE2", float(pixel_y * request.bin_y), "Pixel Size 2 (microns)"),
            ("XBINNING", request.bin_x, "Binning factor in width"),
            ("YBINNING", request.bin_y, "Binning factor in height"),
            ("FRAME", request.frame_type, "Frame Type"),
            ("IMAGETYP", f"{request.frame_type} Frame", "Frame Type"),
            ("DATE-OBS", started.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3], "UTC start date of observation"),
        ]
        if self.cooler is not None:
            cards.append(("CCD-TEMP", round(await self.cooler.temperature(), 2), "CCD Temperature (Celsius)"))
        if self.device is not None:
            cards.append(("INSTRUME", self.device.devicename, "CCD Name"))
        cards += snooped_cards(
            self.active.values, when=datetime.now(UTC), light=request.frame_type == "Light",
            telescope=self.active.name("ACTIVE_TELESCOPE") if self.active.telescope_heard
            else "", pixel_size=pixel_x, binning=request.bin_x)
        cards.extend(image.cards)
        # A large image takes a while to pack: off the event loop, so the driver keeps answering.
        return await asyncio.to_thread(fits_bytes, image.width, image.height, image.pixels,
                                       bitpix=image.bits, cards=cards)

    async def _deliver(self, data: bytes) -> None:
        mode = next((n for n, v in self.upload_mode.items() if v == "On"), "UPLOAD_CLIENT")
        if mode in ("UPLOAD_LOCAL", "UPLOAD_BOTH"):
            path = await asyncio.to_thread(self._save, data)
            self.file_path["FILE_PATH"] = str(path)
            await self.file_path.send_setVector(state="Ok")
            self.log.info("Image saved to %s", path)
        if mode in ("UPLOAD_CLIENT", "UPLOAD_BOTH"):
            compressed = self.compression.get("INDI_ENABLED") == "On"
            if compressed:
                # INDI's own BLOB compression (a ".z" format, zlib): clients inflate it.
                blob = await asyncio.to_thread(zlib.compress, data, 6)
                fmt = ".fits.z"
            else:
                blob, fmt = data, ".fits"
            self.ccd1["CCD1"] = blob
            self.ccd1.set_blobformat("CCD1", fmt)
            self.ccd1.set_blobsize("CCD1", len(data))
            await self.ccd1.send_setVector(state="Ok")
            self.images_sent += 1

    def _save(self, data: bytes) -> Path:
        folder = Path(self.upload_settings["UPLOAD_DIR"] or ".").expanduser()
        prefix = self.upload_settings["UPLOAD_PREFIX"] or "IMAGE_XXX"
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            self._saved += 1
            name = re.sub("XXX", f"{self._saved:03d}", prefix) if "XXX" in prefix \
                else f"{prefix}{self._saved:03d}"
            path = folder / f"{name}.fits"
            if not path.exists():
                break
        path.write_bytes(data)
        return path

    async def _new_abort(self, event: ClientVectorEvent[Any]) -> None:
        if event.get("ABORT") != "On":
            self.abort_vector["ABORT"] = "Off"
            await self.abort_vector.send_setVector(state="Idle")
            return
        ok = await self._abort_exposure()
        state = "Ok" if ok else "Alert"
        self.abort_vector["ABORT"] = "Off"
        await self.abort_vector.send_setVector(state=state)
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        await self.exposure.send_setVector(state="Idle" if ok else "Alert")

    async def _abort_exposure(self) -> bool:
        """Cancel the running exposure and run the abort hook; False if the hook failed."""
        was_running = await self.exposing.abort()
        if self._abort is not None:
            try:
                await self._abort()
            except Exception as exc:  # noqa: BLE001  # the camera's failure, told to clients
                self.log.error("Abort failed: %s: %s", type(exc).__name__, exc)
                return False
        if was_running:
            self.log.info("Exposure aborted")
        return True

    # ---------------------------------------------------------------- cooling

    async def _new_temperature(self, request: ClientVectorEvent[Any]) -> None:
        event = _numbers(request)
        assert self.cooler is not None and self.temperature is not None
        target = event.getfloatvalue("CCD_TEMPERATURE_VALUE")
        await self.cooler.set_target(target)
        self._target = target
        if self.cooler_vector is not None and self.cooler_vector["COOLER_ON"] != "On":
            await self.cooler.set_cooler(True)
            self.cooler_vector["COOLER_ON"] = "On"
            await self.cooler_vector.send_setVector(state="Ok")
        self.temperature["CCD_TEMPERATURE_VALUE"] = round(await self.cooler.temperature(), 2)
        await self.temperature.send_setVector(state="Busy")
        self.log.info("Setting the CCD temperature to %+.2f C", target)

    async def _new_cooler(self, event: ClientVectorEvent[Any]) -> None:
        assert self.cooler is not None and self.cooler_vector is not None
        on = event.get("COOLER_ON") == "On" or event.get("COOLER_OFF") == "Off"
        await self.cooler.set_cooler(on)
        self.cooler_vector["COOLER_ON" if on else "COOLER_OFF"] = "On"
        if not on:
            self._target = None
        await self.cooler_vector.send_setVector(state="Ok" if on else "Idle")

    async def _watch_temperature(self) -> None:
        """Send the temperature while it changes: Busy on the way to a target, Ok there."""
        assert self.cooler is not None and self.temperature is not None
        vector = self.temperature
        while True:
            now = round(await self.cooler.temperature(), 2)
            changed = now != vector.getfloatvalue("CCD_TEMPERATURE_VALUE")
            vector["CCD_TEMPERATURE_VALUE"] = now
            if self._target is not None:
                if abs(now - self._target) <= self.threshold:
                    self._target = None
                    await vector.send_setVector(state="Ok")
                    self.log.info("CCD temperature reached %+.2f C", now)
                elif changed or vector.state != "Busy":
                    await vector.send_setVector(state="Busy")
            elif changed:
                await vector.send_setVector()
            self._poll_wake.clear()
            try:
                async with asyncio.timeout(self.poll_seconds):  # or a new POLLING_PERIOD
                    await self._poll_wake.wait()
            except TimeoutError:
                pass
