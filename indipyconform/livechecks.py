"""``--live``: the role driven as a client would drive it, and put back afterwards.

A camera exposes (the countdown while Busy, the image of the frame's size in CCD1, Ok) and
aborts, its frames of the type CCD_FRAME_TYPE already says, or of `frame_type` (``--frame-type
dark``: a capped camera, or one whose light frames cannot be taken here) set first and put back
after; a mount slews to a target near where it points and is checked there, aborts a slew,
parks and unparks; a focuser moves and comes back; a filter wheel turns and comes back. What
a check changed is set back at its end (the mount's pointing and park state, the focuser's
position, the wheel's slot).

A broken device must not break the checker: each step first reads what it needs
(`_Live.require`, `_Live.number`) and, when a vector or member is missing, misnamed, of another
type, read-only or not a number, reports the step FAIL as "skipped: prerequisite ..." naming
it and goes on to the next step. Every wait is bounded by ``timeout`` (``--step-timeout``): a
device that never leaves Busy, or a goto that never arrives, is a FAIL after it. Anything else
a step raises becomes a FAIL naming the step and the error (`_Live.step`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from indipyclient import events as ev
from indipyclient.frontends.roles import Mount
from indipyclient.frontends.roles import RoleError
from indipycore.fits import FITSError
from indipycore.fits import read_header
from indipycore.interface import Interface
from indipycore.protocol.enums import State
from indipycore.protocol.numbers import parse_number

from .report import Check
from .report import Level

if TYPE_CHECKING:
    from indipyclient.model.properties import PropertyVector
    from indipyclient.session.connect import Client
    from indipyclient.session.connect import EventStream

__all__ = ["FRAME_TYPES", "LIVE_TIMEOUT", "live_checks"]

#: ``--frame-type`` choices: CCD_FRAME_TYPE's members (indilib's CCD).
FRAME_TYPES = {"light": "FRAME_LIGHT", "bias": "FRAME_BIAS", "dark": "FRAME_DARK",
               "flat": "FRAME_FLAT"}

EXPOSURE = 2.0  # long enough for a countdown step at indilib's one-second rate
ABORTED_EXPOSURE = 10.0
#: Seconds a live step may stay Busy (beyond an exposure's own length) before it is a FAIL:
#: long enough for a real mount's park across the sky at a couple of degrees a second.
LIVE_TIMEOUT = 120.0

NUMBER, SWITCH, BLOB = "NumberVector", "SwitchVector", "BLOBVector"

#: What a put-back (best effort, after the step was reported) may meet on a broken device.
_PUT_BACK_ERRORS = (RoleError, TimeoutError, LookupError, ValueError, ConnectionError)


class Skipped(Exception):
    """A step's prerequisite is missing or malformed: ``prop`` names it, ``why`` says how."""

    def __init__(self, prop: str, why: str) -> None:
        super().__init__(f"{prop}: {why}")
        self.prop = prop
        self.why = why


async def _until(stream: EventStream, timeout: float) -> AsyncIterator[ev.Event]:
    """The stream's events for at most ``timeout`` seconds (then TimeoutError)."""
    async with asyncio.timeout(timeout):
        async for event in stream:
            yield event


class _Live:
    def __init__(self, client: Client, device: str, timeout: float = LIVE_TIMEOUT,
                 frame_type: str | None = None) -> None:
        self.client = client
        self.device = device
        self.timeout = timeout
        self.frame_type = frame_type  # a CCD_FRAME_TYPE member, or None: as the camera has it

    def check(self, level: Level, prop: str, detail: str) -> Check:
        return Check(level, self.device, prop, detail)

    def vector(self, name: str) -> PropertyVector | None:
        return self.client.model.vector(self.device, name)

    # -- what a step needs, read without assuming it is there --------------------------------

    def require(self, name: str, kind: str, *members: str, writable: bool = True
                ) -> PropertyVector:
        """The vector ``name`` of type ``kind`` with ``members`` (and not read-only when the step
        sets it); `Skipped` naming what is wrong otherwise."""
        vector = self.vector(name)
        where = f"{self.device}.{name}"
        if vector is None:
            raise Skipped(name, f"prerequisite {where} is not defined")
        if vector.vectortype != kind:
            raise Skipped(name, f"prerequisite {where} is a {vector.vectortype}, not a {kind}")
        if writable and vector.perm == "ro":
            raise Skipped(name, f"prerequisite {where} is read-only")
        missing = [member for member in members if member not in vector]
        if missing:
            raise Skipped(name, f"prerequisite {where} has no member {', '.join(missing)} "
                                f"(it has {', '.join(vector) or 'none'})")
        return vector

    def number(self, name: str, member: str, field: str = "value") -> float:
        """A number member's ``field`` (value, min or max) as a float; `Skipped` when the
        vector or member is missing or the text is not an INDI number."""
        vector = self.require(name, NUMBER, member, writable=False)
        text = getattr(vector.member(member), field, None)
        try:
            return parse_number(str(text))
        except ValueError:
            raise Skipped(name, f"prerequisite {self.device}.{name}.{member} has {field} "
                                f"{text!r}, not a number") from None

    async def step(self, prop: str, what: str, run: Callable[[], Awaitable[list[Check]]]
                   ) -> list[Check]:
        """Run one step; a missing prerequisite or any error becomes a FAIL naming it, so that
        the next step still runs."""
        try:
            return await run()
        except Skipped as skip:
            return [self.check(Level.FAIL, skip.prop, f"{what} skipped: {skip.why}")]
        except (RoleError, TimeoutError) as exc:
            return [self.check(Level.FAIL, prop, f"{what}: {exc}")]
        except Exception as exc:  # noqa: BLE001 - a broken device is a FAIL, then the next step
            return [self.check(Level.FAIL, prop, f"{what}: {type(exc).__name__}: {exc}")]

    async def set(self, name: str, values: Mapping[str, Any]) -> None:
        """Set and wait until the vector leaves Busy, at most ``timeout`` seconds: TimeoutError
        when it stays Busy, RoleError when it ends in Alert."""
        result = await self.client.set(self.device, name, values, wait=True,
                                       timeout=self.timeout)
        if result.timed_out:
            raise TimeoutError(f"{self.device}.{name} still Busy {self.timeout:g} s after the "
                               f"request")
        if result.state == State.ALERT:
            raise RoleError(f"{self.device}.{name} answered Alert "
                            f"({result.message or 'no message'})")

    # -- camera ---------------------------------------------------------------------------

    async def camera(self) -> list[Check]:
        checks: list[Check] = []
        before: list[str] = []  # the CCD_FRAME_TYPE member On before `frame_type` was set
        if self.frame_type is not None:
            checks.extend(await self.step("CCD_FRAME_TYPE", "frame type",
                                          lambda: self._set_frame_type(before)))
        checks.extend(await self.step("CCD_EXPOSURE", "exposure", self._exposure))
        if self.vector("CCD_ABORT_EXPOSURE") is not None:
            checks.extend(await self.step("CCD_ABORT_EXPOSURE", "abort", self._abort))
        if before and before[0] != self.frame_type:
            with contextlib.suppress(*_PUT_BACK_ERRORS):
                await self.set("CCD_FRAME_TYPE", {before[0]: "On"})
        return checks

    async def _set_frame_type(self, before: list[str]) -> list[Check]:
        """CCD_FRAME_TYPE set to `frame_type` for the exposures; the member On before is put
        in `before` (for the put-back)."""
        assert self.frame_type is not None
        vector = self.require("CCD_FRAME_TYPE", SWITCH, self.frame_type)
        before.extend(name for name in vector if str(vector[name]) == "On")
        await self.set("CCD_FRAME_TYPE", {self.frame_type: "On"})
        now = self.vector("CCD_FRAME_TYPE")
        if now is None or str(now[self.frame_type]) != "On":
            return [self.check(Level.FAIL, "CCD_FRAME_TYPE",
                               f"expected {self.frame_type} On after setting it")]
        return [self.check(Level.PASS, "CCD_FRAME_TYPE",
                           f"{self.frame_type} for the exposures (--frame-type)")]

    def _frame_size(self) -> tuple[int, int]:
        """The image size CCD_FRAME and CCD_BINNING ask for; `Skipped` when they cannot say."""
        width = self.number("CCD_FRAME", "WIDTH")
        height = self.number("CCD_FRAME", "HEIGHT")
        hor = self.number("CCD_BINNING", "HOR_BIN")
        ver = self.number("CCD_BINNING", "VER_BIN")
        if hor < 1 or ver < 1:
            raise Skipped("CCD_BINNING", f"prerequisite {self.device}.CCD_BINNING is "
                                         f"{hor:g} x {ver:g}, not at least 1 x 1")
        return int(width // hor), int(height // ver)

    async def _exposure(self) -> list[Check]:
        self.require("CCD_EXPOSURE", NUMBER, "CCD_EXPOSURE_VALUE")
        size: tuple[int, int] | Skipped
        try:
            size = self._frame_size()
        except Skipped as skip:
            size = skip
        image_skipped: Skipped | None = None
        try:
            self.require("CCD1", BLOB, writable=False)
        except Skipped as skip:
            image_skipped = skip
        else:
            await self.client.send_enableBLOB("Also", self.device, "CCD1")
        limit = EXPOSURE + self.timeout
        counted: list[float] = []
        image: bytes | None = None
        fmt = ""
        ended: State | None = None
        async with self.client.events() as stream:
            await self.client.set(self.device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": EXPOSURE},
                                  wait=False)
            try:
                async for event in _until(stream, limit):
                    if isinstance(event, ev.ConnectionLost):
                        raise ConnectionError("lost the server during the exposure")
                    if event.devicename != self.device:
                        continue
                    if isinstance(event, ev.setBLOBVector) and event.vectorname == "CCD1":
                        for member in event:
                            image = bytes(event[member])
                            fmt = event.sizeformat.get(member, (0, ""))[1]
                    elif isinstance(event, ev.setVector) and event.vectorname == "CCD_EXPOSURE":
                        if event.state == State.BUSY and "CCD_EXPOSURE_VALUE" in event:
                            with contextlib.suppress(ValueError):
                                counted.append(parse_number(str(event["CCD_EXPOSURE_VALUE"])))
                        elif event.state != State.BUSY:
                            ended = event.state
                    if ended is not None and (image is not None or ended == State.ALERT
                                              or image_skipped is not None):
                        break
            except TimeoutError:
                pass
        checks: list[Check] = []
        if any(value < EXPOSURE for value in counted):
            checks.append(self.check(Level.PASS, "CCD_EXPOSURE",
                                     f"counted down while Busy: {counted}"))
        else:
            checks.append(self.check(Level.FAIL, "CCD_EXPOSURE",
                                     f"expected Busy with the time left during a {EXPOSURE:g} s "
                                     f"exposure; Busy values {counted}"))
        if ended == State.OK:
            checks.append(self.check(Level.PASS, "CCD_EXPOSURE", "ended Ok"))
        else:
            exposure = self.vector("CCD_EXPOSURE")
            never = (f"never: still {exposure.state if exposure is not None else 'undefined'} "
                     f"{limit:g} s after it began")
            checks.append(self.check(Level.FAIL, "CCD_EXPOSURE",
                                     f"expected to end Ok; ended {ended or never}"))
        if image_skipped is not None:
            checks.append(self.check(Level.FAIL, "CCD1",
                                     f"image check skipped: {image_skipped.why}"))
        else:
            checks.append(self._image_check(image, fmt, size))
        return checks

    def _image_check(self, image: bytes | None, fmt: str, size: tuple[int, int] | Skipped
                     ) -> Check:
        if image is None:
            return self.check(Level.FAIL, "CCD1", "expected an image in CCD1; none arrived")
        if isinstance(size, Skipped):
            return self.check(Level.FAIL, size.prop, f"image size check skipped: {size.why}")
        width, height = size
        if not fmt.lower().startswith(".fits") or fmt.lower().endswith(".fz"):
            return self.check(Level.WARN, "CCD1", f"image format {fmt!r}: size not checked")
        try:
            header = read_header(image)
        except FITSError as exc:
            return self.check(Level.FAIL, "CCD1", f"format {fmt} but not FITS: {exc}")
        found = (header.values.get("NAXIS1"), header.values.get("NAXIS2"))
        if found != (width, height):
            return self.check(Level.FAIL, "CCD1", f"expected a FITS of {width} x {height} "
                                                  f"(CCD_FRAME / CCD_BINNING); found "
                                                  f"{found[0]} x {found[1]}")
        return self.check(Level.PASS, "CCD1", f"FITS {width} x {height}, BITPIX "
                                              f"{header.values.get('BITPIX')}, {len(image)} bytes")

    async def _abort(self) -> list[Check]:
        self.require("CCD_ABORT_EXPOSURE", SWITCH, "ABORT")
        self.require("CCD_EXPOSURE", NUMBER, "CCD_EXPOSURE_VALUE")
        async with self.client.events() as stream:
            await self.client.set(self.device, "CCD_EXPOSURE",
                                  {"CCD_EXPOSURE_VALUE": ABORTED_EXPOSURE}, wait=False)
            try:
                await self.client.wait_for(self.device, "CCD_EXPOSURE", State.BUSY,
                                           min(10.0, self.timeout))
            except TimeoutError as exc:
                return [self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                   f"abort skipped: the {ABORTED_EXPOSURE:g} s exposure it "
                                   f"would stop did not start ({exc})")]
            result = await self.client.set(self.device, "CCD_ABORT_EXPOSURE", {"ABORT": "On"},
                                           wait=True, timeout=self.timeout)
            if result.timed_out:
                return [self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                   f"still Busy {self.timeout:g} s after ABORT")]
            if result.state == State.ALERT:
                return [self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                   f"abort answered Alert: {result.message or 'no message'}")]
            try:
                async for event in _until(stream, min(ABORTED_EXPOSURE - 1, self.timeout)):
                    if isinstance(event, ev.ConnectionLost):
                        raise ConnectionError("lost the server during the abort")
                    if event.devicename != self.device:
                        continue
                    if isinstance(event, ev.setBLOBVector) and event.vectorname == "CCD1":
                        return [self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                           "an image arrived after the abort")]
                    exposure = self.vector("CCD_EXPOSURE")
                    if exposure is not None and exposure.state != State.BUSY:
                        return [self.check(Level.PASS, "CCD_ABORT_EXPOSURE",
                                           f"aborted: CCD_EXPOSURE {exposure.state}, no image")]
            except TimeoutError:
                pass
            return [self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                               "CCD_EXPOSURE still Busy after the abort")]

    # -- mount ----------------------------------------------------------------------------

    def _park(self) -> PropertyVector | None:
        """TELESCOPE_PARK when the mount defines it (optional); `Skipped` when it is broken."""
        if self.vector("TELESCOPE_PARK") is None:
            return None
        return self.require("TELESCOPE_PARK", SWITCH, "PARK", "UNPARK")

    async def mount(self) -> list[Check]:
        checks: list[Check] = []
        park: PropertyVector | None = None
        parked_before = False
        try:
            park = self._park()
        except Skipped as skip:
            checks.append(self.check(Level.FAIL, skip.prop, f"park skipped: {skip.why}"))
        if park is not None and park.get("PARK") == "On":
            parked_before = True
            unparked = await self.step("TELESCOPE_PARK", "unpark before the goto",
                                       self._unpark)
            if unparked:
                return [*checks, *unparked, self.check(
                    Level.FAIL, "EQUATORIAL_EOD_COORD",
                    "goto skipped: prerequisite: the mount could not be unparked")]
        try:
            start: list[tuple[float, float]] = []  # where it pointed, once read
            arrived: list[bool] = []  # the goto ended: the mount can be put back
            checks.extend(await self.step("EQUATORIAL_EOD_COORD", "goto",
                                          lambda: self._goto(start, arrived)))
            if start and self.vector("TELESCOPE_ABORT_MOTION") is not None:
                checks.extend(await self.step("TELESCOPE_ABORT_MOTION", "abort",
                                              lambda: self._abort_slew(start[0])))
            if start and arrived:
                with contextlib.suppress(*_PUT_BACK_ERRORS):  # put back where it pointed
                    await Mount(self.client, self.device, timeout=self.timeout).goto(*start[0])
            if park is not None:
                checks.extend(await self.step("TELESCOPE_PARK", "park",
                                              lambda: self._park_and_back(parked_before)))
        finally:
            now = self.vector("TELESCOPE_PARK")  # read again: a new definition is a new vector
            if parked_before and now is not None and now.get("PARK") != "On":
                with contextlib.suppress(*_PUT_BACK_ERRORS):
                    await self.set("TELESCOPE_PARK", {"PARK": "On"})
        return checks

    async def _unpark(self) -> list[Check]:
        await self.set("TELESCOPE_PARK", {"UNPARK": "On"})
        return []

    async def _goto(self, start: list[tuple[float, float]], arrived: list[bool]
                    ) -> list[Check]:
        self.require("EQUATORIAL_EOD_COORD", NUMBER, "RA", "DEC")
        self.require("ON_COORD_SET", SWITCH, "TRACK")
        ra0 = self.number("EQUATORIAL_EOD_COORD", "RA")
        dec0 = self.number("EQUATORIAL_EOD_COORD", "DEC")
        start.append((ra0 % 24, max(-90.0, min(90.0, dec0))))
        target = ((ra0 + 0.5) % 24, max(-80.0, min(80.0, dec0 + 5 if dec0 < 60 else dec0 - 5)))
        await self.set("ON_COORD_SET", {"TRACK": "On"})
        await Mount(self.client, self.device, timeout=self.timeout).goto(*target)
        arrived.append(True)
        ra = self.number("EQUATORIAL_EOD_COORD", "RA")
        dec = self.number("EQUATORIAL_EOD_COORD", "DEC")
        near = abs((ra - target[0] + 12) % 24 - 12) < 0.02 and abs(dec - target[1]) < 0.1
        return [self.check(Level.PASS if near else Level.FAIL, "EQUATORIAL_EOD_COORD",
                           f"goto {target[0]:.4f} h {target[1]:.3f} deg: ended Ok at "
                           f"{ra:.4f} h {dec:.3f} deg")]

    async def _abort_slew(self, start: tuple[float, float]) -> list[Check]:
        self.require("TELESCOPE_ABORT_MOTION", SWITCH, "ABORT")
        await self.set("ON_COORD_SET", {"TRACK": "On"})
        await self.client.set(self.device, "EQUATORIAL_EOD_COORD",
                              {"RA": (start[0] + 6) % 24, "DEC": start[1]}, wait=False)
        await self.set("TELESCOPE_ABORT_MOTION", {"ABORT": "On"})
        try:
            await self.client.wait_for(self.device, "EQUATORIAL_EOD_COORD",
                                       (State.IDLE, State.OK), self.timeout)
        except TimeoutError:
            return [self.check(Level.FAIL, "TELESCOPE_ABORT_MOTION",
                               f"EQUATORIAL_EOD_COORD still Busy {self.timeout:g} s after the "
                               f"abort")]
        return [self.check(Level.PASS, "TELESCOPE_ABORT_MOTION", "a slew stopped on ABORT")]

    async def _park_and_back(self, parked_before: bool) -> list[Check]:
        await self.set("TELESCOPE_PARK", {"PARK": "On"})
        park = self.require("TELESCOPE_PARK", SWITCH, "PARK", "UNPARK")
        parked = park.get("PARK") == "On"
        check = self.check(Level.PASS if parked else Level.FAIL, "TELESCOPE_PARK",
                           "parked: PARK=On, Ok" if parked else
                           f"PARK answered {park.state} but PARK is {park.get('PARK')}")
        if not parked_before:
            await self.set("TELESCOPE_PARK", {"UNPARK": "On"})
        return [check]

    # -- focuser and filter wheel ---------------------------------------------------------

    async def focuser(self) -> list[Check]:
        if self.vector("ABS_FOCUS_POSITION") is None:
            return [self.check(Level.WARN, "ABS_FOCUS_POSITION",
                               "relative focuser: the live move is not checked")]
        return await self.step("ABS_FOCUS_POSITION", "move", self._focus_move)

    async def _focus_move(self) -> list[Check]:
        name, member = "ABS_FOCUS_POSITION", "FOCUS_ABSOLUTE_POSITION"
        self.require(name, NUMBER, member)
        start = self.number(name, member)
        low, top = self.number(name, member, "min"), self.number(name, member, "max")
        distance = min(1000.0, max(1.0, (top - low) / 2))
        target = start + distance if start + distance <= top else start - distance
        await self.set(name, {member: target})
        reached = self.number(name, member)
        with contextlib.suppress(*_PUT_BACK_ERRORS):
            await self.set(name, {member: start})
        return [self.check(Level.PASS if abs(reached - target) < 1 else Level.FAIL, name,
                           f"moved {start:g} -> {reached:g} (asked {target:g})")]

    async def filter_wheel(self) -> list[Check]:
        return await self.step("FILTER_SLOT", "turn", self._turn)

    async def _turn(self) -> list[Check]:
        name, member = "FILTER_SLOT", "FILTER_SLOT_VALUE"
        self.require(name, NUMBER, member)
        start = round(self.number(name, member))
        top = int(self.number(name, member, "max"))
        target = start + 1 if start < top else start - 1
        await self.set(name, {member: target})
        reached = round(self.number(name, member))
        with contextlib.suppress(*_PUT_BACK_ERRORS):
            await self.set(name, {member: start})
        return [self.check(Level.PASS if reached == target else Level.FAIL, name,
                           f"turned {start} -> {reached} (asked {target})")]


async def live_checks(client: Client, device: str, bits: Interface,
                      timeout: float = LIVE_TIMEOUT, frame_type: str | None = None
                      ) -> list[Check]:
    """Drive each role the bits name (see the module docstring); every wait is bounded by
    ``timeout`` seconds; a camera's frames are of `frame_type` (a CCD_FRAME_TYPE member) when
    given."""
    live = _Live(client, device, timeout, frame_type)
    checks: list[Check] = []
    if bits & Interface.CCD:
        checks.extend(await live.step("CCD", "camera", live.camera))
    if bits & Interface.TELESCOPE:
        checks.extend(await live.step("TELESCOPE", "mount", live.mount))
    if bits & Interface.FOCUSER:
        checks.extend(await live.step("FOCUSER", "focuser", live.focuser))
    if bits & Interface.FILTER:
        checks.extend(await live.step("FILTER", "filter wheel", live.filter_wheel))
    return checks
