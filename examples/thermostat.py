"""The demo: a simulated thermostat using every kind of INDI vector, served on a TCP port.

Run it (no hardware needed)::

    python examples/thermostat.py                 # serves on localhost:7624
    python examples/thermostat.py --port 7625 --interval 1

(``indipyserver --demo`` serves the very same driver.) Then, in another terminal::

    indi_getprop -p 7624                           # every property, with its value
    indi_setprop -p 7624 "Thermostat.TARGET.TARGET=25"
    indi_setprop -p 7624 "Thermostat.HEATER_MODE.OFF=On"
    indi_getprop -p 7624 -t 30 "Thermostat.LOG.LOG"    # saves Thermostat.LOG.LOG.csv

What to expect: ``Thermostat.TEMPERATURE.TEMPERATURE`` climbs towards the target and then
hovers within half a degree of it; ``Thermostat.HEATER.HEATING`` is Busy while the heater is
on; a target outside -20..40 is refused (never reaches the driver; the target
stays as it was); every ten readings a
CSV log of the temperature is sent as a BLOB. In KStars: Tools > Devices > Device Manager >
Client, host localhost, port 7624, Connect.

The driver itself is in ``indipyserver/demo.py``; read it as the worked example of the
driver API.
"""

from __future__ import annotations

import argparse
import logging

from indipycore.commandline import configure_logging
from indipyserver import IPyServer
from indipyserver.demo import make_driver


def make_server(host: str = "localhost", port: int = 7624, interval: float = 2.0) -> IPyServer:
    """The thermostat driver in a server listening on ``host:port``."""
    return IPyServer(make_driver(interval=interval), host=host, port=port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="localhost", help="interface to listen on")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
    args = parser.parse_args()
    configure_logging(logging.INFO)  # the toolkit's one log format
    print(f"Thermostat served on {args.host}:{args.port}; Ctrl-C to stop")
    try:
        make_server(args.host, args.port, args.interval).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
