"""Camera (ICameraV4) on INDI's CCD properties and its CCD1 image BLOB.

StartExposure applies what the client chose (binning, the subframe -- Alpaca counts binned
pixels, INDI unbinned --, light or dark) and starts CCD_EXPOSURE, returning at once; the image
is the next CCD1 BLOB (the face's INDI client asks for this camera's BLOBs only), taken the
moment the client has it (a watch on its events) and made ImageBytes from then on, in worker
threads (`framestream`): ImageReady turns True then, and a download sends the pixels as
they are written. State: Exposing while CCD_EXPOSURE counts down, Reading until the BLOB arrives, Error
when the exposure went Alert. What INDI has no property for (stopping early with a readout,
readout modes beyond one, fast readout, electrons per ADU, full well, heat sink, sub-exposures,
a shutter) is not implemented or answered as the interface says a camera without it answers.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.requests import Params
from indipyclient.model import events as ev
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Limit
from .common import Number
from .common import Setting
from .common import Toggle
from .common import table
from .fitsimage import FitsImage
from .framestream import FrameStream

logger = logging.getLogger(__name__)

EXPOSURE = "CCD_EXPOSURE"
BLOB = "CCD1"
IDLE, WAITING, EXPOSING, READING, DOWNLOAD, ERROR = range(6)
CFA_TYPES = {"RGGB": (0, 0), "GRBG": (1, 0), "GBRG": (0, 1), "BGGR": (1, 1)}
#: CCD_CFA's CFA_TYPE of ASCOM's other mosaics -> SensorType (their offsets as CCD_CFA has them).
MOSAICS = {"CMYG": 3, "CMYG2": 4, "LRGB": 5}

MEMBERS = frozenset({
    "abortexposure", "bayeroffsetx", "bayeroffsety", "binx", "biny", "camerastate",
    "cameraxsize", "cameraysize", "canabortexposure", "canasymmetricbin", "canfastreadout",
    "cangetcoolerpower", "canpulseguide", "cansetccdtemperature", "canstopexposure",
    "ccdtemperature", "cooleron", "coolerpower", "electronsperadu", "exposuremax",
    "exposuremin", "exposureresolution", "fastreadout", "fullwellcapacity", "gain", "gainmax",
    "gainmin", "gains", "hasshutter", "heatsinktemperature", "imagearray",
    "imagearrayvariant", "imageready", "ispulseguiding", "lastexposureduration",
    "lastexposurestarttime", "maxadu", "maxbinx", "maxbiny", "numx", "numy", "offset",
    "offsetmax", "offsetmin", "offsets", "percentcompleted", "pixelsizex", "pixelsizey",
    "pulseguide", "readoutmode", "readoutmodes", "sensorname", "sensortype",
    "setccdtemperature", "startexposure", "startx", "starty", "stopexposure",
    "subexposureduration",
})

GAIN = Setting("CCD_GAIN", "GAIN")
OFFSET = Setting("CCD_OFFSET", "OFFSET")


class Camera(AlpacaDevice):
    device_type = DeviceType.CAMERA
    MEMBERS = MEMBERS
    STATE = ("CameraState", "CCDTemperature", "CoolerPower", "HeatSinkTemperature",
             "ImageReady", "IsPulseGuiding", "PercentCompleted")
    TABLE = table(
        CCDTemperature=Number("CCD_TEMPERATURE", "CCD_TEMPERATURE_VALUE"),
        CoolerOn=Toggle("CCD_COOLER", "COOLER_ON", "COOLER_OFF"),
        CoolerPower=Number("CCD_COOLER_POWER", "CCD_COOLER_VALUE"),
        Gain=GAIN, GainMin=Limit(GAIN, 0), GainMax=Limit(GAIN, 1),
        Offset=OFFSET, OffsetMin=Limit(OFFSET, 0), OffsetMax=Limit(OFFSET, 1),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bin: int | None = None
        self.frame: list[int | None] = [None, None, None, None]  # StartX, StartY, NumX, NumY
        self.set_point: float | None = None
        self.started = False  # an exposure was started and its image has not come yet
        self.duration = 0.0
        self.blob_before: str | None = None
        self.blobs_asked = False
        self.stream: FrameStream | None = None  # the image of the last exposure
        self.image_file: str | None = None
        self._watch: asyncio.Task[None] | None = None

    # -- INDI helpers ------------------------------------------------------------------

    def _info(self, member: str) -> float:
        value = self.indi.number(self.name, "CCD_INFO", member)
        if value is None:
            raise AlpacaError.not_implemented(f"{member} (no CCD_INFO)")
        return value

    def _blob_file(self) -> str | None:
        vector = self.indi.vector(self.name, BLOB)
        if vector is None or BLOB not in vector:
            return None
        filename = vector.member(BLOB).filename
        return str(filename) if filename else None

    def _poll(self) -> None:
        """Take a new image if the BLOB brought one: the exposure is over."""
        filename = self._blob_file()
        if not self.started or filename is None or filename == self.blob_before:
            return
        self.started = False
        previous, self.image_file = self.image_file, filename
        self.stream = FrameStream(filename, self.name)  # converting from now on
        if previous and previous != filename:  # keep only the image served now
            Path(previous).unlink(missing_ok=True)

    def _watch_for_image(self) -> None:
        """Take the exposure's image as soon as the INDI client has it, not when an Alpaca
        client next asks: its conversion starts then. Ends with the exposure."""
        if self._watch is not None:
            self._watch.cancel()

        def arrived(event: ev.Event) -> bool:
            if isinstance(event, ev.ConnectionLost) or not self.started:
                return True
            if (isinstance(event, ev.setBLOBVector) and event.devicename == self.name
                    and event.vectorname == BLOB):
                self._poll()
            return not self.started

        async def watch() -> None:
            try:
                with self.indi.client.waiters.watching(arrived) as done:
                    await done
            except Exception:  # the image is still taken when a client next asks
                logger.exception("watching for the image of %s failed", self.name)

        self._watch = asyncio.create_task(watch())

    async def _load(self) -> FrameStream:
        """The image of the last exposure, once its file is open (AlpacaError if it cannot
        be served); its pixels may still be on their way."""
        self._poll()
        if self.stream is None or self.started:
            raise AlpacaError.invalid_operation("there is no image yet (ImageReady is False)")
        stream = self.stream
        await stream.image()
        return stream

    def _max_bin(self) -> int:
        limits_x = self.indi.limits(self.name, "CCD_BINNING", "HOR_BIN")
        limits_y = self.indi.limits(self.name, "CCD_BINNING", "VER_BIN")
        if limits_x is None or limits_y is None:
            return 1
        return max(1, int(min(limits_x[1], limits_y[1])))

    def _current_bin(self) -> int:
        if self.bin is not None:
            return self.bin
        value = self.indi.number(self.name, "CCD_BINNING", "HOR_BIN")
        return max(1, round(value)) if value else 1

    def _frame_value(self, index: int) -> int:
        held = self.frame[index]
        if held is not None:
            return held
        binning = self._current_bin()
        if index < 2:
            return 0
        size = self._info("CCD_MAX_X" if index == 2 else "CCD_MAX_Y")
        return int(size) // binning

    # -- sizes and capabilities --------------------------------------------------------

    async def get_cameraxsize(self, params: Params) -> int:
        return round(self._info("CCD_MAX_X"))

    async def get_cameraysize(self, params: Params) -> int:
        return round(self._info("CCD_MAX_Y"))

    async def get_pixelsizex(self, params: Params) -> float:
        return self._info("CCD_PIXEL_SIZE_X")

    async def get_pixelsizey(self, params: Params) -> float:
        return self._info("CCD_PIXEL_SIZE_Y")

    async def get_maxadu(self, params: Params) -> int:
        bits = round(self._info("CCD_BITSPERPIXEL"))
        return int(2 ** min(bits, 31) - 1)

    async def get_maxbinx(self, params: Params) -> int:
        return self._max_bin()

    get_maxbiny = get_maxbinx

    async def _false(self, params: Params) -> bool:
        return False

    get_canasymmetricbin = get_canstopexposure = get_canfastreadout = get_hasshutter = _false

    async def get_canabortexposure(self, params: Params) -> bool:
        return self.indi.vector(self.name, "CCD_ABORT_EXPOSURE") is not None

    def exposure_limits(self, what: str) -> tuple[float, float]:
        """CCD_EXPOSURE_VALUE's (min, max) in seconds; `what` names the member asking."""
        limits = self.indi.limits(self.name, EXPOSURE, "CCD_EXPOSURE_VALUE")
        if limits is None:
            raise AlpacaError.not_implemented(f"{what} (no CCD_EXPOSURE)")
        return limits

    async def get_exposuremin(self, params: Params) -> float:
        return self.exposure_limits("ExposureMin")[0]

    async def get_exposuremax(self, params: Params) -> float:
        return self.exposure_limits("ExposureMax")[1]

    async def get_exposureresolution(self, params: Params) -> float:
        vector = self.indi.require(self.name, EXPOSURE, "ExposureResolution")
        try:
            return max(0.0, float(vector.member("CCD_EXPOSURE_VALUE").step))
        except (KeyError, ValueError):
            return 0.0

    async def get_sensorname(self, params: Params) -> str:
        return ""  # INDI names the driver, not the sensor

    async def get_sensortype(self, params: Params) -> int:
        cfa = self.indi.text(self.name, "CCD_CFA", "CFA_TYPE")
        if not cfa:
            return 0
        return 2 if cfa.upper() in CFA_TYPES else MOSAICS.get(cfa.upper(), 1)

    def _bayer(self, axis: int) -> int:
        cfa = (self.indi.text(self.name, "CCD_CFA", "CFA_TYPE") or "").upper()
        if cfa not in CFA_TYPES and cfa not in MOSAICS:
            raise AlpacaError.not_implemented("Bayer offsets of a sensor without a mosaic")
        # CFA_TYPE starts at pixel (CFA_OFFSET_X, CFA_OFFSET_Y), as FITS' XBAYROFF/YBAYROFF.
        start = CFA_TYPES.get(cfa, (0, 0))[axis]
        shift = self.indi.text(self.name, "CCD_CFA", ("CFA_OFFSET_X", "CFA_OFFSET_Y")[axis])
        try:
            return (start + int(shift or 0)) % 2 if cfa in CFA_TYPES else int(shift or 0)
        except ValueError:
            return start

    async def get_bayeroffsetx(self, params: Params) -> int:
        return self._bayer(0)

    async def get_bayeroffsety(self, params: Params) -> int:
        return self._bayer(1)

    async def get_readoutmodes(self, params: Params) -> list[str]:
        return ["Default"]

    async def get_readoutmode(self, params: Params) -> int:
        return 0

    async def put_readoutmode(self, params: Params) -> None:
        if params.as_int("ReadoutMode") != 0:
            raise AlpacaError.invalid_value("ReadoutMode must be 0 (the only one, Default)")

    # -- binning and subframe ----------------------------------------------------------

    async def get_binx(self, params: Params) -> int:
        return self._current_bin()

    get_biny = get_binx

    async def _put_bin(self, value: int) -> None:
        if not 1 <= value <= self._max_bin():
            raise AlpacaError.invalid_value(f"binning {value} is outside 1..{self._max_bin()}")
        self.bin = value  # symmetric: BinX and BinY are one value

    async def put_binx(self, params: Params) -> None:
        await self._put_bin(params.as_int("BinX"))

    async def put_biny(self, params: Params) -> None:
        await self._put_bin(params.as_int("BinY"))

    async def get_startx(self, params: Params) -> int:
        return self._frame_value(0)

    async def get_starty(self, params: Params) -> int:
        return self._frame_value(1)

    async def get_numx(self, params: Params) -> int:
        return self._frame_value(2)

    async def get_numy(self, params: Params) -> int:
        return self._frame_value(3)

    def _put_frame(self, index: int, key: str, params: Params) -> None:
        value = params.as_int(key)
        if value < (1 if index >= 2 else 0):
            raise AlpacaError.invalid_value(f"{key} {value} is too small")
        self.frame[index] = value  # checked against the sensor at StartExposure

    async def put_startx(self, params: Params) -> None:
        self._put_frame(0, "StartX", params)

    async def put_starty(self, params: Params) -> None:
        self._put_frame(1, "StartY", params)

    async def put_numx(self, params: Params) -> None:
        self._put_frame(2, "NumX", params)

    async def put_numy(self, params: Params) -> None:
        self._put_frame(3, "NumY", params)

    # -- exposing ----------------------------------------------------------------------

    async def put_startexposure(self, params: Params) -> None:
        duration = params.as_float("Duration")
        light = params.as_bool("Light")
        self._poll()
        if self.started or self.camera_state() not in (IDLE, ERROR):
            raise AlpacaError.invalid_operation("the camera is not idle")
        low, high = self.exposure_limits("StartExposure")
        if not low <= duration <= high:
            raise AlpacaError.invalid_value(f"Duration {duration} is outside {low}..{high} s")
        binning = self._current_bin()
        x, y, w, h = (self._frame_value(i) for i in range(4))
        max_x, max_y = self._info("CCD_MAX_X"), self._info("CCD_MAX_Y")
        if (x + w) * binning > max_x or (y + h) * binning > max_y:
            raise AlpacaError.invalid_value(
                f"the subframe {x},{y} {w}x{h} at binning {binning} is outside the "
                f"{int(max_x)}x{int(max_y)} sensor")
        if not self.blobs_asked:
            await self.indi.client.send_enableBLOB("Also", self.name, BLOB)
            self.blobs_asked = True
        upload = self.indi.vector(self.name, "UPLOAD_MODE")
        if upload is not None and str(upload.get("UPLOAD_LOCAL")) == "On":
            await self.indi.send_and_see(self.name, "UPLOAD_MODE", {"UPLOAD_CLIENT": "On"})
        if self.indi.vector(self.name, "CCD_FRAME_TYPE") is not None:
            kind = "FRAME_LIGHT" if light else "FRAME_DARK"
            if not self.indi.switch_on(self.name, "CCD_FRAME_TYPE", kind):
                await self.indi.send_and_see(self.name, "CCD_FRAME_TYPE", {kind: "On"})
        if self.indi.vector(self.name, "CCD_BINNING") is not None:
            wanted = {"HOR_BIN": binning, "VER_BIN": binning}
            if any(self.indi.number(self.name, "CCD_BINNING", m) != v for m, v in wanted.items()):
                await self.indi.send_and_see(self.name, "CCD_BINNING", wanted)
        if self.indi.vector(self.name, "CCD_FRAME") is not None:
            frame = {"X": x * binning, "Y": y * binning, "WIDTH": w * binning,
                     "HEIGHT": h * binning}
            if any(self.indi.number(self.name, "CCD_FRAME", m) != v for m, v in frame.items()):
                await self.indi.send_and_see(self.name, "CCD_FRAME", frame)
        self.blob_before = self._blob_file()
        self.duration = duration
        self.started = True
        self._watch_for_image()
        try:
            await self.indi.send(self.name, EXPOSURE, {"CCD_EXPOSURE_VALUE": duration})
        except AlpacaError:
            self.started = False
            raise

    async def put_abortexposure(self, params: Params) -> None:
        if self.indi.vector(self.name, "CCD_ABORT_EXPOSURE") is None:
            raise AlpacaError.not_implemented("AbortExposure (no CCD_ABORT_EXPOSURE)")
        if not self.started:
            return
        self.started = False
        await self.indi.send(self.name, "CCD_ABORT_EXPOSURE", {"ABORT": "On"})

    async def get_camerastate(self, params: Params) -> int:
        return self.camera_state()

    def camera_state(self) -> int:
        """Alpaca's CameraState from CCD_EXPOSURE and whether an exposure was started."""
        self._poll()
        vector = self.indi.vector(self.name, EXPOSURE)
        if vector is None:
            raise AlpacaError.not_implemented("CameraState (no CCD_EXPOSURE)")
        if vector.state == State.ALERT:
            return ERROR
        if not self.started:
            return IDLE
        remaining = self.indi.number(self.name, EXPOSURE, "CCD_EXPOSURE_VALUE") or 0.0
        if vector.state == State.BUSY and remaining > 0:
            return EXPOSING
        return READING

    async def get_imageready(self, params: Params) -> bool:
        self._poll()
        if self.started:
            self.check_not_alert(EXPOSURE)
            return False
        return self.stream is not None

    async def get_percentcompleted(self, params: Params) -> int:
        state = self.camera_state()
        if state == EXPOSING and self.duration > 0:
            remaining = self.indi.number(self.name, EXPOSURE, "CCD_EXPOSURE_VALUE") or 0.0
            return max(0, min(100, round(100 * (1 - remaining / self.duration))))
        if state == READING:
            return 100
        if state == IDLE:
            return 100 if self.stream is not None else 0
        raise AlpacaError.invalid_operation("the exposure failed")

    async def get_imagearray(self, params: Params) -> FrameStream:
        return await self._load()

    get_imagearrayvariant = get_imagearray

    async def _image(self) -> FitsImage:
        return await (await self._load()).image()

    async def get_lastexposureduration(self, params: Params) -> float:
        image = await self._image()
        if image.exposure is None:
            raise AlpacaError(ErrorNumber.VALUE_NOT_SET, "the image has no EXPTIME")
        return image.exposure

    async def get_lastexposurestarttime(self, params: Params) -> str:
        image = await self._image()
        if not image.date_obs:
            raise AlpacaError(ErrorNumber.VALUE_NOT_SET, "the image has no DATE-OBS")
        return image.date_obs.rstrip("Z")[:23]

    # -- cooling -----------------------------------------------------------------------

    async def get_cansetccdtemperature(self, params: Params) -> bool:
        return self.can_set_temperature()

    def can_set_temperature(self) -> bool:
        """CCD_TEMPERATURE writable: the camera has a cooler."""
        vector = self.indi.vector(self.name, "CCD_TEMPERATURE")
        return vector is not None and vector.perm != "ro"

    async def get_setccdtemperature(self, params: Params) -> float:
        if not self.can_set_temperature():
            raise AlpacaError.not_implemented("SetCCDTemperature (no cooler)")
        if self.set_point is None:
            raise AlpacaError(ErrorNumber.VALUE_NOT_SET, "no set point has been written yet")
        return self.set_point

    async def put_setccdtemperature(self, params: Params) -> None:
        value = params.as_float("SetCCDTemperature")
        if not self.can_set_temperature():
            raise AlpacaError.not_implemented("SetCCDTemperature (no cooler)")
        limits = self.indi.limits(self.name, "CCD_TEMPERATURE", "CCD_TEMPERATURE_VALUE")
        low, high = limits if limits is not None and limits[0] < limits[1] else (-273.15, 100.0)
        if not low <= value <= high:
            raise AlpacaError.invalid_value(f"SetCCDTemperature {value} is outside {low}..{high}")
        self.set_point = value
        await self.indi.send(self.name, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": value})

    async def get_cangetcoolerpower(self, params: Params) -> bool:
        return self.indi.vector(self.name, "CCD_COOLER_POWER") is not None

    # -- guiding through the camera ----------------------------------------------------

    async def get_canpulseguide(self, params: Params) -> bool:
        return self.can_pulse_guide()

    def can_pulse_guide(self) -> bool:
        """Both timed-guide vectors defined (the camera's ST4 port)."""
        return (self.indi.vector(self.name, "TELESCOPE_TIMED_GUIDE_NS") is not None
                and self.indi.vector(self.name, "TELESCOPE_TIMED_GUIDE_WE") is not None)

    async def put_pulseguide(self, params: Params) -> None:
        direction, duration = params.as_int("Direction"), params.as_int("Duration")
        if not self.can_pulse_guide():
            raise AlpacaError.not_implemented("PulseGuide (no TELESCOPE_TIMED_GUIDE_*)")
        if direction not in (0, 1, 2, 3) or duration < 0:
            raise AlpacaError.invalid_value(f"Direction {direction}, Duration {duration}")
        await self.timed_guide(direction, duration)

    async def get_ispulseguiding(self, params: Params) -> bool:
        if not self.can_pulse_guide():
            raise AlpacaError.not_implemented("IsPulseGuiding (CanPulseGuide is False)")
        return self.timed_guiding()
