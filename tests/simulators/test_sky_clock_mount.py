"""Issue 89 item 5: a rehearsal's mount lives in the night's time. With the sky clock
(``INDIPY_AGENT_SKY_CLOCK``) the imager agent's sky and our mount simulator's disagreed: a
target past the meridian in the agent's time was east of it for the mount, the flip "failed"
and the night paused. Our mount simulator now takes its "now" from the same setting, in-process
and as an executable under our server (which pins a setting without a wall time, so every
driver reads one sky): its sidereal time is the agent's and a target past the sky's meridian
gets the pier side the sky says."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from peers import OurServer
from peers import free_port
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyclient import setVector
from indipycore.astro import hour_angle
from indipycore.astro import hours_between
from indipycore.astro import local_sidereal_time
from indipycore.astro import wrap_hours
from indipycore.skyclock import ENV_SKY_CLOCK
from indipycore.skyclock import SkyClock
from indipycore.skyclock import parse_sky_clock
from indipycore.skyclock import pinned
from indipydriver.standard import Mount
from indipydriver.standard.mounttypes import pier_side_for
from indipyserver.cli import pin_sky_clock
from indipysimulators import telescope
from indipysimulators.mountdrift import DriftRole

MOUNT = telescope.DEVICE
#: Circumpolar at the simulator's latitude: a goto is never refused below the horizon, on
#: either clock, so only the pier side tells the two skies apart.
DEC = 60.0


def half_a_day_on(now: datetime) -> SkyClock:
    """A sky twelve hours ahead of the wall: its sidereal time about 12 h from the wall's."""
    return SkyClock(sky=now + timedelta(hours=12), wall=now)


def past_the_meridian(sky: SkyClock) -> tuple[float, str]:
    """A target one hour west of the sky's meridian, and the pier side the sky gives it
    (which the wall's sidereal time would not)."""
    now = datetime.now(UTC)
    lst = local_sidereal_time(sky.at(now), telescope.LONGITUDE)
    ra = wrap_hours(lst - 1.0)
    side = pier_side_for(hour_angle(lst, ra))
    wall_side = pier_side_for(hour_angle(local_sidereal_time(now, telescope.LONGITUDE), ra))
    assert side != wall_side  # the test tells the two skies apart
    return ra, side


async def goto_and_side(client: indipyclient.Client, ra: float) -> str:
    """The mount connected, tracking, sent to (`ra`, DEC): its TELESCOPE_PIER_SIDE after."""
    await client.wait_for(MOUNT, "CONNECTION", timeout=30)
    await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
    await client.wait_for(MOUNT, "ON_COORD_SET", timeout=10)
    await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
    await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": DEC}, timeout=60)
    sides = client.vector(MOUNT, "TELESCOPE_PIER_SIDE")
    return next(name for name in ("PIER_EAST", "PIER_WEST") if sides[name].value == "On")


def mount_role(driver: object) -> Mount:
    device = driver[MOUNT]  # type: ignore[index]
    return next(role for role in device.standard.roles if isinstance(role, Mount))


def test_the_mount_simulators_sidereal_time_is_the_imager_agents(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The mount and the imager agent made under one ``INDIPY_AGENT_SKY_CLOCK`` keep one
    sidereal time (the agent's sky's), not the wall's."""
    sky = half_a_day_on(datetime.now(UTC))
    monkeypatch.setenv(ENV_SKY_CLOCK, sky.text())
    mount = mount_role(telescope.make_driver())
    agent = make_driver(state=tmp_path)
    assert agent.night is not None
    agents = local_sidereal_time(agent.night.timing["clock"](), telescope.LONGITUDE)
    assert abs(hour_angle(mount.local_sidereal_time(), agents)) < 1 / 60  # a minute
    wall = local_sidereal_time(datetime.now(UTC), telescope.LONGITUDE)
    assert abs(hour_angle(wall, agents)) > 11  # the wall's is another sky


async def test_in_process_a_target_past_the_skys_meridian_gets_the_skys_pier_side() -> None:
    """In-process with a sky clock, a goto past the sky's meridian stands on the side the
    sky says (the flip the night planned), not the wall's."""
    sky = half_a_day_on(datetime.now(UTC))
    ra, side = past_the_meridian(sky)
    async with running(server(telescope.make_driver(50.0, sky_clock=sky))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        assert await goto_and_side(client, ra) == side


@pytest.mark.timeout(120)
@pytest.mark.parametrize("driver", ["indipy_simulator_telescope", "indipysimulators.telescope"])
async def test_under_our_server_the_mount_follows_the_servers_sky_clock(
        driver: str, tmp_path: Path) -> None:
    """``INDIPY_AGENT_SKY_CLOCK=SKY`` (no wall time) in ``indipyserver``'s environment: the
    mount it starts, as an executable or in-process, flips where the sky says."""
    now = datetime.now(UTC)
    sky = half_a_day_on(now)
    ra, side = past_the_meridian(sky)
    env = {ENV_SKY_CLOCK: sky.sky.isoformat()}
    with OurServer(driver, workdir=tmp_path, port=free_port(), env=env,
                   extra_args=["--no-announce"]) as ours:
        async with indipyclient.connect("127.0.0.1", ours.port) as client:
            assert await goto_and_side(client, ra) == side


def test_the_server_pins_a_sky_clock_without_a_wall_time() -> None:
    """A setting without ``@WALL`` is fixed at the server's start, so drivers started later
    read the same sky (each reading it alone would start its own night at its own start)."""
    now = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert parse_sky_clock(pinned("2026-12-03T19:00Z", now), now + timedelta(hours=1)) == \
        SkyClock(datetime(2026, 12, 3, 19, tzinfo=UTC), now)
    full = "2026-12-03T19:00:00+00:00@2026-06-01T09:00:00+00:00x60.0"
    assert pinned(full, now) == full
    environ = {ENV_SKY_CLOCK: "2026-12-03T19:00Z"}
    pin_sky_clock(environ)
    assert "@" in environ[ENV_SKY_CLOCK]
    assert pinned("not a time", now) == "not a time"  # its reader says what is wrong


async def hour_angles(client: indipyclient.Client, sky: SkyClock,
                      wall_seconds: float) -> list[tuple[float, float]]:
    """(RA, hour angle of the mount's RA on `sky` as the client received it) for each
    EQUATORIAL_EOD_COORD the mount sets during `wall_seconds` (sets only: the definition a
    connect brings holds the driver's starting RA, 0 h, before its first poll; a CI run read
    it as the mount's position)."""
    seen: list[tuple[float, float]] = []
    async with client.events() as stream:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wall_seconds):
                async for event in stream:
                    if isinstance(event, setVector) \
                            and event.vectorname == "EQUATORIAL_EOD_COORD":
                        ra = client.get(MOUNT, "EQUATORIAL_EOD_COORD", "RA")
                        lst = local_sidereal_time(sky.at(datetime.now(UTC)), telescope.LONGITUDE)
                        seen.append((ra, hour_angle(lst, ra)))
    return seen


@pytest.mark.timeout(120)
async def test_an_idle_or_parked_mount_turns_with_a_fast_sky_clock(tmp_path: Path) -> None:
    """Issue 90 item 6: on a sky clock at x60 our mount simulator under our server, idle
    (not tracking) and then parked, points at a fixed hour angle of the sky's sidereal time
    (astro's, the clock's sky): its RA turns 60 times as fast as the wall's sidereal rate.
    On the old code it turned with the wall's seconds and fell 59 sky seconds behind each
    wall second (0.16 h in 10 s)."""
    now = datetime.now(UTC)
    sky = SkyClock(sky=now + timedelta(hours=12), wall=now, rate=60.0)
    env = {ENV_SKY_CLOCK: sky.text()}
    #: The mount's poll (a second) and the client's reading lag the sky by at most about
    #: a wall second, a minute of RA at x60; the old code's lag grows 59 s a second.
    lag = 1.5 / 60
    with OurServer("indipysimulators.telescope", workdir=tmp_path, port=free_port(), env=env,
                   extra_args=["--no-announce"]) as ours:
        async with indipyclient.connect("127.0.0.1", ours.port) as client:
            await client.wait_for(MOUNT, "CONNECTION", timeout=30)
            await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
            idle = await hour_angles(client, sky, 6.0)
            await client.set(MOUNT, "TELESCOPE_PARK", {"PARK": "On"}, timeout=30)
            parked = await hour_angles(client, sky, 6.0)
    for name, seen in (("idle", idle), ("parked", parked)):
        assert len(seen) >= 3, f"{name}: the mount sent {len(seen)} positions"
        assert all(abs(ha) < lag for _, ha in seen), f"{name}: {seen}"
        # The sky turned under it: RA grew by about 5 sky minutes (6 s at x60) or more.
        assert hours_between(seen[0][0], seen[-1][0]) > 4 * 60 / 3600, f"{name}: {seen}"


def test_the_mounts_periodic_error_and_drift_run_on_the_sky_clocks_seconds() -> None:
    """Issue 90 item 6: SIM_PE and SIM_DRIFT follow the sky clock's seconds (a rehearsal at
    x60 sees 60 s of drift and worm each wall second), as the sky does: the drift role's
    clock and the periodic error's origin are the sky's seconds, not the wall's monotonic
    ones they were on the old code."""
    sky = SkyClock(sky=datetime.now(UTC) + timedelta(hours=12), wall=datetime.now(UTC),
                   rate=60.0)
    device = telescope.make_driver(sky_clock=sky)[MOUNT]  # type: ignore[index]
    drift = next(role for role in device.standard.roles if isinstance(role, DriftRole))
    sky_now = sky.at(datetime.now(UTC)).timestamp()
    assert abs(drift.clock() - sky_now) < 5.0
    assert abs(drift.error.phase_origin - sky_now) < 5.0
