"""``indipy_agent_imager``: indilib's imager agent and a plan sequencer, as an INDI driver.

It runs under indilib's ``indiserver`` or ours, or serves itself (`indipyserver.standalone`).
``--indi-host`` and ``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``) say which server
it drives; serving itself, it drives its own port unless told otherwise; under a server,
localhost:7624. A ``--plan`` the agent would refuse (a bad file, autofocus asked for without
the extra ``[agents]``) is said at once and the command exits, before anything serves.
``--sky-clock`` (or ``INDIPY_AGENT_SKY_CLOCK``) rehearses a night: the runs follow a sky time
of their own (`indipycore.skyclock`), the same night again after a restart."""

from __future__ import annotations

import argparse

from indipycore.skyclock import ENV_SKY_CLOCK

from .. import assembly
from ..link import ENV_SERVER
from ..plan.toml import PlanError
from .driver import DESCRIPTION
from .driver import AgentDriver
from .driver import make_driver
from .night import check_plan_file

__all__ = ["main"]


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", default=None,
                        help="a plan file (TOML) loaded at start (default: $INDIPY_AGENT_PLAN)")
    parser.add_argument("--start", action="store_true",
                        help="run the --plan at once, no client needed")
    parser.add_argument("--sky-clock", default=None, metavar="SKY[@WALL][xRATE]",
                        help="rehearse a night: the runs' sky time is SKY at the wall time "
                             "WALL (ISO 8601 with a zone; default: now), passing RATE times "
                             "as fast (default 1); a restart given the same setting "
                             f"continues the same night (default: ${ENV_SKY_CLOCK})")


def _build(command: assembly.Command) -> AgentDriver:
    args = command.args
    if args.start and not args.plan:
        raise ValueError("--start needs --plan FILE")
    if args.plan:
        try:
            check_plan_file(args.plan)
        except PlanError as refused:
            raise ValueError(f"--plan refused: {refused}") from None
    return make_driver(command.host, command.port, state=command.state_dir, plan=args.plan,
                       start=args.start, sky_clock=args.sky_clock,
                       config_dir=command.config_dir)


def main(argv: list[str] | None = None) -> None:
    assembly.main(DESCRIPTION, __doc__, argv, build=_build, options=_options,
                  server_help=f"the INDI server the agent drives (default: ${ENV_SERVER}, "
                              "else the server it serves on, else localhost)",
                  state_help="where the agent keeps what a restart resumes (default: "
                             "$INDIPY_AGENT_STATE, else ~/.local/state/indipy/imager-agent)")


if __name__ == "__main__":
    main()
