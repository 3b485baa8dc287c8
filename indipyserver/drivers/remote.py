"""Remote INDI servers (ours or indilib's) chained below this one, reconnected with backoff.

indiserver calls ``Bye()`` when a remote cannot be reached, at start or on reconnect, killing the
whole server (INDI issue #1927). Here a failed or lost remote is logged, its devices are deleted
for the clients (``router.driver_lost``), and the connection is retried with backoff, forever
(the project's one policy and loop, ``indipycore.retrypolicy``: ``retry=`` or ``backoff=``).
Each attempt is bounded by the one connect timeout of every INDI connection
(``indipycore.connecting``; ``connect_timeout=``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from ssl import SSLContext
from typing import TYPE_CHECKING

from indipycore.connecting import CONNECT_TIMEOUT
from indipycore.connecting import connect_within
from indipycore.protocol.enums import BLOBEnable
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.drivers.driverconnection import DEFAULT_DRIVER_QUEUE_BYTES
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inbound import StreamProtocol
from indipyserver.drivers.outbound import WriteGate
from indipyserver.drivers.outbound import pump
from indipyserver.drivers.remotedevices import remote_devices
from indipyserver.fastpath.localpeer import is_local_peer
from indipyserver.loop.eventloop import inline_selector
from indipyserver.routing.ports import DriverSide
from indipyserver.routing.serverelements import enable_blob_bytes

if TYPE_CHECKING:
    from indipycore.protocol.framing import Frame


__all__ = ["RemoteConnection", "RemoteSpec", "parse_remote_spec"]

logger = logging.getLogger("indipyserver.remote")  # the name users' logs know

DEFAULT_PORT = 7624

#: Seconds a remote's connection must last for its reconnect delays to start again from 0.5 s.
REMOTE_STABLE_AFTER = 5.0


#: Written before the host, a remote reached over TLS: ``"CCD Simulator"@tls://obs:7625``.
TLS_SCHEME = "tls://"


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """A remote as written on indiserver's command line, ``[device]@host[:port]``, or
    ``[device]@tls://host[:port]`` for one reached over TLS (ours only)."""

    host: str
    port: int = DEFAULT_PORT
    device: str | None = None
    tls: bool = False


def parse_remote_spec(text: str) -> RemoteSpec:
    """Parse ``[device]@[tls://]host[:port]`` (``[::1]`` brackets allowed); raises ValueError."""
    device, at, hostport = text.rpartition("@")
    if not at:
        raise ValueError(f"a remote is written [device]@host[:port], not {text!r}")
    tls = hostport.startswith(TLS_SCHEME)
    if tls:
        hostport = hostport[len(TLS_SCHEME):]
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
    return RemoteSpec(host=host, port=port, device=device or None, tls=tls)


def _same(protocol: StreamProtocol) -> StreamProtocol:
    return protocol


class RemoteConnection(DriverConnection):
    """A connection to another INDI server whose devices this server offers as its own.

    With ``device`` only that device is taken from the remote (indiserver's ``dev@host``); its
    other devices' messages are ignored here, and the router pre-registers the device and asks
    for it alone with ``getProperties device="dev"`` (INDI notes 2.2). With ``blob_enable`` the remote is asked to send BLOBs
    (``enableBLOB Also``) for each device as it appears (for drivers that send BLOBs of properties
    they never defined); otherwise BLOBs come only while a client or snooping driver here wants
    them, asked per BLOB property the remote defined (``routing.remoteblobs``).
    ``retry`` (a ``Retry``) or ``backoff`` (its delays only) replace the reconnect policy.
    With ``ssl`` (an ``ssl.SSLContext``, asyncio's convention: ``indipycore.tls.
    client_context``) the connection is TLS: the remote's certificate is verified (for
    ``server_hostname``, by default ``host``) and ours presented when the context holds one;
    a remote whose certificate does not verify is never used: the error is logged and it is
    retried like any lost remote.
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
        connect_timeout: float | None = CONNECT_TIMEOUT,
        device_wait: float = 5.0,
        retry: Retry | None = None,
        ssl: SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        if not isinstance(host, str) or not host:
            raise TypeError(f"remote host must be a name or address, not {host!r}")
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)  # 3.x passed it on to asyncio, which takes "7624" too
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"remote {host}: port must be a number from 1 to 65535, not "
                             f"{port!r}")
        if ssl is not None and not isinstance(ssl, SSLContext):
            raise TypeError(f"remote {host}: ssl must be an ssl.SSLContext "
                            f"(indipycore.tls.client_context), not {type(ssl).__name__}")
        super().__init__(
            f"remote {device + '@' if device else ''}{host}:{port}{' (TLS)' if ssl else ''}",
            is_remote=True,
            max_queue_bytes=max_queue_bytes,
        )
        self.host = host
        self.port = port
        self.blob_enable = blob_enable
        self.device = device
        # TLS (asyncio's convention): the remote's certificate verified with `ssl` for
        # `server_hostname` (default: `host`), ours presented if it holds one; None: plain TCP.
        self.ssl, self.server_hostname = ssl, server_hostname
        # A connection that lasted REMOTE_STABLE_AFTER seconds starts the delays again from
        # 0.5 s: a leaf restarted by hand a few times in a minute is back within a second
        # each time (not after delays growing to the drivers' 60 s), while a remote that
        # drops every connection at once still backs off.
        self.retry = retry or Retry(backoff or ExponentialBackoff(0.5, 30.0),
                                    stable_after=REMOTE_STABLE_AFTER)
        #: Seconds one attempt to connect may take (``indipycore.connecting``; None: no bound).
        self.connect_timeout = connect_timeout
        self.connected = False
        self._failed_attempts = 0  # attempts that failed since the last connection (logged)
        self._was_lost = False  # a connection was lost since
        self._blob_enabled: set[str] = set()
        # dev@host: seconds after connecting before a device that defined nothing is looked
        # for among the remote's devices (``remotedevices``) and reported as not found.
        self.device_wait = device_wait
        self._device_seen = False
        self._missing_reported = False
        #: Set once per connection when the pinned device is known to be there or was
        #: reported missing (tests wait on it); ``device_found`` says which.
        self.device_checked = asyncio.Event()
        self.device_found: bool | None = None

    def _frames(self, router: DriverSide, frames: list[Frame]) -> None:
        # No echo filtering here: loops of servers are stopped by the router's rules
        # (ownership, requests never re-broadcast to remotes; see router.py).
        if self.device is not None:
            # dev@host: take only that device (and site-wide messages) from the remote.
            frames = [f for f in frames if f.attrs.get("device") in (None, self.device)]
            if not self._device_seen and any(f.attrs.get("device") == self.device
                                             for f in frames):
                self._device_found(True)
        if self.blob_enable:
            for frame in frames:
                device = frame.attrs.get("device")
                if (
                    device is not None
                    and frame.tag.startswith("def")
                    and device not in self._blob_enabled
                ):
                    self._blob_enabled.add(device)
                    self.send(enable_blob_bytes(device, None, BLOBEnable.ALSO))
        if frames:
            router.driver_frames(self, frames)

    async def run(self, router: DriverSide) -> None:
        """Stay connected for the life of the server (or until a ``retry`` with a limit gives
        up, logged); never raises for network trouble. Each attempt is ``_attempt``, retried
        by the one loop, ``Retry.call_with_retry``."""
        attempts = self.retry.attempts()
        self._failed_attempts, self._was_lost = 0, False
        try:
            await self.retry.call_with_retry(lambda: self._attempt(router, attempts),
                                             self._failed, attempts=attempts,
                                             log=self._log_failure)
        except RetriesExhausted as exc:
            logger.error("gave up on %s after %d failures in a row", self.label, exc.failures)

    async def _attempt(self, router: DriverSide, attempts: Attempts) -> None:
        """One connection: made within ``connect_timeout`` (``indipycore.connecting``), served
        until the remote closes it (``RunEnded``)."""
        loop = asyncio.get_running_loop()
        gate = WriteGate()
        on_frames = functools.partial(self._frames, router)
        # BLOBs from the remote are passed on while they arrive (cutthrough.py).
        forwarder = BlobForwarder(router, self, on_frames)
        protocol = StreamProtocol(
            on_frames, self.label, gate, forwarder, self.congestion, tls=self.ssl is not None
        )
        # A set vector alone in a read goes to the clients before it is framed (``fastpath.shortcut``),
        # as an executable driver's does. What `_frames` adds is for other elements (a
        # pinned device's filter, enableBLOB after a definition): the shortcut takes only
        # sets about a device this remote already owns.
        if self.shortcut is not None:
            protocol.shortcut_route = functools.partial(self.shortcut.route_set, self)
        transport, _ = await connect_within(loop.create_connection(
            functools.partial(_same, protocol), self.host, self.port, ssl=self.ssl,
            server_hostname=self.server_hostname if self.ssl else None), self.connect_timeout)
        self._blob_enabled.clear()
        self._device_seen = False
        self.device_checked.clear()
        self.device_found = None
        attempts.succeeded()
        selector = inline_selector(loop)
        sock = transport.get_extra_info("socket")
        if selector is not None and sock is not None and self.ssl is None:
            # (Over TLS the transport decrypts what it reads: it reads the socket itself.)
            protocol.read_inline(selector, sock.fileno())  # no asyncio handle per read
            self.reader_now = protocol.read_now  # the shortcut: a quick answer, read at once
        self.local = is_local_peer(
            sock,
            transport.get_extra_info("peername"),
            transport.get_extra_info("sockname"),
        )
        self.connected = True
        failed, lost = self._failed_attempts, self._was_lost
        if failed or lost:
            # The recovery ends the warnings before it: said at their level, so that a log
            # showing the failure shows it too (issue 28).
            tries = f" after {failed} failed attempt{'s' * (failed > 1)}" if failed else ""
            logger.warning("connected to %s%s%s", self.label, " again" * lost, tries)
            self._failed_attempts, self._was_lost = 0, False
        else:
            logger.info("connected to %s", self.label)
        try:
            async with asyncio.TaskGroup() as tg:
                self.discard_outgoing()
                router.driver_ready(self)
                protocol.start()
                pumping = tg.create_task(pump(self, transport, gate))
                watching = (tg.create_task(self._check_device())
                            if self.device is not None else None)
                await protocol.closed.wait()
                pumping.cancel()
                if watching is not None:
                    watching.cancel()
        finally:
            self.connected = False
            self.reader_now = None
            transport.close()
            router.driver_lost(self)
        raise RunEnded("closed by the remote")

    async def _failed(self, error: BaseException) -> None:
        if isinstance(error, RunEnded):
            self._was_lost = True
        else:
            self._failed_attempts += 1

    def _log_failure(self, error: BaseException, delay: float) -> None:
        if isinstance(error, RunEnded):
            logger.warning("lost %s; reconnecting in %.1f s", self.label, delay)
        else:
            logger.warning("cannot connect to %s: %s; retrying in %.1f s", self.label, error,
                           delay)

    def _device_found(self, found: bool) -> None:
        self._device_seen = found
        self.device_found = found
        if found:
            self._missing_reported = False
        self.device_checked.set()

    async def _check_device(self) -> None:
        """dev@host: once the remote has had ``device_wait`` seconds to define the device,
        look at which devices it has, and log once (until the device appears) when it is not
        among them, with the names it does have: a typo is then one glance at the log."""
        await asyncio.sleep(self.device_wait)
        if self._device_seen:
            return
        try:
            devices = await remote_devices(self.host, self.port, ssl=self.ssl,
                                           server_hostname=self.server_hostname)
        except (OSError, TimeoutError) as exc:
            logger.debug("could not look at %s's devices: %s", self.label, exc)
            return
        if self._device_seen or self.device in devices:
            if not self._device_seen:  # there, but slow to answer our getProperties
                logger.info("%s: the remote has device %r; waiting for its definitions",
                            self.label, self.device)
            return
        if not self._missing_reported:
            self._missing_reported = True
            names = ", ".join(repr(name) for name in sorted(devices)) or "none"
            logger.warning("%s: device %r not found on %s:%d (its devices: %s); check the "
                           "name, which must match exactly", self.label, self.device,
                           self.host, self.port, names)
        self.device_found = False
        self.device_checked.set()

    def __repr__(self) -> str:
        return f"RemoteConnection({self.host!r}, {self.port}, device={self.device!r})"
