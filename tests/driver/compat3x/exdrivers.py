"""indilib's simulators served by IPyServer, in the style of indipyserver 0.0.6's add_exdriver
snippet.

    python exdrivers.py [PORT]
"""

import asyncio
import logging
import sys

import indipyserver
from indipyserver import IPyServer

logger = logging.getLogger()
logger.setLevel(logging.INFO)
logger.addHandler(logging.StreamHandler(sys.stdout))

args = [a for a in sys.argv[1:] if not a.startswith("--")]
server = IPyServer(host="localhost", port=int(args[0]) if args else 7624, maxconnections=5)
server.add_exdriver("indi_simulator_dome", debug_enable=False)
server.add_exdriver("indi_simulator_weather")
print(f"Running {__file__} with indipyserver {indipyserver.version}, "
      f"{len(server.exdrivers)} executable drivers")
asyncio.run(server.asyncrun())
