"""The mount role's timed guiding (TELESCOPE_TIMED_GUIDE_NS/WE at GUIDE_RATE, the GUIDER bit,
given a `MountGuider`), its German equatorial pier side (chosen at each goto, kept while
tracking past the meridian), and `EquatorialMotion`'s pulses and flips, which the simulated
mount runs on."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime

import pytest
from rolekit import connected
from rolekit import definitions
from rolekit import number
from rolekit import switch

from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import local_sidereal_time
from indipycore.protocol.enums import State
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipydriver.standard.motion import EquatorialMotion
from indipydriver.standard.mount import Mount
from indipydriver.standard.mount import MountLimits
from indipydriver.standard.mounttypes import pier_side_for

DEV = "Scope"


class InstantMount:
    """`MountHardware` and `MountGuider` that arrive at once; pulses are recorded and end
    when the test releases them."""

    def __init__(self) -> None:
        self.ra, self.dec = 0.0, 90.0
        self.pulses: list[tuple[str, int, float]] = []
        self.release = asyncio.Event()

    async def goto(self, ra: float, dec: float) -> None:
        self.ra, self.dec = ra, dec

    async def position(self) -> tuple[float, float]:
        return self.ra, self.dec

    async def abort(self) -> None: ...

    async def sync(self, ra: float, dec: float) -> None:
        self.ra, self.dec = ra, dec

    async def park(self, hour_angle: float, dec: float) -> None:
        self.dec = dec

    async def unpark(self) -> None: ...

    async def set_tracking(self, on: bool) -> None: ...

    async def move(self, north_south: int, west_east: int, rate: float) -> None: ...

    async def pulse(self, direction: str, ms: int, degrees_per_second: float) -> None:
        self.pulses.append((direction, ms, degrees_per_second))
        await self.release.wait()


def make_mount(guided: bool = True) -> tuple[InstantMount, Mount]:
    hardware = InstantMount()
    return hardware, Mount(hardware, latitude=51.5, longitude=0.0, poll_interval=0.05,
                           limits=MountLimits(min_altitude=None),
                           guider=hardware if guided else None)


async def test_a_guided_mount_has_indilibs_timed_guide_vectors_and_guide_rate() -> None:
    """With a guider: TELESCOPE_TIMED_GUIDE_NS/WE (ms, 0..60000) in Motion Control and
    GUIDE_RATE (W/E and N/S, 0.5 x sidereal) as indilib's telescope simulator defines them,
    DRIVER_INTERFACE TELESCOPE|GUIDER (5); without one, neither, and TELESCOPE (1)."""
    _, mount = make_mount()
    assert int(mount.interface) == 5
    async with connected(DEV, mount) as client:
        defs = await definitions(client, len(mount.vectors()))
    ns, rate = defs["TELESCOPE_TIMED_GUIDE_NS"], defs["GUIDE_RATE"]
    assert isinstance(ns, DefNumberVector) and isinstance(rate, DefNumberVector)
    assert (ns.group, [(m.name, m.format, m.max) for m in ns.members]) == (
        "Motion Control", [("TIMED_GUIDE_N", "%.f", "60000"), ("TIMED_GUIDE_S", "%.f", "60000")])
    assert [m.name for m in defs["TELESCOPE_TIMED_GUIDE_WE"].members] == [
        "TIMED_GUIDE_W", "TIMED_GUIDE_E"]
    assert [(m.name, float(m.value)) for m in rate.members] == [
        ("GUIDE_RATE_WE", 0.5), ("GUIDE_RATE_NS", 0.5)]
    _, plain = make_mount(guided=False)
    assert int(plain.interface) == 1
    assert not {"TELESCOPE_TIMED_GUIDE_NS", "GUIDE_RATE"} & {v.name for v in plain.vectors()}


async def test_a_pulse_runs_at_the_guide_rate_busy_then_ok() -> None:
    """TIMED_GUIDE_N 1500 ms: Busy, the guider moves north at GUIDE_RATE x sidereal for
    1500 ms, then Ok back at 0; GUIDE_RATE_WE 0.3 makes a west pulse that much slower."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await number(client, DEV, "TELESCOPE_TIMED_GUIDE_NS", TIMED_GUIDE_N=1500, TIMED_GUIDE_S=0)
        await client.expect(SetNumberVector, name="TELESCOPE_TIMED_GUIDE_NS", state=State.BUSY)
        hardware.release.set()
        done = await client.expect(SetNumberVector, name="TELESCOPE_TIMED_GUIDE_NS",
                                   state=State.OK)
        assert done["TIMED_GUIDE_N"].float == 0
        await number(client, DEV, "GUIDE_RATE", GUIDE_RATE_WE=0.3, GUIDE_RATE_NS=0.5)
        await client.expect(SetNumberVector, name="GUIDE_RATE", state=State.OK)
        await number(client, DEV, "TELESCOPE_TIMED_GUIDE_WE", TIMED_GUIDE_W=0, TIMED_GUIDE_E=800)
        await client.expect(SetNumberVector, name="TELESCOPE_TIMED_GUIDE_WE", state=State.OK)
    assert hardware.pulses == [("N", 1500, pytest.approx(0.5 * SIDEREAL_DEG_PER_S)),
                               ("E", 800, pytest.approx(0.3 * SIDEREAL_DEG_PER_S))]


async def test_a_pulse_is_refused_while_parked() -> None:
    """A parked mount does not guide: the pulse's vector goes Alert saying it is parked,
    and the guider is not called."""
    hardware, mount = make_mount()
    hardware.release.set()
    async with connected(DEV, mount) as client:
        await switch(client, DEV, "TELESCOPE_PARK", PARK="On")
        await client.expect(SetSwitchVector, name="TELESCOPE_PARK", state=State.OK)
        await number(client, DEV, "TELESCOPE_TIMED_GUIDE_NS", TIMED_GUIDE_N=500, TIMED_GUIDE_S=0)
        alert = await client.expect(SetNumberVector, name="TELESCOPE_TIMED_GUIDE_NS",
                                    state=State.ALERT)
        assert "parked" in (alert.message or "")
    assert hardware.pulses == []


async def test_the_pier_side_is_chosen_at_the_goto_and_kept_past_the_meridian() -> None:
    """A German equatorial mount: a goto to a target east of the meridian puts it on
    PIER_WEST; once the target is west of the meridian (the site's longitude moved two
    hours, as time would) it stays PIER_WEST while tracking; a goto to the same target then
    flips it to PIER_EAST."""
    hardware, mount = make_mount()
    lst = local_sidereal_time(datetime.now(UTC), 0.0)
    # Standing three hours west of the meridian before the goto (PIER_EAST), whatever the
    # hour: the goto must change the side (the pole at RA 0 gave either side by the clock).
    hardware.ra, hardware.dec = (lst - 3.0) % 24, 40.0
    async with connected(DEV, mount) as client:
        ra = (lst + 1.0) % 24  # an hour east
        await number(client, DEV, "EQUATORIAL_EOD_COORD", RA=ra, DEC=40)
        side = await client.expect(SetSwitchVector, name="TELESCOPE_PIER_SIDE")
        if side["PIER_WEST"].value != "On":  # the side it stood on before, said first
            assert side["PIER_EAST"].value == "On"
            side = await client.expect(SetSwitchVector, name="TELESCOPE_PIER_SIDE")
        assert side["PIER_WEST"].value == "On"
        await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.OK)
        await number(client, DEV, "GEOGRAPHIC_COORD", LAT=51.5, LONG=30.0, ELEV=0)
        await client.expect(SetNumberVector, name="GEOGRAPHIC_COORD", state=State.OK)
        await client.expect_nothing(SetSwitchVector, seconds=0.3)  # six polls: no change
        assert mount.pier_side["PIER_WEST"] == "On"
        await number(client, DEV, "EQUATORIAL_EOD_COORD", RA=ra, DEC=40)
        side = await client.expect(SetSwitchVector, name="TELESCOPE_PIER_SIDE")
        assert (side["PIER_EAST"].value, side["PIER_WEST"].value) == ("On", "Off")


def test_pier_side_for_follows_indilibs_simulator() -> None:
    """Measured on indi_simulator_telescope (SIM_PIER_SIDE on): a target east of the
    meridian (negative hour angle) puts the mount on PIER_WEST, west of it on PIER_EAST."""
    assert pier_side_for(-0.03) == "PIER_WEST"
    assert pier_side_for(0.03) == "PIER_EAST"


def test_motion_pulses_run_per_axis_beside_tracking_and_a_slew_ends_them() -> None:
    """A north pulse and a west pulse run together, each for its own time, at the given
    rate (west: RA down); tracking keeps RA otherwise; a slew cancels a pulse."""
    motion = EquatorialMotion(ra=10.0, dec=20.0, tracking=True)
    motion.guide(1, 0, 0.01, 2.0)
    motion.guide(0, 1, 0.01, 1.0)
    motion.advance(0.5, 0.0)
    assert motion.guiding_ns and motion.guiding_we
    motion.advance(5.0, 0.0)
    assert not motion.guiding
    assert motion.dec == pytest.approx(20.02)
    assert motion.ra == pytest.approx(10.0 - 0.01 / 15)
    motion.guide(-1, 0, 0.01, 10.0)
    motion.slew_to(11.0, 20.0)
    motion.advance(100.0, 0.0)
    assert not motion.guiding and (motion.ra, motion.dec) == (11.0, 20.0)
    with pytest.raises(ValueError, match="directions"):
        motion.guide(2, 0, 0.01, 1.0)


def test_a_slew_through_the_pole_visits_it_then_ends_on_the_target() -> None:
    """A meridian flip's slew (`through_pole`) swings the tube over the pole first, so it
    takes the two Dec legs' time, and ends exactly on the target."""
    motion = EquatorialMotion(ra=10.0, dec=40.0, tracking=True, slew_rate=5.0)
    motion.slew_to(10.0, 40.0, through_pole=True)
    decs = []
    while motion.slewing:
        motion.advance(1.0, 0.0)
        decs.append(motion.dec)
    assert max(decs) == 90.0
    assert len(decs) == 20  # 50 degrees up and 50 down at 5 degrees a second
    assert (motion.ra, motion.dec) == (10.0, 40.0)
