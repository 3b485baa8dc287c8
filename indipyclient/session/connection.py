"""The session's connection (asyncio): one connection to an INDI server, kept up.

The server is ``host:port`` over TCP, or, as libindiclient names it, the Unix socket ``PATH``
of the host ``localhost:PATH`` (``unixaddress``: abstract on Linux, ``localhost:`` alone is
indiserver's ``/tmp/indiserver``; the port is then unused). There the server passes an indilib
C driver's BLOBs as memory files beside the bytes: they are received (``unixtransport``), read
into their elements (``attachedblobs``) and reach the program as inline ones would;
``attached_received`` counts them. Logs name the server as ``host:port`` or the socket's path
(``@/tmp/indiserver``).

``Connection.run()`` connects, reads, and reconnects until cancelled:

* on connect it sends ``<getProperties version="1.7"/>`` and every ``enableBLOB`` the program
  asked for (so BLOB modes survive a reconnect), then delivers ``ConnectionMade``;
* each read goes through the pure receiving path (``incoming``: the protocol core's framer and
  parser, with a shortcut for bursts) into the pure ``Model``; what changed is delivered to
  the program (``deliver``, awaited: a slow program slows the reading, never grows a buffer;
  None when the program does not listen; what it raises is logged). A ``pingRequest`` is
  answered at once with the same ``uid`` (indilib >= 1.9.7 drivers wait for it before their
  next BLOB); a malformed element is logged (within a budget) and skipped;
* a ``defBLOBVector`` is answered with an ``enableBLOB`` when BLOBs are wanted for it (the
  folder is set, or the program asked), as indipyclient 0.9.4 does;
* received BLOBs are written to the BLOB folder by a worker thread (``blobfiles``), one at a
  time, before the next element is read;
* each attempt to connect is bounded by ``connect_timeout`` (``CONNECT_TIMEOUT``, 10 s, the
  one bound of every INDI connection: ``indipycore.connecting``), so a host that never
  answers is a failure like a refusal;
* on loss the model is cleared and ``ConnectionLost`` delivered; then it retries as its
  ``Retry`` says, in its one loop (``Retry.call_with_retry``: ``indipycore.retrypolicy``, the
  project's one policy; by default 0.5 s
  doubling to 10 s with equal jitter, for ever, counted from 0 again once a connection has
  stayed up ``stable_after`` seconds). A ``Retry`` with a limit ends ``run()`` with
  ``NotConnected`` when it is used up. Why an attempt failed is ``last_failure`` and is handed
  at once to ``on_failure`` (the command-line tools say it at once, worded by
  ``cannot_connect``, as the terminal client does).

A vector the program set is watched (``expect_answer``): with no answer in its timeout
(clamped to ``timeout_min``..``timeout_max``) a ``VectorTimeOut`` is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from ssl import SSLContext
from ssl import SSLError

from indipyclient.model import events
from indipyclient.model.attachedblobs import AttachedBlobs
from indipyclient.model.blobfiles import place_blob
from indipyclient.model.blobfiles import save_blob
from indipyclient.model.blobstream import BLOBReceiver
from indipyclient.model.blobstream import FileSink
from indipyclient.model.blobstream import MemorySink
from indipyclient.model.blobstream import SavedBLOB
from indipyclient.model.blobstream import Sink
from indipyclient.model.incoming import MAX_ELEMENT_SIZE
from indipyclient.model.incoming import Incoming
from indipyclient.model.incoming import Item
from indipyclient.model.outgoing import NewVector
from indipyclient.model.properties import BLOBVector
from indipyclient.model.tree import Model
from indipycore import retrypolicy
from indipycore.connecting import CONNECT_TIMEOUT
from indipycore.connecting import connect_within
from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol import BLOBEnable
from indipycore.protocol import EnableBLOB
from indipycore.protocol import Event as ProtocolEvent
from indipycore.protocol import Frame
from indipycore.protocol import GetProperties
from indipycore.protocol import PingReply
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import State
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded
from indipycore.tls import tls_reason

from .serverstream import ServerStream
from .unixaddress import server_label
from .unixaddress import unix_path
from .unixtransport import open_unix

# The policy's names are re-exported: ``indipyclient.Retry`` and its backoffs.
__all__ = [
    "CONNECT_TIMEOUT",
    "Connection",
    "ConstantBackoff",
    "ExponentialBackoff",
    "NoBackoff",
    "NotConnected",
    "Retry",
    "cannot_connect",
    "default_retry",
    "failure_reason",
]
ConstantBackoff = retrypolicy.ConstantBackoff
NoBackoff = retrypolicy.NoBackoff

logger = logging.getLogger(__name__)

MAX_BLOB_MODES = 10_000
# The events of a plain set (the model changed, nothing else to do but tell the program).
_PLAIN_SETS = frozenset({events.setNumberVector, events.setTextVector, events.setSwitchVector,
                         events.setLightVector})


class NotConnected(ConnectionError):
    """The client is not connected to its server (now, or any more)."""


def default_retry(backoff: Backoff | None = None, stable_after: float = 5.0) -> Retry:
    """The client's reconnect policy: ``backoff`` (by default 0.5 s doubling to 10 s, with
    equal jitter so that the clients of a restarted server do not all come back at once), for
    ever, counted from 0 again after a connection of ``stable_after`` seconds."""
    if backoff is None:
        backoff = ExponentialBackoff(0.5, 10.0, jitter="equal")
    return Retry(backoff, stable_after=stable_after)


Deliver = Callable[[events.Event], Awaitable[None]]


def failure_reason(exc: OSError) -> str:
    """Why an attempt to connect failed, as the OS says it (``Connection refused``, ``Name or
    service not known``, ...), or ``timed out after 10 s`` (``connect_within``'s words)."""
    if isinstance(exc, SSLError):  # its errno is OpenSSL's, not the OS's
        return tls_reason(exc)
    if isinstance(exc, TimeoutError) and not exc.strerror:
        return str(exc) or f"timed out after {CONNECT_TIMEOUT:g} s"
    if exc.errno is not None and exc.errno > 0:  # asyncio's strerror is "Connect call failed"
        return os.strerror(exc.errno)
    if exc.errno is None:  # asyncio's "Multiple exceptions: [Errno 111] ..., [Errno 99] ..."
        reasons = dict.fromkeys(os.strerror(int(n)) for n in re.findall(r"\[Errno (\d+)\]",
                                                                         str(exc)))
        if reasons:
            return "; ".join(reasons)
    return exc.strerror or str(exc) or type(exc).__name__


def cannot_connect(label: str, reason: str) -> str:
    """The one wording of a failed attempt to connect, for the terminal and the tools:
    ``cannot connect to localhost:7624: Connection refused``."""
    return f"cannot connect to {label}: {reason}" if reason else f"cannot connect to {label}"


class Connection:
    """One client's connection to ``host:port``, or the Unix socket of ``localhost:PATH``
    (see the module docstring)."""

    def __init__(
        self,
        host: str,
        port: int,
        model: Model,
        deliver: Deliver | None,
        *,
        blobfolder: Path | None = None,
        backoff: Backoff | None = None,
        stable_after: float = 5.0,
        max_element_size: int = MAX_ELEMENT_SIZE,
        retry: Retry | None = None,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        ssl: SSLContext | None = None, server_hostname: str | None = None,
    ) -> None:
        """`ssl` (asyncio's convention; ``indipycore.tls.client_context(ca, cert, key)`` makes
        one): the server is reached over TLS, its certificate verified for
        `server_hostname` (by default `host`); a certificate that does not verify is a failed
        attempt like a refused connection, its reason said."""
        if ssl is not None and not isinstance(ssl, SSLContext):
            raise TypeError(f"ssl must be an ssl.SSLContext (indipycore.tls.client_context), "
                            f"not {type(ssl).__name__}")
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.host = host
        self.port = port
        #: The Unix socket's path when `host` is ``localhost:PATH``; None for TCP.
        self.unix_path = unix_path(host)
        #: How logs and errors name the server: ``host:port``, or the socket's path.
        self.label = server_label(host, port)
        self.model = model
        self.deliver = deliver
        self.blobfolder = blobfolder
        self.retry = retry if retry is not None else default_retry(backoff, stable_after)
        self.max_element_size = max_element_size
        #: Seconds one attempt to connect may take (``indipycore.connecting``; None: no bound).
        self.connect_timeout = connect_timeout
        self.default_blob_mode = BLOBEnable.ALSO if blobfolder else BLOBEnable.NEVER
        # What the program asked with enableBLOB, by (device, vector or None): resent on connect.
        self.blob_modes: dict[tuple[str, str | None], BLOBEnable] = {}
        self.timeouts_enabled = True
        self.timeout_min = 2.0
        self.timeout_max = 10.0
        self._pending: dict[tuple[str, str], float] = {}
        self._writer: ServerStream | None = None
        self._budget = WarningBudget(noun="malformed elements")
        self.attempts = 0  # connection attempts so far (tests watch the backoff with it)
        #: Why the last attempt to connect failed ("Connection refused", "Name or service not
        #: known", "timed out after 10 s", ...); "" once connected. Set before the retry's
        #: backoff is asked for the delay, so an observer of the backoff can show it.
        self.last_failure = ""
        #: Called with ``last_failure`` as soon as an attempt to connect has failed, before
        #: the retry's delay (what it raises is logged, never stops the connection).
        self.on_failure: Callable[[str], None] | None = None
        self._incoming: Incoming | None = None
        self._receiver: BLOBReceiver | None = None
        self._attached_before = 0  # BLOB members received as memory files, earlier connections
        self._attached: AttachedBlobs | None = None

    @property
    def attached_received(self) -> int:
        """BLOB members received as memory files (a Unix socket's server passed them so)
        since this object was made."""
        now = self._attached.received if self._attached is not None else 0
        return self._attached_before + now

    @property
    def connected(self) -> bool:
        return self._writer is not None

    # -- sending --------------------------------------------------------------------------

    async def send(self, event: ProtocolEvent) -> None:
        """Send one element; raises ``NotConnected`` when there is no connection."""
        await self.send_bytes(serialise(event))

    async def send_bytes(self, data: bytes) -> None:
        writer = self._writer
        if writer is None:
            raise NotConnected(f"not connected to {self.label}")
        writer.write(data)
        try:
            await writer.drain()
        except ConnectionError as exc:
            raise NotConnected(f"connection to {self.label} lost: {exc}") from None

    def blob_mode(self, device: str, vector: str | None) -> BLOBEnable:
        """The BLOB mode in force for a vector: asked for it, for its device, or the default."""
        mode = self.blob_modes.get((device, vector))
        if mode is None and vector is not None:
            mode = self.blob_modes.get((device, None))
        return mode if mode is not None else self.default_blob_mode

    async def send_enable_blob(self, value: BLOBEnable, device: str, vector: str | None) -> None:
        """Send enableBLOB and remember it, to send again after a reconnect."""
        if vector is None:
            # A device-wide mode replaces the modes asked for its vectors.
            for key in [k for k in self.blob_modes if k[0] == device]:
                del self.blob_modes[key]
        if (device, vector) not in self.blob_modes and len(self.blob_modes) >= MAX_BLOB_MODES:
            raise ValueError(f"more than {MAX_BLOB_MODES} enableBLOB modes remembered")
        self.blob_modes[(device, vector)] = value
        if self.connected:
            await self.send(EnableBLOB(device, value, vector))

    async def send_values(self, event: NewVector, timeout: float) -> None:
        """Send a program's new values of a vector (`event`, a new*Vector): the model's
        vector is marked Busy and its answer expected (`expect_answer`) before the bytes go,
        so that an answer read while they are still being sent (the write paused, a large
        value) ends the Busy instead of being overwritten by it. Not sent (``NotConnected``):
        the vector is left as it was."""
        device, name = event.device, event.name
        vector = self.model.vector(device, name)
        before = vector.state if vector is not None else None
        self.model.mark_busy(device, name)
        self.expect_answer(device, name, timeout)
        try:
            await self.send(event)
        except NotConnected:
            if vector is not None and before is not None and vector.state == State.BUSY:
                vector.state = before
            self._pending.pop((device, name), None)
            raise

    def expect_answer(self, device: str, vector: str, timeout: float) -> None:
        """The program set this vector: deliver ``VectorTimeOut`` if it does not answer."""
        if self.timeouts_enabled:
            wait = min(self.timeout_max, max(self.timeout_min, timeout))
            self._pending[(device, vector)] = time.monotonic() + wait

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve and reconnect until cancelled (or the ``retry`` gives up:
        ``NotConnected``): each attempt is ``_attempt``, retried by the one loop,
        ``Retry.call_with_retry``."""
        attempts = self.retry.attempts()
        try:
            await self.retry.call_with_retry(lambda: self._attempt(attempts), self._failed,
                                             attempts=attempts, log=self._log_failure)
        except RetriesExhausted as exc:
            cause = exc.__cause__
            reason = failure_reason(cause) if isinstance(cause, OSError) else str(cause)
            raise NotConnected(f"gave up on {self.label} after {exc.failures} "
                               f"failures in a row ({reason})") from exc

    async def _attempt(self, attempts: Attempts) -> None:
        """One connection: made (OSError, TimeoutError past ``connect_timeout``: a host that
        never answers), greeted and served until it is lost (``RunEnded``, with the reason)."""
        self.attempts += 1
        if self.unix_path is not None:
            _, stream = await connect_within(open_unix(self.unix_path, ServerStream),
                                             self.connect_timeout)
        else:
            tls = self.ssl is not None
            _, stream = await connect_within(asyncio.get_running_loop().create_connection(
                lambda: ServerStream(tls=tls), self.host, self.port, ssl=self.ssl,
                server_hostname=self.server_hostname if tls else None), self.connect_timeout)
        self.last_failure = ""
        attempts.succeeded()
        reason = "closed by the server"
        try:
            self._writer = stream
            logger.info("connected to %s", self.label)
            await self._greet()
            await self._tell(events.ConnectionMade())
            reason = await self._serve(stream)
        except OSError as exc:  # NotConnected and ConnectionError: the connection went
            reason = str(exc) or type(exc).__name__
        finally:
            self._writer = None
            self._pending.clear()
            stream.close()  # nothing is read after this: its descriptors are all in
            stream.close_fds()  # (those received with bytes never read: closed now)
            with contextlib.suppress(Exception):
                await asyncio.shield(stream.wait_closed())
        raise RunEnded(reason)

    async def _failed(self, error: BaseException) -> None:
        """Before the delay is asked for: a lost connection's model cleared and
        ``ConnectionLost`` told; a failed attempt's reason kept in ``last_failure`` (so an
        observer of the backoff, the terminal, can show it)."""
        if isinstance(error, RunEnded):
            self.model.clear()
            await self._tell(events.ConnectionLost(str(error)))
        elif isinstance(error, OSError):
            self.last_failure = failure_reason(error)
            if self.on_failure is not None:
                try:
                    self.on_failure(self.last_failure)
                except Exception:
                    logger.exception("on_failure for %s raised", self.label)

    def _log_failure(self, error: BaseException, delay: float) -> None:
        if isinstance(error, RunEnded):
            logger.info("connection to %s lost: %s; reconnecting in %.2f s", self.label, error,
                        delay)
        else:
            logger.info("cannot connect to %s (%s); retrying in %.2f s", self.label,
                        self.last_failure, delay)

    async def _greet(self) -> None:
        greeting = [serialise(GetProperties(version="1.7"))]
        # Device-wide modes first: a named one refines the device's (indiserver's order).
        for (device, vector), mode in sorted(self.blob_modes.items(),
                                             key=lambda kv: kv[0][1] is not None):
            greeting.append(serialise(EnableBLOB(device, mode, vector)))
        await self.send_bytes(b"".join(greeting))

    async def _serve(self, stream: ServerStream) -> str:
        attached = None
        if self.unix_path is not None:
            attached = self._attached = AttachedBlobs(self.model.max_blob_size)
        incoming = self._incoming = Incoming(self.model, self.max_element_size, attached)
        watchdog = asyncio.create_task(self._watch_timeouts())
        deliver = self.deliver
        try:
            while True:
                data = await stream.read(incoming.framer.streaming)
                if attached is not None:
                    attached.give(stream.take_fds())  # before the bytes they came with
                if isinstance(data, bytearray):
                    # A whole read in the middle of a BLOB, lent (serverstream): its pieces
                    # go to the BLOBReceiver as views of it.
                    items = incoming.feed_lent(data)
                    del data
                elif not data:
                    if incoming.buffered:
                        logger.warning("%s closed in the middle of an element (%d bytes "
                                       "dropped)", self.label, incoming.buffered)
                    return "closed by the server"
                else:
                    items = incoming.feed(data)
                for item in items:
                    kind = type(item)
                    if kind in _PLAIN_SETS:
                        # The usual case, a set of values (a burst's): nothing to do but
                        # tell the program.
                        if self._pending:
                            self._answered(item)  # type: ignore[arg-type]
                        if deliver is not None:
                            try:
                                await deliver(item)  # type: ignore[arg-type]
                            except Exception:
                                logger.exception("the program's event handler raised for %r",
                                                 item)
                    else:
                        await self._other(item)
                if attached is not None and attached.fds:
                    leftover = incoming.leftover()
                    if leftover is not None:
                        self._malformed(str(leftover))
        finally:
            if self._receiver is not None:
                self._receiver.discard()
                self._receiver = None
            if attached is not None:
                attached.close()  # given, never claimed: the element never came whole
                self._attached_before += attached.received
                self._attached = None
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _other(self, item: Item) -> None:
        kind = type(item)
        if kind is FrameChunk:
            if self._receiver is not None:
                self._feed_blob(item.data)  # type: ignore[union-attr]
        elif kind is FrameHead:
            self._begin_blob(item)  # type: ignore[arg-type]
        elif kind is FrameEnd:
            await self._end_blob(item)  # type: ignore[arg-type]
        elif kind is Frame:
            self._pong(item)  # type: ignore[arg-type]
        elif kind is ProtocolError:
            self._malformed(str(item))
        else:
            await self._changed(item)  # type: ignore[arg-type]

    # -- large BLOBs, received in pieces (blobstream) -----------------------------------

    def _begin_blob(self, head: FrameHead) -> None:
        device, name = head.attrs.get("device", ""), head.attrs.get("name", "")
        known = isinstance(self.model.vector(device, name), BLOBVector)
        folder = self.blobfolder

        def new_sink() -> Sink | None:
            if not known:
                return None
            if folder is None:
                return MemorySink()
            try:
                return FileSink(folder)
            except OSError as exc:
                logger.error("cannot write BLOBs in %s: %s", folder, exc)
                return None

        try:
            self._receiver = BLOBReceiver(bytes(head.data), new_sink, self.model.max_blob_size,
                                          f"{device}.{name}")
        except ValueError as exc:
            self._receiver = None
            self._malformed(str(exc))

    def _feed_blob(self, data: bytes | memoryview) -> None:
        receiver = self._receiver
        assert receiver is not None
        try:
            receiver.feed(data)
        except ValueError as exc:
            receiver.discard()
            self._receiver = None
            self._malformed(str(exc))

    async def _end_blob(self, end: FrameEnd) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is None:
            return
        try:
            receiver.end(end.data, end.complete)
            event = parse_element(receiver.skeleton())
        except (ValueError, ProtocolError) as exc:
            receiver.discard()
            self._malformed(str(exc))
            return
        received = receiver.received()
        change = (self.model.apply_blobs(event, received)
                  if isinstance(event, SetBLOBVector) else None)
        if change is None:
            for value in received.values():
                if isinstance(value, SavedBLOB):
                    value.path.unlink(missing_ok=True)
            return
        vector = change.vector
        for member, value in received.items():
            if isinstance(value, SavedBLOB) and self.blobfolder is not None:
                fmt = change.sizeformat[member][1]
                try:
                    value.path = place_blob(value.path, self.blobfolder, vector.devicename,
                                            vector.name, member, fmt, change.timestamp)
                except OSError as exc:
                    logger.error("cannot save BLOB %s.%s.%s: %s", vector.devicename,
                                 vector.name, member, exc)
                    del change.data[member]
                    continue
                change.filenames[member] = str(value.path)
                vector.members_[member].filename = str(value.path)
                vector.snap = None
        self._pending.pop((vector.devicename, vector.name), None)
        await self._tell(change)

    def _malformed(self, what: str) -> None:
        note = self._budget.take()
        if note is not None:
            logger.warning("skipping malformed input from %s: %s%s", self.label,
                           clip(what), note)

    def _pong(self, frame: Frame) -> None:
        """Answer a pingRequest at once (indi-notes 2.7); the BLOB before it has been
        handled already."""
        if self._writer is not None:
            self._writer.write(serialise(PingReply(frame.attrs.get("uid"))))

    def _answered(self, change: events.VectorEvent) -> None:
        self._pending.pop((change.devicename, change.vectorname), None)  # type: ignore[arg-type]

    async def _changed(self, change: events.Event) -> None:
        # (The events about a vector are Mappings, whose isinstance costs more than this.)
        if self._pending and change.vectorname is not None:
            self._answered(change)  # type: ignore[arg-type]
        kind = type(change)
        if kind is events.Message and (refused := change.refused) is not None:  # type: ignore[attr-defined]
            self._pending.pop((refused.devicename, refused.name), None)  # answered: refused
        if kind is events.defBLOBVector:
            await self._enable_blobs(change)  # type: ignore[arg-type]
        elif kind is events.setBLOBVector and self.blobfolder and change.data:  # type: ignore[attr-defined]
            await self._save(change)  # type: ignore[arg-type]
        await self._tell(change)

    async def _tell(self, change: events.Event) -> None:
        """Hand an event to the program (when it listens); what its handler raises is
        logged, and the connection goes on."""
        if self.deliver is None:
            return
        try:
            await self.deliver(change)
        except Exception:
            logger.exception("the program's event handler raised for %r", change)

    async def _enable_blobs(self, change: events.defBLOBVector) -> None:
        device, vector = change.vector.devicename, change.vector.name
        mode = self.blob_mode(device, vector)
        if mode is not BLOBEnable.NEVER or (device, vector) in self.blob_modes:
            await self.send(EnableBLOB(device, mode, vector))

    async def _save(self, change: events.setBLOBVector) -> None:
        folder = self.blobfolder
        assert folder is not None
        vector = change.vector
        for name, data in change.data.items():
            fmt = change.sizeformat[name][1]
            try:
                path = await asyncio.to_thread(save_blob, folder, vector.devicename,
                                               vector.name, name, fmt, data, change.timestamp)
            except OSError as exc:
                logger.error("cannot save BLOB %s.%s.%s in %s: %s", vector.devicename,
                             vector.name, name, folder, exc)
                continue
            change.filenames[name] = str(path)
            member = vector.members_.get(name)
            if member is not None:
                member.filename = str(path)
                vector.snap = None

    async def _watch_timeouts(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            if not self._pending:
                continue
            now = time.monotonic()
            late = [key for key, deadline in self._pending.items() if deadline <= now]
            for key in late:
                del self._pending[key]
                vector = self.model.vector(*key)
                if vector is not None:
                    await self._tell(events.VectorTimeOut(vector))
