"""What the sequencer asks of each instrument, as Protocols: the sequencer and the imager face
are written against these, the INDI implementations (this folder's other modules) drive the
devices' standard properties, and a test may hand either a real rig or its own.

Every call returns when the device has done it (the vector back to Ok), and raises
`DeviceRefused` when the device answers Alert, `DeviceLost` when it is gone (disconnected, its
driver dead, no answer within the call's timeout). Angles: RA in hours, Dec in degrees.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..plan.model import FrameType
from ..plan.model import Site


class RigError(Exception):
    """Something an instrument did not do; `device` names it (SEQUENCE_STATE's Alert says it)."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason


class DeviceRefused(RigError):
    """The device answered Alert (a position out of range, a camera that failed)."""


class DeviceLost(RigError):
    """The device is not there: disconnected, its driver dead, or silent past the timeout.
    The sequencer retries the step by the project's retry policy, then pauses."""


class DeviceLeft(DeviceLost):
    """A device a client disconnected on purpose while it stayed defined (`keeper.look_at`):
    respected, so no retry can bring it back; the sequencer holds at once, waiting for a
    client to connect it (or its driver to restart), as `sequencer/toolwait.py` decides."""


class ToolLost(DeviceLost):
    """A tool of the night's own that failed (the plate solver), not a device a server
    defines: retried as a lost device, then, with `retry_after` seconds (> 0), the run waits
    that long on its clock and tries again by itself; with 0 it pauses naming it and why. No
    `Presence` can tell it is back, so nothing waits for it to be (issue 89 item 9(b))."""

    def __init__(self, device: str, reason: str, retry_after: float = 0.0) -> None:
        super().__init__(device, reason)
        self.retry_after = retry_after


class Frame:
    """One exposure as the camera sent it: the file's bytes (FITS) and its format (".fits").

    A frame the camera wrote to a file of this machine (UPLOAD_MODE Local) holds only the
    file's path until `data` is first read; that read takes the bytes and removes the file.
    So the agent asks for the next exposure before reading 2.6 MB, and reads them in the
    thread that saves the frame."""

    __slots__ = ("_data", "_lock", "_path", "format")

    def __init__(self, data: bytes = b"", format: str = ".fits", *,
                 path: Path | None = None) -> None:
        self._data = data
        self._path = path
        self._lock = threading.Lock()
        self.format = format

    @property
    def data(self) -> bytes:
        """The frame's bytes, read from its file the first time (OSError if it went)."""
        with self._lock:
            if self._path is not None:
                path, self._path = self._path, None
                try:
                    self._data = path.read_bytes()
                finally:
                    path.unlink(missing_ok=True)
            return self._data

    def discard(self) -> None:
        """Forget a frame never read: its file is removed."""
        with self._lock:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
                self._path = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.format == other.format and self.data == other.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f", path={self._path}" if self._path is not None else ""
        return f"Frame({len(self._data)} bytes, {self.format!r}{where})"


class Camera(Protocol):
    name: str

    async def expose(self, seconds: float, *, binning: int = 1, frame_type: FrameType = "Light",
                     gain: float | None = None, offset: float | None = None,
                     sky: bool | None = None) -> Frame:
        """Take one frame and return it whole (the BLOB). `sky`: whether it needs the sky
        (never through a closed dome); None: by `frame_type` (lights and flats do), False for
        a flat lit by a panel, which needs none."""
        ...

    def series(self, seconds: float, count: int, *, binning: int = 1,
               frame_type: FrameType = "Light") -> AsyncGenerator[Frame, None]:
        """`count` frames alike, each the moment it comes; each next exposure is asked for
        before the previous frame is handed over, so nothing the caller does with a frame
        stands between two exposures. Use it inside ``contextlib.aclosing``: left early, it
        aborts the exposure it had asked for."""
        ...

    async def abort(self) -> None: ...

    async def name_devices(self, *, mount: str = "", focuser: str = "",
                           wheel: str = "", panel: str = "") -> None:
        """Tell the camera which devices its FITS header reads (ACTIVE_DEVICES), so a frame
        taken through the wheel the agent drives says that wheel's filter."""
        ...

    async def warm(self) -> None:
        """The cooler off (the end of a night)."""
        ...

    def has_gain(self) -> bool: ...

    def has_offset(self) -> bool: ...

    def exposure_range(self) -> tuple[float, float] | None:
        """The shortest and longest exposure (s) the camera takes, None where not said."""
        ...

    def full_scale(self) -> float | None:
        """The largest pixel value (ADU), None where not said."""
        ...

    def pixel_size(self) -> float | None:
        """The sensor's pixel in micrometres (CCD_INFO.CCD_PIXEL_SIZE), None where unknown:
        the dither's plate scale needs it."""
        ...

    async def wait_pixel_size(self) -> float | None:
        """`pixel_size`, waited for (a bounded while) where the camera has not said it yet:
        a driver may fill CCD_INFO a moment after its connect."""
        ...


class Wheel(Protocol):
    name: str

    def filters(self) -> list[str]:
        """The filters' names, slot 1 first (FILTER_NAME)."""
        ...

    async def slot(self) -> int: ...

    async def select(self, filter: str | int) -> int:
        """Turn to a filter (name or slot number), return the slot; at once when there."""
        ...


class Focuser(Protocol):
    name: str

    async def position(self) -> int: ...

    async def move_to(self, position: int) -> int:
        """Move to an absolute position (ABS_FOCUS_POSITION); returns where it stopped."""
        ...

    async def temperature(self) -> float | None:
        """FOCUS_TEMPERATURE, None where the focuser has none."""
        ...

    def limits(self) -> tuple[int, int]:
        """The lowest and highest position it accepts."""
        ...


class Mount(Protocol):
    name: str

    async def slew_to(self, ra: float, dec: float) -> None:
        """Slew and track at J2000 `ra`, `dec` (converted to the mount's epoch, JNow)."""
        ...

    async def pointing(self) -> tuple[float, float]:
        """Where it points, J2000."""
        ...

    async def sync(self, ra: float, dec: float) -> None:
        """Tell the mount it points at J2000 `ra`, `dec` (a solved frame's centre)."""
        ...

    async def pier_side(self) -> str | None:
        """"EAST", "WEST", or None where the mount does not say (TELESCOPE_PIER_SIDE)."""
        ...

    async def site(self) -> Site | None:
        """GEOGRAPHIC_COORD, None when unknown."""
        ...

    def can_pulse(self) -> bool:
        """Whether it takes timed guide pulses (TELESCOPE_TIMED_GUIDE_NS/WE)."""
        ...

    async def pulse(self, north_ms: float, west_ms: float) -> None:
        """Timed guide pulses (negative: south, east), returning when both are done."""
        ...

    def guide_rates(self) -> tuple[float, float]:
        """The pulses' rates (north/south, west/east), in multiples of the sidereal rate."""
        ...

    def focal_length(self) -> float | None:
        """The telescope's focal length in mm (TELESCOPE_INFO), None where unknown."""
        ...

    async def park(self) -> None: ...

    async def unpark(self) -> None: ...


class Dome(Protocol):
    name: str

    async def close(self) -> None:
        """Closed for the night or for bad weather: parked where it parks (DOME_PARK), else
        its shutter closed (DOME_SHUTTER)."""
        ...

    async def open(self) -> None:
        """Open to the sky: unparked where it parks, its shutter opened where it has one."""
        ...

    def closed(self) -> str | None:
        """Why it is closed to the sky now, in words (parked, its shutter closed, moving, or
        saying neither: a dome that does not say is closed), None when it is open."""
        ...


class Panel(Protocol):
    """A flat panel (indilib's light box: FLAT_LIGHT_CONTROL, FLAT_LIGHT_INTENSITY; and a
    dust cap's CAP_PARK where it has one)."""

    name: str

    async def light(self, on: bool) -> None:
        """The light on (the cap closed first, where it has one) or off."""
        ...

    async def brightness(self) -> float | None:
        """FLAT_LIGHT_INTENSITY now, None where it has none."""
        ...

    def brightness_range(self) -> tuple[float, float] | None:
        """FLAT_LIGHT_INTENSITY's min and max, None where it has none."""
        ...

    async def set_brightness(self, value: float) -> None: ...


class GuardedDomes(Protocol):
    """The domes a watchdog on the server guards (its ACTIVE_DEVICES.ACTIVE_DOME), whether
    or not a plan names them: no frame that needs the sky starts while one is closed."""

    def domes(self) -> Sequence[Dome]:
        """Each guarded dome the server holds now."""
        ...


class Guider(Protocol):
    """A guider agent (our "Guider Agent", INDIGO's names) that holds a star with its own
    camera and pulses: the night starts it, dithers through it, waits while it has lost its
    star, and writes its RMS into the frames."""

    name: str

    async def state(self) -> str:
        """PHD2's state name: Stopped, Looping, Calibrating, Guiding, LostLock, Paused."""
        ...

    async def guide(self, pixels: float, seconds: float, timeout: float) -> None:
        """Start guiding (calibrating first where it must) and return once it guides."""
        ...

    async def dither(self, amount: float, pixels: float, seconds: float,
                     timeout: float) -> None:
        """Dither by up to `amount` guide pixels and return once settled (within `pixels`
        for `seconds`); `DeviceRefused` with the guider's reason when it did not settle
        within `timeout`."""
        ...

    async def stop(self) -> None: ...

    def mark(self) -> None:
        """Start a new record of the guide errors (a frame's exposure begins)."""
        ...

    def rms(self) -> float | None:
        """The RMS guide error (pixels, RA and Dec together) since `mark`; None: no
        guided frame seen."""
        ...

    def rms_arcsec(self) -> float | None:
        """`rms` in arcseconds, each guide frame's error at its own pixel scale; None: no
        guided frame seen, or one whose scale the guider did not say."""
        ...

    def lost(self) -> bool:
        """Whether it stopped guiding (its star lost) at any moment since `mark`."""
        ...


class Presence(Protocol):
    """Whether a device is there: the sequencer waits on it for a device lost past its
    retries, so that the night goes on by itself once the device is back."""

    async def back(self, device: str) -> None:
        """Return once the server defines `device` again and it is connected (connected
        here when it comes back disconnected, as a restarted driver does); cancelled by the
        caller when it stops waiting, never raising otherwise."""
        ...


@dataclass
class Rig:
    """The instruments of one night; None where the plan names no device of that kind.
    `guarded` sees, read-only, the domes a watchdog guards (None: none looked for);
    `presence` tells when a lost device is back (None: a rig that cannot tell, whose lost
    device pauses the run for a client's START)."""

    camera: Camera
    wheel: Wheel | None = None
    focuser: Focuser | None = None
    mount: Mount | None = None
    dome: Dome | None = None
    guarded: GuardedDomes | None = None
    guider: Guider | None = None
    presence: Presence | None = None
    panel: Panel | None = None
