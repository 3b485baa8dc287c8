"""``indipy_agent_astrometry``: the Astrometry Agent (plate solving with astrometry.net's
``solve-field``, sync, centring) as an executable driver.

It runs under indilib's ``indiserver`` or ours, or serves itself (`indipyserver.standalone`).
Its client connects to ``--indi-host``/``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``),
else to the server it serves on, else localhost:7624."""

from __future__ import annotations

import argparse

from .. import assembly
from ..link import ENV_SERVER
from .agent import DESCRIPTION
from .agent import AstrometryDriver
from .agent import make_driver
from .solver import INDEX_DIR

__all__ = ["main"]


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--solver", default="solve-field",
                        help="astrometry.net's solve-field (default: on PATH)")
    parser.add_argument("--index-dir", default=INDEX_DIR,
                        help=f"the index files' folder (default {INDEX_DIR})")


def _build(command: assembly.Command) -> AstrometryDriver:
    return make_driver(command.host, command.port, name=command.name,
                       config_dir=command.config_dir, solver=command.args.solver,
                       index_dir=command.args.index_dir)


def main(argv: list[str] | None = None) -> None:
    assembly.main(DESCRIPTION, __doc__, argv, build=_build, options=_options,
                  server_help=f"the INDI server whose camera and mount the agent drives "
                              f"(default: ${ENV_SERVER}, else the server it serves on)")


if __name__ == "__main__":
    main()
