"""``indipy-watch``: a live, readable log of everything an INDI server says.

    indipy-watch [-h host] [-p port] [-t secs] [-v] [--blobs] [device[.property] ...]

One line per message from the server: its time (the element's timestamp, else when it
arrived, UTC), ``device.property``, what happened and the values::

    04:01:02.345 Thermostat.TARGET defined Number rw Ok "Target" [Control]: TARGET=20.0
    04:01:04.350 Thermostat.TEMPERATURE Ok: TEMPERATURE=19.32
    04:01:04.351 Thermostat.HEATER Busy: HEATING=Busy FROST=Idle "heating"
    04:01:05.000 Thermostat says: target reached
    04:01:09.000 Thermostat.LOG deleted

Patterns (``*`` wildcards) keep only the devices or properties they match; with none every
message is shown. ``--blobs`` asks for BLOBs too and shows their size and format. It runs until
the server closes the connection (exit 2) or Ctrl-C, or for ``-t`` seconds (exit 0).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from indipydriver.protocol import (
    BLOB,
    DefBLOBVector,
    DefLightVector,
    DefNumberVector,
    DefSwitchVector,
    DefTextVector,
    DelProperty,
    EnableBLOB,
    Event,
    GetProperties,
    Message,
    Vector,
)
from indipydriver.protocol.enums import BLOBEnable
from indipydriver.protocol.timestamps import parse_timestamp

from .cli import Reporter, parse_options, parse_port, parse_timeout, run_tool
from .connection import Connection
from .errors import ToolError
from .specs import GetSpec
from .values import member_text

__all__ = ["WatchFilter", "describe", "main"]

NAME = "indipy-watch"
USAGE = """\
usage: indipy-watch [options] [device[.property] ...]
Print everything an INDI server says, one readable line per message.
Patterns (* wildcards) keep only matching devices or properties.
  -h host  server host (default localhost)
  -p port  server port (default 7624)
  -t secs  stop after secs seconds (default: run until Ctrl-C or the server closes)
  -v       verbose (repeat for more)
  --blobs  ask for BLOBs too, and show their size and format"""

_KIND = {
    DefTextVector: "Text",
    DefNumberVector: "Number",
    DefSwitchVector: "Switch",
    DefLightVector: "Light",
    DefBLOBVector: "BLOB",
}


class WatchFilter:
    """Which devices and properties to show: ``device`` or ``device.property`` patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.specs: list[GetSpec] = []
        for pattern in patterns:
            device, _, prop = pattern.partition(".")
            if not device:
                raise ToolError(f"a pattern is device or device.property, got {pattern!r}")
            self.specs.append(GetSpec(device, prop or "*", "*"))

    def shows(self, device: str | None, prop: str | None) -> bool:
        if not self.specs:
            return True
        if device is None:  # a server-wide message
            return True
        if prop is None:
            return any(spec.matches_device(device) for spec in self.specs)
        return any(spec.matches_vector(device, prop) for spec in self.specs)


def _quote(text: str) -> str:
    if text and not any(c.isspace() or c in "\"'=" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _clock(timestamp: str | None) -> str:
    moment = None
    if timestamp:
        try:
            moment = parse_timestamp(timestamp)
        except ValueError:
            moment = None
    if moment is None:
        moment = datetime.now(UTC)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def describe(event: Event) -> str | None:
    """The log line for one event, or None for events the log does not show."""
    if isinstance(event, Message):
        where = event.device if event.device is not None else "(server)"
        return f"{_clock(event.timestamp)} {where} says: {event.message or ''}"
    if isinstance(event, DelProperty):
        what = f"{event.device}.{event.name}" if event.name else event.device
        note = f": {event.message}" if event.message else ""
        return f"{_clock(event.timestamp)} {what} deleted{note}"
    if not isinstance(event, Vector) or not hasattr(event, "device"):
        return None
    v: Any = event
    head = f"{_clock(v.timestamp)} {v.device}.{v.name}"
    if isinstance(v, DefBLOBVector):
        members = " ".join(m.name for m in v.members)  # a definition carries no BLOB data
    else:
        members = " ".join(
            f"{m.name}={member_text(m) if isinstance(m, BLOB) else _quote(member_text(m))}"
            for m in v.members
        )
    state = getattr(v, "state", None)
    kind = _KIND.get(type(v))
    if kind is not None:
        parts = [head, "defined", kind]
        perm = getattr(v, "perm", None)
        if perm is not None:
            parts.append(perm.value)
        rule = getattr(v, "rule", None)
        if rule is not None:
            parts.append(rule.value)
        if state is not None:
            parts.append(state.value)
        label = getattr(v, "label", None)
        if label:
            parts.append(_quote(label))
        group = getattr(v, "group", None)
        if group:
            parts.append(f"[{group}]")
        line = " ".join(parts)
    elif type(v).__name__.startswith("New"):
        line = f"{head} new (from a client)"
    else:
        line = head + (f" {state.value}" if state is not None else "")
    if members:
        line += ": " + members
    message = getattr(v, "message", None)
    if message:
        line += f" {_quote(message)}"
    return line


def _watch(args: list[str]) -> int:
    opts, patterns = parse_options(args, "h:p:t:v", ["blobs", "help"])
    host, port, seconds, verbose, blobs = "localhost", 7624, None, 0, False
    for opt, value in opts:
        if opt == "--help":
            print(USAGE)
            return 0
        if opt == "-h":
            host = value
        elif opt == "-p":
            port = parse_port(value)
        elif opt == "-t":
            seconds = parse_timeout(value)
        elif opt == "-v":
            verbose += 1
        elif opt == "--blobs":
            blobs = True
    shown = WatchFilter(patterns)
    report = Reporter(NAME, verbose)
    conn = Connection.open(host, port, on_error=report.error)
    report.info(f"connected to {conn.where}")
    deadline = None if seconds is None else time.monotonic() + seconds
    out = sys.stdout
    asked_blobs: set[str] = set()
    try:
        conn.send(GetProperties(version="1.7"))
        while True:
            event = conn.next_event(deadline)
            if event is None:
                return 0
            if blobs and isinstance(event, DefBLOBVector) and event.device not in asked_blobs:
                asked_blobs.add(event.device)
                conn.send(EnableBLOB(device=event.device, value=BLOBEnable.ALSO))
            device = getattr(event, "device", None)
            prop = getattr(event, "name", None) if not isinstance(event, Message) else None
            if not shown.shows(device, prop):
                continue
            line = describe(event)
            if line is not None:
                out.write(line + "\n")
                if conn.idle():
                    out.flush()
    finally:
        out.flush()
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-watch with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _watch, argv)


if __name__ == "__main__":
    raise SystemExit(main())
