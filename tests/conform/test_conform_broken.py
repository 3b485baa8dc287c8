"""`indipy-conform` never crashes on a broken device (issue 58 item 3).

Each case serves one device of a standard role (a camera, a mount, a focuser, a filter wheel)
built with our driver API, with one planted mistake: a missing vector, misnamed members, a
wrong rule or permission, a Busy that never ends, properties not deleted on DISCONNECT, a goto
that never arrives. The command runs as a user runs it (a subprocess, text output): it must
exit 1, print no traceback, and print a FAIL line naming the planted property with what is
wrong. The same devices with no mistake pass, so each FAIL is the planted mistake's.
"""

from __future__ import annotations

import asyncio
import os
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import free_port
from serverkit import running

from indipycore.interface import Interface
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver.propertyvector import PropertyVector
from indipydriver.standard import EquatorialMotion
from indipydriver.standard import FilterWheel
from indipydriver.standard import Focuser
from indipydriver.standard import LinearMotion
from indipydriver.standard import Mount
from indipydriver.standard import MountLimits
from indipydriver.standard.camera import Camera
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image
from indipydriver.standard.camera import Sensor
from indipyserver import IPyServer
from indipysimulators.focus import SimulatedFocuser
from indipysimulators.focus import SimulatedWheel
from indipysimulators.telescope import SimulatedMount

ROOT = Path(__file__).resolve().parents[2]
STEP = "3"  # --step-timeout: a Busy that never ends is a FAIL after 3 s


async def conform(port: int, *args: str, step: str = STEP) -> tuple[int, str, str]:
    """Run indipy-conform on 127.0.0.1:port: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "indipyconform", "-h", "127.0.0.1", "-p", str(port),
        "--step-timeout", step, *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def fails(out: str) -> list[tuple[str, str, str]]:
    """The FAIL lines: (device, property, detail)."""
    found = []
    for line in out.splitlines():
        if line.startswith("FAIL  "):
            device, prop, detail = line[6:].split("  ", 2)
            found.append((device, prop, detail))
    return found


# -- the devices: standard roles, each with one optional planted mistake ------------------

def _drop(device: Device, name: str) -> None:
    """The role never defines ``name``."""
    assert device.standard is not None
    device.standard.role_vectors.remove(device[name])
    del device.data[name]


def _replace(device: Device, vector: PropertyVector) -> None:
    """The role defines ``vector`` in place of its own vector of that name."""
    assert device.standard is not None
    old = device[vector.name]
    vectors = device.standard.role_vectors
    vectors[vectors.index(old)] = vector
    device.data[vector.name] = vector
    vector.devicename, vector.device, vector.enable = device.devicename, device, False


def _keep_on_disconnect(device: Device, *names: str) -> None:
    """DISCONNECT leaves ``names`` defined: the hook marks them as if already deleted."""
    assert device.standard is not None

    async def forget() -> None:
        for name in names:
            device[name].enable = False

    device.standard.disconnect_hook = forget


async def _expose(exposure: Exposure) -> Image:
    await asyncio.sleep(exposure.seconds)
    width, height = exposure.image_width, exposure.image_height
    return Image(width, height, array("H", [1000]) * (width * height))


async def _expose_forever(exposure: Exposure) -> Image:
    await asyncio.Event().wait()  # the camera never reads out: CCD_EXPOSURE stays Busy
    raise AssertionError("unreachable")


def camera(mistake: str | None = None) -> IPyDriver:
    expose = _expose_forever if mistake == "busy" else _expose
    if mistake == "connection":  # a camera by its DRIVER_INTERFACE, with its own CONNECTION
        return IPyDriver(Device("Broken Camera", [SwitchVector(
            "CONNECTION", "Connection", "Main Control", "rw", "OneOfMany", "Idle",
            [SwitchMember("ON", "On", "Off"), SwitchMember("OFF", "Off", "On")])],
            interface=Interface.CCD))
    device = Device("Broken Camera", roles=[Camera(Sensor(64, 48, 5.2), expose)])
    if mistake == "missing":
        _drop(device, "CCD_FRAME")
    elif mistake == "members":
        _replace(device, NumberVector("CCD_BINNING", "Binning", "Image Settings", "rw", "Idle", [
            NumberMember("BIN_X", "X", "%2.0f", 1, 4, 1, 1),
            NumberMember("BIN_Y", "Y", "%2.0f", 1, 4, 1, 1)]))
    return IPyDriver(device)


class _NeverArrives(SimulatedMount):
    """A goto that ends without moving: the mount reports Ok where it already was."""

    async def goto(self, ra: float, dec: float) -> None:
        self._catch_up()


def mount(mistake: str | None = None) -> IPyDriver:
    motion = EquatorialMotion(slew_rate=30.0)
    hardware = (_NeverArrives if mistake == "never arrives" else SimulatedMount)(
        motion, lst=lambda: 0.0)
    role = Mount(hardware, latitude=51.5, longitude=0.0, limits=MountLimits(min_altitude=-90),
                 park_position=(0.0, 80.0))
    hardware.lst = role.local_sidereal_time
    motion.sync(role.local_sidereal_time(), 80.0)
    device = Device("Broken Mount", roles=[role])
    if mistake == "rule":
        device.vector("ON_COORD_SET", SwitchVector).rule = "AnyOfMany"
    elif mistake == "missing":
        _drop(device, "EQUATORIAL_EOD_COORD")
    return IPyDriver(device)


class _StuckFocuser(SimulatedFocuser):
    """A move that never ends: ABS_FOCUS_POSITION stays Busy."""

    async def move_to(self, steps: int) -> None:
        await asyncio.Event().wait()


def focuser(mistake: str | None = None) -> IPyDriver:
    motion = LinearMotion(position=5000, speed=20000, minimum=0, maximum=10000)
    hardware = (_StuckFocuser if mistake == "busy" else SimulatedFocuser)(motion)
    device = Device("Broken Focuser", roles=[Focuser(hardware, max_position=10000,
                                                     position=5000, max_speed=5)])
    if mistake == "perm":
        device.vector("ABS_FOCUS_POSITION", NumberVector).perm = "ro"
    return IPyDriver(device)


async def _never() -> None:
    await asyncio.Event().wait()  # the hardware never answers: CONNECTION stays Busy


def wheel(mistake: str | None = None) -> IPyDriver:
    device = Device("Broken Wheel", roles=[FilterWheel(SimulatedWheel(4, 0.1),
                                                       ("Red", "Green", "Blue", "Clear"))],
                    connect=_never if mistake == "connect busy" else None)
    if mistake == "not deleted":
        _keep_on_disconnect(device, "FILTER_SLOT", "FILTER_NAME")
    elif mistake == "members":
        _replace(device, NumberVector("FILTER_SLOT", "Filter Slot", "Filter Wheel", "rw", "Idle",
                                      [NumberMember("SLOT", "Filter", "%3.0f", 1, 4, 1, 1)]))
    return IPyDriver(device)


@dataclass(frozen=True)
class Case:
    """One planted mistake: the device, the arguments, the property its FAIL names and what
    its detail says."""

    make: Callable[[str | None], IPyDriver]
    mistake: str
    args: tuple[str, ...]
    prop: str
    says: str


CASES = {
    "camera without CCD_FRAME (the reported crash)": Case(
        camera, "missing", ("--live",), "CCD_FRAME",
        "image size check skipped: prerequisite Broken Camera.CCD_FRAME is not defined"),
    "camera with misnamed CCD_BINNING members": Case(
        camera, "members", ("--live",), "CCD_BINNING",
        "prerequisite Broken Camera.CCD_BINNING has no member HOR_BIN (it has BIN_X, BIN_Y)"),
    "camera whose CONNECTION has misnamed members": Case(
        camera, "connection", ("--live",), "CONNECTION",
        "CONNECT / DISCONNECT skipped: prerequisite Broken Camera.CONNECTION has no member "
        "CONNECT or DISCONNECT"),
    "camera whose exposure never leaves Busy": Case(
        camera, "busy", ("--live",), "CCD_EXPOSURE", "ended never: still Busy"),
    "mount with ON_COORD_SET AnyOfMany": Case(
        mount, "rule", (), "ON_COORD_SET", "rule AnyOfMany"),
    "mount without EQUATORIAL_EOD_COORD": Case(
        mount, "missing", ("--live",), "EQUATORIAL_EOD_COORD",
        "goto skipped: prerequisite Broken Mount.EQUATORIAL_EOD_COORD is not defined"),
    "mount whose goto never arrives": Case(
        mount, "never arrives", ("--live",), "EQUATORIAL_EOD_COORD", ": ended Ok at"),
    "focuser with ABS_FOCUS_POSITION read-only": Case(
        focuser, "perm", ("--live",), "ABS_FOCUS_POSITION",
        "move skipped: prerequisite Broken Focuser.ABS_FOCUS_POSITION is read-only"),
    "focuser whose move never leaves Busy": Case(
        focuser, "busy", ("--live",), "ABS_FOCUS_POSITION",
        f"move: Broken Focuser.ABS_FOCUS_POSITION still Busy {STEP} s after the request"),
    "wheel that keeps its properties on DISCONNECT": Case(
        wheel, "not deleted", (), "FILTER_SLOT, FILTER_NAME",
        "defined after DISCONNECT (delProperty expected)"),
    "wheel whose CONNECT never leaves Busy": Case(
        wheel, "connect busy", ("--live",), "CONNECTION", f"CONNECT: still Busy after {STEP} s"),
    "wheel with a misnamed FILTER_SLOT member": Case(
        wheel, "members", ("--live",), "FILTER_SLOT",
        "turn skipped: prerequisite Broken Wheel.FILTER_SLOT has no member FILTER_SLOT_VALUE"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_a_broken_device_fails_naming_its_property(case: Case) -> None:
    """Exit status 1, no traceback, and a FAIL line naming the planted property with what is
    wrong with it (the reported crash was UnknownVector from a camera without CCD_FRAME)."""
    driver = case.make(case.mistake)
    device = next(iter(driver))
    port = free_port()
    async with running(IPyServer(driver, port=port)):
        status, out, err = await conform(port, *case.args)
    assert "Traceback" not in out + err, err
    assert status == 1, (out, err)
    found = [detail for name, prop, detail in fails(out) if name == device and prop == case.prop]
    assert any(case.says in detail for detail in found), (case.says, fails(out))


async def test_the_same_devices_without_a_mistake_pass() -> None:
    """The unbroken camera, mount, focuser and wheel pass with --live, no FAIL and no WARN:
    every FAIL in the cases above is its planted mistake's."""
    port = free_port()
    drivers = [make(None) for make in (camera, mount, focuser, wheel)]
    async with running(IPyServer(*drivers, port=port)):
        status, out, err = await conform(port, "--live")
    assert "Traceback" not in out + err, err
    assert status == 0, (fails(out), err)
    assert not [line for line in out.splitlines() if not line.startswith("PASS")], out
    devices = {line.split("  ")[1] for line in out.splitlines()}
    assert devices == {"Broken Camera", "Broken Mount", "Broken Focuser", "Broken Wheel"}


async def test_a_server_lost_mid_exposure_is_said_at_once() -> None:
    """The server goes away while the camera exposes: the exposure is a FAIL saying the
    server was lost (not a wait for the step timeout), the devices not yet checked say
    why, exit 1 and no traceback."""
    started = asyncio.Event()

    async def expose(exposure: Exposure) -> Image:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    driver = IPyDriver(Device("Broken Camera", roles=[Camera(Sensor(64, 48, 5.2), expose)]),
                       Device("Broken Wheel", roles=[FilterWheel(SimulatedWheel(4, 0.1),
                                                                 ("R", "G", "B", "L"))]))
    port = free_port()
    async with running(IPyServer(driver, port=port)):
        run = asyncio.create_task(conform(port, "--live", step="60"))
        await asyncio.wait_for(started.wait(), 60)
    loop = asyncio.get_running_loop()
    stopped = loop.time()
    status, out, err = await run
    assert loop.time() - stopped < 40, out.splitlines()[-6:]  # not the 60 s of --step-timeout
    assert "Traceback" not in out + err, err
    assert status == 1
    found = fails(out)
    assert ("Broken Camera", "CCD_EXPOSURE",
            "exposure: ConnectionError: lost the server during the exposure") in found, found
    assert ("Broken Wheel", "device",
            f"not checked: lost the connection to 127.0.0.1:{port}") in found, found
