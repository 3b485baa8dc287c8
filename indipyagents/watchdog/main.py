"""``indipy_agent_watchdog``: indilib's indi_watchdog as an agent that fails closed.

It runs under indilib's ``indiserver`` or ours, or serves itself (`indipyserver.standalone`).
Its client connects where WATCHDOG_SETTINGS says (indilib's INDISERVER_HOST and
INDISERVER_PORT, localhost:7624 by default), unless ``--indi-host``/``--indi-port`` (or
``INDIPY_AGENT_SERVER=host:port``) fix it; serving itself, it watches its own port unless told
otherwise. ``--device`` (or ``INDIDEV``, as indiserver's ``-n``) names the device, so two
watchdogs can run side by side."""

from __future__ import annotations

from indipyserver.standalone import run_driver

from ..commandline import agent_parser
from ..commandline import device_name
from ..commandline import server_option
from ..link import ENV_SERVER
from .agent import DEVICE
from .agent import make_driver

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = agent_parser(__doc__, f"the INDI server the watchdog watches (default: "
                                   f"${ENV_SERVER}, else WATCHDOG_SETTINGS, else the server "
                                   "it serves on)", device=DEVICE)
    parser.add_argument("--config-dir", default=None,
                        help="where CONFIG_SAVE writes (default ~/.indi, as indilib's)")
    args = parser.parse_args(argv)
    host, port = server_option(parser, args)
    run_driver(make_driver(host, port, name=device_name(args, DEVICE),
                           config_dir=args.config_dir), args)


if __name__ == "__main__":
    main()
