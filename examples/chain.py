"""Three INDI servers on one machine forming a tree, controlled from the root.

::

          client (indi_getprop / KStars) -> root :7624
                                             /        \\
                                  east :7625            west :7626
                                 "Roof East"           "Roof West"

Run::

    python examples/chain.py                      # ports 7624 (root), 7625, 7626

then talk only to the root::

    indi_getprop -p 7624 "*.ROOF.*"               # both roofs, through the root
    indi_setprop -p 7624 "Roof West.ROOF.OPEN=On" # the roof takes half a second to open
    indi_eval -p 7624 -w '"Roof West.ROOF.OPEN"==1'   # returns once it is open
    indi_getprop -p 7624 "Roof West.ROOF.*"       # OPEN=On, routed to the west leaf and back

(An ``indi_getprop`` run at once after ``indi_setprop`` still prints OPEN=Off, CLOSE=On.)

What to expect: each leaf server runs one roof driver; the root has no driver of its own, only
two remotes, yet a client of the root sees and controls both roofs.

The same shape from the command line, one server per terminal (or per machine: replace
localhost by the leaf's host name), here with indilib's simulators at the leaves::

    indipyserver -p 7625 indi_simulator_dome
    indipyserver -p 7626 indi_simulator_weather
    indipyserver -p 7624 "Dome Simulator"@localhost:7625 @localhost:7626

``"Dome Simulator"@localhost:7625`` asks the east server for that one device;
``@localhost:7626`` (no device name) chains the whole west server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import indipydriver as ipd
from indipycore.commandline import configure_logging
from indipyserver import IPyServer


class RoofDriver(ipd.IPyDriver):
    """A roll-off roof that opens or closes when asked (simulated: it takes ``travel`` s)."""

    async def rxevent(self, event: Any) -> None:
        name = self.driverdata["devicename"]
        match event:
            case ipd.newSwitchVector(vectorname="ROOF") if event.devicename == name:
                wanted = "OPEN" if event.get("OPEN") == "On" else "CLOSE"
                roof = event.vector
                roof.state = "Busy"
                await roof.send_setVector()
                # Held here, rxevent takes no other request: fine for half a second; for long
                # moves see docs/concepts.rst, "Long actions: one request at a time".
                await asyncio.sleep(self.driverdata["travel"])
                roof["OPEN"] = "On" if wanted == "OPEN" else "Off"
                roof["CLOSE"] = "On" if wanted == "CLOSE" else "Off"
                roof.state = "Ok"
                await roof.send_setVector()


def make_roof(devicename: str, travel: float = 0.5) -> RoofDriver:
    """A roof driver whose device is called ``devicename``."""
    roof = ipd.SwitchVector(
        name="ROOF",
        label="Roof",
        group="Roof",
        perm="rw",
        rule="OneOfMany",
        state="Ok",
        switchmembers=[
            ipd.SwitchMember(name="OPEN", label="Open", membervalue="Off"),
            ipd.SwitchMember(name="CLOSE", label="Close", membervalue="On"),
        ],
    )
    return RoofDriver(ipd.Device(devicename, [roof]), devicename=devicename, travel=travel)


def make_tree(root_port: int = 7624, east_port: int = 7625, west_port: int = 7626,
              host: str = "localhost") -> list[IPyServer]:
    """The three servers: [root, east, west]; the root chains to both leaves."""
    east = IPyServer(make_roof("Roof East"), host=host, port=east_port)
    west = IPyServer(make_roof("Roof West"), host=host, port=west_port)
    root = IPyServer(host=host, port=root_port)
    root.add_remote(host, east_port)
    root.add_remote(host, west_port)
    return [root, east, west]


async def run_tree(servers: list[IPyServer]) -> None:
    """Run every server until one stops (or Ctrl-C)."""
    async with asyncio.TaskGroup() as group:
        for server in servers:
            group.create_task(server.asyncrun())


def main() -> None:
    parser = argparse.ArgumentParser(description="Three chained INDI servers")
    parser.add_argument("--ports", type=int, nargs=3, default=[7624, 7625, 7626],
                        metavar=("ROOT", "EAST", "WEST"))
    args = parser.parse_args()
    configure_logging(logging.INFO)  # the toolkit's one log format
    root, east, west = args.ports
    print(f"root :{root} -> east :{east}, west :{west}; Ctrl-C to stop")
    try:
        asyncio.run(run_tree(make_tree(*args.ports)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
