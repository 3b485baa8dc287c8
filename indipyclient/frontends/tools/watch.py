"""``indipy-watch``: a live, readable log of everything an INDI server says.

    indipy-watch [-h host] [-p port] [-t secs] [-v] [--blobs] [device[.property] ...]

One line per thing that happened: its time (the element's timestamp, else when it arrived,
UTC), ``device.property``, what happened and the values::

    04:01:02.345 Thermostat.TARGET defined Number rw Ok Target [Control]: TARGET=20.0
    04:01:04.350 Thermostat.TEMPERATURE Ok: TEMPERATURE=19.32
    04:01:04.351 Thermostat.HEATER Busy: HEATING=Busy FROST=Idle "heating"
    04:01:05.000 Thermostat says: target reached
    04:01:09.000 Thermostat.LOG deleted

It runs on the client library (``indipyclient.session.connect``): pings are answered, and a lost
connection is logged and retried with backoff, the server's properties defined again once it
is back. An attempt to connect that fails is said at once, with why, as the terminal client
says it (once for each new reason, not at every retry)::

    04:01:10.002 cannot connect to localhost:7624: Connection refused; retrying

Patterns (``*`` wildcards) keep only the devices or properties they match; with none
everything is shown. ``--blobs`` asks for BLOBs too and shows their size and format. It runs
until Ctrl-C, or for ``-t`` seconds (exit 0); a server it cannot reach within 5 s of the start
is exit 2, its last reason said.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import sys
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import TextIO

from indipyclient.model import events as ev
from indipyclient.session.connect import Client
from indipyclient.session.connect import EventStream
from indipyclient.session.connect import connect
from indipyclient.session.connection import cannot_connect

from .cli import TLS_LONGOPTS
from .cli import TLS_USAGE
from .cli import ServerOptions
from .cli import parse_options
from .cli import parse_port
from .cli import parse_timeout
from .cli import run_tool
from .specs import GetSpec
from .toolerror import ToolError

__all__ = ["FailureLines", "WatchFilter", "describe", "main"]

NAME = "indipy-watch"
CONNECT_TIMEOUT = 5.0
USAGE = """\
usage: indipy-watch [options] [device[.property] ...]
Print everything an INDI server says, one readable line per message; a lost connection is
retried. Patterns (* wildcards) keep only matching devices or properties.
  -h host  server host (default localhost)
  -p port  server port (default 7624)
  -t secs  stop after secs seconds (default: run until Ctrl-C)
  -v       verbose: the client library's log too (repeat for more)
  --blobs  ask for BLOBs too, and show their size and format
""" + TLS_USAGE


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
        if not self.specs or device is None:  # no patterns, or server-wide news
            return True
        if prop is None:
            return any(spec.matches_device(device) for spec in self.specs)
        return any(spec.matches_vector(device, prop) for spec in self.specs)


def _quote(text: str) -> str:
    if text and not any(c.isspace() or c in "\"'=" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _members(event: ev.VectorEvent) -> str:
    if isinstance(event, ev.defBLOBVector):
        return " ".join(event)  # a definition carries no BLOB data
    parts = []
    for name, value in event.items():
        if isinstance(event, ev.setBLOBVector):
            size, fmt = event.sizeformat.get(name, (len(value or b""), ""))
            parts.append(f"{name}=<BLOB {size} bytes {fmt}>")
        else:
            parts.append(f"{name}={_quote(str(value))}")
    return " ".join(parts)


def describe(event: ev.Event, where: str = "") -> str | None:
    """The log line for one client event, or None for events the log does not show."""
    clock = _clock(event.timestamp)
    if isinstance(event, ev.ConnectionMade):
        return f"{clock} connected to {where}"
    if isinstance(event, ev.ConnectionLost):
        reason = f": {event.reason}" if event.reason else ""
        return f"{clock} connection to {where} lost{reason} (retrying)"
    if isinstance(event, ev.Message):
        return f"{clock} {event.devicename or '(server)'} says: {event.message}"
    if isinstance(event, ev.delProperty):
        what = ".".join(n for n in (event.devicename, event.vectorname) if n)
        note = f": {event.message}" if event.message else ""
        return f"{clock} {what} deleted{note}"
    if not isinstance(event, ev.defVector | ev.setVector):
        return None
    vector: Any = event.vector
    head = f"{clock} {event.devicename}.{event.vectorname}"
    message: str | None
    if isinstance(event, ev.defVector):
        parts = [head, "defined", str(vector.vectortype).removesuffix("Vector")]
        if vector.vectortype != "LightVector":
            parts.append(str(vector.perm))
        if vector.rule:
            parts.append(str(vector.rule))
        parts.append(str(vector.state))
        if vector.label and vector.label != vector.name:
            parts.append(_quote(vector.label))
        if vector.group:
            parts.append(f"[{vector.group}]")
        line = " ".join(parts)
        message = vector.message or None
    else:
        line = head + (f" {event.state}" if event.state is not None else "")
        message = event.message
    members = _members(event)
    if members:
        line += ": " + members
    if message:
        line += f" {_quote(message)}"
    return line


async def _watch_async(client: Client, stream: EventStream, shown: WatchFilter, blobs: bool,
                       seconds: float | None, out: TextIO,
                       failures: FailureLines | None = None) -> None:
    where = f"{client.host}:{client.port}"
    asked: set[str] = set()
    try:
        async with asyncio.timeout(seconds):
            async for event in stream:
                if failures is not None and isinstance(event, ev.ConnectionMade):
                    failures.connected()
                device = event.devicename
                if blobs and isinstance(event, ev.defBLOBVector) and device is not None \
                        and device not in asked:
                    asked.add(device)  # the client asks again after a reconnection
                    await client.send_enableBLOB("Also", device)
                vectorname = (event.vectorname
                              if isinstance(event, ev.VectorEvent | ev.delProperty) else None)
                if not shown.shows(event.devicename, vectorname):
                    continue
                line = describe(event, where)
                if line is not None:
                    out.write(line + "\n")
                    out.flush()
    except TimeoutError:
        return


class FailureLines:
    """Says each failed attempt to connect at once (`Client`'s ``on_connect_failure``), once
    for each new reason until a connection is made, so a server that stays away does not
    fill the log with a line per retry."""

    def __init__(self, where: str, out: TextIO) -> None:
        self.where = where
        self.out = out
        self.said = ""

    def __call__(self, reason: str) -> None:
        if reason == self.said:
            return
        self.said = reason
        self.out.write(f"{_clock(datetime.now(UTC))} {cannot_connect(self.where, reason)}; "
                       "retrying\n")
        self.out.flush()

    def connected(self) -> None:
        self.said = ""


async def _run(host: str, port: int, shown: WatchFilter, blobs: bool,
               seconds: float | None, tls: ssl.SSLContext | None = None) -> None:
    # The stream exists before the client starts, so nothing the server says first is missed;
    # its first event is the connection (or, after CONNECT_TIMEOUT, there is none).
    where = f"{host}:{port}"
    failures = FailureLines(where, sys.stdout)
    client = connect(host, port, connect_timeout=None, on_connect_failure=failures, ssl=tls)
    stream = client.events()
    await client.start()
    try:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                first = await anext(stream)
        except TimeoutError:
            reason = client.connection.last_failure
            raise ToolError(f"{cannot_connect(where, reason)} (tried for "
                            f"{CONNECT_TIMEOUT:g} s)", 2) from None
        failures.connected()
        line = describe(first, where)
        if line is not None:
            sys.stdout.write(line + "\n")
        await _watch_async(client, stream, shown, blobs, seconds, sys.stdout, failures)
    finally:
        stream.close()
        await client.close()


def _watch(args: list[str]) -> int:
    opts, patterns = parse_options(args, "h:p:t:v", ["blobs", "help", *TLS_LONGOPTS])
    host, port, seconds, verbose, blobs = "localhost", 7624, None, 0, False
    server = ServerOptions()  # the TLS options only: -h -p -t are this tool's own
    for opt, value in opts:
        if opt == "--help":
            print(USAGE)
            return 0
        if opt.startswith("--tls-"):
            server.take(opt[2:], value)
        elif opt == "-h":
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
    logging.basicConfig(stream=sys.stderr, format=f"{NAME}: %(message)s",
                        level=logging.WARNING if verbose == 0 else
                        logging.INFO if verbose == 1 else logging.DEBUG)
    asyncio.run(_run(host, port, shown, blobs, seconds, server.tls_context()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-watch with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _watch, argv)


if __name__ == "__main__":
    raise SystemExit(main())
