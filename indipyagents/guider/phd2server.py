"""`Phd2Server`: PHD2's event server on TCP (port 4400 by default), the thin asyncio layer
around `phd2wire`.

Several clients at once. Each gets the catch-up events on connect (Version, then what the
`Phd2Handler` says: LockPositionSet, CalibrationComplete, StartGuiding..., then AppState, as
PHD2's ``send_catchup_events``), every event published after, and the replies to its own
requests, in order. What goes to a client waits in its own bounded queue (`QUEUE_SIZE`
lines): a client that does not read fills it and is dropped, and nobody else waits for it.
A bad line gets its JSON-RPC error and the connection goes on; a method that raises
unexpectedly answers code 1 with the reason, logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any
from typing import Protocol

from .events import AppStateEvent
from .events import GuideEvent
from .events import Version
from .phd2wire import INVALID_PARAMS
from .phd2wire import METHOD_NOT_FOUND
from .phd2wire import OPERATION_FAILED
from .phd2wire import ErrorReply
from .phd2wire import InvalidParams
from .phd2wire import LineReader
from .phd2wire import Request
from .phd2wire import RequestBatch
from .phd2wire import encode
from .phd2wire import encode_reply
from .phd2wire import error_reply
from .phd2wire import result_reply

__all__ = ["DEFAULT_PORT", "QUEUE_SIZE", "MethodNotFound", "OperationFailed", "Phd2Events",
           "Phd2Handler", "Phd2Server"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4400
#: Lines a client may have waiting before it is dropped (a guide step a frame: minutes).
QUEUE_SIZE = 512
#: PHD2's version as its Version event says it; MsgVersion is the protocol's.
PHD_VERSION, PHD_SUBVERSION, MSG_VERSION = "2.6.13", "indipy", 1

class OperationFailed(Exception):
    """A method understood that could not be done: code 1 with this message (PHD2 answers
    a few with another code: get_star_image's "no star selected" is 2)."""

    def __init__(self, message: str, code: int = OPERATION_FAILED) -> None:
        super().__init__(message)
        self.code = code


class MethodNotFound(Exception):
    """A method this guider does not have: -32601."""


class Phd2Handler(Protocol):
    """What the server asks of the guider."""

    async def call(self, method: str, params: list[Any] | dict[str, Any] | None) -> Any:
        """The method's result; `InvalidParams`, `OperationFailed` or `MethodNotFound`."""

    def catchup(self) -> list[GuideEvent]:
        """The events a new client gets between Version and AppState."""

    def app_state(self) -> str:
        """PHD2's state name now (Stopped, Looping, Guiding...)."""


class _Client:
    def __init__(self, writer: asyncio.StreamWriter, size: int) -> None:
        self.writer = writer
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=size)
        self.dropped = False
        peer = writer.get_extra_info("peername")
        self.name = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def send(self, line: bytes) -> bool:
        """Queue `line`; False (and the client dropped) when its queue is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(line)
        except asyncio.QueueFull:
            self.drop("it does not read (its queue is full)")
            return False
        return True

    def drop(self, why: str) -> None:
        if not self.dropped:
            self.dropped = True
            logger.warning("PHD2 client %s dropped: %s", self.name, why)
            self.writer.transport.abort()


def listen_host(given: str | None, indi_host: str) -> str:
    """Where PHD2's port listens: `given` (``--phd2-host``; "" or ``0.0.0.0``: every
    interface), else where the agent reaches its INDI server (`indi_host`), so a server kept
    to this machine keeps guiding to it too: PHD2's own default, every interface, let anyone
    on the network stop the guiding (issue 89 item 8). A server on a Unix socket
    (``localhost:/path``) is this machine's: the loopback address."""
    if given is not None:
        return given
    if indi_host.startswith("localhost:") or not indi_host:
        return "127.0.0.1"
    return indi_host


class Phd2Events:
    """PHD2's events to the connected clients: made first, so the guider's session is given
    its `publish` when it is made, then given to the `Phd2Server` that accepts the clients.
    `inst` is PHD2's instance number, in every event."""

    def __init__(self, inst: int = 1) -> None:
        self.inst = inst
        self.hostname = socket.gethostname()
        self.clients: set[_Client] = set()

    def event(self, event: GuideEvent) -> bytes:
        return encode(event, timestamp=time.time(), host=self.hostname, inst=self.inst)

    def publish(self, event: GuideEvent) -> None:
        """Send an event to every client (one that cannot take it is dropped)."""
        if not self.clients:
            return
        line = self.event(event)
        for client in list(self.clients):
            if not client.send(line):
                self.clients.discard(client)


class Phd2Server:
    """PHD2's event server for `handler` on `host`:`port` (0: any free port; `port` says
    which once `start` returned; `host` "": every interface)."""

    def __init__(self, handler: Phd2Handler, port: int = DEFAULT_PORT, host: str = "",
                 *, queue_size: int = QUEUE_SIZE, inst: int = 1,
                 events: Phd2Events | None = None) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.queue_size = queue_size
        #: Where events are published: given when the guider publishes before this exists.
        self.events = events or Phd2Events(inst)
        self.clients = self.events.clients
        self._server: asyncio.Server | None = None

    async def start(self, host: str | None = None) -> int:
        """Listen (on `host` when given, else `host` as made); the port listened on."""
        if host is not None:
            self.host = host
        self._server = await asyncio.start_server(self._serve, self.host or None, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("PHD2 event server listening on %s port %d", self.host or "every interface",
                    self.port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for client in list(self.clients):
                client.drop("the guider stops")
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def event(self, event: GuideEvent) -> bytes:
        return self.events.event(event)

    def publish(self, event: GuideEvent) -> None:
        """Send an event to every client (one that cannot take it is dropped)."""
        self.events.publish(event)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer, self.queue_size)
        self.clients.add(client)
        logger.info("PHD2 client %s connected", client.name)
        client.send(self.event(Version(phd_version=PHD_VERSION, phd_subver=PHD_SUBVERSION,
                                       overlap_support=True, msg_version=MSG_VERSION)))
        for event in self.handler.catchup():
            client.send(self.event(event))
        client.send(self.event(AppStateEvent(state=self.handler.app_state())))
        writing = asyncio.create_task(self._write(client), name=f"PHD2 to {client.name}")
        try:
            await self._read(reader, client)
        except asyncio.CancelledError:
            pass  # the loop ends: the connection ends with it
        finally:
            self.clients.discard(client)
            writing.cancel()
            with contextlib.suppress(BaseException):
                await writing
            if not client.dropped:
                client.drop("disconnected")
            logger.info("PHD2 client %s gone", client.name)

    async def _write(self, client: _Client) -> None:
        try:
            while True:
                line = await client.queue.get()
                client.writer.write(line)
                await client.writer.drain()
        except (ConnectionError, OSError):
            client.drop("its connection broke")

    async def _read(self, reader: asyncio.StreamReader, client: _Client) -> None:
        lines = LineReader()
        while not client.dropped:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            for incoming in lines.feed(data):
                if isinstance(incoming, ErrorReply):
                    client.send(incoming.encode())
                elif isinstance(incoming, RequestBatch):
                    replies = [reply for item in incoming.items
                               if (reply := await self._answer(item)) is not None]
                    if replies:
                        client.send(encode_reply(replies))
                else:
                    reply = await self._answer(incoming)
                    if reply is not None:
                        client.send(encode_reply(reply))

    async def _answer(self, item: Request | ErrorReply) -> dict[str, Any] | None:
        if isinstance(item, ErrorReply):
            return error_reply(item.id, item.code, item.message)
        try:
            result = await self.handler.call(item.method, item.params)
        except MethodNotFound:
            reply = error_reply(item.id, METHOD_NOT_FOUND, "method not found")
        except InvalidParams as exc:
            reply = error_reply(item.id, INVALID_PARAMS, str(exc))
        except OperationFailed as exc:
            reply = error_reply(item.id, exc.code, str(exc))
        except Exception as exc:  # a bug answers code 1, logged; the server goes on
            logger.exception("PHD2 method %s failed", item.method)
            reply = error_reply(item.id, OPERATION_FAILED, f"{type(exc).__name__}: {exc}")
        else:
            reply = result_reply(item.id, result)
        return reply if item.has_id else None
