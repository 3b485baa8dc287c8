"""A camera's FITS header from what it snoops (issue 58 item 2): ACTIVE_DEVICES names the
telescope (and focuser, filter wheel), the camera snoops them through the server, and an
exposure's header carries where the telescope pointed (OBJCTRA/OBJCTDEC in J2000, EQUINOX),
its name, focal length and aperture, the site, the airmass, the pier side, the filter and the
focus position.

Served for real: our camera (indipy_simulator_ccd's driver) beside our mount, focuser and
filter wheel in our IPyServer; and our camera as an executable driver under indilib's
indiserver beside indilib's indi_simulator_telescope. Each time a client sets ACTIVE_DEVICES,
slews the telescope, exposes, and reads the header from the CCD1 BLOB.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from peers import HOST
from peers import IndiServer
from peers import free_port
from serverkit import running

import indipyclient
from indipyclient import events
from indipycore.astro import airmass
from indipycore.astro import altitude
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_to_j2000
from indipycore.fits import Header
from indipycore.fits import read_header
from indipyserver import IPyServer
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators import telescope

REPO = Path(__file__).resolve().parents[2]
CCD_EXAMPLE = REPO / "examples" / "ccd_simulator.py"
CAMERA = ccd.DEVICE
LAT, LONG = 45.0, 10.0


def parse_sexagesimal(text: str) -> float:
    """ "14 14 32.42" / "-30 07 27.33" -> decimal (the sign of the first field applies)."""
    head, minutes, seconds = text.split()
    value = abs(int(head)) + int(minutes) / 60 + float(seconds) / 3600
    return -value if head.startswith("-") else value


async def expose_and_read(client: indipyclient.Client, seconds: float = 0.2) -> Header:
    """Expose the camera and read the FITS header of the image it sends."""
    stream = client.events()
    await client.send_enableBLOB("Also", CAMERA)
    await client.set(CAMERA, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds}, wait=False)
    async with asyncio.timeout(30):
        async for event in stream:
            if isinstance(event, events.setBLOBVector) and event.devicename == CAMERA \
                    and "CCD1" in event.data:
                return read_header(event["CCD1"])
    raise AssertionError("no image")


async def slew(client: indipyclient.Client, mount: str, dec: float) -> tuple[float, float]:
    """Put the mount's site at LAT/LONG and go to `dec` on the meridian; the JNow position it
    reports when the goto ends Ok."""
    await client.set(mount, "GEOGRAPHIC_COORD", {"LAT": LAT, "LONG": LONG, "ELEV": 100},
                     timeout=10)
    ra = local_sidereal_time(datetime.now(UTC), LONG)
    await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, wait=False)
    await client.wait_for(mount, "EQUATORIAL_EOD_COORD", state="Busy", timeout=10)
    await client.wait_for(mount, "EQUATORIAL_EOD_COORD", state="Ok", timeout=60)
    return (client.get(mount, "EQUATORIAL_EOD_COORD", "RA"),
            client.get(mount, "EQUATORIAL_EOD_COORD", "DEC"))


def separation_arcsec(a: tuple[float, float], b: tuple[float, float]) -> float:
    """How far apart two (RA hours, Dec degrees) positions are, in arcseconds (small angles)."""
    dra = (a[0] - b[0]) * 15 * math.cos(math.radians(b[1]))
    return math.hypot(dra, a[1] - b[1]) * 3600


def check_pointing(header: Header, jnow: tuple[float, float], mount: str) -> None:
    """The header's pointing cards agree with where the mount said it was."""
    now = datetime.now(UTC)
    j2000 = precess_to_j2000(*jnow, now)
    ra, dec = parse_sexagesimal(str(header["OBJCTRA"])), parse_sexagesimal(str(header["OBJCTDEC"]))
    # Within a second of RA (the mount tracks, the header is written after the last update).
    assert abs(ra - j2000[0]) * 3600 < 1.0, (header["OBJCTRA"], j2000)
    assert abs(dec - j2000[1]) * 3600 < 10.0, (header["OBJCTDEC"], j2000)
    # J2000 is not JNow: precession since 2000 moved the position, in RA or Dec or both
    # depending on where it points (at Dec 60 at least 2.5 arcminutes, at some hours almost
    # none of it in RA, so RA alone cannot tell them apart): the header is nearer J2000.
    precessed = separation_arcsec(j2000, jnow)
    assert precessed > 60, (j2000, jnow)
    assert separation_arcsec((ra, dec), jnow) > precessed / 2, (header["OBJCTRA"], jnow)
    assert header["EQUINOX"] == 2000
    assert header["RA"] == pytest.approx(j2000[0] * 15, abs=0.01)
    assert header["TELESCOP"] == mount
    assert (header["SITELAT"], header["SITELONG"]) == (LAT, LONG)
    alt = altitude(hour_angle(local_sidereal_time(now, LONG), jnow[0]), jnow[1], LAT)
    assert header["AIRMASS"] == pytest.approx(airmass(alt), abs=0.002)
    assert header["OBJCTALT"] == pytest.approx(alt, abs=0.1)
    assert header["PIERSIDE"] in ("EAST", "WEST")


async def test_our_camera_beside_our_mount_focuser_and_wheel_on_our_server() -> None:
    """ACTIVE_DEVICES set to our simulators' names; after a goto, a focuser move and a filter
    change, the image's header has the pointing, site, airmass, pier side, FOCALLEN/APTDIA
    (the mount's TELESCOPE_INFO), FOCUSPOS and FILTER; a dark frame has no pointing."""
    server = IPyServer(ccd.make_driver(), telescope.make_driver(30.0),
                       focus.make_driver(20000, 0.05), host=HOST, port=0,
                       handle_signals=False)
    async with running(server), indipyclient.connect(HOST, server.port) as client:
        for device in (CAMERA, telescope.DEVICE, focus.FOCUSER, focus.WHEEL):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(CAMERA, "ACTIVE_DEVICES", {
            "ACTIVE_TELESCOPE": telescope.DEVICE, "ACTIVE_FOCUSER": focus.FOCUSER,
            "ACTIVE_FILTER": focus.WHEEL}, timeout=10)
        await client.set(focus.FOCUSER, "ABS_FOCUS_POSITION",
                         {"FOCUS_ABSOLUTE_POSITION": 12345}, timeout=20)
        await client.set(focus.WHEEL, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 3}, timeout=20)
        jnow = await slew(client, telescope.DEVICE, 60.0)
        header = await expose_and_read(client)
        check_pointing(header, jnow, telescope.DEVICE)
        assert header["PIERSIDE"] == ("WEST" if client.get(
            telescope.DEVICE, "TELESCOPE_PIER_SIDE", "PIER_WEST") == "On" else "EAST")
        assert (header["FOCALLEN"], header["APTDIA"]) == (
            client.get(telescope.DEVICE, "TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH"),
            client.get(telescope.DEVICE, "TELESCOPE_INFO", "TELESCOPE_APERTURE"))
        assert header["FOCUSPOS"] == 12345
        assert header["FILTER"] == focus.FILTERS[2]
        await client.set(CAMERA, "CCD_FRAME_TYPE", {"FRAME_DARK": "On"}, timeout=10)
        dark = await expose_and_read(client)
        assert "OBJCTRA" not in dark.values and "AIRMASS" not in dark.values
        assert dark["FILTER"] == focus.FILTERS[2] and dark["TELESCOP"] == telescope.DEVICE


async def test_no_telescope_named_means_no_pointing_cards() -> None:
    """With ACTIVE_TELESCOPE emptied, the header has no TELESCOP and no pointing, though the
    mount is served and pointing: nothing is made up, nothing stale is kept."""
    server = IPyServer(ccd.make_driver(), telescope.make_driver(30.0), host=HOST, port=0,
                       handle_signals=False)
    async with running(server), indipyclient.connect(HOST, server.port) as client:
        for device in (CAMERA, telescope.DEVICE):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(CAMERA, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": telescope.DEVICE},
                         timeout=10)
        await slew(client, telescope.DEVICE, 60.0)
        assert "OBJCTRA" in (await expose_and_read(client)).values
        await client.set(CAMERA, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": ""}, timeout=10)
        header = await expose_and_read(client)
        for card in ("TELESCOP", "OBJCTRA", "OBJCTDEC", "EQUINOX", "SITELAT", "AIRMASS",
                     "PIERSIDE", "FOCALLEN"):
            assert card not in header.values, card


async def test_our_camera_beside_indilibs_telescope_simulator_under_indiserver(
        tmp_home: Path, indiserver_factory: Callable[..., IndiServer]) -> None:
    """indilib's indiserver runs our camera (an executable driver) and indilib's
    indi_simulator_telescope, indi_simulator_focus and indi_simulator_wheel; ACTIVE_DEVICES
    names them; after a goto, a focuser move and a filter change, the header has the
    simulator's pointing in J2000, its site, airmass, pier side and TELESCOPE_INFO, the
    focuser's position and the wheel's filter name."""
    server = indiserver_factory(str(CCD_EXAMPLE), "indi_simulator_telescope",
                                "indi_simulator_focus", "indi_simulator_wheel")
    scope, focuser, wheel = "Telescope Simulator", "Focuser Simulator", "Filter Simulator"
    async with indipyclient.connect(HOST, server.port) as client:
        for device in (CAMERA, scope, focuser, wheel):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(CAMERA, "ACTIVE_DEVICES", {
            "ACTIVE_TELESCOPE": scope, "ACTIVE_FOCUSER": focuser, "ACTIVE_FILTER": wheel},
            timeout=10)
        await client.set(focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 30500},
                         timeout=30)
        await client.set(wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2}, timeout=30)
        jnow = await slew(client, scope, 80.0)
        header = await expose_and_read(client)
        check_pointing(header, jnow, scope)
        assert header["PIERSIDE"] == ("WEST" if client.get(
            scope, "TELESCOPE_PIER_SIDE", "PIER_WEST") == "On" else "EAST")
        assert (header["FOCALLEN"], header["APTDIA"]) == (
            client.get(scope, "TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH"),
            client.get(scope, "TELESCOPE_INFO", "TELESCOPE_APERTURE"))
        assert header["FOCUSPOS"] == 30500
        assert header["FILTER"] == client.get(wheel, "FILTER_NAME", "FILTER_SLOT_NAME_2")


async def test_our_camera_and_indilibs_telescope_on_our_server(tmp_home: Path) -> None:
    """The same with the roles reversed: our IPyServer serves our camera in-process and
    indilib's indi_simulator_telescope as an executable driver."""
    scope = "Telescope Simulator"
    server = IPyServer(ccd.make_driver(), host=HOST, port=free_port(), handle_signals=False)
    server.add_exdriver("indi_simulator_telescope")
    async with running(server), indipyclient.connect(HOST, server.port) as client:
        for device in (CAMERA, scope):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(CAMERA, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": scope}, timeout=10)
        jnow = await slew(client, scope, 80.0)
        check_pointing(await expose_and_read(client), jnow, scope)
