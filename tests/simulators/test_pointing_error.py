"""indipysimulators.telescope's pointing error: SIM_POINTING_ERROR offsets where the mount
truly points (EQUATORIAL_PE) from what it reports (EQUATORIAL_EOD_COORD), a SYNC takes it out,
and our camera images the true pointing (it snoops EQUATORIAL_PE), through our server."""

from __future__ import annotations

import math

from serverkit import running
from serverkit import server
from skykit import longitude_for
from waiting import until

import indipyclient
from indipysimulators import ccd
from indipysimulators import telescope
from indipysimulators.telescope import true_pointing


def test_the_true_pointing_is_the_reported_one_plus_the_error() -> None:
    assert true_pointing(5.0, 20.0, (30.0, -15.0)) == (5.0 + 0.5 / 15, 19.75)
    ra, dec = true_pointing(23.99, 89.9, (60.0, 12.0))  # over the pole and past 24 h
    assert math.isclose(dec, 89.9) and math.isclose(ra, (23.99 + 1 / 15 + 12) % 24)


async def test_the_error_moves_the_true_pointing_and_a_sync_takes_it_out() -> None:
    mount_driver = telescope.make_driver(50.0)
    camera_driver = ccd.make_driver()
    camera = camera_driver.driverdata["camera"]
    async with running(server(mount_driver, camera_driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        mount, cam = telescope.DEVICE, ccd.DEVICE

        def number(device: str, vector: str, member: str) -> float:
            return float(client.get(device, vector, member))

        for device in (mount, cam):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        assert number(mount, "TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH") == 430.0
        assert number(mount, "SIM_POINTING_ERROR", "RA_ERROR") == 0.0
        # An hour east of the meridian, whatever the hour (at a fixed site the target had set
        # by 07:50 UTC, and the goto was refused below the horizon).
        await client.set(mount, "GEOGRAPHIC_COORD",
                         {"LAT": 51.48, "LONG": longitude_for(-1.0, 3.8), "ELEV": 0}, timeout=10)
        await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        goto = await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": 3.8, "DEC": 24.3},
                                timeout=30)
        assert goto.ok, goto
        await until(lambda: math.isclose(number(mount, "EQUATORIAL_PE", "DEC_PE"), 24.3,
                                         abs_tol=1e-6), timeout=10)
        # An error of 30' in RA and -20' in Dec: the report stays, the truth moves.
        await client.set(mount, "SIM_POINTING_ERROR", {"RA_ERROR": 30.0, "DEC_ERROR": -20.0},
                         timeout=10)
        await until(lambda: math.isclose(number(mount, "EQUATORIAL_PE", "DEC_PE"),
                                         24.3 - 20 / 60, abs_tol=1e-6), timeout=10)
        reported_ra = number(mount, "EQUATORIAL_EOD_COORD", "RA")
        true_ra = number(mount, "EQUATORIAL_PE", "RA_PE")
        assert math.isclose(true_ra - reported_ra, 0.5 / 15, abs_tol=2e-4)
        assert math.isclose(number(mount, "EQUATORIAL_EOD_COORD", "DEC"), 24.3, abs_tol=1e-6)
        # The camera images the truth.
        await until(lambda: camera.pointing() is not None
                    and math.isclose(camera.pointing()[1], 24.3 - 20 / 60, abs_tol=1e-6),
                    timeout=10)
        # A sync on where it truly points (what a solved frame says): the error is gone.
        true_dec = number(mount, "EQUATORIAL_PE", "DEC_PE")
        await client.set(mount, "ON_COORD_SET", {"SYNC": "On"}, timeout=10)
        await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": true_ra, "DEC": true_dec},
                         timeout=10)
        await until(lambda: abs(number(mount, "SIM_POINTING_ERROR", "RA_ERROR")) < 0.05
                    and abs(number(mount, "SIM_POINTING_ERROR", "DEC_ERROR")) < 1e-6,
                    timeout=10)
        assert math.isclose(number(mount, "EQUATORIAL_EOD_COORD", "DEC"),
                            number(mount, "EQUATORIAL_PE", "DEC_PE"), abs_tol=1e-6)
