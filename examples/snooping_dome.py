"""A dome that follows a telescope by snooping on it (here: indilib's telescope simulator).

Needs indilib's drivers (``apt install indi-bin``). Run::

    python examples/snooping_dome.py              # serves on localhost:7624

The server runs ``indi_simulator_telescope`` as an executable driver and this dome driver
in-process. The dome asks the server to copy it the telescope's ``EQUATORIAL_EOD_COORD`` and
``GEOGRAPHIC_COORD`` (INDI *snooping*), and turns RA/DEC into the azimuth the dome slit must
face. Move the telescope and watch the dome follow::

    indi_setprop "Telescope Simulator.CONNECTION.CONNECT=On"
    indi_setprop "Telescope Simulator.ON_COORD_SET.SYNC=On"
    indi_setprop "Telescope Simulator.EQUATORIAL_EOD_COORD.RA;DEC=5.5;-20"
    indi_getprop "Dome.*.*"

What to expect: ``Dome.TELESCOPE.RA``/``DEC`` show the telescope's position (5.5, -20) and
``Dome.DOME_AZIMUTH.AZ`` the azimuth (degrees east of north) the dome turns to. Under indilib's
``indiserver`` the same driver runs as an executable: see ``examples/exdrivers/indi_py_dome``.
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC
from datetime import datetime
from typing import Any

import indipydriver as ipd
from indipycore.astro import azimuth
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.commandline import configure_logging

DEVICE = "Dome"
TELESCOPE = "Telescope Simulator"
logger = logging.getLogger("snooping_dome")


def local_sidereal_hours(when: datetime, longitude_deg: float) -> float:
    """Local mean sidereal time in hours (accurate to about a second: plenty for a dome)."""
    return local_sidereal_time(when, longitude_deg)


def azimuth_deg(ra_hours: float, dec_deg: float, lat_deg: float, lst_hours: float) -> float:
    """Azimuth (degrees east of north) of RA/DEC seen from latitude ``lat_deg`` at ``lst``."""
    return azimuth(hour_angle(lst_hours, ra_hours), dec_deg, lat_deg)


class DomeDriver(ipd.IPyDriver):
    """Publishes the snooped telescope position and the azimuth a dome must turn to."""

    async def hardware(self) -> None:
        # Register the snoops once; the server replays the current values straight away and
        # copies every later change to snoopevent().
        telescope = self.driverdata["telescope"]
        await self.send_getProperties(devicename=telescope, vectorname="EQUATORIAL_EOD_COORD")
        await self.send_getProperties(devicename=telescope, vectorname="GEOGRAPHIC_COORD")

    async def snoopevent(self, event: Any) -> None:
        if event.devicename != self.driverdata["telescope"]:
            return
        match event:
            case ipd.defNumberVector(vectorname="GEOGRAPHIC_COORD") | ipd.setNumberVector(
                vectorname="GEOGRAPHIC_COORD"
            ):
                if "LAT" in event and "LONG" in event:
                    self.driverdata["site"] = (event.getfloatvalue("LAT"),
                                               event.getfloatvalue("LONG"))
            case ipd.defNumberVector(vectorname="EQUATORIAL_EOD_COORD") | ipd.setNumberVector(
                vectorname="EQUATORIAL_EOD_COORD"
            ):
                if "RA" in event and "DEC" in event:
                    await self.follow(event.getfloatvalue("RA"), event.getfloatvalue("DEC"))

    async def follow(self, ra: float, dec: float) -> None:
        """Report the telescope position and the dome azimuth that matches it."""
        device = self[DEVICE]
        seen = device["TELESCOPE"]
        seen["RA"] = ra
        seen["DEC"] = dec
        await seen.send_setVector(state="Ok")
        lat, lon = self.driverdata["site"]
        lst = local_sidereal_hours(datetime.now(UTC), lon)
        target = azimuth_deg(ra, dec, lat, lst)
        dome = device["DOME_AZIMUTH"]
        dome["AZ"] = target
        await dome.send_setVector(state="Ok")
        # A member reads back as a string (dome["AZ"] is '270.04', as in indipydriver 3.x):
        # format the float, or dome.getfloatvalue("AZ"), never dome["AZ"] with %f.
        logger.info("telescope at RA %.4f DEC %.4f: dome to azimuth %.1f", ra, dec, target)


def make_driver(telescope: str = TELESCOPE) -> DomeDriver:
    """The dome driver, snooping the device called ``telescope``."""
    seen = ipd.NumberVector(
        "TELESCOPE", "Telescope", "Following", "ro", "Idle",
        [
            ipd.NumberMember("RA", "RA (hours)", "%010.6m", 0, 24, 0, 0),
            ipd.NumberMember("DEC", "DEC (degrees)", "%010.6m", -90, 90, 0, 0),
        ],
    )
    dome = ipd.NumberVector(
        "DOME_AZIMUTH", "Dome azimuth", "Following", "ro", "Idle",
        [ipd.NumberMember("AZ", "Azimuth (degrees)", "%6.2f", 0, 360, 0, 0)],
    )
    return DomeDriver(ipd.Device(DEVICE, [seen, dome]), telescope=telescope, site=(0.0, 0.0))


def make_server(host: str = "localhost", port: int = 7624) -> Any:
    """The dome in-process with the telescope simulator as an executable driver."""
    # Imported here: run as an executable driver (exdrivers/indi_py_dome) the dome needs
    # only indipydriver, whichever server runs it.
    from indipyserver import IPyServer

    server = IPyServer(make_driver(), host=host, port=port)
    server.add_exdriver("indi_simulator_telescope")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="A dome that follows the telescope simulator")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args()
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    print(f"Dome and Telescope Simulator served on {args.host}:{args.port}; Ctrl-C to stop")
    make_server(args.host, args.port).run()  # until Ctrl-C, which stops it cleanly


if __name__ == "__main__":
    main()
