"""``indipy_agent_guider``: the Guider Agent as an executable driver (under indilib's
``indiserver`` or ours) or serving itself. Its client connects to ``--indi-host``/
``--indi-port`` (or ``INDIPY_AGENT_SERVER=host:port``), else localhost:7624; PHD2's event
server listens on ``--phd2-port`` (or ``INDIPY_PHD2_PORT``, as indilib's ``indiserver`` starts a
driver with no arguments), else 4400, PHD2's; 0 for none."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import assembly
from .. import defaults
from ..link import ENV_SERVER
from .agent import DESCRIPTION
from .agent import GuiderDriver
from .agent import make_driver
from .phd2server import DEFAULT_PORT

__all__ = ["ENV_PHD2_PORT", "main"]

#: The PHD2 port when ``--phd2-port`` is not given (a driver under indiserver has no arguments).
ENV_PHD2_PORT = "INDIPY_PHD2_PORT"


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phd2-port", type=int, default=None,
                        help=f"PHD2's event server's TCP port (default: ${ENV_PHD2_PORT}, else "
                             "4400; 0: none)")
    parser.add_argument("--phd2-host", default=None,
                        help="the address PHD2's server listens on (default: where the INDI "
                             "server is reached, e.g. localhost; 0.0.0.0 for every interface, "
                             "to guide from Ekos or NINA on another machine)")
    parser.add_argument("--camera", default=defaults.GUIDE_CAMERA,
                        help=f"the guide camera's device, ACTIVE_DEVICES.ACTIVE_CCD until a "
                             f"client or a saved config says otherwise (default: "
                             f"{defaults.GUIDE_CAMERA!r})")
    parser.add_argument("--mount", default=defaults.MOUNT,
                        help=f"the mount's device, ACTIVE_DEVICES.ACTIVE_TELESCOPE likewise "
                             f"(default: {defaults.MOUNT!r})")


def _phd2_port(given: int | None) -> int:
    """``--phd2-port``, else ``INDIPY_PHD2_PORT``, else 4400; ValueError saying what is wrong."""
    if given is None:
        try:
            given = int(os.environ.get(ENV_PHD2_PORT) or DEFAULT_PORT)
        except ValueError:
            raise ValueError(f"{ENV_PHD2_PORT}={os.environ[ENV_PHD2_PORT]!r}: "
                             "not a port number") from None
    if not 0 <= given < 65536:
        raise ValueError(f"--phd2-port {given}: must be 0..65535")
    return given


def _build(command: assembly.Command) -> GuiderDriver:
    state = command.state_dir
    if state is None:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        state = str(Path(base) / "indipy" / "guider-agent")
    return make_driver(command.host, command.port, name=command.name,
                       phd2_port=_phd2_port(command.args.phd2_port),
                       phd2_host=command.args.phd2_host, camera=command.args.camera,
                       mount=command.args.mount, config_dir=command.config_dir,
                       state=state)


def main(argv: list[str] | None = None) -> None:
    assembly.main(DESCRIPTION, __doc__, argv, build=_build, options=_options,
                  server_help=f"the INDI server of the camera and mount (default: "
                              f"${ENV_SERVER}, else the server it serves on)",
                  state_help="where the calibration is kept across restarts (default: "
                             "$XDG_STATE_HOME/indipy/guider-agent, ~/.local/state/...)")


if __name__ == "__main__":
    main()
