"""Serve indilib's telescope and CCD simulators together with a Python driver.

Needs indilib's drivers (Debian/Ubuntu: ``apt install indi-bin``). Run::

    python examples/third_party.py                # serves on localhost:7624

The server starts ``indi_simulator_telescope`` and ``indi_simulator_ccd`` as executable
drivers and runs the demo thermostat in-process. As indiserver 1.9.9 does, it gives these C
drivers a Unix socket as stdout (stdin and stderr stay pipes), so the CCD passes its images as
shared memory; clients still get each image as base64 (docs/interoperability.rst, "BLOB
encoding"). Clients see three devices: "Telescope Simulator", "CCD Simulator" and "Thermostat".

Take an exposure from a shell (simulators write their config to ``~/.indi``)::

    indi_setprop "Telescope Simulator.CONNECTION.CONNECT=On"
    indi_setprop "CCD Simulator.CONNECTION.CONNECT=On"
    # in a second terminal: wait up to 30 s for the image and save it
    indi_getprop -t 30 "CCD Simulator.CCD1.CCD1"
    # back in the first: a 1 s exposure
    indi_setprop "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=1"

What to expect: after about a second ``indi_getprop`` writes ``CCD Simulator.CCD1.CCD1.fits``
(a FITS file of simulated stars, starting with ``SIMPLE  =``) and exits. The CCD snoops the
telescope, so the FITS header holds the telescope's RA and DEC. Repeat the exposure as often
as you like: the server answers the CCD's ``pingRequest`` after each image, without which it
would stall before the second one.
"""

from __future__ import annotations

import argparse
import logging

from indipycore.commandline import configure_logging
from indipyserver import IPyServer
from indipyserver.demo import make_driver

EXECUTABLE_DRIVERS = ("indi_simulator_telescope", "indi_simulator_ccd")


def make_server(host: str = "localhost", port: int = 7624) -> IPyServer:
    """The thermostat in-process plus the two indilib simulators."""
    server = IPyServer(make_driver(), host=host, port=port)
    for program in EXECUTABLE_DRIVERS:
        server.add_exdriver(program)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve indilib simulators with a Python driver")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    args = parser.parse_args()
    configure_logging(logging.INFO)  # the toolkit's one log format
    print(f"Serving {', '.join(EXECUTABLE_DRIVERS)} and Thermostat on {args.host}:{args.port}")
    make_server(args.host, args.port).run()  # until Ctrl-C, which stops it cleanly


if __name__ == "__main__":
    main()
