"""The ``-f`` FIFO's commands applied to a running server, as indiserver applies them.

``start`` adds an executable driver (or, with ``@``, chains a remote); ``stop`` removes one
driver or remote a line, the one started longest ago. A command that cannot be carried out is
logged and dropped; the server goes on. The lines are read and parsed by ``fifo``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipyserver.drivers.executable import ExDriverConnection
from indipyserver.drivers.remote import RemoteConnection
from indipyserver.drivers.remote import RemoteSpec
from indipyserver.fifo import FifoCommand

if TYPE_CHECKING:
    from indipyserver.server import IPyServer

__all__ = ["FifoControl"]

#: The command's own log (shown without -v, as indiserver shows what its FIFO did).
logger = logging.getLogger("indipyserver.cli")


class FifoControl:
    """Applies FIFO commands to a running server."""

    def __init__(self, server: IPyServer, *, max_restarts: int, shared_blobs: bool | None,
                 add_remote: Callable[[RemoteSpec], None]) -> None:
        """`max_restarts` and `shared_blobs` for the executable drivers it starts (the command
        line's -r and --shared-blobs); `add_remote` chains a remote with the command line's
        TLS files (ValueError when they cannot be used)."""
        self.server = server
        self.max_restarts = max_restarts
        self.shared_blobs = shared_blobs
        self.add_remote = add_remote

    def __call__(self, command: FifoCommand) -> None:
        if command.remote is not None:
            self._remote(command)
        elif command.action == "start":
            try:
                self.server.add_exdriver(
                    command.driver,
                    name=command.name,
                    config=command.config,
                    skel=command.skel,
                    prefix=command.prefix,
                    max_restarts=self.max_restarts,
                    shared_blobs=self.shared_blobs,
                )
            except OSError as exc:  # not found, not executable: dropped, never retried
                logger.error("FIFO start: not started: %s", exc)
        else:
            self._stop(command)

    def _stop(self, command: FifoCommand) -> None:
        """``stop BIN [-n NAME]`` stops one driver, as indiserver (``Fifo.cpp``) does: of the
        drivers running BIN (and, with -n, named NAME or serving device NAME), the one started
        longest ago, a restart counting as a start; the next line stops the next one."""
        owner = self.server.router.owner
        running = [
            conn for conn in self.server.connections
            if isinstance(conn, ExDriverConnection)
            and conn.program == command.driver
            and not conn.exited_for_good
            and (command.name is None or conn.name == command.name
                 or owner(command.name) is conn)
        ]
        if not running:
            logger.warning("FIFO stop: no running driver %s%s", command.driver,
                           "" if command.name is None else f" named {command.name!r}")
            return
        never = float("inf")  # not started yet: after those that have
        oldest = min(running, key=lambda c: never if c.start_serial is None else c.start_serial)
        self.server.remove_connection(oldest)
        logger.info("FIFO stop: stopped %s (pid %s)%s", oldest.label, oldest.pid,
                    f", the oldest of {len(running)} running" if len(running) > 1 else "")

    def _remote(self, command: FifoCommand) -> None:
        spec = command.remote
        assert spec is not None
        if command.action == "start":
            try:
                self.add_remote(spec)
            except ValueError as exc:  # its TLS files cannot be used: dropped, said why
                logger.error("FIFO start: not started: %s", exc)
            return
        for conn in list(self.server.connections):
            if (
                isinstance(conn, RemoteConnection)
                and (conn.host, conn.port) == (spec.host, spec.port)
                and (spec.device is None or conn.device == spec.device)
            ):
                self.server.remove_connection(conn)
                logger.info("FIFO stop: stopped %s", conn.label)
                return  # one per line, as for drivers
        logger.warning("FIFO stop: no remote %s", command.driver)
