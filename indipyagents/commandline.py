"""The agents' executables' command line, written once for all of them: served itself or run
under a server (`indipyserver.standalone`), the INDI server the agent is a client of
(``--indi-host``/``--indi-port``, else ``INDIPY_AGENT_SERVER``: `link`), and, for an agent
that may run twice side by side, its device's name (``--device``, else ``INDIDEV`` as
indiserver's ``-n``)."""

from __future__ import annotations

import argparse
import os

from indipyserver.standalone import serving_parser

from .link import ENV_SERVER
from .link import parse_address

__all__ = ["agent_parser", "device_name", "server_option"]


def agent_parser(doc: str | None, server_help: str,
                 device: str | None = None) -> argparse.ArgumentParser:
    """`serving_parser` with ``--indi-host`` (helped by `server_help`) and ``--indi-port``;
    with ``--device`` too when the agent's default name `device` is given."""
    parser = serving_parser(doc)
    parser.add_argument("--indi-host", default=None, help=server_help)
    parser.add_argument("--indi-port", type=int, default=None,
                        help="that server's port (default 7624)")
    if device is not None:
        parser.add_argument("--device", default=None,
                            help=f"the device's name (default: $INDIDEV, else {device})")
    return parser


def server_option(parser: argparse.ArgumentParser,
                  args: argparse.Namespace) -> tuple[str | None, int | None]:
    """The (host, port) ``--indi-host``/``--indi-port`` gave, else ``INDIPY_AGENT_SERVER``'s;
    None where neither says (the agent then asks the hosting server); a bad value stops the
    command."""
    host, port = args.indi_host, args.indi_port
    if host is None and port is None and os.environ.get(ENV_SERVER):
        try:
            host, port = parse_address(os.environ[ENV_SERVER])
        except ValueError as exc:
            parser.error(f"{ENV_SERVER}: {exc}")
    if port is not None and not 0 < port < 65536:
        parser.error(f"--indi-port {port}: must be 1..65535")
    return host, port


def device_name(args: argparse.Namespace, default: str) -> str:
    """The device's name: ``--device``, else ``INDIDEV``, else `default`."""
    return str(args.device or os.environ.get("INDIDEV") or default)
