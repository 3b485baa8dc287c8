"""indiserver-compatible control FIFO: ``start``/``stop`` lines add and remove drivers at run time.

indiwebmanager runs ``indiserver -f /tmp/indiFIFO`` and writes lines such as
``start indi_simulator_ccd -n "CCD Simulator"`` into the FIFO, so accepting the same lines makes
this server a drop-in backend. Grammar (indilib ``Fifo.cpp``)::

    start <driver> [-n "name"] [-c "config"] [-s "skel"] [-p "prefix"]
    stop  <driver> [-n "name"]

and a line containing ``@`` names a remote server, ``start "Dev Name"@host:7625``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shlex
import stat
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from indipyserver.drivers.remote import RemoteSpec
from indipyserver.drivers.remote import parse_remote_spec

__all__ = ["FifoCommand", "FifoListener", "parse_fifo_line"]

logger = logging.getLogger(__name__)

_OPTIONS = {"-n": "name", "-c": "config", "-s": "skel", "-p": "prefix"}


@dataclass(frozen=True, slots=True)
class FifoCommand:
    """One parsed FIFO line. ``remote`` is set instead of ``driver`` for ``@`` lines."""

    action: Literal["start", "stop"]
    driver: str
    name: str | None = None
    config: str | None = None
    skel: str | None = None
    prefix: str | None = None
    remote: RemoteSpec | None = None


def parse_fifo_line(line: str) -> FifoCommand:
    """Parse one FIFO line; raises ValueError saying what is wrong (the caller logs and goes on)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"bad quoting in FIFO line {line!r}: {exc}") from None
    if len(words) < 2 or words[0] not in ("start", "stop"):
        raise ValueError(f"FIFO line must be 'start <driver> ...' or 'stop <driver> ...': {line!r}")
    action: Literal["start", "stop"] = "start" if words[0] == "start" else "stop"
    driver = words[1]
    values: dict[str, str] = {}
    rest = words[2:]
    while rest:
        option = rest.pop(0)
        if option not in _OPTIONS or not rest:
            raise ValueError(f"unknown or incomplete option {option!r} in FIFO line {line!r}")
        values[_OPTIONS[option]] = rest.pop(0)
    if action == "stop" and set(values) - {"name"}:
        raise ValueError(f"'stop' accepts only -n: {line!r}")
    remote = parse_remote_spec(driver) if "@" in driver else None
    return FifoCommand(action=action, driver=driver, remote=remote, **values)


class FifoListener:
    """Reads commands from a named pipe for the life of the server and hands them to a callback.

    The FIFO is created if missing. It is opened read-write so that this process always holds a
    writer: a read-only FIFO reports EOF whenever the last writer (each ``echo > fifo``) closes,
    which would spin. Should EOF still happen, the FIFO is reopened, as indiserver does.
    """

    def __init__(
        self, path: str, on_command: Callable[[FifoCommand], Awaitable[None] | None]
    ) -> None:
        self.path = path
        self._on_command = on_command

    def _open(self) -> int:
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            os.mkfifo(self.path, 0o600)
        else:
            if not stat.S_ISFIFO(mode):
                raise ValueError(f"{self.path} exists and is not a FIFO")
        return os.open(self.path, os.O_RDWR | os.O_NONBLOCK)

    async def run(self) -> None:
        """Read lines until cancelled; bad lines are logged and skipped."""
        loop = asyncio.get_running_loop()
        while True:
            reader = asyncio.StreamReader()
            pipe = os.fdopen(self._open(), "rb", buffering=0)
            transport, _ = await loop.connect_read_pipe(
                functools.partial(asyncio.StreamReaderProtocol, reader), pipe
            )
            logger.info("listening for start/stop commands on FIFO %s", self.path)
            try:
                while line_bytes := await reader.readline():
                    await self._handle(line_bytes)
            finally:
                transport.close()
            logger.info("FIFO %s reached EOF; reopening", self.path)

    async def _handle(self, line_bytes: bytes) -> None:
        line = line_bytes.decode("utf-8", "replace").strip()
        if not line:
            return
        try:
            command = parse_fifo_line(line)
        except ValueError as exc:
            logger.error("%s", exc)
            return
        logger.info("FIFO command: %s", line)
        try:
            result = self._on_command(command)
            if result is not None:
                await result
        except Exception:
            logger.exception("FIFO command %r failed", line)
