"""One connection to an MQTT broker: paho-mqtt's client driven by asyncio through paho's
documented external-loop calls (``socket()``, ``loop_read``, ``loop_write``, ``loop_misc``,
the ``on_socket_*`` callbacks); a thread only for the blocking connect.

aiomqtt does the same, but a central bridge paid for its generality on every message
(``bench/fleet.py`` under cProfile, issue 61): each message went through an asyncio queue to an
iterator that starts a task and an ``asyncio.wait`` for it, and each acknowledgement paho
queued reached the loop by ``call_soon_threadsafe`` (a byte through the loop's self-pipe and a
turn of the loop) to a writer added and removed around it. Here a readable socket is read
until it holds nothing more (``FIONREAD``; paho reads one packet a call), the messages of that
read wait in one bounded ``inbox``, and what paho queued meanwhile (the PUBACKs) is written
before the read callback returns; a writer is armed only when the socket does not take it all.

Failures are ``MqttError`` (``MqttCodeError`` with paho's code or reason when there is one): a
connect that fails or is not answered in ``timeout`` s, a connection lost, a call not
acknowledged in ``timeout`` s. A message that arrives while ``max_incoming`` wait is dropped
(logged, budgeted), as a bounded queue must.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import socket
import ssl
import termios
from collections import deque
from dataclasses import dataclass
from typing import Any
from typing import Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from indipycore.logbudget import WarningBudget

__all__ = ["MqttCodeError", "MqttError", "MqttSession", "MqttWill"]

logger = logging.getLogger(__name__)

#: Packets one read callback takes at most before the loop serves others (fairness).
PACKETS_A_WAKE = 1000
_NONE_PENDING = b"\0\0\0\0"


class MqttError(Exception):
    """The broker connection failed, was lost, or did not answer a call in time."""


class MqttCodeError(MqttError):
    """An `MqttError` with paho's error code or the broker's reason code (``rc``)."""

    def __init__(self, rc: int | ReasonCode, message: str) -> None:
        super().__init__(f"{message}: {rc}")
        self.rc = rc


@dataclass(frozen=True)
class MqttWill:
    """The Last Will the broker publishes when the connection is lost (not on a clean end)."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class MqttSession:
    """One MQTT 3.1.1 connection with a clean session (module docstring). Use as
    ``async with MqttSession(...) as session``: connected on entry (CONNACK received), cleanly
    disconnected on exit."""

    def __init__(self, host: str, port: int, *, identifier: str, username: str | None = None,
                 password: str | None = None, will: MqttWill | None = None,
                 tls_context: ssl.SSLContext | None = None, keepalive: int = 10,
                 timeout: float = 10.0, max_incoming: int = 10_000,
                 paho_logger: logging.Logger | None = None) -> None:
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.timeout = timeout
        self.max_incoming = max_incoming
        #: Messages read and not yet taken (topic, payload), oldest first: `arrival` waits for
        #: them; the taker pops them.
        self.inbox: deque[tuple[str, bytes]] = deque()
        paho = self._paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=identifier,
                                        protocol=mqtt.MQTTv311, clean_session=True)
        if paho_logger is not None:
            paho.enable_logger(paho_logger)
        if username:
            paho.username_pw_set(username, password)
        if will is not None:
            paho.will_set(will.topic, will.payload, will.qos, will.retain)
        if tls_context is not None:
            paho.tls_set_context(tls_context)
        paho.connect_timeout = timeout
        paho.on_connect = self._on_connect
        paho.on_disconnect = self._on_disconnect
        paho.on_message = self._on_message
        paho.on_subscribe = self._on_ack
        paho.on_unsubscribe = self._on_ack
        paho.on_publish = self._on_published
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd = -1
        self._connected: asyncio.Future[None] | None = None
        self._arrived = asyncio.Event()
        self._error: MqttError | None = None  # why the connection ended (None: up, or ended by us)
        self._ended = False
        self._over = asyncio.Event()  # set by `_end`
        self._ending = False  # our own disconnect is under way
        self._acks: dict[int, asyncio.Future[None]] = {}  # mid -> SUBACK/UNSUBACK/PUBACK/PUBCOMP
        self._reading = self._flushing = self._write_wanted = self._flush_soon = False
        self._armed = False  # a writer is registered
        self._misc: asyncio.Task[None] | None = None
        self._drops = WarningBudget(noun="MQTT messages dropped")

    # -- connecting and ending ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        loop = self._loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        try:
            # paho's connect resolves, connects (and shakes hands for TLS) blocking, then
            # writes CONNECT itself: the socket callbacks are set only once it returned.
            await loop.run_in_executor(None, self._paho.connect, self.host, self.port,
                                       self.keepalive)
        except (OSError, ValueError) as exc:
            raise MqttError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        sock = self._paho.socket()
        if sock is None:
            raise MqttError(f"cannot connect to {self.host}:{self.port}")
        self._fd = sock.fileno()
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Small INDI elements must not wait for the peer's delayed ACK (Nagle).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._paho.on_socket_register_write = self._want_write
        self._paho.on_socket_unregister_write = self._no_write
        self._paho.on_socket_close = self._socket_closing
        loop.add_reader(self._fd, self._readable)
        if self._paho.want_write():
            self._flush()
        self._misc = loop.create_task(self._keep_alive())
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), self.timeout)
        except TimeoutError:
            self._abort()
            raise MqttError(f"{self.host}:{self.port} did not answer CONNECT in "
                            f"{self.timeout:g} s") from None
        except BaseException:
            self._abort()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._ending = True
        try:
            if not self._ended and self._paho.socket() is not None:
                self._paho.disconnect()
                self._flush()  # DISCONNECT written; paho closes the socket after it
                if not self._ended:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._over.wait(), self.timeout)
        finally:
            self._abort()

    def _abort(self) -> None:
        """Everything of the connection released (whatever state it is in)."""
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        self._forget_socket()
        sock = self._paho.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        self._end(self._error or MqttError("disconnected"))

    def _forget_socket(self) -> None:
        if self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
            if self._armed:
                self._loop.remove_writer(self._fd)
            self._armed = False
            self._fd = -1

    def _end(self, error: MqttError | None) -> None:
        """The connection is over: every call waiting fails, `arrival` raises once empty."""
        if not self._ended:
            self._ended = True
            self._error = error
        for ack in self._acks.values():
            if not ack.done():
                ack.set_exception(MqttError("the connection was lost"))
        self._acks.clear()
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(error or MqttError("disconnected"))
            self._connected.exception()  # retrieved: `__aenter__` may have stopped waiting
        self._over.set()
        self._arrived.set()

    async def _keep_alive(self) -> None:
        """paho's keepalive: a PINGREQ when due, the connection dropped when it goes
        unanswered."""
        while self._paho.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS:
            await asyncio.sleep(1)

    # -- receiving ---------------------------------------------------------------------------

    def waiting(self) -> int:
        return len(self.inbox)

    def fileno(self) -> int:
        """The connection's socket descriptor (-1 once it is closed)."""
        return self._fd

    async def arrival(self) -> None:
        """Return once `inbox` holds a message; raise the `MqttError` that ended the
        connection once it is empty and over."""
        while not self.inbox:
            if self._ended:
                raise self._error or MqttError("disconnected")
            self._arrived.clear()
            await self._arrived.wait()

    def _readable(self) -> None:
        """The socket is readable: every whole packet it holds, then what paho queued."""
        paho = self._paho
        self._reading = True
        try:
            for _ in range(PACKETS_A_WAKE):
                if paho.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break  # lost: paho closed the socket and said so (`_on_disconnect`)
                sock = paho.socket()
                if sock is None or self._fd < 0:
                    break
                if isinstance(sock, ssl.SSLSocket) and sock.pending():
                    continue
                if fcntl.ioctl(self._fd, termios.FIONREAD, _NONE_PENDING) == _NONE_PENDING:
                    break
        except Exception as exc:  # noqa: BLE001 - paho raises what its socket and parser do
            self._fail(exc)
        finally:
            self._reading = False
        if self._write_wanted:
            self._flush()
        if self.inbox:
            self._arrived.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""
        if not topic or len(self.inbox) >= self.max_incoming:
            note = self._drops.take()
            if note is not None:
                why = (f"inbound queue full ({self.max_incoming} messages)" if topic else
                       "its topic is not UTF-8")
                logger.warning("%s:%s: a message to %r dropped: %s%s", self.host, self.port,
                               topic, why, note)
            return
        payload = message.payload
        self.inbox.append((topic, payload if type(payload) is bytes else bytes(payload)))

    # -- sending -------------------------------------------------------------------------------

    def _want_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        """paho queued a packet: written at the end of a read callback, or at the next turn
        of the loop (several calls of one turn in one go)."""
        if self._reading or self._flushing:
            self._write_wanted = True
        elif not self._flush_soon and self._loop is not None:
            self._flush_soon = True
            self._loop.call_soon(self._flush_now)

    def _no_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        """(The writer is armed and disarmed by `_flush` alone.)"""

    def _flush_now(self) -> None:
        self._flush_soon = False
        self._flush()

    def _flush(self) -> None:
        """What paho queued, written as far as the socket takes it; a writer armed for the
        rest."""
        self._write_wanted = False
        paho = self._paho
        if paho.socket() is None or self._loop is None:
            return
        self._flushing = True
        try:
            paho.loop_write()
        except Exception as exc:  # noqa: BLE001 - (as in `_readable`)
            self._fail(exc)
        finally:
            self._flushing = False
        more = self._fd >= 0 and paho.socket() is not None and paho.want_write()
        if more and not self._armed:
            self._armed = True
            self._loop.add_writer(self._fd, self._flush)
        elif not more and self._armed and self._fd >= 0:
            self._armed = False
            self._loop.remove_writer(self._fd)

    async def subscribe(self, topic: str, qos: int = 0) -> None:
        rc, mid = self._paho.subscribe(topic, qos)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise MqttCodeError(rc, f"cannot subscribe to {topic}")
        await self._acknowledged(mid, f"subscribing to {topic}")

    async def unsubscribe(self, topic: str) -> None:
        rc, mid = self._paho.unsubscribe(topic)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise MqttCodeError(rc, f"cannot unsubscribe from {topic}")
        await self._acknowledged(mid, f"unsubscribing from {topic}")

    async def publish(self, topic: str, payload: bytes | bytearray, qos: int = 0,
                      retain: bool = False) -> None:
        """Publish; at QoS 1 and 2, return once the broker acknowledged it."""
        if self._ended:
            raise self._error or MqttError("disconnected")
        info = self._paho.publish(topic, payload, qos, retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttCodeError(info.rc, f"cannot publish to {topic}")
        if qos:
            await self._acknowledged(info.mid, f"publishing to {topic}")

    async def _acknowledged(self, mid: int, what: str) -> None:
        """Wait for the broker's answer to packet ``mid`` (read by `_readable`, never before
        this is called: nothing is read until the caller yields)."""
        if self._ended:
            raise self._error or MqttError("disconnected")
        assert self._loop is not None
        ack = self._acks[mid] = self._loop.create_future()
        try:
            await asyncio.wait_for(ack, self.timeout)
        except TimeoutError:
            raise MqttError(f"{what}: no answer from the broker in {self.timeout:g} s") from None
        finally:
            self._acks.pop(mid, None)

    def _on_ack(self, client: mqtt.Client, userdata: Any, mid: int,
                reason_codes: list[ReasonCode], properties: Any) -> None:
        for code in reason_codes:
            if code.is_failure:
                logger.warning("the broker %s:%s refused a subscription: %s", self.host,
                               self.port, code)
        self._acked(mid)

    def _on_published(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any,
                      properties: Any) -> None:
        self._acked(mid)

    def _acked(self, mid: int) -> None:
        ack = self._acks.get(mid)
        if ack is not None and not ack.done():
            ack.set_result(None)

    # -- the connection's state ------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any,
                    reason_code: ReasonCode, properties: Any) -> None:
        if self._connected is None or self._connected.done():
            return
        if reason_code.is_failure:
            self._connected.set_exception(MqttCodeError(reason_code, "the broker refused"))
        else:
            self._connected.set_result(None)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any,
                       reason_code: ReasonCode | int, properties: Any) -> None:
        self._end(None if self._ending else MqttCodeError(reason_code, "disconnected"))

    def _socket_closing(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._forget_socket()

    def _fail(self, exc: BaseException) -> None:
        logger.debug("MQTT connection to %s:%s failed: %s", self.host, self.port, exc)
        self._forget_socket()
        self._end(MqttError(f"connection to {self.host}:{self.port} failed: {exc}"))
        sock = self._paho.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

