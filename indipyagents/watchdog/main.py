"""``indipy_agent_watchdog``: indilib's indi_watchdog as an agent that fails closed.

It runs under indilib's ``indiserver`` or ours, or serves itself (`indipyserver.standalone`).
Its client connects where WATCHDOG_SETTINGS says (indilib's INDISERVER_HOST and
INDISERVER_PORT, localhost:7624 by default), unless ``--indi-host``/``--indi-port`` (or
``INDIPY_AGENT_SERVER=host:port``) fix it; serving itself, it watches its own port unless told
otherwise. ``--device`` (or ``INDIDEV``, as indiserver's ``-n``) names the device, so two
watchdogs can run side by side."""

from __future__ import annotations

from .. import assembly
from ..link import ENV_SERVER
from .agent import DESCRIPTION
from .agent import WatchdogDriver
from .agent import make_driver

__all__ = ["main"]


def _build(command: assembly.Command) -> WatchdogDriver:
    return make_driver(command.host, command.port, name=command.name,
                       config_dir=command.config_dir)


def main(argv: list[str] | None = None) -> None:
    assembly.main(DESCRIPTION, __doc__, argv, build=_build,
                  server_help=f"the INDI server the watchdog watches (default: ${ENV_SERVER}, "
                              "else WATCHDOG_SETTINGS, else the server it serves on)")


if __name__ == "__main__":
    main()
