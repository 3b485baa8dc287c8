"""Role clients (`indipyclient.frontends.roles`, issue 47 item 5) against indilib's simulators and ours.

A script drives a camera, a mount, a focuser and a filter wheel by role, not by property name:
each call connects the device, waits until its vector leaves Busy (bounded) and raises
RoleError with the driver's message on Alert. These tests run the calls against indilib 1.9.9's
own simulators under indilib's indiserver, and the camera also against our
examples/ccd_simulator.py served by our server, and check what came back (the FITS image's
size, the mount's position, the focuser's position, the wheel's slot).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from peers import IndiServer
from peers import free_port
from peers import getprop
from peers import indi_eval
from peers import setprop
from serverkit import running
from waiting import until

import indipyclient
import indipydriver as ipd
from indipyclient.frontends.roles import Camera
from indipyclient.frontends.roles import FilterWheel
from indipyclient.frontends.roles import Focuser
from indipyclient.frontends.roles import Interface
from indipyclient.frontends.roles import Mount
from indipyclient.frontends.roles import RoleError
from indipyclient.frontends.roles import devices
from indipyclient.frontends.roles import interface_of
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import Camera as CameraRole
from indipydriver.standard import Sensor
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image as RoleImage
from indipyserver import IPyServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

SIMULATORS = ("indi_simulator_ccd", "indi_simulator_telescope", "indi_simulator_focus",
              "indi_simulator_wheel")
#: The mount of `SIMULATORS`, as indilib names it.
SIMULATORS_MOUNT = "Telescope Simulator"


@pytest.fixture
async def indilib_client(indiserver_factory: Callable[..., IndiServer]
                         ) -> AsyncIterator[indipyclient.Client]:
    """A client of indilib's indiserver running four of its simulators, once each has
    defined DRIVER_INFO."""
    server = indiserver_factory(*SIMULATORS)
    async with indipyclient.connect("127.0.0.1", server.port) as client:
        for device in ("CCD Simulator", "Telescope Simulator", "Focuser Simulator",
                       "Filter Simulator"):
            await client.wait_for(device, "DRIVER_INFO", timeout=20)
        yield client


@pytest.mark.interop
async def test_devices_by_interface_on_indilibs_simulators(indilib_client: indipyclient.Client
                                                           ) -> None:
    """devices() reads DRIVER_INTERFACE: the CCD simulator (22 = CCD|GUIDER|FILTER) is a CCD,
    a guider and a filter; the telescope simulator a telescope; the focuser a focuser."""
    client = indilib_client
    assert devices(client, Interface.CCD) == ["CCD Simulator"]
    assert devices(client, Interface.TELESCOPE) == ["Telescope Simulator"]
    assert devices(client, Interface.FOCUSER) == ["Focuser Simulator"]
    assert devices(client, Interface.FILTER) == ["CCD Simulator", "Filter Simulator"]
    assert interface_of(client, "CCD Simulator") == Interface.CCD | Interface.GUIDER | Interface.FILTER


@pytest.mark.interop
async def test_camera_expose_returns_the_fits_of_indilibs_ccd(indilib_client: indipyclient.Client
                                                              ) -> None:
    """Camera.expose connects the CCD simulator, exposes 0.2 s and returns its FITS: the
    header's NAXIS1/NAXIS2 are CCD_FRAME's size, and array() has that shape."""
    camera = Camera(indilib_client, "CCD Simulator")
    image = await camera.expose(0.2)
    frame = indilib_client.vector("CCD Simulator", "CCD_FRAME")
    assert image.format.startswith(".fits")
    assert (image.header["NAXIS1"], image.header["NAXIS2"]) == (int(frame["WIDTH"]),
                                                                int(frame["HEIGHT"]))
    assert image.array().shape == (int(frame["HEIGHT"]), int(frame["WIDTH"]))


@pytest.mark.interop
async def test_mount_goto_park_and_unpark_on_indilibs_telescope(
        indilib_client: indipyclient.Client) -> None:
    """Mount.goto slews indilib's telescope simulator and returns once it is Ok near the
    target; park parks it; a target outside 0..24 h is refused before anything is sent."""
    mount = Mount(indilib_client, "Telescope Simulator")
    await mount.connect()
    if mount.client.model.vector(mount.name, "TELESCOPE_PARK") is not None and mount.parked:
        await mount.unpark()
    # The simulator defines its RA as 0, then reads it (the sidereal time: it starts at the
    # pole, on the meridian). Half an hour east of that and 10 degrees from the pole: a goto
    # of 2 s (from the 0 and to Dec 20 it took 12-30 s, by the time of day).
    await until(lambda: mount.position[0] != 0.0, 10, "the simulator's first reading")
    target_ra = (mount.position[0] + 0.5) % 24
    ra, dec = await mount.goto(target_ra, 80.0)
    assert abs(ra - target_ra) < 0.02 and abs(dec - 80.0) < 0.1
    with pytest.raises(ValueError, match="outside"):
        await mount.goto(25.0, 0.0)
    await mount.park()
    assert mount.parked


@pytest.mark.interop
async def test_focuser_and_filter_wheel_on_indilibs_simulators(
        indilib_client: indipyclient.Client) -> None:
    """Focuser.move_to reaches the asked position; FilterWheel.select turns to the slot."""
    focuser = Focuser(indilib_client, "Focuser Simulator")
    assert await focuser.move_to(30000) == 30000
    wheel = FilterWheel(indilib_client, "Filter Simulator")
    assert await wheel.select(3) == 3
    assert len(wheel.names) >= 3


async def test_camera_expose_on_our_ccd_simulator() -> None:
    """Our examples/ccd_simulator.py on our server: expose returns a FITS of its frame size
    (1280 x 1024), the device lists as a CCD, and a second exposure works too."""
    import ccd_simulator

    port = free_port()
    async with running(IPyServer(ccd_simulator.make_driver(), port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        await client.wait_for(ccd_simulator.DEVICE, "DRIVER_INFO")
        assert devices(client, Interface.CCD) == [ccd_simulator.DEVICE]
        camera = Camera(client, ccd_simulator.DEVICE)
        for _ in range(2):
            image = await camera.expose(0.1)
            assert (image.header["NAXIS1"], image.header["NAXIS2"]) == (1280, 1024)
            assert image.header["BITPIX"] == 16


async def test_an_exposure_that_fails_raises_the_drivers_message() -> None:
    """A camera whose hardware raises ("shutter stuck"): CCD_EXPOSURE ends in Alert and
    expose raises RoleError carrying the driver's reason."""
    async def expose(exposure: Exposure) -> RoleImage:
        raise RuntimeError("shutter stuck")

    role = CameraRole(Sensor(width=16, height=8, pixel_size=5.0), expose)
    port = free_port()
    driver = IPyDriver(Device("Broken Camera", roles=[role]))
    async with running(IPyServer(driver, port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        with pytest.raises(RoleError, match="shutter stuck"):
            await Camera(client, "Broken Camera", timeout=10).expose(0.05)


async def test_a_device_that_is_not_there_is_a_clear_error() -> None:
    """A role client for a device the server does not have says so, after its bound."""
    port = free_port()
    import ccd_simulator

    async with running(IPyServer(ccd_simulator.make_driver(), port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        with pytest.raises(RoleError, match="not on the server"):
            await Camera(client, "No Such Camera", timeout=0.5).expose(0.1)


@pytest.mark.interop
def test_the_imaging_script_example_runs_a_session(indiserver_factory: Callable[..., IndiServer],
                                                   tmp_path: Path) -> None:
    """examples/imaging_script.py (the docs' imaging script) against indilib's four simulators:
    it exits 0 having saved two FITS frames, each starting with the FITS SIMPLE card."""
    import os
    import subprocess

    server = indiserver_factory(*SIMULATORS)
    # The target: 10 degrees from the pole, on the meridian, where indilib's telescope
    # simulator points at start (its RA the sidereal time, once its first reading replaced
    # the 0 it defines): its goto and park take about 20 s, against 50 s for the script's
    # default target, 95 degrees of Dec and 180 of hour angle from its park.
    coordinate = f"{SIMULATORS_MOUNT}.EQUATORIAL_EOD_COORD.RA"
    assert setprop(server.port, f"{SIMULATORS_MOUNT}.CONNECTION.CONNECT=On").returncode == 0
    assert indi_eval(server.port, f'"{coordinate}">0', timeout=10).returncode == 0
    ra = getprop(server.port, coordinate, timeout=10)[coordinate]
    out = tmp_path / "images"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(EXAMPLES / "imaging_script.py"), "--port",
                           str(server.port), "--frames", "2", "--exposure", "0.2", "--ra",
                           ra, "--dec", "80", "--out", str(out)], capture_output=True,
                          text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(root)},
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    frames = sorted(out.iterdir())
    assert [f.name for f in frames] == ["frame_001.fits", "frame_002.fits"], done.stderr
    assert all(f.read_bytes().startswith(b"SIMPLE  =") for f in frames)


async def test_a_goto_the_mount_refuses_raises_its_message() -> None:
    """Our examples/mount_simulator.py refuses a goto below its horizon with Alert and a
    message: Mount.goto raises RoleError carrying it, and the mount has not moved."""
    import mount_simulator

    port = free_port()
    async with running(IPyServer(mount_simulator.make_driver(), port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        mount = Mount(client, mount_simulator.DEVICE, timeout=30)
        await mount.connect()
        await client.wait_for(mount_simulator.DEVICE, "EQUATORIAL_EOD_COORD")
        with pytest.raises(RoleError, match=r"EQUATORIAL_EOD_COORD: Goto refused: .*altitude"):
            await mount.goto(6.0, -85.0)
        assert abs(mount.position[1] + 85.0) > 10  # it did not go there


async def test_mount_connect_returns_once_the_coordinates_are_defined() -> None:
    """Drivers define a mount's coordinates as it connects, after CONNECTION's Ok: connect()
    returns only once EQUATORIAL_EOD_COORD is here too, so ``position`` right after it works
    (it raised "has no EQUATORIAL_EOD_COORD" when the definition came a moment late)."""
    import asyncio

    import indipydriver as ipd
    from indipyclient import events

    release = asyncio.Event()

    class LateMount(ipd.IPyDriver):
        async def rxevent(self, event: Any) -> None:
            if isinstance(event, ipd.newSwitchVector) and event.vectorname == "CONNECTION":
                connection = self["Late Mount"]["CONNECTION"]
                connection["CONNECT"], connection["DISCONNECT"] = "On", "Off"
                connection.state = "Ok"
                await connection.send_setVector()
                await release.wait()  # the coordinates come later, when the test says
                coords = self["Late Mount"]["EQUATORIAL_EOD_COORD"]
                coords.enable = True
                await coords.send_defVector()

    connection = ipd.SwitchVector(name="CONNECTION", label="Connection", group="Main",
                                  perm="rw", rule="OneOfMany", state="Idle", switchmembers=[
                                      ipd.SwitchMember(name="CONNECT", membervalue="Off"),
                                      ipd.SwitchMember(name="DISCONNECT", membervalue="On")])
    coords = ipd.NumberVector(name="EQUATORIAL_EOD_COORD", label="Eq. coordinates",
                              group="Main", perm="rw", state="Ok", numbermembers=[
                                  ipd.NumberMember(name="RA", format="%010.6m", min=0, max=24,
                                                   membervalue=5.5),
                                  ipd.NumberMember(name="DEC", format="%010.6m", min=-90,
                                                   max=90, membervalue=20.0)])
    coords.enable = False  # not defined until connected
    port = free_port()
    driver = LateMount(ipd.Device("Late Mount", [connection, coords]))
    async with running(IPyServer(driver, port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        mount = Mount(client, "Late Mount", timeout=20)
        connecting = asyncio.create_task(mount.connect())
        await client.wait_for("Late Mount", "CONNECTION", state="Ok", timeout=20)
        # a round trip through the server after the Ok: connect() has had every chance to end
        stream = client.events()
        await client.send_getProperties("Late Mount", "CONNECTION")
        async for event in stream:
            if isinstance(event, events.defSwitchVector) and event.vectorname == "CONNECTION":
                break
        stream.close()
        assert not connecting.done()  # CONNECTION is Ok, the coordinates are not here yet
        release.set()
        await asyncio.wait_for(connecting, 20)
        assert mount.position == (5.5, 20.0)


class TrackingMount(IPyDriver):
    """A tracking mount as a client sees one on a loaded machine: its periodic report (Ok, at
    the old position) was on its way as the goto went out, so it comes after the request and
    before the driver's own answer. A goto then goes Busy and ends Ok at the target when the
    test releases it; a sync answers Ok at once, with no Busy."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.busy_sent = asyncio.Event()
        mode = ipd.SwitchVector(name="ON_COORD_SET", label="On set", group="Main", perm="rw",
                                rule="OneOfMany", state="Ok", switchmembers=[
                                    ipd.SwitchMember(name="TRACK", membervalue="On"),
                                    ipd.SwitchMember(name="SYNC", membervalue="Off")])
        coords = ipd.NumberVector(name="EQUATORIAL_EOD_COORD", label="Eq. coordinates",
                                  group="Main", perm="rw", state="Ok", numbermembers=[
                                      ipd.NumberMember(name="RA", format="%010.6m", min=0,
                                                       max=24, membervalue=5.5),
                                      ipd.NumberMember(name="DEC", format="%010.6m", min=-90,
                                                       max=90, membervalue=20.0)])
        connection = ipd.SwitchVector(name="CONNECTION", label="Connection", group="Main",
                                      perm="rw", rule="OneOfMany", state="Ok", switchmembers=[
                                          ipd.SwitchMember(name="CONNECT", membervalue="On"),
                                          ipd.SwitchMember(name="DISCONNECT",
                                                           membervalue="Off")])
        super().__init__(ipd.Device("Tracker", [connection, mode, coords]))

    async def rxevent(self, event: Any) -> None:
        device = self["Tracker"]
        if isinstance(event, ipd.newSwitchVector) and event.vectorname == "ON_COORD_SET":
            for name, value in event.items():
                device["ON_COORD_SET"][name] = value
            await device["ON_COORD_SET"].send_setVector(state="Ok")
        elif isinstance(event, ipd.newNumberVector) and event.vectorname == "EQUATORIAL_EOD_COORD":
            coords = device["EQUATORIAL_EOD_COORD"]
            await coords.send_setVector(state="Ok")  # the report that was on its way
            if device["ON_COORD_SET"]["SYNC"] == "On":
                coords["RA"], coords["DEC"] = event["RA"], event["DEC"]
                await coords.send_setVector(state="Ok")
                return
            await coords.send_setVector(state="Busy")
            self.busy_sent.set()
            await self.release.wait()
            coords["RA"], coords["DEC"] = event["RA"], event["DEC"]
            await coords.send_setVector(state="Ok")


async def test_a_goto_ends_at_the_mounts_answer_not_at_a_tracking_report_in_flight() -> None:
    """A tracking mount's Ok report at the old position, arriving after the goto was sent,
    is not the goto's end (a full run's conformance check saw "ended Ok" where the slew began):
    goto returns once the slew it saw Busy ends, at the target; a sync, never Busy, returns
    at the report of its coordinates."""
    driver = TrackingMount()
    port = free_port()
    async with running(IPyServer(driver, port=port)), \
            indipyclient.connect("127.0.0.1", port) as client:
        mount = Mount(client, "Tracker", timeout=20)
        await mount.connect()
        going = asyncio.create_task(mount.goto(7.0, 30.0))
        await asyncio.wait_for(driver.busy_sent.wait(), 20)
        await client.wait_for("Tracker", "EQUATORIAL_EOD_COORD", state="Busy", timeout=20)
        assert not going.done()  # the Ok before the Busy did not end it
        driver.release.set()
        assert await asyncio.wait_for(going, 20) == (7.0, 30.0)

        await mount.sync(8.0, 35.0)
        assert mount.position == (8.0, 35.0)  # not the old report's (7.0, 30.0)
