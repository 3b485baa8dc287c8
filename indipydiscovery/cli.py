"""``indipy-discover``: list the INDI, INDIGO and Alpaca servers on the network.

::

    indipy-discover [--timeout S] [--json] [--mdns-interface NAME ...] [--kind KIND ...]
                    [--alpaca-port PORT]

A table by default, one line a server (kind, name, address and port, TLS port, Alpaca port,
web page, devices), each problem found on a line of its own under it; ``--json`` prints a list
of objects instead (every field of `Service`). ``--mdns-interface`` (repeatable) names the
interfaces to browse and probe on, else ``INDIPY_MDNS_INTERFACES``, else every interface with
multicast on. Without python-zeroconf (the extra ``[discovery]``) only Alpaca servers are
listed, and the command says what to install. Exit status 0 (even when nothing is found), 2
for a bad option or an interface this machine lacks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from indipycore.commandline import ToolkitVersion
from indipycore.commandline import configure_logging
from indipydiscovery.alpacaprobe import DISCOVERY_PORT
from indipydiscovery.browse import EXTRA_HINT
from indipydiscovery.browse import discover_async
from indipydiscovery.browse import zeroconf_available
from indipydiscovery.interfaces import InterfaceError
from indipydiscovery.service import KINDS
from indipydiscovery.service import Service

logger = logging.getLogger("indipy-discover")

COLUMNS = ("KIND", "NAME", "ADDRESS", "PORT", "TLS", "ALPACA", "WEB", "DEVICES")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indipy-discover", description=(
        "List the INDI (_indi._tcp), INDIGO (_indigo._tcp) and ASCOM Alpaca (UDP 32227) "
        "servers on the network."))
    p.add_argument("--timeout", type=float, default=3.0, metavar="S",
                   help="seconds to listen (default 3)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--mdns-interface", action="append", metavar="NAME", dest="interfaces",
                   help="an interface to browse and probe on (repeatable; default: "
                        "INDIPY_MDNS_INTERFACES, else every one with multicast on)")
    p.add_argument("--kind", action="append", choices=KINDS, dest="kinds",
                   help="list only this kind (repeatable; default: all)")
    p.add_argument("--alpaca-port", type=int, default=DISCOVERY_PORT, metavar="PORT",
                   help=f"Alpaca's UDP discovery port (default {DISCOVERY_PORT})")
    p.add_argument("-v", "--verbose", action="store_true", help="log what is found as it is")
    p.add_argument("--version", action=ToolkitVersion)
    return p


def table(services: Sequence[Service]) -> str:
    """The services as an aligned table, each problem indented under its service."""
    rows = [COLUMNS]
    for s in services:
        rows.append((s.kind, s.name, s.address or "-", str(s.port or "-"),
                     str(s.tls_port or "-"), str(s.alpaca_port or "-"), s.web or "-",
                     ", ".join(s.devices) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index:
            lines.extend(f"    ! {problem}" for problem in services[index - 1].problems)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(logging.INFO if args.verbose else logging.WARNING)
    kinds = tuple(args.kinds or KINDS)
    if any(kind != "alpaca" for kind in kinds) and not zeroconf_available():
        print(f"indipy-discover: {EXTRA_HINT}; listing Alpaca servers only", file=sys.stderr)
        kinds = tuple(kind for kind in kinds if kind == "alpaca")
    try:
        services = asyncio.run(discover_async(args.timeout, interfaces=args.interfaces,
                                              kinds=kinds, alpaca_port=args.alpaca_port))
    except InterfaceError as exc:
        print(f"indipy-discover: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps([s.as_json() for s in services], indent=2))
    elif services:
        print(table(services))
    else:
        print(f"nothing found within {args.timeout:g} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
