"""A driver ends what its roles started: the simulators' polls and monitors (`RoleTasks`) and
actions (`Operation`) of devices still connected are stopped when the server's run returns,
not left pending for asyncio.run's final cleanup (issue 90 item 5), and the hardware is not
disconnected."""

from __future__ import annotations

import asyncio

from serverkit import running
from serverkit import server
from skykit import longitude_for
from waiting import until

import indipyclient
from indipycore.protocol.enums import State
from indipycore.protocol.events import SetSwitchVector
from indipydriver.standard.role import Operation
from indipydriver.standard.role import RoleTasks
from indipydriver.testing import DriverHarness
from indipysimulators import ccd
from indipysimulators import telescope
from indipysimulators import weather

ROLE_CORO = {RoleTasks._guard.__qualname__, Operation._run.__qualname__}


def role_tasks() -> list[asyncio.Task[object]]:
    """The pending tasks of any role (`RoleTasks._guard`, `Operation._run`), by coroutine."""
    return [task for task in asyncio.all_tasks() if not task.done()
            and getattr(task.get_coro(), "__qualname__", "") in ROLE_CORO]


async def test_the_roles_tasks_end_with_the_server_while_their_devices_are_connected() -> None:
    drivers = [telescope.make_driver(0.5), ccd.make_driver(), weather.make_driver(1.0)]
    devices = (telescope.DEVICE, ccd.DEVICE, weather.DEVICE)
    async with running(server(*drivers)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        for device in devices:
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        # A goto at 0.5 deg/s, two minutes long, still running when the server ends.
        await client.set(telescope.DEVICE, "GEOGRAPHIC_COORD",
                         {"LAT": 51.48, "LONG": longitude_for(-1.0, 3.8), "ELEV": 0}, timeout=10)
        await client.set(telescope.DEVICE, "EQUATORIAL_EOD_COORD", {"RA": 3.8, "DEC": 24.3},
                         wait=False)
        await until(lambda: "Goto" in {task.get_name() for task in role_tasks()}, timeout=10)
        running_now = {task.get_name() for task in role_tasks()}
        # The mount's position poll, the camera's temperature monitor, the station's readings.
        assert {"Mount position", "Temperature monitor", "Weather updates"} <= running_now
    assert role_tasks() == []
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert [task for task in others if not task.done()] == []
    # Only the tasks were stopped: the devices were not disconnected.
    for driver, device in zip(drivers, devices, strict=True):
        assert driver.devices[device].is_connected


async def test_the_roles_tasks_end_when_the_peer_closes_the_driver_s_link() -> None:
    """The way an executable driver's run ends under indiserver (EOF on its stdin): `serve`
    returns with its roles' tasks stopped, the one path `asyncrun` takes too."""
    driver = weather.make_driver(1.0)
    async with DriverHarness(driver) as client:
        await client.get_properties()
        assert weather.DEVICE == "Python Weather"
        await client.send('<newSwitchVector device="Python Weather" name="CONNECTION">'
                          '<oneSwitch name="CONNECT">On</oneSwitch></newSwitchVector>')
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
        assert [task.get_name() for task in role_tasks()] == ["Weather updates"]
    assert not client.serving
    assert role_tasks() == []
    assert driver.devices[weather.DEVICE].is_connected
