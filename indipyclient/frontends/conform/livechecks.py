"""``--live``: the role driven as a client would drive it, and put back afterwards.

A camera exposes (the countdown while Busy, the image of the frame's size in CCD1, Ok) and
aborts; a mount slews to a target near where it points and is checked there, aborts a slew,
parks and unparks; a focuser moves and comes back; a filter wheel turns and comes back. What
a check changed is set back at its end (the mount's pointing and park state, the focuser's
position, the wheel's slot).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from indipyclient import events as ev
from indipyclient.frontends.roles import FilterWheel
from indipyclient.frontends.roles import Focuser
from indipyclient.frontends.roles import Mount
from indipyclient.frontends.roles import RoleError
from indipycore.fits import FITSError
from indipycore.fits import read_header
from indipycore.interface import Interface
from indipycore.protocol.enums import State

from .report import Check
from .report import Level

if TYPE_CHECKING:
    from indipyclient.session.connect import Client
    from indipyclient.session.connect import EventStream

__all__ = ["live_checks"]

EXPOSURE = 2.0  # long enough for a countdown step at indilib's one-second rate
ABORTED_EXPOSURE = 10.0


async def _until(stream: EventStream, timeout: float) -> AsyncIterator[ev.Event]:
    """The stream's events for at most ``timeout`` seconds (then TimeoutError)."""
    async with asyncio.timeout(timeout):
        async for event in stream:
            yield event


class _Live:
    def __init__(self, client: Client, device: str) -> None:
        self.client = client
        self.device = device

    def check(self, level: Level, prop: str, detail: str) -> Check:
        return Check(level, self.device, prop, detail)

    def vector(self, name: str) -> object | None:
        return self.client.model.vector(self.device, name)

    # -- camera ---------------------------------------------------------------------------

    async def camera(self) -> list[Check]:
        checks = await self._exposure()
        if self.vector("CCD_ABORT_EXPOSURE") is not None:
            checks.append(await self._abort())
        return checks

    def _frame_size(self) -> tuple[int, int]:
        frame = self.client.vector(self.device, "CCD_FRAME")
        binning = self.client.vector(self.device, "CCD_BINNING")
        return (int(float(frame["WIDTH"]) // float(binning["HOR_BIN"])),
                int(float(frame["HEIGHT"]) // float(binning["VER_BIN"])))

    async def _exposure(self) -> list[Check]:
        checks: list[Check] = []
        width, height = self._frame_size()
        await self.client.send_enableBLOB("Also", self.device, "CCD1")
        counted: list[float] = []
        image: bytes | None = None
        fmt = ""
        ended: State | None = None
        async with self.client.events() as stream:
            await self.client.set(self.device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": EXPOSURE},
                                  wait=False)
            try:
                async for event in _until(stream, EXPOSURE + 60):
                    if event.devicename != self.device:
                        continue
                    if isinstance(event, ev.setBLOBVector) and event.vectorname == "CCD1":
                        for member in event:
                            image = bytes(event[member])
                            fmt = event.sizeformat.get(member, (0, ""))[1]
                    elif isinstance(event, ev.setVector) and event.vectorname == "CCD_EXPOSURE":
                        if event.state == State.BUSY and "CCD_EXPOSURE_VALUE" in event:
                            counted.append(float(event["CCD_EXPOSURE_VALUE"]))
                        elif event.state != State.BUSY:
                            ended = event.state
                    if ended is not None and (image is not None or ended == State.ALERT):
                        break
            except TimeoutError:
                pass
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
            checks.append(self.check(Level.FAIL, "CCD_EXPOSURE",
                                     f"expected to end Ok; ended {ended or 'never (timeout)'}"))
        checks.append(self._image_check(image, fmt, width, height))
        return checks

    def _image_check(self, image: bytes | None, fmt: str, width: int, height: int) -> Check:
        if image is None:
            return self.check(Level.FAIL, "CCD1", "expected an image in CCD1; none arrived")
        if not fmt.lower().startswith(".fits") or fmt.lower().endswith(".fz"):
            return self.check(Level.WARN, "CCD1", f"image format {fmt!r}: size not checked")
        try:
            header = read_header(image)
        except FITSError as exc:
            return self.check(Level.FAIL, "CCD1", f"format {fmt} but not FITS: {exc}")
        size = (header.values.get("NAXIS1"), header.values.get("NAXIS2"))
        if size != (width, height):
            return self.check(Level.FAIL, "CCD1", f"expected a FITS of {width} x {height} "
                                                  f"(CCD_FRAME / CCD_BINNING); found "
                                                  f"{size[0]} x {size[1]}")
        return self.check(Level.PASS, "CCD1", f"FITS {width} x {height}, BITPIX "
                                              f"{header.values.get('BITPIX')}, {len(image)} bytes")

    async def _abort(self) -> Check:
        async with self.client.events() as stream:
            await self.client.set(self.device, "CCD_EXPOSURE",
                                  {"CCD_EXPOSURE_VALUE": ABORTED_EXPOSURE}, wait=False)
            busy = await self.client.wait_for(self.device, "CCD_EXPOSURE", State.BUSY, 10)
            del busy
            result = await self.client.set(self.device, "CCD_ABORT_EXPOSURE", {"ABORT": "On"},
                                           wait=True, timeout=10)
            if result.state == State.ALERT or result.timed_out:
                return self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                  f"abort answered {result.state}: {result.message}")
            try:
                async for event in _until(stream, ABORTED_EXPOSURE - 1):
                    if event.devicename != self.device:
                        continue
                    if isinstance(event, ev.setBLOBVector) and event.vectorname == "CCD1":
                        return self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                                          "an image arrived after the abort")
                    exposure = self.client.model.vector(self.device, "CCD_EXPOSURE")
                    if exposure is not None and exposure.state != State.BUSY:
                        return self.check(Level.PASS, "CCD_ABORT_EXPOSURE",
                                          f"aborted: CCD_EXPOSURE {exposure.state}, no image")
            except TimeoutError:
                pass
            return self.check(Level.FAIL, "CCD_ABORT_EXPOSURE",
                              "CCD_EXPOSURE still Busy after the abort")

    # -- mount ----------------------------------------------------------------------------

    async def mount(self) -> list[Check]:
        mount = Mount(self.client, self.device, timeout=180)
        checks: list[Check] = []
        parked_before = (self.vector("TELESCOPE_PARK") is not None and mount.parked)
        try:
            if parked_before:
                await mount.unpark()
            ra0, dec0 = mount.position
            target = ((ra0 + 0.5) % 24, max(-80.0, min(80.0, dec0 + 5 if dec0 < 60 else dec0 - 5)))
            try:
                ra, dec = await mount.goto(*target)
                near = abs((ra - target[0] + 12) % 24 - 12) < 0.02 and abs(dec - target[1]) < 0.1
                checks.append(self.check(Level.PASS if near else Level.FAIL,
                                         "EQUATORIAL_EOD_COORD",
                                         f"goto {target[0]:.4f} h {target[1]:.3f} deg: ended Ok "
                                         f"at {ra:.4f} h {dec:.3f} deg"))
            except (RoleError, TimeoutError) as exc:
                checks.append(self.check(Level.FAIL, "EQUATORIAL_EOD_COORD", f"goto: {exc}"))
            checks.append(await self._abort_slew(mount, ((ra0 + 6) % 24, dec0)))
            with contextlib.suppress(RoleError, TimeoutError):
                await mount.goto(ra0, dec0)  # put back where it pointed
            if self.vector("TELESCOPE_PARK") is not None:
                try:
                    await mount.park()
                    checks.append(self.check(Level.PASS if mount.parked else Level.FAIL,
                                             "TELESCOPE_PARK", "parked: PARK=On, Ok"))
                    if not parked_before:
                        await mount.unpark()
                except (RoleError, TimeoutError) as exc:
                    checks.append(self.check(Level.FAIL, "TELESCOPE_PARK", f"park: {exc}"))
        finally:
            if parked_before and self.vector("TELESCOPE_PARK") is not None and not mount.parked:
                with contextlib.suppress(RoleError, TimeoutError):
                    await mount.park()
        return checks

    async def _abort_slew(self, mount: Mount, far: tuple[float, float]) -> Check:
        await self.client.set(self.device, "ON_COORD_SET", {"TRACK": "On"}, wait=True,
                              timeout=10)
        await self.client.set(self.device, "EQUATORIAL_EOD_COORD", {"RA": far[0], "DEC": far[1]},
                              wait=False)
        try:
            await mount.abort()
        except (RoleError, TimeoutError) as exc:
            return self.check(Level.FAIL, "TELESCOPE_ABORT_MOTION", f"abort: {exc}")
        try:
            await self.client.wait_for(self.device, "EQUATORIAL_EOD_COORD",
                                       (State.IDLE, State.OK), 10)
        except TimeoutError:
            return self.check(Level.FAIL, "TELESCOPE_ABORT_MOTION",
                              "EQUATORIAL_EOD_COORD still Busy 10 s after the abort")
        return self.check(Level.PASS, "TELESCOPE_ABORT_MOTION", "a slew stopped on ABORT")

    # -- focuser and filter wheel ---------------------------------------------------------

    async def focuser(self) -> list[Check]:
        if self.vector("ABS_FOCUS_POSITION") is None:
            return [self.check(Level.WARN, "ABS_FOCUS_POSITION",
                               "relative focuser: the live move is not checked")]
        focuser = Focuser(self.client, self.device, timeout=120)
        start = focuser.position
        vector = self.client.vector(self.device, "ABS_FOCUS_POSITION")
        top = vector.member("FOCUS_ABSOLUTE_POSITION").max
        target = start + 1000 if start + 1000 <= float(top) else start - 1000
        try:
            reached = await focuser.move_to(target)
            check = self.check(Level.PASS if abs(reached - target) < 1 else Level.FAIL,
                               "ABS_FOCUS_POSITION", f"moved {start:g} -> {reached:g} "
                                                     f"(asked {target:g})")
            await focuser.move_to(start)
        except (RoleError, TimeoutError) as exc:
            check = self.check(Level.FAIL, "ABS_FOCUS_POSITION", f"move: {exc}")
        return [check]

    async def filter_wheel(self) -> list[Check]:
        wheel = FilterWheel(self.client, self.device, timeout=60)
        start = wheel.slot
        vector = self.client.vector(self.device, "FILTER_SLOT")
        top = int(float(vector.member("FILTER_SLOT_VALUE").max))
        target = start + 1 if start < top else start - 1
        try:
            reached = await wheel.select(target)
            check = self.check(Level.PASS if reached == target else Level.FAIL, "FILTER_SLOT",
                               f"turned {start} -> {reached} (asked {target})")
            await wheel.select(start)
        except (RoleError, TimeoutError) as exc:
            check = self.check(Level.FAIL, "FILTER_SLOT", f"select: {exc}")
        return [check]


async def live_checks(client: Client, device: str, bits: Interface) -> list[Check]:
    """Drive each role the bits name (see the module docstring)."""
    live = _Live(client, device)
    checks: list[Check] = []
    if bits & Interface.CCD:
        checks.extend(await live.camera())
    if bits & Interface.TELESCOPE:
        checks.extend(await live.mount())
    if bits & Interface.FOCUSER:
        checks.extend(await live.focuser())
    if bits & Interface.FILTER and live.vector("FILTER_SLOT") is not None:
        checks.extend(await live.filter_wheel())
    return checks
