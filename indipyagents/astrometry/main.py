"""``indipy_agent_astrometry``: the Astrometry Agent (plate solving with astrometry.net's
``solve-field``, sync, centring) as an executable driver.

It runs under indilib's ``indiserver`` or ours, or serves itself (`indipyserver.standalone`).
Its client connects to ``--indi-host``/``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``),
else to the server it serves on, else localhost:7624."""

from __future__ import annotations

from indipyserver.standalone import run_driver

from ..commandline import agent_parser
from ..commandline import device_name
from ..commandline import server_option
from ..link import ENV_SERVER
from .agent import DEVICE
from .agent import make_driver
from .solver import INDEX_DIR

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = agent_parser(__doc__, f"the INDI server whose camera and mount the agent drives "
                                   f"(default: ${ENV_SERVER}, else the server it serves on)",
                          device=DEVICE)
    parser.add_argument("--config-dir", default=None,
                        help="where CONFIG_SAVE writes (default ~/.indi, as indilib's)")
    parser.add_argument("--solver", default="solve-field",
                        help="astrometry.net's solve-field (default: on PATH)")
    parser.add_argument("--index-dir", default=INDEX_DIR,
                        help=f"the index files' folder (default {INDEX_DIR})")
    args = parser.parse_args(argv)
    host, port = server_option(parser, args)
    run_driver(make_driver(host, port, name=device_name(args, DEVICE), config_dir=args.config_dir,
                           solver=args.solver, index_dir=args.index_dir), args)


if __name__ == "__main__":
    main()
