"""``indipy_agent_guider``: the Guider Agent as an executable driver (under indilib's
``indiserver`` or ours) or serving itself. Its client connects to ``--indi-host``/
``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``), else localhost:7624; PHD2's event
server listens on ``--phd2-port`` (4400, PHD2's; 0 for none)."""

from __future__ import annotations

from indipyserver.standalone import run_driver

from ..commandline import agent_parser
from ..commandline import device_name
from ..commandline import server_option
from ..link import ENV_SERVER
from .agent import DEVICE
from .agent import make_driver
from .phd2server import DEFAULT_PORT

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = agent_parser(__doc__, f"the INDI server of the camera and mount (default: "
                                   f"${ENV_SERVER}, else the server it serves on)", device=DEVICE)
    parser.add_argument("--phd2-port", type=int, default=DEFAULT_PORT,
                        help="PHD2's event server's TCP port (default 4400; 0: none)")
    parser.add_argument("--phd2-host", default="",
                        help="the address PHD2's server listens on (default: all, as PHD2)")
    args = parser.parse_args(argv)
    if not 0 <= args.phd2_port < 65536:
        parser.error(f"--phd2-port {args.phd2_port}: must be 0..65535")
    host, port = server_option(parser, args)
    run_driver(make_driver(host, port, name=device_name(args, DEVICE), phd2_port=args.phd2_port,
                           phd2_host=args.phd2_host), args)


if __name__ == "__main__":
    main()
