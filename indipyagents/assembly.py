"""How every agent is assembled, written once.

An agent is a `Description` (its device's default name, DRIVER_EXEC and DRIVER_VERSION); a
device made of its parts' roles (`make_device`: indilib's CONNECTION, DRIVER_INFO, DEBUG and
CONFIG_PROCESS, then each part's vectors); a driver on `AgentDriverBase`, whose `hardware` runs
the agent's `work` for the driver's life and closes its link when it stops; and one command
line (`main`): the serving options (``--port``...), ``--indi-host``/``--indi-port``,
``--config-dir``, ``--state-dir`` for an agent that keeps a state folder, ``--device`` for one
that may run twice side by side, then the agent's own options. An agent's own modules keep
its description and the wiring of its parts, each part given to the others through their
constructors.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from indipydriver import Device
from indipydriver.standard.role import Role
from indipyserver.standalone import run_driver

from .commandline import agent_parser
from .commandline import device_name
from .commandline import server_option
from .link import LinkedDriver

__all__ = ["AgentDriverBase", "Command", "Description", "main", "make_device"]


@dataclass(frozen=True, slots=True)
class Description:
    """What an agent's device says of itself: its default `name` (``--device``, else
    ``INDIDEV``, replace it when `renamable`), DRIVER_EXEC and DRIVER_VERSION."""

    name: str
    driver_exec: str
    driver_version: str = "1.0"
    renamable: bool = True


def make_device(description: Description, parts: Iterable[Role], *, name: str | None = None,
                config_dir: str | Path | None = None) -> Device:
    """The agent's standard device, `name` (else the description's), with each part's
    vectors; CONFIG_SAVE writes to `config_dir` (None: ``~/.indi``, as indilib's)."""
    return Device(name or description.name, roles=list(parts),
                  driver_exec=description.driver_exec,
                  driver_version=description.driver_version, config_dir=config_dir)


class AgentDriverBase(LinkedDriver):
    """Every agent's driver: its devices and the `link` its parts drive the server through
    (`LinkedDriver`). `hardware` runs `work` (what the agent does for its life: a loop, or
    what it does at start), then holds until the driver stops; whichever way it ends,
    `closing` runs, then the link is closed."""

    async def work(self) -> None:
        """The agent's work; return once it is started (the driver then holds)."""
        return

    async def closing(self) -> None:
        """What the agent lets go of when it stops, before its link is closed."""
        return

    async def hardware(self) -> None:
        try:
            await self.work()
            await asyncio.Event().wait()
        finally:
            try:
                await self.closing()
            finally:
                await self.link.close()


@dataclass(frozen=True, slots=True)
class Command:
    """What an agent's command line said: the INDI server (`host`, `port`; None where not
    said), the device's `name`, `config_dir` and `state_dir` (None: the defaults), the agent's
    own options in `args`, and the `parser` its refusals go through."""

    parser: argparse.ArgumentParser
    args: argparse.Namespace
    host: str | None
    port: int | None
    name: str
    config_dir: str | None
    state_dir: str | None


Options = Callable[[argparse.ArgumentParser], None]
Build = Callable[[Command], AgentDriverBase]


def _no_options(parser: argparse.ArgumentParser) -> None:
    return None


def main(description: Description, doc: str | None, argv: list[str] | None, *,
         server_help: str, build: Build, options: Options = _no_options,
         state_help: str | None = None) -> None:
    """An agent's executable: its command line read (`options` adds the agent's own; with
    `state_help`, ``--state-dir``), the driver `build` makes from it run, serving itself or
    under a server (`indipyserver.standalone`). A `ValueError` of `build` stops the command
    with its message, before anything serves."""
    parser = agent_parser(doc, server_help,
                          device=description.name if description.renamable else None)
    parser.add_argument("--config-dir", default=None,
                        help="where CONFIG_SAVE writes (default ~/.indi, as indilib's)")
    if state_help is not None:
        parser.add_argument("--state-dir", default=None, help=state_help)
    options(parser)
    args = parser.parse_args(argv)
    host, port = server_option(parser, args)
    name = device_name(args, description.name) if description.renamable else description.name
    command = Command(parser, args, host, port, name, args.config_dir,
                      getattr(args, "state_dir", None))
    try:
        driver = build(command)
    except ValueError as refused:
        parser.error(str(refused))
    run_driver(driver, args)
