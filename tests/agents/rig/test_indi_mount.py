"""The rig's INDI mount (`IndiMount`) against two real mounts at once: ours
(indipy_simulator_telescope's driver, in-process) and indilib's indi_simulator_telescope (an
executable driver), both under our IPyServer. The meridian flip of issue 71 item 7 in real
time, and the pulse dither of item 3.

The flip decision (plan/decisions.py's hour_angle and flip_due) is another part's: here the
hour angle comes from `indipycore.astro`'s sidereal time, as it will there.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from peers import HOST
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.plan.model import Site
from indipyagents.rig.dither import Offset
from indipyagents.rig.dither import apply
from indipyagents.rig.dither import to_pulses
from indipyagents.rig.mount import IndiMount
from indipyagents.rig.protocols import DeviceRefused
from indipyclient.model import events as ev
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.fits import read_header
from indipycore.protocol import State
from indipysimulators import ccd
from indipysimulators import telescope

OURS = telescope.DEVICE
CAMERA = ccd.DEVICE
THEIRS = "Telescope Simulator"
#: Greenwich, so a Dec of 40 crosses the meridian 78.5 degrees high.
LAT, LONG = 51.4769, 0.0
DEC = 40.0
#: How close a goto ends (arcsec): ours on the target; indilib's simulator ends some long
#: gotos minutes of arc short in RA (measured here: 147" and 230"), then tracks there.
GOTO_TOLERANCE = {OURS: 5.0, THEIRS: 300.0}


@dataclass
class Recording:
    """What each mount said, stamped as the client took it in (before any waiting call
    returned): EQUATORIAL_EOD_COORD's states and TELESCOPE_PIER_SIDE's side."""

    coord: dict[str, list[tuple[float, State]]] = field(default_factory=dict)
    sides: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def take(self, event: ev.Event) -> bool:
        if isinstance(event, ev.setVector):
            now = time.monotonic()
            if event.vectorname == "EQUATORIAL_EOD_COORD" and event.state is not None:
                self.coord.setdefault(event.devicename, []).append((now, event.state))
            elif event.vectorname == "TELESCOPE_PIER_SIDE":
                side = "EAST" if event.vector["PIER_EAST"] == "On" else "WEST"
                self.sides.setdefault(event.devicename, []).append((now, side))
        return False  # keep watching

    def busy(self, device: str) -> list[tuple[float, float]]:
        """The intervals EQUATORIAL_EOD_COORD was Busy (from its first Busy set to the next
        set in another state)."""
        intervals, start = [], None
        for when, state in self.coord.get(device, []):
            if state == State.BUSY and start is None:
                start = when
            elif state != State.BUSY and start is not None:
                intervals.append((start, when))
                start = None
        if start is not None:
            intervals.append((start, math.inf))
        return intervals


@pytest.fixture
async def mounts(tmp_home: Path) -> AsyncIterator[tuple[indipyclient.Client, Recording]]:
    """Both mounts connected under one server, their site Greenwich, indilib's pier side
    simulation on (SIM_PIER_SIDE, its default), and a recording of what they say; beside
    them our camera, its FITS header reading our mount (ACTIVE_TELESCOPE)."""
    ipy = server(telescope.make_driver(), ccd.make_driver())
    ipy.add_exdriver("indi_simulator_telescope", max_restarts=0)
    recording = Recording()
    async with running(ipy), indipyclient.connect(HOST, ipy.port) as client:
        with client.waiters.watching(recording.take):
            for device in (OURS, THEIRS):
                await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
                await client.set(device, "GEOGRAPHIC_COORD",
                                 {"LAT": LAT, "LONG": LONG, "ELEV": 0}, timeout=10)
            await client.set(THEIRS, "SIM_PIER_SIDE", {"PS_ON": "On"}, timeout=10)
            await client.set(CAMERA, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            await client.set(CAMERA, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": OURS}, timeout=10)
            await client.send_enableBLOB("Also", CAMERA)
            yield client, recording


def target_east(minutes: float) -> tuple[float, float]:
    """J2000 RA, Dec of a target `minutes` of time east of the meridian now (Dec `DEC`)."""
    now = datetime.now(UTC)
    jnow_ra = (local_sidereal_time(now, LONG) + minutes / 60) % 24
    return precess_to_j2000(jnow_ra, DEC, now)


def target_hour_angle(ra: float, dec: float) -> float:
    """The target's hour angle now (hours, west positive), from its JNow RA."""
    now = datetime.now(UTC)
    return hour_angle(local_sidereal_time(now, LONG), precess_from_j2000(ra, dec, now)[0])


def separation_arcsec(a: tuple[float, float], b: tuple[float, float]) -> float:
    dra = ((a[0] - b[0] + 12) % 24 - 12) * 15 * math.cos(math.radians(b[1]))
    return math.hypot(dra, a[1] - b[1]) * 3600


async def frame_pier_side(client: indipyclient.Client, seconds: float) -> str:
    """One exposure of our camera, whole (the CCD1 BLOB): its header's PIERSIDE."""
    stream = client.events()
    try:
        await client.set(CAMERA, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds}, wait=False)
        async with asyncio.timeout(30):
            async for event in stream:
                if (isinstance(event, ev.setBLOBVector) and event.devicename == CAMERA
                        and "CCD1" in event.data):
                    return str(read_header(event["CCD1"])["PIERSIDE"])
    finally:
        stream.close()
    raise AssertionError("no image")


@dataclass
class FlipSeen:
    sides: list[str | None]
    flip: tuple[float, float]  # when slew_to was called and returned
    exposures: list[tuple[float, float]]
    pointing: tuple[float, float]
    target: tuple[float, float]
    headers: list[str]  # the frames' PIERSIDE, where a camera took them


async def image_across_the_meridian(mount: IndiMount,
                                    camera: indipyclient.Client | None = None) -> FlipSeen:
    """What the sequencer does with a target two minutes east of the meridian: slew, take
    exposures (our camera's frames, or a wait where there is no camera) until the target
    has crossed, slew again (the flip), one more exposure."""
    exposures: list[tuple[float, float]] = []
    headers: list[str] = []

    async def expose(seconds: float) -> None:
        start = time.monotonic()
        if camera is None:
            await asyncio.sleep(seconds)
        else:
            headers.append(await frame_pier_side(camera, seconds))
        exposures.append((start, time.monotonic()))

    ra, dec = target_east(2.0)
    await mount.slew_to(ra, dec)
    sides = [await mount.pier_side()]
    assert target_hour_angle(ra, dec) < 0, "the first slew took longer than the 2 minutes"
    while target_hour_angle(ra, dec) < 20 / 3600:  # crossed, by 20 s of time
        await expose(2.0)
    sides.append(await mount.pier_side())  # tracked past the meridian
    called = time.monotonic()
    await mount.slew_to(ra, dec)
    flip = (called, time.monotonic())
    sides.append(await mount.pier_side())
    await expose(1.0)
    return FlipSeen(sides, flip, exposures, await mount.pointing(), (ra, dec), headers)


@pytest.mark.timeout(400)
async def test_meridian_flip_with_both_mounts(
        mounts: tuple[indipyclient.Client, Recording]) -> None:
    """Issue 71 item 7: a target 2 minutes east of the meridian is slewed to (pier side WEST:
    the mount stands west, pointing east), kept on the same side while tracking past the
    meridian, and a slew to it once it has crossed flips the mount (EAST), pointing at it
    (`GOTO_TOLERANCE`); the flip is one Busy interval of EQUATORIAL_EOD_COORD inside the
    slew_to call, the side changes within it, and no exposure overlaps any Busy interval.
    indilib's simulator (SIM_PIER_SIDE on) and ours, at the same time; our mount's frames
    (our camera's) say PIERSIDE WEST before the flip and EAST after it."""
    client, recording = mounts
    ours, theirs = await asyncio.gather(
        image_across_the_meridian(IndiMount(client, OURS), camera=client),
        image_across_the_meridian(IndiMount(client, THEIRS)))
    assert len(ours.headers) >= 3 and set(ours.headers[:-1]) == {"WEST"}, ours.headers
    assert ours.headers[-1] == "EAST", ours.headers
    for device, seen in ((OURS, ours), (THEIRS, theirs)):
        assert seen.sides == ["WEST", "WEST", "EAST"], (device, seen.sides)
        assert separation_arcsec(seen.pointing, seen.target) < GOTO_TOLERANCE[device], (
            device, seen)
        busy = recording.busy(device)
        inside = [(start, end) for start, end in busy
                  if seen.flip[0] <= start and end <= seen.flip[1]]
        assert len(inside) == 1, (device, busy, seen.flip)
        flipped = [when for when, side in recording.sides[device] if side == "EAST"
                   and seen.flip[0] <= when <= seen.flip[1]]
        assert flipped and inside[0][0] <= flipped[0] <= inside[0][1], (
            device, recording.sides[device], inside)
        for start, end in seen.exposures:
            assert all(end <= b_start or b_end <= start for b_start, b_end in busy), (
                device, (start, end), busy)


async def test_pulse_dither_moves_and_returns_with_both_mounts(
        mounts: tuple[indipyclient.Client, Recording]) -> None:
    """Issue 71 item 3, the mount's side: a dither of 30" north and 30" west on the sky,
    turned into timed guide pulses at the mount's GUIDE_RATE (TELESCOPE_TIMED_GUIDE_NS/WE
    both sent, both waited), moves the pointing by that much (RA by 30"/cos(Dec)), and the
    opposite dither brings it back; indilib's simulator and ours alike (but for the sign of
    indilib's north pulse west of the pier)."""
    client, _ = mounts

    async def dither(mount: IndiMount) -> tuple[tuple[float, float], ...]:
        ra, dec = target_east(30.0)
        await mount.slew_to(ra, dec)
        assert mount.can_pulse()
        assert mount.guide_rates() == (0.5, 0.5)
        before = await mount.pointing()
        await apply(mount, Offset(north=30.0, west=30.0), target=(ra, dec),
                    rates=mount.guide_rates())
        moved = await mount.pointing()
        await apply(mount, Offset(north=-30.0, west=-30.0), target=(ra, dec),
                    rates=mount.guide_rates())
        return before, moved, await mount.pointing()

    for device, (before, moved, back) in zip((OURS, THEIRS), await asyncio.gather(
            dither(IndiMount(client, OURS)), dither(IndiMount(client, THEIRS))), strict=True):
        north = (moved[1] - before[1]) * 3600
        west_ra = -((moved[0] - before[0] + 12) % 24 - 12) * 15 * 3600
        # indilib's simulator moves a north pulse south while its tube is west of the pier
        # (its Dec axis is not reversed for the side, measured): the size is what counts.
        assert abs(north) == pytest.approx(30.0, abs=1.5), (device, before, moved)
        assert north > 0 or device == THEIRS, (device, before, moved)
        assert west_ra == pytest.approx(30.0 / math.cos(math.radians(before[1])), abs=1.5), (
            device, before, moved)
        assert separation_arcsec(back, before) < 1.5, (device, before, back)


async def test_site_park_and_unpark_before_a_slew(
        mounts: tuple[indipyclient.Client, Recording]) -> None:
    """site() reads GEOGRAPHIC_COORD (INDI's 0..360 east longitude as -180..180 east); a
    parked mount is parked by park(), and slew_to() unparks it first, then slews and
    tracks."""
    client, _ = mounts
    for device in (OURS, THEIRS):
        mount = IndiMount(client, device)
        await client.set(device, "GEOGRAPHIC_COORD", {"LAT": LAT, "LONG": 355.5, "ELEV": 0},
                         timeout=10)
        assert await mount.site() == Site(pytest.approx(LAT), pytest.approx(-4.5), 0.0)
        await mount.park()
        assert mount.parked()
        ra, dec = target_east(60.0)
        await mount.slew_to(ra, dec)
        assert not mount.parked()
        assert client.get(device, "TELESCOPE_TRACK_STATE", "TRACK_ON") == "On"
        assert separation_arcsec(await mount.pointing(), (ra, dec)) < GOTO_TOLERANCE[device]


async def test_unpark_of_a_mount_that_is_not_parked_is_no_refusal(
        mounts: tuple[indipyclient.Client, Recording]) -> None:
    """The sequencer unparks before each target's slew: a mount that is not parked is left
    as it is, and indilib's (which answers such an UNPARK Idle, "already unparked") is not
    taken to refuse it; a parked one is unparked, ours and indilib's alike."""
    client, _ = mounts
    for device in (OURS, THEIRS):
        mount = IndiMount(client, device)
        assert not mount.parked()
        await mount.unpark()
        assert not mount.parked()
        await mount.park()
        await mount.unpark()
        assert not mount.parked(), device


async def test_pulse_refused_where_the_mount_has_no_timed_guiding(tmp_home: Path) -> None:
    """A mount without TELESCOPE_TIMED_GUIDE_NS/WE (indilib's simulator's pulses are its
    GUIDER's; ours without a guider) says so: can_pulse() False, pulse() DeviceRefused
    naming the device, and a dither falls back to a small slew to the offset target."""
    from indipydriver import Device
    from indipydriver import IPyDriver
    from indipydriver.standard import EquatorialMotion
    from indipydriver.standard import Mount
    from indipydriver.standard import MountLimits

    motion = EquatorialMotion(slew_rate=20.0)
    hardware = telescope.SimulatedMount(motion, lst=lambda: 0.0)
    role = Mount(hardware, latitude=LAT, longitude=LONG, limits=MountLimits(min_altitude=None))
    hardware.lst = role.local_sidereal_time
    ipy = server(IPyDriver(Device("Plain Mount", roles=[role])))
    async with running(ipy), indipyclient.connect(HOST, ipy.port) as client:
        await client.set("Plain Mount", "CONNECTION", {"CONNECT": "On"}, timeout=20)
        mount = IndiMount(client, "Plain Mount")
        ra, dec = target_east(30.0)
        await mount.slew_to(ra, dec)
        assert not mount.can_pulse()
        with pytest.raises(DeviceRefused, match="Plain Mount"):
            await mount.pulse(1000, 0)
        await apply(mount, Offset(north=60.0, west=0.0), target=(ra, dec))
        pointing = await mount.pointing()
        assert (pointing[1] - dec) * 3600 == pytest.approx(60.0, abs=1.0)
        assert to_pulses(Offset(60.0, 0.0), dec).north_ms > 0
