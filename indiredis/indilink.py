"""One TCP connection to an INDI server, kept up, as the bridges need it: raw frames.

The client library's ``Connection`` turns what arrives into its model's client events; a bridge
needs the elements themselves (to store each, and to pass its bytes on unchanged). So this thin
layer reads the server through the client library's reader, ``ServerStream`` (bounded, with flow
control both ways), frames each read with the protocol core's ``Framer`` (``stream_frames``),
keeps the connection up with the same reconnect policy and loop (a ``Retry`` and its
``call_with_retry``, ``indipycore.retrypolicy``: by default ``bridge_retry()``), each attempt
bounded by the connect timeout of every INDI connection (``indipycore.connecting``), and hands
the complete frames of each read to the bridge's ``on_frames`` at once (awaited: a slow store
slows the reading, nothing piles up), so a burst costs the bridge one redis pipeline per read
instead of one per element. Pings are answered at once (indilib >= 1.9.7 drivers wait for
the answer before their next BLOB). Where our server reaches a bridge as a remote server
(``listen``), the bridge reads it the same way (``served_frames``).

What the bridge sends goes through a bounded queue (``send``): past ``max_queue`` elements the
newest is dropped and logged. On every (re)connection ``<getProperties version="1.7"/>`` is
sent first, so the server replays everything it holds; ``on_connect`` / ``on_lost`` let the
bridge clear and rebuild what it stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from ssl import SSLContext

from indipyclient.session.serverstream import ServerStream
from indipycore.connecting import CONNECT_TIMEOUT
from indipycore.connecting import connect_within
from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError
from indipycore.protocol import events as ev
from indipycore.protocol import serialise
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded
from indipydiscovery.hostname import server_address

__all__ = ["IndiLink", "bridge_retry", "check_cancelled", "listen", "ping_reply", "served_frames",
           "stop_task", "stream_frames"]

logger = logging.getLogger(__name__)

OnFrames = Callable[[list[Frame]], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]

GET_PROPERTIES = serialise(ev.GetProperties(version="1.7"))
#: What a server sends that may be large: read in pieces and joined once (``stream_frames``).
BLOB_TAGS = frozenset({"setBLOBVector"})


async def _nothing() -> None:
    return None


def bridge_retry(backoff: Backoff | None = None, stable_after: float = 0.0) -> Retry:
    """The bridges' reconnect policy: ``backoff`` (by default 0.2 s doubling to 5 s, with
    equal jitter), for ever, counted from 0 again at once after a success (or after a
    connection of ``stable_after`` seconds)."""
    if backoff is None:
        backoff = ExponentialBackoff(0.2, 5.0, jitter="equal")
    return Retry(backoff, stable_after=stable_after)


def check_cancelled() -> None:
    """Raise CancelledError if the current task was asked to stop: a library below (redis-py)
    may have turned the cancellation into an error that was handled, and a loop reading a
    peer would then go on for ever."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError


def ping_reply(ping: Frame) -> bytes:
    """The answer to a pingRequest, with its uid (indilib >= 1.9.7 waits for it)."""
    uid = ping.attrs.get("uid")
    return serialise(ev.PingReply(uid))


async def stream_frames(stream: ServerStream, framer: Framer,
                        skipped: Callable[[ProtocolError], None] | None = None,
                        ) -> AsyncIterator[list[Frame]]:
    """A server's stream, read by read through the client library's ``ServerStream``: the
    complete elements of each read, its pings answered at once and left out, malformed input
    given to ``skipped``, until EOF. (One step per read, not per element; the connection's
    error reaches the caller.)

    With a framer that streams BLOBs (``Framer(stream_tags=...)``, as ``IndiLink``'s does), a
    large element comes out as one `Frame` all the same: its pieces, views of the reads the
    stream lends while it streams, are joined once when it ends. That is one copy of a BLOB
    in exactly sized memory, where assembling it in the framer's buffer cost a copy of every
    read into ``bytes``, a second into a buffer growing by appending, and a slower search
    for the closing tag. An element cut short by its peer (``FrameEnd.complete`` False) is
    dropped, its error given to ``skipped``, as a malformed one is."""
    pieces: list[bytes | memoryview] = []
    head: FrameHead | None = None
    while data := await stream.read(framer.streaming):
        if isinstance(data, bytearray):
            items = framer.feed_lent(data)  # a whole read in the middle of a BLOB, lent
        else:
            items = framer.feed(data)
        del data  # a lent buffer is read into again once no view of it is left
        frames: list[Frame] = []
        for item in items:
            kind = type(item)
            if kind is Frame:
                if item.tag == "pingRequest":
                    stream.write(ping_reply(item))
                else:
                    frames.append(item)
            elif kind is FrameChunk:
                pieces.append(item.data)
            elif kind is FrameHead:
                head = item
                pieces = [item.data]
            elif kind is FrameEnd:
                if item.complete and head is not None:
                    pieces.append(item.data)
                    frames.append(Frame(head.tag, head.attrs, b"".join(pieces)))
                head = None
                pieces = []
            elif skipped is not None and isinstance(item, ProtocolError):
                skipped(item)
        yield frames


def served_frames(stream: ServerStream) -> AsyncIterator[list[Frame]]:
    """What our server sends a bridge that it reached as a remote server (``listen``), as
    ``stream_frames`` reads it; malformed input is skipped."""
    return stream_frames(stream, Framer())


async def listen(handler: Callable[[ServerStream], Awaitable[None]], host: str,
                 port: int) -> asyncio.Server:
    """A listener for our server to reach a bridge as a remote server: each connection is read
    through the client library's ``ServerStream`` and served by ``handler(stream)`` (closed
    when it returns)."""
    loop = asyncio.get_running_loop()
    serving: set[asyncio.Task[None]] = set()

    async def serve(stream: ServerStream) -> None:
        try:
            await handler(stream)
        finally:
            stream.close()

    def connected() -> ServerStream:
        # The handler's first read waits for the transport's first data.
        stream = ServerStream()
        task = loop.create_task(serve(stream))
        serving.add(task)
        task.add_done_callback(serving.discard)
        return stream

    return await loop.create_server(connected, host, port)


async def stop_task(task: asyncio.Task[None], *quiet: type[BaseException]) -> None:
    """Cancel a helper task and wait for it; its CancelledError (and ``quiet`` errors) are
    swallowed, but a cancellation of the *current* task is not: it still propagates."""
    task.cancel()
    # A task that swallowed its cancellation once is asked again (bounded), then awaited.
    for _ in range(20):
        done, _pending = await asyncio.wait({task}, timeout=0.5)
        if done:
            break
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except quiet:
        pass


class IndiLink:
    """A bridge's connection to ``host:port`` (see the module docstring); `host` may be a
    discovered server's service name (``indipydiscovery.hostname``), looked for at each
    attempt."""

    def __init__(self, host: str, port: int, on_frames: OnFrames, *,
                 on_connect: Hook = _nothing, on_lost: Hook = _nothing,
                 backoff: Backoff | None = None, max_queue: int = 1000,
                 max_element_size: int = 512 * 1024 * 1024, stable_after: float = 5.0,
                 retry: Retry | None = None,
                 connect_timeout: float | None = CONNECT_TIMEOUT,
                 ssl: SSLContext | None = None) -> None:
        """`ssl`: the server's TLS port, its certificate verified and ours presented if the
        context holds one (a failure is a failed attempt, retried)."""
        self.host, self.port, self.ssl = host, port, ssl
        self.on_frames = on_frames
        self.on_connect = on_connect
        self.on_lost = on_lost
        self.retry = retry or bridge_retry(backoff, stable_after)
        #: Seconds one attempt to connect may take (``indipycore.connecting``; None: no bound).
        self.connect_timeout = connect_timeout
        self.max_element_size = max_element_size
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(max_queue)
        self._budget = WarningBudget(noun="elements dropped")
        self._malformed = WarningBudget(noun="malformed elements")
        self.connected = asyncio.Event()

    def send(self, data: bytes) -> bool:
        """Queue one element for the server; False (logged) when the queue is full."""
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            note = self._budget.take()
            if note is not None:
                logger.warning("queue to INDI server %s:%s full: dropped %s%s", self.host,
                               self.port, clip(data.decode(errors="replace")), note)
            return False
        return True

    async def run(self) -> None:
        """Connect, serve and reconnect until cancelled (or a ``retry`` with a limit gives up:
        ``RetriesExhausted``): each attempt is ``_attempt``, retried by the one loop,
        ``Retry.call_with_retry``."""
        attempts = self.retry.attempts()
        await self.retry.call_with_retry(lambda: self._attempt(attempts), self._failed,
                                         attempts=attempts, log=self._log_failure)

    async def _attempt(self, attempts: Attempts) -> None:
        """One connection: made within ``connect_timeout`` (a server that never answers is a
        ``TimeoutError``, retried as a refusal is), served until lost (``RunEnded``)."""
        tls = self.ssl is not None
        # A discovered server's service name is looked for at each attempt (its address may
        # have changed); not found, it is a ConnectionError, retried as a refusal is.
        where = await server_address(self.host, self.port, tls=tls)
        _, stream = await connect_within(asyncio.get_running_loop().create_connection(
            lambda: ServerStream(tls=tls), where.host, where.port, ssl=self.ssl),
            self.connect_timeout)
        attempts.succeeded()
        logger.info("connected to INDI server %s:%s%s", where.host, where.port,
                    f" ({self.host})" if where.service is not None else "")
        # What was queued for a lost connection is stale: the server is asked afresh.
        while not self._queue.empty():
            self._queue.get_nowait()
        stream.write(GET_PROPERTIES)
        self.connected.set()
        reason = "closed by the server"
        try:
            await self.on_connect()
            await self._session(stream)
        except OSError as exc:  # ConnectionError: the connection went
            reason = str(exc) or type(exc).__name__
        finally:
            self.connected.clear()
            stream.close()
            with contextlib.suppress(Exception):
                await asyncio.shield(stream.wait_closed())
        raise RunEnded(reason)

    async def _failed(self, error: BaseException) -> None:
        if isinstance(error, RunEnded):
            await self.on_lost()  # the bridge clears what it stored of this server

    def _log_failure(self, error: BaseException, delay: float) -> None:
        if isinstance(error, RunEnded):
            logger.info("connection to INDI server %s:%s lost (%s); reconnecting in %.2f s",
                        self.host, self.port, error, delay)
        else:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            logger.info("cannot connect to INDI server %s:%s (%s); retrying in %.2f s",
                        self.host, self.port, reason, delay)

    async def _session(self, stream: ServerStream) -> None:
        """Read until EOF while a second task writes the queue; the writer ends with it."""
        writing = asyncio.create_task(self._write(stream))
        try:
            framer = Framer(max_element_size=self.max_element_size, stream_tags=BLOB_TAGS)
            async for frames in stream_frames(stream, framer, self._skipped):
                if frames:
                    await self.on_frames(frames)
                check_cancelled()
        finally:
            await stop_task(writing, ConnectionError, OSError)

    async def _write(self, stream: ServerStream) -> None:
        while True:
            data = await self._queue.get()
            stream.write(data)
            await stream.drain()

    def _skipped(self, error: ProtocolError) -> None:
        note = self._malformed.take()
        if note is not None:
            logger.warning("skipping malformed input from %s:%s: %s%s", self.host, self.port,
                           clip(str(error)), note)
