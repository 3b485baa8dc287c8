"""One MQTT client session kept up (``MqttSession``: paho-mqtt 2.x driven by asyncio).

``MqttLink.run()`` connects (username/password, TLS when the host tuple holds an
``ssl.SSLContext``), subscribes, hands each message to ``on_message`` (awaited), publishes what
``publish`` queued (bounded: past ``max_queue`` the newest is dropped and logged; several
in flight at once, in order), and
reconnects when the broker goes away as its ``retry`` says (``bridge_retry()``: a capped
backoff with jitter), in the project's one loop (``Retry.call_with_retry``). A site's link has a Last Will
(``offline``, retained) on its status topic and publishes ``online`` (retained) on every
connection, and ``offline`` when stopped cleanly. ``on_lost`` is awaited when a connection
that was up is lost (not when the link is stopped).

A broker that refuses the credentials raises ``MqttRefused`` at once: retrying a wrong
password forever would hide it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence

from indipycore.logbudget import WarningBudget
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import Retry

from .hosts import MqttServer
from .indilink import bridge_retry
from .indilink import check_cancelled
from .indilink import stop_task
from .mqttsession import MqttCodeError
from .mqttsession import MqttError
from .mqttsession import MqttSession
from .mqttsession import MqttWill
from .topics import OFFLINE
from .topics import ONLINE

__all__ = ["MqttLink", "MqttRefused", "refusal_unwrapped"]

logger = logging.getLogger(__name__)

OnMessage = Callable[[str, bytes], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]

#: Messages published and not yet acknowledged at once (QoS 1 and 2), and their payloads'
#: bytes at most (a larger message goes alone): bounded, as every queue is.
IN_FLIGHT = 8
IN_FLIGHT_BYTES = 32 * 1024 * 1024
# CONNACK codes (MQTT 3.1.1) and reason codes (MQTT 5) meaning "who you are is refused".
_REFUSED = {4, 5, 134, 135}


class _Budgeted(logging.Filter):
    """paho's warnings and errors through a `WarningBudget`: a broker going away can make it
    say the same thing many times a second."""

    def __init__(self) -> None:
        super().__init__()
        self._budget = WarningBudget(noun="such warnings of paho")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        note = self._budget.take()
        if note:
            record.msg = f"{record.msg}{note.replace('%', '%%')}"
        return note is not None


#: paho's log, its warnings budgeted (`_Budgeted`).
paho_logger = logging.getLogger(f"{__name__}.paho")
paho_logger.addFilter(_Budgeted())


class MqttRefused(ConnectionRefusedError):
    """The broker refused the connection: bad username/password, or not authorised."""


@contextlib.asynccontextmanager
async def refusal_unwrapped() -> AsyncIterator[None]:
    """Around a TaskGroup holding an ``MqttLink``: its ``MqttRefused`` raised as itself, not
    inside an ExceptionGroup, so callers can catch it by name."""
    try:
        yield
    except* MqttRefused as group:
        raise group.exceptions[0] from None


async def _nothing() -> None:
    return None


class MqttLink:
    """See the module docstring."""

    def __init__(self, host: MqttServer, mqtt_id: str, subscriptions: Sequence[str],
                 on_message: OnMessage, *, on_connect: Hook = _nothing,
                 on_lost: Hook = _nothing,
                 status_topic: str | None = None, qos: int = 2, max_queue: int = 1000,
                 max_incoming: int = 10_000, retry: Retry | None = None) -> None:
        self.host = host
        self.mqtt_id = mqtt_id
        self.subscriptions = list(subscriptions)
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_lost = on_lost
        self.status_topic = status_topic
        self.qos = qos
        self.max_incoming = max_incoming
        self._queue: asyncio.Queue[tuple[str, bytes | bytearray, bool]] = asyncio.Queue(max_queue)
        self._budget = WarningBudget(noun="MQTT messages dropped")
        self.retry = retry or bridge_retry()
        self.connected = asyncio.Event()
        self._lost_event = asyncio.Event()  # set while not connected (`send` stops waiting)
        self._lost_event.set()
        self._room = asyncio.Event()  # set when `_send` takes from the queue
        self._was_up = False  # this session connected (its loss awaits `on_lost`)
        self._client_now: MqttSession | None = None  # while a session is up

    def waiting(self) -> tuple[int, int]:
        """The messages received and not yet handed to ``on_message``, and how many may wait
        (past that the session drops them)."""
        client = self._client_now
        return (client.waiting() if client is not None else 0), self.max_incoming

    async def subscribe(self, topic: str) -> None:
        """Read ``topic`` too, from now on and after every reconnection."""
        if topic in self.subscriptions:
            return
        self.subscriptions.append(topic)
        client = self._client_now
        if client is not None:
            with contextlib.suppress(MqttError):  # lost: made again on reconnecting
                await client.subscribe(topic, qos=self.qos)

    async def unsubscribe(self, topic: str) -> None:
        """Stop reading ``topic`` (one `subscribe` added)."""
        if topic not in self.subscriptions:
            return
        self.subscriptions.remove(topic)
        client = self._client_now
        if client is not None:
            with contextlib.suppress(MqttError):
                await client.unsubscribe(topic)

    def publish(self, topic: str, payload: bytes | bytearray, retain: bool = False) -> bool:
        """Queue one message; False (logged) when the queue is full. A bytearray is sent as
        it is, so it must not change after this call."""
        try:
            self._queue.put_nowait((topic, payload, retain))
        except asyncio.QueueFull:
            note = self._budget.take()
            if note is not None:
                logger.warning("MQTT queue of %s full: a message to %s dropped%s",
                               self.mqtt_id, topic, note)
            return False
        return True

    async def send(self, topic: str, payload: bytes | bytearray, retain: bool = False) -> bool:
        """`publish`, waiting while the queue is full and the broker is connected: the INDI
        side is read no faster than the broker takes what it sends (a getProperties answered
        with thousands of definitions in one read, a burst of values), where `publish` would
        drop the newest. While the link is down, a full queue drops (logged) as `publish`
        does: the client sides ask again when it is back."""
        while self._queue.full() and self.connected.is_set():
            await self._room_or_lost()
        return self.publish(topic, payload, retain)

    async def _room_or_lost(self) -> None:
        room = asyncio.ensure_future(self._room.wait())
        lost = asyncio.ensure_future(self._lost_event.wait())
        try:
            await asyncio.wait({room, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            room.cancel()
            lost.cancel()

    def _client(self) -> MqttSession:
        will = None
        if self.status_topic is not None:
            will = MqttWill(self.status_topic, OFFLINE, qos=1, retain=True)
        tls = self.host.tls if isinstance(self.host.tls, ssl.SSLContext) else None
        # (TCP_NODELAY is the session's: small INDI elements must not wait ~40 ms a hop for
        # the peer's delayed ACK.)
        return MqttSession(self.host.host, self.host.port, identifier=self.mqtt_id,
                           username=self.host.username or None,
                           password=self.host.password or None, will=will, tls_context=tls,
                           keepalive=10, timeout=10, max_incoming=self.max_incoming,
                           paho_logger=paho_logger)

    async def run(self) -> None:
        """Connect, serve and reconnect until cancelled (``MqttRefused`` ends it, and a
        ``retry`` with a limit that gives up: ``RetriesExhausted``): each session is
        ``_attempt``, retried by the one loop, ``Retry.call_with_retry``."""
        attempts = self.retry.attempts()
        await self.retry.call_with_retry(
            lambda: self._attempt(attempts), self._failed,
            errors=(MqttError, OSError),  # ssl.SSLError is an OSError
            retryable=lambda error: not isinstance(error, MqttRefused),
            attempts=attempts, log=self._log_failure)

    async def _attempt(self, attempts: Attempts) -> None:
        """One session with the broker, until it is lost (an ``MqttError``)."""
        client = self._client()
        self._was_up = False
        try:
            async with client:
                attempts.succeeded()
                logger.info("%s connected to MQTT broker %s:%s", self.mqtt_id,
                            self.host.host, self.host.port)
                for topic in list(self.subscriptions):
                    await client.subscribe(topic, qos=self.qos)
                if self.status_topic is not None:
                    await client.publish(self.status_topic, ONLINE, qos=1, retain=True)
                self.connected.set()
                self._lost_event.clear()
                self._was_up = True
                self._client_now = client
                try:
                    await self.on_connect()
                    await self._session(client)
                finally:
                    self._client_now = None
                    self.connected.clear()
                    self._lost_event.set()
                    if self.status_topic is not None:
                        await self._say_offline(client)
        except MqttCodeError as exc:
            code = getattr(exc.rc, "value", exc.rc)
            if code in _REFUSED:
                raise MqttRefused(
                    f"MQTT broker {self.host.host}:{self.host.port} refused {self.mqtt_id}:"
                    f" {exc} (check the username and password)") from None
            raise

    async def _failed(self, error: BaseException) -> None:
        if self._was_up:  # a connection that was up is lost (not one that never was)
            self._was_up = False
            await self.on_lost()

    def _log_failure(self, error: BaseException, delay: float) -> None:
        logger.warning("%s: MQTT broker %s:%s: %s; reconnecting in %.2f s", self.mqtt_id,
                       self.host.host, self.host.port, error, delay)

    async def _say_offline(self, client: MqttSession) -> None:
        """A clean stop says ``offline`` itself (the Last Will is only for a lost link)."""
        assert self.status_topic is not None
        saying = asyncio.ensure_future(client.publish(self.status_topic, OFFLINE, qos=1,
                                                      retain=True))
        try:
            await asyncio.wait_for(asyncio.shield(saying), 2)
        except (MqttError, TimeoutError):
            pass
        except asyncio.CancelledError:
            with contextlib.suppress(asyncio.CancelledError, MqttError, TimeoutError):
                await asyncio.wait_for(saying, 2)
            raise

    async def _session(self, client: MqttSession) -> None:
        """Hand on what arrives, each read's messages in turn, until the connection ends
        (`MqttSession.arrival` raises)."""
        sending = asyncio.create_task(self._send(client))
        inbox = client.inbox
        try:
            while True:
                await client.arrival()
                while inbox:
                    topic, data = inbox.popleft()
                    await self.on_message(topic, data)
                check_cancelled()
        finally:
            await stop_task(sending, MqttError)

    async def _send(self, client: MqttSession) -> None:
        """Publish what is queued, in order, with up to ``IN_FLIGHT`` messages (and
        ``IN_FLIGHT_BYTES`` of payload) unacknowledged at once, so that the broker's round
        trips (two a message at QoS 2) overlap instead of each message waiting for the last
        one's PUBCOMP. paho writes each message when ``publish`` is called, in the order
        called, and the tasks here are started in the order queued."""
        pending: dict[asyncio.Task[None], int] = {}
        held = 0
        try:
            while True:
                topic, payload, retain = await self._queue.get()
                self._room.set()
                self._room.clear()
                size = len(payload)
                while pending and (len(pending) >= IN_FLIGHT or held + size > IN_FLIGHT_BYTES):
                    done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        held -= pending.pop(task)
                task = asyncio.create_task(self._publish(client, topic, payload, retain))
                pending[task] = size
                held += size
        finally:
            # All cancelled first, then waited for (a cancellation of this task must not
            # leave the later ones running); one that swallowed it is asked again.
            for _ in range(20):
                if not pending:
                    break
                for task in pending:
                    task.cancel()
                done, _ = await asyncio.wait(pending, timeout=0.5)
                for task in done:
                    del pending[task]

    async def _publish(self, client: MqttSession, topic: str, payload: bytes | bytearray,
                       retain: bool) -> None:
        try:
            await client.publish(topic, payload, qos=self.qos, retain=retain)
        except MqttError as exc:
            # Lost with the connection; the client sides ask again when it is back.
            logger.info("%s: a message to %s lost: %s", self.mqtt_id, topic, exc)
