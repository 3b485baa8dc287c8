"""The Alpaca face's own door into its server: a private Unix socket whose one client is the face.

The face (``IPyServer.serve_alpaca``, ``--alpaca``) is an INDI client of the server that hosts
it. Over TCP it was ``anonymous`` from 127.0.0.1, so the access rules could not tell it from any
other client on that port: what Alpaca clients may set could not differ from what INDI clients
may. Here it connects to an abstract Unix socket with a random name (Linux), and a connection is
served only when the kernel says (SO_PEERCRED) that the process at its other end is the face's:
this process for a face in the server's loop, the child for one in a process of its own
(`pids`). That client's identity is `ALPACA`, which rules name (``alpaca write *``); any other
peer is closed at once and logged. The name is no secret (abstract names are listed in
``/proc/net/unix``): the process id is the check, so nothing here trusts the network.

Elsewhere than Linux (no abstract names, no SO_PEERCRED) there is no such door (`AVAILABLE`):
the face connects over TCP and is ``anonymous``, as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable
from collections.abc import Collection
from typing import TYPE_CHECKING

from indipycore.logbudget import WarningBudget
from indipyserver.clients.identity import peer_pid

if TYPE_CHECKING:
    from indipyserver.clients.clientconnection import ClientConnection

__all__ = ["ALPACA", "AVAILABLE", "FacePort"]

logger = logging.getLogger("indipyserver.clients")  # the name users' logs know

#: The identity of the face's requests, as the access rules and the audit trail name it.
ALPACA = "alpaca"
#: Whether this system has the door (abstract Unix names and SO_PEERCRED: Linux).
AVAILABLE = sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED")


class FacePort:
    """The face's private listener. `factory` makes the server's client connections; `pids()`
    answers, at each connection, the process ids allowed in (none while no face runs)."""

    def __init__(self, factory: Callable[[], ClientConnection],
                 pids: Callable[[], Collection[int]]) -> None:
        self.factory = factory
        self.pids = pids
        # Random, so that two servers on one machine (or a restart) never meet.
        self.path = f"indipyserver-alpaca-{os.getpid()}-{secrets.token_hex(8)}"
        self.accepted = 0
        self.refused = 0
        self._warnings = WarningBudget(noun="refusals on the Alpaca face's socket")

    @property
    def host(self) -> str:
        """The INDI host name that reaches it: libindiclient's ``localhost:PATH`` form, which
        indipyclient reads as this abstract socket."""
        return "localhost:" + self.path

    async def listen(self) -> asyncio.Server:
        """Listen on the abstract socket."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind("\0" + self.path)
            return await asyncio.get_running_loop().create_unix_server(
                lambda: _Door(self), sock=sock)
        except BaseException:
            sock.close()
            raise

    def refuse(self, pid: int | None) -> None:
        """Count and log a peer that is not the face."""
        self.refused += 1
        note = self._warnings.take()
        if note is not None:
            logger.warning("refused a connection to the Alpaca face's socket from %s: only "
                           "the face may use it%s",
                           f"process {pid}" if pid is not None else "an unknown process", note)


class _Door(asyncio.Protocol):
    """What an accepted connection is first: checked, then handed to a `ClientConnection`
    with the identity `ALPACA`, or closed."""

    def __init__(self, port: FacePort) -> None:
        self.port = port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        pid = peer_pid(transport.get_extra_info("socket"))
        if pid is None or pid not in self.port.pids():
            self.port.refuse(pid)
            transport.abort()
            return
        client = self.port.factory()
        client.identity = ALPACA
        client.peer = f"alpaca face (process {pid})"
        self.port.accepted += 1
        # Before the transport's first read (asyncio starts reading after this callback):
        # the client takes the socket as if it had been accepted for it.
        transport.set_protocol(client)
        client.connection_made(transport)
        client.label = f"alpaca-face-{pid}"

    def data_received(self, data: bytes) -> None:  # never: the transport is handed on
        raise AssertionError("the face's door read data")
