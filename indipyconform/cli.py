"""``indipy-conform``: check INDI devices against indilib's standard properties.

::

    indipy-conform [-h HOST] [-p PORT] [--live [--frame-type TYPE]] [--step-timeout S]
                   [--json] [DEVICE ...]
    indipy-conform --alpaca http://HOST:PORT [--step-timeout S] [--json] [TYPE/NUMBER ...]

With no DEVICE every device on the server is checked. For each: CONNECTION and DRIVER_INFO;
DRIVER_INTERFACE's roles; each role's properties (presence, type, permission, rule, member
names) once connected, none before CONNECT and all deleted on DISCONNECT; with ``--live`` the
role driven (``livechecks``; ``--frame-type dark`` takes a camera's frames as darks). One line
per check, or ``--json``; exit status 0 when nothing failed, 1 when a check failed, 2 when the
server cannot be reached or a DEVICE is not there.
``-h`` is the host, as in indilib's tools; ``--help`` prints this help.

``--alpaca URL`` checks an ASCOM Alpaca server instead, the way ConformU does
(``alpacachecks``): the management API, the protocol rules and each device driven; with no
TYPE/NUMBER (``camera/0``) every device its management API lists.

A broken device never stops the run: a missing or malformed property is a FAIL naming it, a
step that needs it says it was skipped, every wait for a device to leave Busy ends after
``--step-timeout`` seconds (a CONNECT or DISCONNECT after at most 30), and an error no check foresaw becomes a FAIL naming the device and
the error (the other devices are still checked). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from collections.abc import Sequence

from indipyclient.session.connect import Client

from .lifecycle import CONNECT_TIMEOUT
from .lifecycle import Lifecycle
from .lifecycle import settle
from .livechecks import FRAME_TYPES
from .livechecks import LIVE_TIMEOUT
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
                        connect_timeout: float = 10.0, step_timeout: float = LIVE_TIMEOUT,
                        out: list[Check] | None = None, frame_type: str | None = None
                        ) -> list[Check]:
    """Every check of the named devices (all when none are named) on ``host:port``, appended
    to ``out`` as they are made (so that a caller still has them if the run is stopped). A
    server that refuses (or cannot be found, or does not answer within one attempt's bound) is
    `Unreachable` at once, saying why: there is nothing to check, and no reason to wait.
    `frame_type` (a CCD_FRAME_TYPE member) is the live camera checks' frame type."""
    checks: list[Check] = [] if out is None else out
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
        for name in names or sorted(client.devices):
            try:
                await _check_device(client, name, live, step_timeout, checks, frame_type)
            except Exception as exc:  # a check no one foresaw failed: FAIL, next device
                logging.getLogger(__name__).debug("checking %s", name, exc_info=True)
                checks.append(Check(Level.FAIL, name, "indipy-conform",
                                    f"the checks of {name} stopped on an error: "
                                    f"{type(exc).__name__}: {exc}"))
        return checks
    finally:
        await client.close()


async def _check_device(client: Client, name: str, live: bool, step_timeout: float,
                        checks: list[Check], frame_type: str | None = None) -> None:
    if not client.connected:
        checks.append(Check(Level.FAIL, name, "device", f"not checked: lost the connection to "
                                                        f"{client.host}:{client.port}"))
        return
    device = client.model.devices.get(name)
    if device is None:
        checks.append(Check(Level.FAIL, name, "device", "gone from the server during the check"))
        return
    checks.extend(device_wide_checks(name, device.vectors))
    info = device.vectors.get("DRIVER_INFO")
    text = None if info is None or "DRIVER_INTERFACE" not in info else str(
        info["DRIVER_INTERFACE"])
    bits, found = interface_checks(name, text)
    checks.extend(found)
    if bits is None or not bits or "CONNECTION" not in device.vectors:
        return
    lifecycle = Lifecycle(client, name, bits, role_timeout=min(10.0, step_timeout),
                          connect_timeout=min(CONNECT_TIMEOUT, step_timeout))

    async def drive() -> list[Check]:
        try:
            return await live_checks(client, name, bits, step_timeout, frame_type)
        except Exception as exc:  # noqa: BLE001 - the steps guard themselves; the last net
            return [Check(Level.FAIL, name, "--live", f"the live checks stopped on an error: "
                                                      f"{type(exc).__name__}: {exc}")]

    checks.extend(await lifecycle.run(drive if live else None))


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
    parser.add_argument("--frame-type", choices=sorted(FRAME_TYPES), metavar="TYPE",
                        help="with --live, set a camera's CCD_FRAME_TYPE to TYPE (light, dark, "
                             "bias, flat) before its exposures, and back after (default: the "
                             "type it has; dark for a capped camera)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("-t", "--timeout", type=float, default=10.0,
                        help="seconds to wait for the server (10)")
    parser.add_argument("--step-timeout", type=float, default=LIVE_TIMEOUT, metavar="S",
                        help=f"seconds a live step (beyond an exposure's length) may stay Busy "
                             f"before it is a FAIL ({LIVE_TIMEOUT:g}; a CONNECT or DISCONNECT "
                             f"at most {CONNECT_TIMEOUT:g})")
    parser.add_argument("--alpaca", metavar="URL",
                        help="check the ASCOM Alpaca server at URL (http://HOST:PORT) the way "
                             "ConformU does; DEVICEs are then TYPE/NUMBER, e.g. camera/0")
    parser.add_argument("devices", nargs="*", metavar="DEVICE",
                        help="devices to check (default: every device)")
    return parser


def _alpaca_main(args: argparse.Namespace, checks: list[Check]) -> int:
    """``--alpaca URL``: the Alpaca checks, printed as the INDI ones are."""
    try:
        from .alpacachecks import check_alpaca
        from .alpacachecks import parse_target
    except ImportError as exc:  # indipyalpaca is not installed beside indipyclient
        print(f"indipy-conform: --alpaca needs the indipyalpaca package: {exc}", file=sys.stderr)
        return 2
    def run() -> None:
        targets = [parse_target(text) for text in args.devices]
        check_alpaca(args.alpaca, targets or None, http_timeout=args.timeout,
                     step_timeout=args.step_timeout, out=checks)

    status = _report(args, checks, run, ValueError)
    if status == 1 and checks and checks[0].prop == "reach" and failed(checks[:1]):
        return 2
    return status


def _report(args: argparse.Namespace, checks: list[Check], run: Callable[[], None],
            refused: type[Exception]) -> int:
    """Run the checks and print them: 2 with one line when `refused` says there is nothing to
    check, 130 on Ctrl-C, and never a traceback (an error stops the run after the checks made
    so far are printed: 1); else 1 on any FAIL, 0 without."""
    try:
        run()
    except refused as exc:
        print(f"indipy-conform: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback: checks so far, the error
        sys.stdout.write(as_json(checks) + "\n" if args.json else as_lines(checks))
        print(f"indipy-conform: stopped on an error: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    sys.stdout.write(as_json(checks) + "\n" if args.json else as_lines(checks))
    return 1 if failed(checks) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.step_timeout <= 0 or args.timeout <= 0:
        print("indipy-conform: --timeout and --step-timeout are seconds, more than 0",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="indipy-conform: %(message)s")
    checks: list[Check] = []
    if args.alpaca is not None:
        return _alpaca_main(args, checks)
    def run() -> None:
        asyncio.run(check_devices(args.host, args.port, args.devices, live=args.live,
                                  connect_timeout=args.timeout, step_timeout=args.step_timeout,
                                  out=checks, frame_type=FRAME_TYPES.get(args.frame_type or "")))

    return _report(args, checks, run, Unreachable)
