"""``indipy_agent_guider``: the Guider Agent as an executable driver (under indilib's
``indiserver`` or ours) or serving itself. Its client connects to ``--indi-host``/
``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``), else localhost:7624; PHD2's event
server listens on ``--phd2-port`` (or ``INDIPY_PHD2_PORT``, as indilib's ``indiserver`` starts a
driver with no arguments), else 4400, PHD2's; 0 for none."""

from __future__ import annotations

import os
from pathlib import Path

from indipyserver.standalone import run_driver

from ..commandline import agent_parser
from ..commandline import device_name
from ..commandline import server_option
from ..link import ENV_SERVER
from .agent import DEVICE
from .agent import make_driver
from .phd2server import DEFAULT_PORT

__all__ = ["ENV_PHD2_PORT", "main"]

#: The PHD2 port when ``--phd2-port`` is not given (a driver under indiserver has no arguments).
ENV_PHD2_PORT = "INDIPY_PHD2_PORT"


def main(argv: list[str] | None = None) -> None:
    parser = agent_parser(__doc__, f"the INDI server of the camera and mount (default: "
                                   f"${ENV_SERVER}, else the server it serves on)", device=DEVICE)
    parser.add_argument("--phd2-port", type=int, default=None,
                        help=f"PHD2's event server's TCP port (default: ${ENV_PHD2_PORT}, else "
                             "4400; 0: none)")
    parser.add_argument("--phd2-host", default=None,
                        help="the address PHD2's server listens on (default: where the INDI "
                             "server is reached, e.g. localhost; 0.0.0.0 for every interface, "
                             "to guide from Ekos or NINA on another machine)")
    parser.add_argument("--state-dir", default=None,
                        help="where the calibration is kept across restarts (default: "
                             "$XDG_STATE_HOME/indipy/guider-agent, ~/.local/state/...)")
    args = parser.parse_args(argv)
    if args.state_dir is None:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        args.state_dir = str(Path(base) / "indipy" / "guider-agent")
    if args.phd2_port is None:
        try:
            args.phd2_port = int(os.environ.get(ENV_PHD2_PORT) or DEFAULT_PORT)
        except ValueError:
            parser.error(f"{ENV_PHD2_PORT}={os.environ[ENV_PHD2_PORT]!r}: not a port number")
    if not 0 <= args.phd2_port < 65536:
        parser.error(f"--phd2-port {args.phd2_port}: must be 0..65535")
    host, port = server_option(parser, args)
    run_driver(make_driver(host, port, name=device_name(args, DEVICE), phd2_port=args.phd2_port,
                           phd2_host=args.phd2_host, state=args.state_dir), args)


if __name__ == "__main__":
    main()
