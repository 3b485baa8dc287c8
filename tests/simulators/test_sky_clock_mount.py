"""Issue 89 item 5: a rehearsal's mount lives in the night's time. With the sky clock
(``INDIPY_AGENT_SKY_CLOCK``) the imager agent's sky and our mount simulator's disagreed: a
target past the meridian in the agent's time was east of it for the mount, the flip "failed"
and the night paused. Our mount simulator now takes its "now" from the same setting, in-process
and as an executable under our server (which pins a setting without a wall time, so every
driver reads one sky): its sidereal time is the agent's and a target past the sky's meridian
gets the pier side the sky says."""

from __future__ import annotations

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
from indipycore.astro import hour_angle
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
