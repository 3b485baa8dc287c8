"""Alpaca's own discovery: the UDP probe, then each answering server's management API.

ASCOM Alpaca servers answer the 16 bytes ``alpacadiscovery1`` sent to UDP 32227 with
``{"AlpacaPort": N}``, from the address their API listens on. The probe is a broadcast, so it
is sent only on the chosen interfaces (``interfaces.chosen_interfaces``: the same ones DNS-SD
browses): one socket bound to each interface's address, sending to that interface's directed
broadcast address, never to 255.255.255.255 (which leaves by the default route). The loopback
interface has no broadcast address of its own; 127.255.255.255 reaches every responder bound
there (several may share the port, SO_REUSEPORT), where a unicast probe to 127.0.0.1 would
reach only one.

Each answer's devices come from ``GET /management/v1/configureddevices`` (and its name from
``/management/v1/description``). A server without the management API (alpaca-simulators
answers 404) has its devices asked for by type, number 0 of each. An answer that is not JSON
is skipped, with the reason in the log; a management API that fails leaves the server listed
with no devices and the reason in its `problems` (and the log). Standard library only: the
HTTP requests are urllib's, in threads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from indipydiscovery.service import Service

logger = logging.getLogger(__name__)

DISCOVERY_PORT = 32227
PROBE = b"alpacadiscovery1"
LOOPBACK_BROADCAST = "127.255.255.255"
#: How many times the probe is sent (UDP may lose one), and how far apart.
PROBES = 2
PROBE_INTERVAL = 0.25
#: A server's management API gets this long to answer each request.
HTTP_TIMEOUT = 2.0
#: At most this many servers from one probe (a flood of answers is not a listing).
MAX_SERVERS = 256
#: The device types' names in Alpaca URLs, for a server with no management API.
DEVICE_TYPES = ("camera", "covercalibrator", "dome", "filterwheel", "focuser",
                "observingconditions", "rotator", "safetymonitor", "switch", "telescope")


class ProbeInterface(Protocol):
    """What the probe needs of an interface (``interfaces.Interface`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def ipv4(self) -> tuple[str, ...]: ...

    @property
    def broadcast(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Target:
    """One probe: sent from `source` (an address of `interface`) to `broadcast`."""

    interface: str
    source: str
    broadcast: str


def targets(interfaces: Sequence[ProbeInterface]) -> list[Target]:
    """Where to send the probe on each interface: its broadcast addresses, each from the
    address in the same network; 127.255.255.255 for a loopback address with none. An
    interface with neither (a point-to-point link) is said in the log and not probed."""
    found = []
    for interface in interfaces:
        sent = False
        for source in interface.ipv4:
            for broadcast in _broadcasts_of(source, interface.broadcast):
                found.append(Target(interface.name, source, broadcast))
                sent = True
        if not sent:
            logger.info("Alpaca discovery: %s has no IPv4 broadcast address, not probed",
                        interface.name)
    return found


def _broadcasts_of(source: str, broadcasts: tuple[str, ...]) -> list[str]:
    address = ipaddress.IPv4Address(source)
    if address.is_loopback:
        return [LOOPBACK_BROADCAST]
    mine = []
    for text in broadcasts:
        broadcast = int(ipaddress.IPv4Address(text))
        # the broadcast of source's network: source with its host bits (the low 2..31) set
        if any(int(address) | (1 << bits) - 1 == broadcast for bits in range(2, 32)):
            mine.append(text)
    return mine


class _Listener(asyncio.DatagramProtocol):
    """Hands each answer (bytes, sender's address) on to `answered`."""

    def __init__(self, interface: str, answered: Callable[[str, bytes, str], None]) -> None:
        self.interface = interface
        self.answered = answered

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.answered(self.interface, data, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        logger.warning("Alpaca discovery on %s: %s", self.interface, exc)


def _listener_factory(interface: str,
                      answered: Callable[[str, bytes, str], None]) -> Callable[[], _Listener]:
    return lambda: _Listener(interface, answered)


def alpaca_port_of(data: bytes) -> int:
    """The ``AlpacaPort`` of a discovery answer; ValueError saying what is wrong with it."""
    try:
        reply = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    port = reply.get("AlpacaPort") if isinstance(reply, dict) else None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"no AlpacaPort between 1 and 65535 in {data[:80]!r}")
    return port


async def probe_alpaca(
    interfaces: Sequence[ProbeInterface],
    timeout: float = 2.0,
    *,
    port: int = DISCOVERY_PORT,
    on_found: Callable[[Service], None] | None = None,
    http_timeout: float = HTTP_TIMEOUT,
) -> list[Service]:
    """The Alpaca servers answering the probe on `interfaces` within `timeout` seconds, each
    with its devices, one `Service` per server however many addresses it answered from (the
    same port and the same devices' UniqueIDs); `on_found` is called with each as soon as its
    devices are known. `port` is the discovery port (32227; another for tests)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: set[tuple[str, int]] = set()
    fetches: list[asyncio.Task[tuple[Service, frozenset[str]]]] = []
    services: list[Service] = []
    identities: list[frozenset[str]] = []

    def found(service: Service, ids: frozenset[str]) -> None:
        for index, known in enumerate(services):
            if ids and ids == identities[index] and known.port == service.port:
                services[index] = merged = _same_server(known, service)
                if on_found is not None:
                    on_found(merged)
                return
        services.append(service)
        identities.append(ids)
        if on_found is not None:
            on_found(service)

    def answered(interface: str, data: bytes, sender: str) -> None:
        try:
            api_port = alpaca_port_of(data)
        except ValueError as exc:
            logger.warning("Alpaca discovery: the answer from %s on %s skipped: %s",
                           sender, interface, exc)
            return
        if (sender, api_port) in seen or len(seen) >= MAX_SERVERS:
            return
        seen.add((sender, api_port))
        task = loop.create_task(describe(sender, api_port, interface, http_timeout))
        task.add_done_callback(lambda done: None if done.cancelled() or done.exception()
                               else found(*done.result()))
        fetches.append(task)

    transports = []
    try:
        for target in targets(interfaces):
            try:
                sock = _probe_socket(target.source)
            except OSError as exc:
                logger.warning("Alpaca discovery: cannot probe from %s on %s: %s",
                               target.source, target.interface, exc)
                continue
            transport, _ = await loop.create_datagram_endpoint(
                _listener_factory(target.interface, answered), sock=sock)
            transports.append((transport, target))
        for attempt in range(PROBES):
            for transport, target in transports:
                try:
                    transport.sendto(PROBE, (target.broadcast, port))
                except OSError as exc:
                    logger.warning("Alpaca discovery: probe to %s on %s failed: %s",
                                   target.broadcast, target.interface, exc)
            if attempt + 1 < PROBES:
                await asyncio.sleep(min(PROBE_INTERVAL, max(0.0, deadline - loop.time())))
        await asyncio.sleep(max(0.0, deadline - loop.time()))
    finally:
        for transport, _ in transports:
            transport.close()
    if fetches:
        await asyncio.wait(fetches)
    return services


def _probe_socket(source: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind((source, 0))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _same_server(known: Service, other: Service) -> Service:
    """One server answering from two addresses: one entry with both."""
    return Service(
        kind="alpaca", name=known.name, host=known.host,
        addresses=tuple(dict.fromkeys((*known.addresses, *other.addresses))),
        port=known.port, alpaca_port=known.alpaca_port, software=known.software,
        version=known.version, devices=known.devices, txt=known.txt,
        interfaces=tuple(dict.fromkeys((*known.interfaces, *other.interfaces))),
        problems=tuple(dict.fromkeys((*known.problems, *other.problems))))


async def describe(address: str, port: int, interface: str,
                   http_timeout: float = HTTP_TIMEOUT) -> tuple[Service, frozenset[str]]:
    """The server at `address`:`port` as a `Service` with its devices (from the management
    API, or each type's number 0 without one), and its devices' UniqueIDs."""
    base = f"http://{_host_in_url(address)}:{port}"
    problems: list[str] = []
    description: dict[str, object] = {}
    try:
        value = await _get_value(f"{base}/management/v1/description", http_timeout)
        if isinstance(value, dict):
            description = value
        else:
            problems.append("management description is not an object")
    except _HttpError as exc:
        if exc.status != 404:  # no management API at all: said once, below
            problems.append(f"management description: {exc}")
    except ValueError as exc:
        problems.append(f"management description: {exc}")
    devices: tuple[str, ...] = ()
    ids: frozenset[str] = frozenset()
    try:
        listed = await _get_value(f"{base}/management/v1/configureddevices", http_timeout)
        devices, ids = _configured(listed, problems)
    except _HttpError as exc:
        if exc.status == 404:
            problems.append("no management API (HTTP 404): devices found by asking each "
                            "device type's number 0")
            devices = await _devices_by_type(base, http_timeout)
        else:
            problems.append(f"management API: {exc}")
    except ValueError as exc:
        problems.append(f"management API: {exc}")
    for problem in problems:  # a server without the API (alpaca-simulators) is no fault
        level = logging.INFO if problem.startswith("no management API") else logging.WARNING
        logger.log(level, "Alpaca server %s:%s: %s", address, port, problem)
    server_name = description.get("ServerName")
    label = server_name if isinstance(server_name, str) and server_name else "Alpaca"
    txt = {key: value for key, value in description.items() if isinstance(value, str)}
    version = description.get("ManufacturerVersion")
    service = Service(
        kind="alpaca", name=f"{label} ({address}:{port})", host=address,
        addresses=(address,), port=port, alpaca_port=port, software=label,
        version=version if isinstance(version, str) else "", devices=devices, txt=txt,
        interfaces=(interface,), problems=tuple(problems))
    return service, ids


def _host_in_url(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _configured(listed: object, problems: list[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    if not isinstance(listed, list):
        problems.append("configureddevices is not a list")
        return (), frozenset()
    names, ids = [], set()
    for entry in listed:
        name = entry.get("DeviceName") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            problems.append(f"a configured device without a DeviceName: {str(entry)[:80]}")
            continue
        names.append(name)
        unique = entry.get("UniqueID")
        if isinstance(unique, str) and unique:
            ids.add(unique)
    return tuple(names), frozenset(ids)


async def _devices_by_type(base: str, http_timeout: float) -> tuple[str, ...]:
    async def name_of(kind: str) -> str | None:
        try:
            value = await _get_value(f"{base}/api/v1/{kind}/0/name", http_timeout)
        except ValueError:
            return None
        return value if isinstance(value, str) and value else None

    names = await asyncio.gather(*(name_of(kind) for kind in DEVICE_TYPES))
    return tuple(name for name in names if name is not None)


class _HttpError(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


async def _get_value(url: str, http_timeout: float) -> object:
    """The ``Value`` of an Alpaca GET; ValueError (`_HttpError` for a status) saying why not."""
    return await asyncio.to_thread(_get_value_blocking, url, http_timeout)


def _get_value_blocking(url: str, http_timeout: float) -> object:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=http_timeout) as reply:
            body = reply.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        raise _HttpError(exc.code, str(exc.reason)) from None
    except (OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ValueError(f"{url}: {reason} (after {time.monotonic() - started:.1f} s)") from None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{url} answered something that is not JSON: {body[:60]!r}") from None
    number = data.get("ErrorNumber", 0) if isinstance(data, dict) else None
    if number is None:
        raise ValueError(f"{url} answered JSON that is not an object")
    if number:
        raise ValueError(f"{url}: Alpaca error {number} {data.get('ErrorMessage', '')}".strip())
    return data.get("Value")
