"""An Alpaca Camera as an INDI CCD: the standard `Camera` role on Alpaca calls.

CCD_EXPOSURE -> ``BinX``/``BinY``, ``StartX``/``StartY``/``NumX``/``NumY`` (Alpaca counts
binned pixels, INDI unbinned), ``startexposure`` (``Light`` false for dark and bias frames),
``imageready`` polled until True (``camerastate`` 5 is a failure), then ``imagearray`` as
ImageBytes, turned from Alpaca's x-major order into FITS rows (top-left origin, so
``ROWORDER='TOP-DOWN'``, no flip) and written by the role as a FITS file with its usual header
in CCD1. CCD_ABORT_EXPOSURE -> ``abortexposure``. CCD_INFO from the sensor's size, pixel size
and MaxADU; CCD_TEMPERATURE and CCD_COOLER -> ``ccdtemperature``, ``setccdtemperature``,
``cooleron`` for a camera that can set its temperature. Mono or mosaic (Bayer) sensors,
16-bit (or 8-bit): CCD_CFA, CCD_GAIN and CCD_OFFSET are `CameraSettings`' (ccdsettings.py),
and a camera that can PulseGuide has indilib's ST4 vectors TELESCOPE_TIMED_GUIDE_NS/_WE in
Guider Control and the GUIDER bit (guide.py).
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Sequence

from indipydriver.standard import Camera
from indipydriver.standard import Exposure
from indipydriver.standard import Image
from indipydriver.standard import Sensor
from indipydriver.standard.groups import GUIDE_CONTROL_TAB
from indipydriver.standard.role import Role

from .ccdsettings import CameraSettings
from .ccdsettings import read_cfa
from .ccdsettings import read_level
from .client import AlpacaClient
from .guide import Started
from .guide import TimedGuide
from .guide import alpaca_pulse
from .part import AlpacaPart

__all__ = ["AlpacaCamera"]

#: Alpaca CameraState 5: the exposure failed.
CAMERA_ERROR = 5


def _pixels(rows: Sequence[int] | Sequence[float], bits: int) -> array[int] | bytes:
    """The image's pixels as the FITS writer takes them: 16-bit unsigned (an ``array('H')``)
    or 8-bit bytes, values clipped to the range (an Int32 or Double image may exceed it)."""
    typecode, top = ("H", 65535) if bits == 16 else ("B", 255)
    pixels = array(typecode, (min(top, max(0, int(v))) for v in rows))
    return pixels if typecode == "H" else pixels.tobytes()


class AlpacaCamera(AlpacaPart):
    """The expose/abort hooks and the `Cooler` of one Alpaca camera, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str, *, sensor: Sensor,
                 cooled: bool, settings: CameraSettings | None = None,
                 guided: bool = False) -> None:
        super().__init__(client, "camera", number, name)
        self.sensor = sensor
        self.role = Camera(sensor, self.expose, abort=self.abort,
                           cooler=self if cooled else None)
        self.settings = settings or CameraSettings(client, self.path, cfa=None, gain=None,
                                                   offset=None)
        more: list[Role] = [] if self.settings.empty else [self.settings]
        if guided:
            more.append(TimedGuide(self.pulse, GUIDE_CONTROL_TAB))
        self.device = self.make_device(self.role, *more)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaCamera:
        path = f"camera/{number}"
        settings = CameraSettings(client, path, cfa=await read_cfa(client, path),
                                  gain=await read_level(client, path, "gain"),
                                  offset=await read_level(client, path, "offset"))
        max_adu = int(await client.get(path, "maxadu"))
        max_bin = min(int(await client.get(path, "maxbinx")),
                      int(await client.get(path, "maxbiny")))
        sensor = Sensor(
            int(await client.get(path, "cameraxsize")), int(await client.get(path, "cameraysize")),
            float(await client.get(path, "pixelsizex")),
            float(await client.get(path, "pixelsizey")),
            bits=16 if max_adu > 255 else 8, max_binning=max(1, max_bin),
            min_exposure=float(await client.get(path, "exposuremin")),
            max_exposure=float(await client.get(path, "exposuremax")))
        cooled = await client.get(path, "cansetccdtemperature") is True
        guided = await client.get(path, "canpulseguide") is True
        return cls(client, number, name, sensor=sensor, cooled=cooled, settings=settings,
                   guided=guided)

    async def connected_now(self) -> None:
        await self.settings.read()

    async def pulse(self, direction: str, ms: int, started: Started) -> None:
        """The ST4 port's pulse (`TimedGuide`'s hook)."""
        await alpaca_pulse(self.client, self.path, direction, ms, started)

    # the Camera role's hooks

    async def expose(self, request: Exposure) -> Image:
        await self.put("binx", BinX=request.bin_x)
        await self.put("biny", BinY=request.bin_y)
        await self.put("startx", StartX=request.x // request.bin_x)
        await self.put("starty", StartY=request.y // request.bin_y)
        await self.put("numx", NumX=request.image_width)
        await self.put("numy", NumY=request.image_height)
        await self.put("startexposure", Duration=request.seconds,
                       Light=request.frame_type in ("Light", "Flat"))
        await self.wait_until(self._ready, "the exposure", limit=request.seconds + 120)
        width, height, planes, rows = await self.client.image(self.path)
        if planes != 1:
            raise ValueError(f"{self.path} sent a {planes}-plane image: only one plane (mono "
                             "or mosaic) is supported")
        data = await asyncio.to_thread(_pixels, rows, self.sensor.bits)
        return Image(width, height, data, bits=self.sensor.bits, cards=[
            ("ROWORDER", "TOP-DOWN", "Alpaca images start at the top left"),
            ("ORIGIN", f"Alpaca {self.client.base_url}/api/v1/{self.path}", "Image source"),
            *self.settings.cards(),
        ])

    async def _ready(self) -> bool:
        if await self.get("imageready") is True:
            return True
        if await self.get("camerastate") == CAMERA_ERROR:
            raise RuntimeError(f"{self.path}: the exposure failed (CameraState Error)")
        return False

    async def abort(self) -> None:
        await self.put("abortexposure")

    # Cooler

    async def temperature(self) -> float:
        return float(await self.get("ccdtemperature"))

    async def set_target(self, celsius: float) -> None:
        await self.put("setccdtemperature", SetCCDTemperature=celsius)

    async def set_cooler(self, on: bool) -> None:
        await self.put("cooleron", CoolerOn=on)
