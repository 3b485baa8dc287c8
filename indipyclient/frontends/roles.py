"""Role clients: a camera, a mount, a focuser and a filter wheel driven by their standard names.

Scripts that take an image or point a telescope should not spell indilib's property names
(``CCD_EXPOSURE``, ``EQUATORIAL_EOD_COORD`` ...) or write the wait-for-not-Busy loop each
time. These thin objects sit on a connected :class:`~indipyclient.session.connect.Client`::

    async with indipyclient.connect("localhost", 7624) as client:
        await client.wait_for("CCD Simulator", "DRIVER_INFO")
        print(devices(client, Interface.CCD))                 # ['CCD Simulator']
        image = await Camera(client, "CCD Simulator").expose(1.0)
        print(image.format, image.header["NAXIS1"], len(image.data))
        await Mount(client, "Telescope Simulator").goto(5.5, -5.4)

Every call connects the device first when its CONNECTION is off (role properties exist only
while a device is connected), waits until the vector it set leaves Busy, within a bound, and
raises :class:`RoleError` with the driver's message when it ends in Alert, ``TimeoutError``
when it stays Busy past the bound. The names follow indilib's base classes
(``docs/concepts`` and indilib's ``standard-properties``); a driver written with
``indipydriver.standard`` and indilib's own drivers answer alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from indipyclient.model import events as ev
from indipycore.fits import FITSError
from indipycore.fits import Header
from indipycore.fits import read_header
from indipycore.interface import Interface
from indipycore.protocol.enums import State
from indipycore.protocol.numbers import parse_number

if TYPE_CHECKING:
    from indipyclient.model.properties import PropertyVector
    from indipyclient.session.connect import Client
    from indipyclient.session.connect import EventStream

__all__ = ["Camera", "FilterWheel", "Focuser", "Image", "Interface", "Mount", "RoleError",
           "devices", "interface_of"]

#: Seconds a command may stay Busy beyond its own duration before TimeoutError.
DEFAULT_TIMEOUT = 60.0
#: Seconds a goto may take (a slew across the sky at a simulator's speed is about a minute).
GOTO_TIMEOUT = 300.0


class RoleError(RuntimeError):
    """The driver ended a command in Alert (or refused it); the message is the driver's."""


def interface_of(client: Client, device: str) -> Interface | None:
    """The device's DRIVER_INFO.DRIVER_INTERFACE bits, or None when it has none (no
    DRIVER_INFO, or a value that is not a number)."""
    info = client.model.vector(device, "DRIVER_INFO")
    if info is None or "DRIVER_INTERFACE" not in info:
        return None
    try:
        return Interface.from_text(str(info["DRIVER_INTERFACE"]))
    except ValueError:
        return None


def devices(client: Client, interface: Interface) -> list[str]:
    """The names of the devices the client knows whose DRIVER_INTERFACE has every bit of
    ``interface`` (``Interface.CCD``, ``Interface.TELESCOPE`` ...), in name order."""
    found = []
    for name in client.devices:
        bits = interface_of(client, name)
        if bits is not None and bits & interface == interface:
            found.append(name)
    return sorted(found)


@dataclass(frozen=True)
class Image:
    """An image a camera sent: its bytes, their format (``.fits``, ``.fits.fz``, ``.jpg`` ...)
    and, for FITS, the primary header as a mapping of keyword -> value."""

    data: bytes
    format: str
    device: str = ""
    header: Mapping[str, bool | int | float | str] = field(default_factory=dict)

    def array(self) -> Any:
        """The pixels as a numpy array (rows x columns, or planes x rows x columns), in the
        FITS data type with BZERO/BSCALE applied. Needs numpy (the ``[web]`` extra has it)."""
        try:
            import numpy as np
        except ImportError:
            raise ImportError("Image.array() needs numpy: pip install numpy") from None
        if not self.format.lower().startswith(".fits") or self.format.lower().endswith(".fz"):
            raise ValueError(f"array() reads uncompressed FITS, not {self.format!r}")
        header = read_header(self.data)
        types = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
        bitpix = int(header["BITPIX"])
        if bitpix not in types:
            raise ValueError(f"BITPIX {bitpix} is not a FITS data type")
        naxis = int(header["NAXIS"])
        shape = tuple(int(header[f"NAXIS{axis}"]) for axis in range(naxis, 0, -1))
        pixels = np.frombuffer(self.data, types[bitpix], count=header.data_size * 8 // abs(bitpix),
                               offset=header.data_offset).reshape(shape)
        bzero = header.values.get("BZERO", 0)
        bscale = header.values.get("BSCALE", 1)
        if bitpix == 16 and bzero == 32768 and bscale == 1:
            return (pixels.astype(np.int32) + 32768).astype(np.uint16)
        if bzero != 0 or bscale != 1:
            return pixels * float(bscale) + float(bzero)
        return pixels.astype(pixels.dtype.newbyteorder("="))


def _fits_header(data: bytes, fmt: str) -> dict[str, bool | int | float | str]:
    if not fmt.lower().startswith(".fits") or fmt.lower().endswith(".fz"):
        return {}
    try:
        header: Header = read_header(data)
    except FITSError:
        return {}
    return dict(header.values)


class _RoleClient:
    """What every role client does: connect the device, set and wait, report Alert."""

    #: What the role's properties read (``position``, ``slot``): drivers define these as they
    #: connect, so `connect` returns once they are here, not merely once CONNECTION is Ok.
    READS: tuple[str, ...] = ()

    def __init__(self, client: Client, name: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.client = client
        self.name = name
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _vector(self, vector: str) -> PropertyVector:
        found = self.client.model.vector(self.name, vector)
        if found is None:
            raise RoleError(f"{self.name} has no {vector}")
        return found

    def _last_message(self, vector: PropertyVector | None = None) -> str:
        if vector is not None and vector.message:
            return str(vector.message)
        for message in reversed(self.client.messages):
            if message.devicename == self.name and message.message:
                return str(message.message)
        return "no message"

    @property
    def connected(self) -> bool:
        """True while the device's CONNECTION says CONNECT=On."""
        connection = self.client.model.vector(self.name, "CONNECTION")
        return connection is not None and connection.get("CONNECT") == "On"

    async def connect(self, timeout: float | None = None) -> None:
        """Connect the device (CONNECTION.CONNECT=On) unless it is connected already."""
        limit = self._limit(timeout)
        try:
            await self.client.wait_for(self.name, "CONNECTION", timeout=limit)
        except TimeoutError:
            raise RoleError(f"{self.name} is not on the server (no CONNECTION after "
                            f"{limit:g} s)") from None
        if not self.connected:
            await self._set("CONNECTION", {"CONNECT": "On"}, limit)
        await self._defined(self.READS, limit)

    async def disconnect(self, timeout: float | None = None) -> None:
        """Disconnect the device (CONNECTION.DISCONNECT=On)."""
        if self.connected:
            await self._set("CONNECTION", {"DISCONNECT": "On"}, self._limit(timeout))

    async def _ready(self, *vectors: str, timeout: float | None = None) -> None:
        """Connected, and each of ``vectors`` defined (drivers define them on connect)."""
        await self.connect(timeout)
        await self._defined(vectors, self._limit(timeout))

    async def _defined(self, vectors: tuple[str, ...], limit: float) -> None:
        for vector in vectors:
            try:
                await self.client.wait_for(self.name, vector, timeout=limit)
            except TimeoutError:
                raise RoleError(f"{self.name} does not define {vector} once connected; is it "
                                f"a {type(self).__name__.lower()}?") from None

    async def _ask(self, vector: str, values: Mapping[str, Any], timeout: float) -> None:
        """`_ready` for ``vector``, then `_set` it: what each one-vector request does."""
        await self._ready(vector)
        await self._set(vector, values, timeout)

    def _limit(self, timeout: float | None) -> float:
        """The request's own ``timeout``, else this client's."""
        return self.timeout if timeout is None else timeout

    async def _set(self, vector: str, values: Mapping[str, Any], timeout: float) -> None:
        """Set ``values`` and wait until the vector leaves Busy; Alert -> RoleError."""
        result = await self.client.set(self.name, vector, values, wait=True, timeout=timeout)
        if result.timed_out:
            raise TimeoutError(f"{self.name}.{vector} still Busy after {timeout:g} s")
        if result.state == State.ALERT:
            message = result.message or self._last_message(self.client.model.vector(
                self.name, vector))
            raise RoleError(f"{self.name}.{vector}: {message}")


class Camera(_RoleClient):
    """A camera (CCD interface): ``await camera.expose(seconds)`` returns the :class:`Image`."""

    async def expose(self, seconds: float, *, timeout: float | None = None) -> Image:
        """Take one exposure of ``seconds`` and return the image the camera sends in CCD1.

        BLOBs are asked for (``enableBLOB Also`` on CCD1). The wait is bounded by the exposure
        plus ``timeout`` (default 60 s). Alert on CCD_EXPOSURE -> RoleError with the driver's
        message; a lost connection -> ConnectionError."""
        extra = self._limit(timeout)
        await self._ready("CCD_EXPOSURE", "CCD1", timeout=extra)
        await self.client.send_enableBLOB("Also", self.name, "CCD1")
        async with self.client.events() as stream:
            await self._set_exposure(seconds)
            try:
                async with asyncio.timeout(seconds + extra):
                    return await self._image(stream)
            except TimeoutError:
                raise TimeoutError(f"{self.name}: no image {seconds + extra:g} s after a "
                                   f"{seconds:g} s exposure began") from None

    async def _set_exposure(self, seconds: float) -> None:
        result = await self.client.set(self.name, "CCD_EXPOSURE",
                                       {"CCD_EXPOSURE_VALUE": seconds}, wait=False)
        if result.state == State.ALERT:
            raise RoleError(f"{self.name}.CCD_EXPOSURE: {result.message}")

    async def _image(self, stream: EventStream) -> Image:
        async for event in stream:
            if isinstance(event, ev.ConnectionLost):
                raise ConnectionError(f"lost the server during {self.name}'s exposure")
            if event.devicename != self.name:
                continue
            if isinstance(event, ev.setBLOBVector) and event.vectorname == "CCD1":
                for member in event:
                    data = event[member]
                    if isinstance(data, bytes | bytearray) and data:
                        fmt = event.sizeformat.get(member, (0, ""))[1]
                        return Image(bytes(data), fmt, self.name, _fits_header(bytes(data), fmt))
            if (isinstance(event, ev.setVector) and event.vectorname == "CCD_EXPOSURE"
                    and event.state == State.ALERT):
                raise RoleError(f"{self.name}.CCD_EXPOSURE: "
                                f"{event.message or self._last_message()}")
        raise ConnectionError(f"the client closed during {self.name}'s exposure")

    async def abort(self) -> None:
        """Abort the exposure in progress (CCD_ABORT_EXPOSURE)."""
        await self._ask("CCD_ABORT_EXPOSURE", {"ABORT": "On"}, self.timeout)


class _Moving(_RoleClient):
    """A role whose motion its driver stops with a switch ``ABORT`` in vector `ABORT`."""

    ABORT: str

    async def abort(self) -> None:
        """Stop any motion at once (TELESCOPE_ABORT_MOTION, FOCUS_ABORT_MOTION)."""
        await self._ask(self.ABORT, {"ABORT": "On"}, DEFAULT_TIMEOUT)


class Mount(_Moving):
    """A telescope mount (TELESCOPE interface): goto, sync, park, unpark, abort."""

    READS = ("EQUATORIAL_EOD_COORD",)
    ABORT = "TELESCOPE_ABORT_MOTION"

    def __init__(self, client: Client, name: str, *, timeout: float = GOTO_TIMEOUT) -> None:
        super().__init__(client, name, timeout=timeout)

    @property
    def position(self) -> tuple[float, float]:
        """The mount's RA (hours) and Dec (degrees), JNow, as it last reported them."""
        coords = self._vector("EQUATORIAL_EOD_COORD")
        return parse_number(coords["RA"]), parse_number(coords["DEC"])

    async def _coordinates(self, mode: str, ra_hours: float, dec_degrees: float,
                           timeout: float | None) -> None:
        if not 0 <= ra_hours < 24 or not -90 <= dec_degrees <= 90:
            raise ValueError(f"RA {ra_hours} h / Dec {dec_degrees} deg is outside 0..24 h, "
                             f"-90..90 deg")
        await self._ready("ON_COORD_SET", "EQUATORIAL_EOD_COORD")
        limit = self._limit(timeout)
        await self._set("ON_COORD_SET", {mode: "On"}, DEFAULT_TIMEOUT)
        await self._move(ra_hours, dec_degrees, limit)

    #: How near (degrees, on each axis) a report must be to the target to end a move that was
    #: never seen Busy (a sync; a move too short for a Busy report).
    ARRIVED_DEGREES = 1.0

    async def _move(self, ra_hours: float, dec_degrees: float, limit: float) -> None:
        """Set the coordinates and wait for the mount's answer. A tracking mount reports them
        Ok all along, and such a report in flight as the request went out is no answer (a
        loaded machine's goto "ended" at once, where it started). The answer is Alert, or Ok
        (Idle) once the move was seen Busy or the mount reports the target."""
        moving = False
        answer: list[PropertyVector] = []

        def answered(event: ev.Event) -> bool:
            nonlocal moving
            if isinstance(event, ev.ConnectionLost):
                raise ConnectionError(f"lost the server during {self.name}'s move")
            if not (isinstance(event, ev.setVector) and event.devicename == self.name
                    and event.vectorname == "EQUATORIAL_EOD_COORD"):
                return False
            vector = event.vector
            if vector.state == State.BUSY:
                moving = True
                return False
            if vector.state == State.ALERT or moving or self._at(vector, ra_hours, dec_degrees):
                answer.append(vector)
                return True
            return False

        with self.client.waiters.watching(answered) as done:
            await self.client.set(self.name, "EQUATORIAL_EOD_COORD",
                                  {"RA": ra_hours, "DEC": dec_degrees}, wait=False)
            try:
                async with asyncio.timeout(limit):
                    await done
            except TimeoutError:
                state = self._vector("EQUATORIAL_EOD_COORD").state
                raise TimeoutError(f"{self.name}.EQUATORIAL_EOD_COORD: no end of the move to "
                                   f"{ra_hours:g} h {dec_degrees:g} deg after {limit:g} s "
                                   f"(still {state})") from None
        if answer[0].state == State.ALERT:
            raise RoleError(f"{self.name}.EQUATORIAL_EOD_COORD: "
                            f"{self._last_message(answer[0])}")

    def _at(self, coords: PropertyVector, ra_hours: float, dec_degrees: float) -> bool:
        ra, dec = parse_number(coords["RA"]), parse_number(coords["DEC"])
        return (abs((ra - ra_hours + 12) % 24 - 12) * 15 < self.ARRIVED_DEGREES
                and abs(dec - dec_degrees) < self.ARRIVED_DEGREES)

    async def goto(self, ra_hours: float, dec_degrees: float, *, track: bool = True,
                   timeout: float | None = None) -> tuple[float, float]:
        """Slew to RA (hours) / Dec (degrees, JNow) and, with ``track``, track there; return
        where the mount reports it is once the slew has ended Ok."""
        await self._coordinates("TRACK" if track else "SLEW", ra_hours, dec_degrees, timeout)
        return self.position

    async def sync(self, ra_hours: float, dec_degrees: float) -> None:
        """Tell the mount it points at RA / Dec (ON_COORD_SET SYNC), then back to TRACK."""
        try:
            await self._coordinates("SYNC", ra_hours, dec_degrees, DEFAULT_TIMEOUT)
        finally:
            if self.client.model.vector(self.name, "ON_COORD_SET") is not None:
                await self._set("ON_COORD_SET", {"TRACK": "On"}, DEFAULT_TIMEOUT)

    async def park(self, timeout: float | None = None) -> None:
        """Park the mount (TELESCOPE_PARK PARK) and wait until it is parked."""
        await self._ask("TELESCOPE_PARK", {"PARK": "On"}, self._limit(timeout))

    async def unpark(self) -> None:
        """Unpark the mount (TELESCOPE_PARK UNPARK)."""
        await self._ask("TELESCOPE_PARK", {"UNPARK": "On"}, DEFAULT_TIMEOUT)

    @property
    def parked(self) -> bool:
        """True while TELESCOPE_PARK says PARK=On."""
        return self._vector("TELESCOPE_PARK").get("PARK") == "On"


class Focuser(_Moving):
    """A focuser (FOCUSER interface): ``await focuser.move_to(steps)``, ``abort()``."""

    READS = ("ABS_FOCUS_POSITION",)
    ABORT = "FOCUS_ABORT_MOTION"

    @property
    def position(self) -> float:
        """The absolute position, in steps, as the focuser last reported it."""
        return float(self._vector("ABS_FOCUS_POSITION")["FOCUS_ABSOLUTE_POSITION"])

    async def move_to(self, steps: float, *, timeout: float | None = None) -> float:
        """Move to an absolute position and return where the focuser reports it is."""
        await self._ask("ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": steps}, self._limit(timeout))
        return self.position


class FilterWheel(_RoleClient):
    """A filter wheel (FILTER interface): ``await wheel.select(slot)``, slots from 1."""

    READS = ("FILTER_SLOT",)

    @property
    def slot(self) -> int:
        """The slot the wheel last reported (1 is the first)."""
        return int(float(self._vector("FILTER_SLOT")["FILTER_SLOT_VALUE"]))

    @property
    def names(self) -> list[str]:
        """The filters' names, slot 1 first (FILTER_NAME), or [] when it has none."""
        names = self.client.model.vector(self.name, "FILTER_NAME")
        return [] if names is None else [str(names[member]) for member in names]

    async def select(self, slot: int, *, timeout: float | None = None) -> int:
        """Turn to ``slot`` and return the slot the wheel reports once it has stopped."""
        await self._ask("FILTER_SLOT", {"FILTER_SLOT_VALUE": slot}, self._limit(timeout))
        return self.slot
