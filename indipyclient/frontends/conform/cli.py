"""``indipy-conform``: check INDI devices against indilib's standard properties.

::

    indipy-conform [-h HOST] [-p PORT] [--live] [--json] [DEVICE ...]

With no DEVICE every device on the server is checked. For each: CONNECTION and DRIVER_INFO;
DRIVER_INTERFACE's roles; each role's properties (presence, type, permission, rule, member
names) once connected, none before CONNECT and all deleted on DISCONNECT; with ``--live`` the
role driven (``livechecks``). One line per check, or ``--json``; exit status 0 when nothing
failed, 1 when a check failed, 2 when the server cannot be reached or a DEVICE is not there.
``-h`` is the host, as in indilib's tools; ``--help`` prints this help.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from indipyclient.session.connect import Client

from .lifecycle import Lifecycle
from .lifecycle import settle
from .livechecks import live_checks
from .report import Check
from .report import Level
from .report import as_json
from .report import as_lines
from .report import failed
from .shape import device_wide_checks
from .shape import interface_checks

__all__ = ["check_devices", "main"]

#: Seconds without a new definition after which the server's devices are taken as all known.
SETTLE = 1.0


class Unreachable(Exception):
    """The server could not be reached, or a DEVICE named is not on it."""


async def check_devices(host: str, port: int, names: Sequence[str] = (), *, live: bool = False,
                        connect_timeout: float = 10.0) -> list[Check]:
    """Every check of the named devices (all when none are named) on ``host:port``. A server
    that refuses (or cannot be found, or does not answer within one attempt's bound) is
    `Unreachable` at once, saying why: there is nothing to check, and no reason to wait."""
    client = Client(host, port, connect_timeout=connect_timeout, first_failure_ends=True)
    try:
        await client.start()
    except (ConnectionError, OSError, TimeoutError) as exc:
        await client.close()
        why = client.connection.last_failure or str(exc)
        raise Unreachable(f"cannot reach an INDI server at {host}:{port}: {why}") from None
    try:
        await settle(client, "", lambda: bool(client.devices) and all(
            client.model.vector(name, "DRIVER_INFO") is not None or name not in names
            for name in client.devices), max(connect_timeout, 5.0), quiet=SETTLE)
        missing = [name for name in names if name not in client.devices]
        if missing:
            raise Unreachable(f"no device {', '.join(repr(n) for n in missing)} on "
                              f"{host}:{port} (it has {', '.join(sorted(client.devices)) or 'none'})")
        checks: list[Check] = []
        for name in names or sorted(client.devices):
            checks.extend(await _check_device(client, name, live))
        return checks
    finally:
        await client.close()


async def _check_device(client: Client, name: str, live: bool) -> list[Check]:
    device = client.model.devices.get(name)
    if device is None:
        return [Check(Level.FAIL, name, "device", "gone from the server during the check")]
    checks = device_wide_checks(name, device.vectors)
    info = device.vectors.get("DRIVER_INFO")
    text = None if info is None or "DRIVER_INTERFACE" not in info else str(
        info["DRIVER_INTERFACE"])
    bits, found = interface_checks(name, text)
    checks.extend(found)
    if bits is None or not bits or "CONNECTION" not in device.vectors:
        return checks
    lifecycle = Lifecycle(client, name, bits)

    async def drive() -> list[Check]:
        return await live_checks(client, name, bits)

    checks.extend(await lifecycle.run(drive if live else None))
    return checks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="indipy-conform", add_help=False,
        description="Check INDI devices against indilib's standard properties "
                    "(DRIVER_INFO's roles: camera, mount, focuser, filter wheel, weather).")
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("-h", "--host", default="localhost", help="server host (localhost)")
    parser.add_argument("-p", "--port", type=int, default=7624, help="server port (7624)")
    parser.add_argument("--live", action="store_true",
                        help="also drive each role (expose, slew, abort, park, move) and put "
                             "back what was changed")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("-t", "--timeout", type=float, default=10.0,
                        help="seconds to wait for the server (10)")
    parser.add_argument("devices", nargs="*", metavar="DEVICE",
                        help="devices to check (default: every device)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="indipy-conform: %(message)s")
    try:
        checks = asyncio.run(check_devices(args.host, args.port, args.devices, live=args.live,
                                           connect_timeout=args.timeout))
    except Unreachable as exc:
        print(f"indipy-conform: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(as_json(checks) + "\n" if args.json else as_lines(checks))
    return 1 if failed(checks) else 0
