"""``indipy-driverxml``: the drivers XML that Ekos' profile editor and indiwebmanager read.

::

    indipy-driverxml [-o FILE] EXEC [EXEC ...]

indilib's tools learn which drivers exist from XML files in ``/usr/share/indi/``
(``driversList`` > ``devGroup group="CCDs"`` > ``device label=...`` > ``driver name=...``EXEC
and ``version``). A driver written in Python is listed the same way once such a file names
it. This command starts each EXEC (found on PATH, as indiserver finds drivers), asks it for its
properties over stdin/stdout, reads DRIVER_INFO (name, exec, version, interface) and writes
the file: the group is chosen from DRIVER_INTERFACE (Agent for the agents, by name; Telescopes, CCDs, Focusers, Filter
Wheels, Domes, Weather, Spectrographs, Detectors, Adaptive Optics, else Auxiliary), the label
and the driver's name are DRIVER_NAME. Standard library only; the XML is written with
``xml.etree.ElementTree`` (never by hand).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indipycore.interface import Interface
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.events import DefTextVector
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element

__all__ = ["DriverEntry", "drivers_xml", "group_of", "main", "read_driver_info"]

#: The devGroup a device is listed under, by the first of its interface bits found here.
GROUPS = (
    (Interface.TELESCOPE, "Telescopes"),
    (Interface.CCD, "CCDs"),
    (Interface.SPECTROGRAPH, "Spectrographs"),
    (Interface.DETECTOR, "Detectors"),
    (Interface.FOCUSER, "Focusers"),
    (Interface.FILTER, "Filter Wheels"),
    (Interface.DOME, "Domes"),
    (Interface.WEATHER, "Weather"),
    (Interface.AO, "Adaptive Optics"),
)
DEFAULT_GROUP = "Auxiliary"
#: Agents are known by their executables (the imager agent says DRIVER_INTERFACE 0, the
#: watchdog AUX as indi_watchdog): indilib's drivers.xml lists its imager agent under devGroup
#: "Agent", and ours beside it.
AGENT_GROUP = "Agent"
AGENTS = frozenset({"indi_imager_agent", "indipy_agent_imager", "indipy_agent_watchdog",
                    "indipy_agent_guider", "indipy_agent_astrometry"})
#: Seconds a driver has to define DRIVER_INFO after being asked.
READ_TIMEOUT = 10.0


class DriverXMLError(Exception):
    """A driver could not be started or did not define DRIVER_INFO (the message says which)."""


@dataclass(frozen=True)
class DriverEntry:
    """One device as a drivers XML lists it."""

    label: str
    name: str
    exec: str
    version: str
    interface: Interface


def group_of(interface: Interface, exec_name: str = "") -> str:
    """The devGroup for a device with these DRIVER_INTERFACE bits (an agent's by its
    executable's name: `AGENTS`)."""
    if Path(exec_name).name in AGENTS:
        return AGENT_GROUP
    for bit, group in GROUPS:
        if interface & bit:
            return group
    return DEFAULT_GROUP


async def read_driver_info(exec_name: str, timeout: float = READ_TIMEOUT) -> list[DriverEntry]:
    """Start ``exec_name``, ask it for its properties and return one entry per device that
    defines DRIVER_INFO (a driver may serve several devices); the driver is stopped after."""
    program = exec_name if "/" in exec_name else shutil.which(exec_name)
    if program is None:
        raise DriverXMLError(f"{exec_name}: not found on PATH")
    try:
        process = await asyncio.create_subprocess_exec(
            program, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        raise DriverXMLError(f"{exec_name}: cannot start it: {exc}") from None
    assert process.stdin is not None and process.stdout is not None
    entries: dict[str, DriverEntry] = {}
    framer = Framer()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        process.stdin.write(b'<getProperties version="1.7"/>\n')
        await process.stdin.drain()
        while True:
            # Until the first DRIVER_INFO, up to the timeout; after it, until the driver has
            # been quiet for half a second (its other devices define theirs in the burst).
            wait = deadline - loop.time()
            if entries:
                wait = min(wait, 0.5)
            if wait <= 0:
                break
            try:
                async with asyncio.timeout(wait):  # (wait_for can lose a cancellation)
                    data = await process.stdout.read(65536)
            except TimeoutError:
                break
            if not data:
                break
            for frame in framer.feed(data):
                if isinstance(frame, ProtocolError) or frame.tag != "defTextVector":
                    continue
                event = parse_element(frame.data)
                if isinstance(event, DefTextVector) and event.name == "DRIVER_INFO":
                    entries[event.device] = _entry(exec_name, event)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    if not entries:
        raise DriverXMLError(f"{exec_name}: defined no DRIVER_INFO within {timeout:g} s "
                             f"(is it an INDI driver that speaks on stdin/stdout?)")
    return list(entries.values())


def _entry(exec_name: str, event: DefTextVector) -> DriverEntry:
    values = {member.name: member.value for member in event.members}
    try:
        interface = Interface.from_text(values.get("DRIVER_INTERFACE", "0"))
    except ValueError:
        interface = Interface.GENERAL
    name = values.get("DRIVER_NAME") or event.device
    # The EXEC as given (it was just started that way), not DRIVER_EXEC, which a driver may
    # fill with a name nothing on PATH answers to.
    return DriverEntry(label=event.device, name=name, exec=exec_name,
                       version=values.get("DRIVER_VERSION") or "1.0", interface=interface)


def drivers_xml(entries: Sequence[DriverEntry]) -> bytes:
    """The ``driversList`` document for ``entries``, grouped as indilib's files are."""
    root = ET.Element("driversList")
    groups: dict[str, ET.Element] = {}
    for entry in entries:
        group = group_of(entry.interface, entry.exec)
        if group not in groups:
            groups[group] = ET.SubElement(root, "devGroup", group=group)
        device = ET.SubElement(groups[group], "device", label=entry.label)
        driver = ET.SubElement(device, "driver", name=entry.name)
        driver.text = entry.exec
        ET.SubElement(device, "version").text = entry.version
    ET.indent(root, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root) + b"\n"


async def _read_all(execs: Sequence[str]) -> list[DriverEntry]:
    entries: list[DriverEntry] = []
    for exec_name in execs:
        entries.extend(await read_driver_info(exec_name))
    return entries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="indipy-driverxml",
        description="Write the drivers XML (as in /usr/share/indi/) that lists INDI drivers "
                    "for Ekos' profile editor and indiwebmanager: each EXEC is started and "
                    "its DRIVER_INFO read.")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="write to FILE (default: standard output)")
    parser.add_argument("execs", nargs="+", metavar="EXEC",
                        help="driver executables, on PATH or by path")
    args = parser.parse_args(argv)
    try:
        entries = asyncio.run(_read_all(args.execs))
    except DriverXMLError as exc:
        print(f"indipy-driverxml: {exc}", file=sys.stderr)
        return 1
    document = drivers_xml(entries)
    if args.output is None:
        sys.stdout.buffer.write(document)
    else:
        args.output.write_bytes(document)
    return 0
