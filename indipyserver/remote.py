"""Remote INDI servers (ours or indilib's) chained below this one, reconnected with backoff.

indiserver calls ``Bye()`` when a remote cannot be reached, at start or on reconnect, killing the
whole server (INDI issue #1927). Here a failed or lost remote is logged, its devices are deleted
for the clients (``router.driver_lost``), and the connection is retried with backoff, forever.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .backoff import Backoff
from .driverconn import DEFAULT_DRIVER_QUEUE_BYTES, DriverConnection
from .peerio import StreamProtocol, WriteGate, pump

if TYPE_CHECKING:
    from indipydriver.protocol.framing import Frame

    from .router import Router

__all__ = ["RemoteConnection", "RemoteSpec", "parse_remote_spec"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 7624


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """A remote as written on indiserver's command line: ``[device]@host[:port]``."""

    host: str
    port: int = DEFAULT_PORT
    device: str | None = None


def parse_remote_spec(text: str) -> RemoteSpec:
    """Parse ``[device]@host[:port]`` (``[::1]`` brackets allowed); raises ValueError."""
    device, at, hostport = text.rpartition("@")
    if not at:
        raise ValueError(f"a remote is written [device]@host[:port], not {text!r}")
    device = device.strip().strip('"').strip()
    port = DEFAULT_PORT
    if hostport.startswith("["):
        host, bracket, rest = hostport[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad bracketed host in {text!r}")
        portpart = rest[1:] if rest else None
    else:
        host, colon, portpart_ = hostport.partition(":")
        portpart = portpart_ if colon else None
    if portpart is not None:
        if not portpart.isdigit() or not 0 < int(portpart) < 65536:
            raise ValueError(f"bad port {portpart!r} in {text!r}")
        port = int(portpart)
    if not host:
        raise ValueError(f"no host in {text!r}")
    return RemoteSpec(host=host, port=port, device=device or None)


def _attr(value: str) -> str:
    """Escape an attribute value with the five named entities (all that lilxml decodes)."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


class EchoFilter:
    """Drops an element whose exact bytes already passed within ``window`` seconds.

    Two servers that are each other's remote (a loop) would bounce requests such as
    ``getProperties`` and ``enableBLOB``, device-less ``message``s and the echoes of clients'
    ``newXXX`` between them forever: every server forwards those to all its remotes or clients. The bounced copy is
    byte-for-byte the original and comes back within milliseconds, so dropping exact repeats
    within a short window breaks the loop after one round. Genuine repeats are harmless to
    drop: the router answers repeated ``getProperties`` from its cache.
    """

    def __init__(self, window: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._seen: dict[bytes, float] = {}

    def repeated(self, data: bytes) -> bool:
        now = self._clock()
        if len(self._seen) > 256:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
        last = self._seen.get(data)
        self._seen[data] = now
        return last is not None and now - last < self.window

    def clear(self) -> None:
        self._seen.clear()


def _same(protocol: StreamProtocol) -> StreamProtocol:
    return protocol


def _echo_prone(frame: Frame) -> bool:
    """Elements a remote passes on to all its clients, so in a loop they come back to it."""
    return (frame.tag == "message" and frame.device is None) or (
        frame.tag.startswith("new") and frame.tag.endswith("Vector")
    )


class RemoteConnection(DriverConnection):
    """A connection to another INDI server whose devices this server offers as its own.

    With ``device`` only that device is taken from the remote (indiserver's ``dev@host``); its
    other devices' messages are ignored. With ``blob_enable`` the remote is asked to send BLOBs
    (``enableBLOB Also``) for each device as it appears; otherwise BLOBs come only when a client
    asks for them (the router forwards clients' ``enableBLOB`` to remotes).
    """

    is_remote = True

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        blob_enable: bool = False,
        device: str | None = None,
        backoff: Backoff | None = None,
        max_queue_bytes: int = DEFAULT_DRIVER_QUEUE_BYTES,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            f"remote {device + '@' if device else ''}{host}:{port}",
            is_remote=True,
            max_queue_bytes=max_queue_bytes,
        )
        self.host = host
        self.port = port
        self.blob_enable = blob_enable
        self.device = device
        self.backoff = backoff or Backoff(initial=0.5, cap=30.0, max_restarts=None)
        self.connect_timeout = connect_timeout
        self.connected = False
        self._blob_enabled: set[str] = set()
        self._sent = EchoFilter()
        self._received = EchoFilter()

    def send(self, data: bytes) -> None:
        """Queue bytes for the remote, except requests that are echoes (see ``EchoFilter``)."""
        if data.startswith((b"<getProperties", b"<enableBLOB")) and self._sent.repeated(data):
            logger.debug("%s: repeated request not forwarded: %r", self.label, data[:120])
            return
        super().send(data)

    def _frames(self, router: Router, frames: list[Frame]) -> None:
        frames = [f for f in frames if not (_echo_prone(f) and self._received.repeated(f.data))]
        if self.device is not None:
            # dev@host: take only that device (and site-wide messages) from the remote.
            frames = [f for f in frames if f.attrs.get("device") in (None, self.device)]
        if self.blob_enable:
            for frame in frames:
                device = frame.attrs.get("device")
                if (
                    device is not None
                    and frame.tag.startswith("def")
                    and device not in self._blob_enabled
                ):
                    self._blob_enabled.add(device)
                    self.send(f'<enableBLOB device="{_attr(device)}">Also</enableBLOB>\n'.encode())
        if frames:
            router.driver_frames(self, frames)

    async def run(self, router: Router) -> None:
        """Stay connected for the life of the server; never raises for network trouble."""
        loop = asyncio.get_running_loop()
        while True:
            gate = WriteGate()
            protocol = StreamProtocol(lambda frames: self._frames(router, frames), self.label, gate)
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_connection(functools.partial(_same, protocol), self.host, self.port),
                    self.connect_timeout,
                )
            except (OSError, TimeoutError) as exc:
                delay = self.backoff.next_delay() or self.backoff.cap
                logger.warning("cannot connect to %s: %s; retrying in %.1f s", self.label, exc, delay)
                await asyncio.sleep(delay)
                continue
            self._blob_enabled.clear()
            self._sent.clear()  # a reconnection must ask again, however soon
            self._received.clear()
            self.backoff.started()
            self.connected = True
            logger.info("connected to %s", self.label)
            try:
                async with asyncio.TaskGroup() as tg:
                    self.discard_outgoing()
                    router.driver_ready(self)
                    protocol.start()
                    pumping = tg.create_task(pump(self, transport, gate))
                    await protocol.closed.wait()
                    pumping.cancel()
            finally:
                self.connected = False
                transport.close()
                router.driver_lost(self)
            delay = self.backoff.next_delay() or self.backoff.cap
            logger.warning("lost %s; reconnecting in %.1f s", self.label, delay)
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        return f"RemoteConnection({self.host!r}, {self.port}, device={self.device!r})"
