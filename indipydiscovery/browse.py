"""Listing the servers on the network: DNS-SD (``_indi._tcp``, ``_indigo._tcp``) and Alpaca.

`discover_async` browses with python-zeroconf (the optional extra ``[discovery]``, imported
here, at first use) on the chosen interfaces' addresses only (``interfaces``: never zeroconf's
"all"), resolves each service it hears of, and meanwhile sends Alpaca's UDP probe on the same
interfaces (``alpacaprobe``). A service is listed once however many interfaces or addresses it
is seen on (merged by kind and name). Nothing found is dropped silently: a TXT record that is
too long, malformed or missing keys, an address that refuses connections, a service that did
not resolve in time are each listed with the problem said (`Service.problems`). Interfaces
without multicast are not browsed (said in the log); with none left, only the Alpaca probe
runs. `discover` is the same for code without an event loop (or inside one: it then runs on a
thread of its own).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import os
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Coroutine
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from indipycore.commandline import install_hint
from indipydiscovery.alpacaprobe import DISCOVERY_PORT
from indipydiscovery.alpacaprobe import probe_alpaca
from indipydiscovery.interfaces import Interface
from indipydiscovery.interfaces import chosen_interfaces
from indipydiscovery.service import KINDS
from indipydiscovery.service import Kind
from indipydiscovery.service import Service
from indipydiscovery.service import merge_all
from indipydiscovery.txt import RECORD_LIMIT
from indipydiscovery.txt import parse_txt
from indipydiscovery.txt import txt_devices

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncZeroconf

logger = logging.getLogger(__name__)

#: The DNS-SD service type of each kind browsed.
SERVICE_TYPES: Mapping[Kind, str] = {"indi": "_indi._tcp.local.", "indigo": "_indigo._tcp.local."}
#: How long a resolved service's address gets to accept a TCP connection: past Linux's first
#: SYN retransmit (1 s), so one lost SYN on Wi-Fi, or a busy host, is not "no answer".
CONNECT_CHECK = 3.0
#: At most this many services from one listing (a flood of answers is not a listing).
MAX_SERVICES = 512

EXTRA_HINT = f"listing DNS-SD services needs the optional extra [discovery] (python-zeroconf): " \
             f"{install_hint('discovery')}"


class DiscoveryExtraMissing(ImportError):
    """python-zeroconf is not installed; the message says what to install."""


def zeroconf_available() -> bool:
    """Whether the extra ``[discovery]`` is installed (found, not imported)."""
    from importlib.util import find_spec

    return find_spec("zeroconf") is not None


async def discover_async(
    timeout: float = 3.0,
    *,
    interfaces: Sequence[str] | None = None,
    kinds: Collection[str] = KINDS,
    on_found: Callable[[Service], None] | None = None,
    alpaca_port: int = DISCOVERY_PORT,
) -> list[Service]:
    """The INDI, INDIGO and Alpaca servers found within `timeout` seconds on `interfaces`
    (names; else ``INDIPY_MDNS_INTERFACES``, else every interface up with multicast on), of
    the `kinds` asked for, sorted by kind and name. `on_found` is called with each service as
    soon as it is known, and again when a later sighting adds to it (another address, another
    interface). `alpaca_port` is Alpaca's discovery port. Raises `InterfaceError` for an
    interface name this machine lacks, `DiscoveryExtraMissing` when DNS-SD kinds are asked
    for without python-zeroconf, ValueError for an unknown kind."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind {', '.join(sorted(unknown))}: the kinds are "
                         f"{', '.join(KINDS)}")
    chosen = chosen_interfaces(interfaces)
    types = [SERVICE_TYPES[kind] for kind in KINDS if kind in kinds and kind in SERVICE_TYPES]
    if types and not zeroconf_available():
        raise DiscoveryExtraMissing(EXTRA_HINT)
    services: list[Service] = []

    def found(service: Service, update: bool = False) -> None:
        merged = (updated(services, service) if update else None) or merge_all(services, service)
        if on_found is not None:
            on_found(merged)

    def lost(kind: Kind, name: str) -> None:
        services[:] = [s for s in services if s.key != (kind, name)]

    parts: list[Coroutine[object, object, object]] = []
    if types:
        parts.append(Browse(chosen, types, found, lost).run(timeout))
    if "alpaca" in kinds:
        parts.append(probe_alpaca(chosen, timeout, port=alpaca_port, on_found=found))
    await asyncio.gather(*parts)
    return sorted(services, key=lambda s: (KINDS.index(s.kind), s.name))


def updated(services: list[Service], service: Service) -> Service | None:
    """`service` in place of the entry of the same kind and name in `services` (its TXT
    changed: the new values count), keeping the addresses and interfaces the entry had too;
    None when there is no such entry."""
    for index, known in enumerate(services):
        if known.key == service.key:
            services[index] = replace(
                service, addresses=tuple(dict.fromkeys((*service.addresses, *known.addresses))),
                interfaces=tuple(dict.fromkeys((*service.interfaces, *known.interfaces))))
            return services[index]
    return None


def discover(timeout: float = 3.0, **options: Any) -> list[Service]:
    """`discover_async`, for code without an event loop; called from inside a running loop
    (a notebook, a callback) it browses on a thread of its own, blocking the caller until
    done (`on_found` is then called on that thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(discover_async(timeout, **options))
    with concurrent.futures.ThreadPoolExecutor(1, "indipy-discover") as pool:
        return pool.submit(asyncio.run, discover_async(timeout, **options)).result()


def multicast_addresses(chosen: Sequence[Interface]) -> list[str]:
    """The IPv4 addresses DNS-SD may use on `chosen`: those of the interfaces that are up
    with multicast on; each other one is said in the log, and none left is said plainly."""
    addresses: list[str] = []
    for interface in chosen:
        if not interface.up or not interface.multicast or not interface.ipv4:
            why = ("is down" if not interface.up else "has multicast off"
                   if not interface.multicast else "has no IPv4 address")
            logger.warning("DNS-SD: not browsing on %s, which %s", interface.name, why)
            continue
        addresses.extend(interface.ipv4)
    if not addresses:
        names = ", ".join(i.name for i in chosen) or "none chosen"
        logger.warning("DNS-SD: no interface to browse on (%s): INDI and INDIGO servers cannot "
                       "be listed without multicast; connect to them by host:port", names)
    return addresses


class Browse:
    """One browse of `types` on the `chosen` interfaces: each service heard of is resolved,
    its address checked, and handed to `found` as a `Service` (again, with True, when its
    TXT record changes: a server's devices come and go); one that says goodbye (or whose
    records expire) meanwhile is handed to `lost` by kind and name. A TXT record that
    changes while its service is being resolved is read again once that is done: the
    reading under way may have read the record replaced."""

    def __init__(self, chosen: Sequence[Interface], types: Sequence[str],
                 found: Callable[[Service, bool], None],
                 lost: Callable[[Kind, str], None]) -> None:
        self.chosen = chosen
        self.types = types
        self.found = found
        self.lost = lost
        self.pending: dict[tuple[str, str], asyncio.Task[None]] = {}
        #: Services whose TXT changed while they were being resolved: to be read again.
        self.reread: set[tuple[str, str]] = set()
        self.deadline = 0.0

    async def run(self, timeout: float) -> None:
        """Browse for `timeout` seconds, then wait for what is still resolving (within the
        same time, and a reading again that a change then asked for); a service not
        resolved by then is listed with that said."""
        from zeroconf import DNSQuestionType
        from zeroconf import Error
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceBrowser
        from zeroconf.asyncio import AsyncZeroconf

        addresses = multicast_addresses(self.chosen)
        if not addresses:
            return
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + timeout
        try:
            zeroconf = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
        except (OSError, Error) as exc:
            logger.warning("DNS-SD: cannot browse on %s: %s", ", ".join(addresses), exc)
            return
        browser = None
        try:
            # QM, answers by multicast: several responders on one host share UDP 5353
            # (SO_REUSEPORT), and a unicast (QU) answer reaches only one of those sockets,
            # often not ours, which then waited a second for the next question
            browser = AsyncServiceBrowser(zeroconf.zeroconf, list(self.types),
                                          handlers=[self._changed(zeroconf)],
                                          question_type=DNSQuestionType.QM)
            await asyncio.sleep(max(0.0, self.deadline - loop.time()))
            if self.pending:
                await asyncio.wait(list(self.pending.values()))
            self._drop_unannounced(zeroconf)
        finally:
            for task in self.pending.values():
                task.cancel()
            if browser is not None:
                await browser.async_cancel()
            await zeroconf.async_close()

    def _drop_unannounced(self, zeroconf: AsyncZeroconf) -> None:
        """Hand to `lost` each service heard whose pointer record the cache no longer holds
        (its goodbye came, or it expired) though no removal was seen: an answer that came
        after a goodbye must not list a service that has left."""
        cache = zeroconf.zeroconf.cache
        for service_type, name in list(self.pending):
            if cache.current_entry_with_name_and_alias(service_type, name) is None:
                logger.debug("DNS-SD: %s is no longer announced: not listed", name)
                self.pending.pop((service_type, name))
                self.lost(_kind_of(service_type), _instance(name, service_type))

    def _changed(self, zeroconf: AsyncZeroconf) -> Callable[..., None]:
        """The browser's handler: each service heard of, once, resolved on a task; until
        the deadline (what is heard after it is not waited for)."""
        from zeroconf import ServiceStateChange

        def changed(service_type: str, name: str, state_change: ServiceStateChange,
                    **_: object) -> None:
            key = (service_type, name)
            logger.debug("DNS-SD: %s %s", name, state_change.name)
            if state_change is ServiceStateChange.Removed:
                task = self.pending.pop(key, None)
                if task is not None:
                    task.cancel()
                    self.lost(_kind_of(service_type), _instance(name, service_type))
                return
            loop = asyncio.get_running_loop()
            if loop.time() >= self.deadline:
                return
            known = self.pending.get(key)
            if known is not None:
                if state_change is not ServiceStateChange.Updated:
                    return
                if not known.done():  # it may have read the record just replaced
                    self.reread.add(key)
                    return
            elif len(self.pending) >= MAX_SERVICES:
                return
            self.pending[key] = loop.create_task(
                self._resolve(zeroconf, service_type, name, known is not None))

        return changed

    async def _resolve(self, zeroconf: AsyncZeroconf, service_type: str, name: str,
                       again: bool = False) -> None:
        """`_read` the service; again while its TXT record changed during the reading."""
        key = (service_type, name)
        await self._read(zeroconf, service_type, name, again)
        while key in self.reread:
            self.reread.discard(key)
            await self._read(zeroconf, service_type, name, True)

    async def _read(self, zeroconf: AsyncZeroconf, service_type: str, name: str,
                    again: bool) -> None:
        from zeroconf import DNSQuestionType
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo

        loop = asyncio.get_running_loop()
        kind, instance = _kind_of(service_type), _instance(name, service_type)
        info = AsyncServiceInfo(service_type, name)
        remaining_ms = max(0.0, self.deadline - loop.time()) * 1000
        try:
            resolved = await info.async_request(zeroconf.zeroconf, max(250.0, remaining_ms),
                                                question_type=DNSQuestionType.QM)
        except Exception as exc:  # noqa: BLE001 -- a bad answer is said, never a crash
            logger.warning("DNS-SD: %s could not be resolved: %s", name, exc)
            resolved = False
        if not resolved or info.port is None:
            self.found(Service(kind=kind, name=instance, host=info.server or "", addresses=(),
                               port=info.port or 0,
                               problems=("did not resolve (no host and port answered in "
                                         "time)",)), again)
            return
        addresses = tuple(info.parsed_addresses(IPVersion.V4Only))
        values, problems = parse_txt(info.properties)
        if kind == "indigo":
            problems = []  # INDIGO announces no TXT keys: none is missing
        if len(info.text or b"") > RECORD_LIMIT:
            problems.append(f"its TXT record is {len(info.text or b'')} bytes, more than "
                            f"DNS-SD's {RECORD_LIMIT}: it may not reach every client whole")
        service = service_from_txt(kind, instance, info.server or "", addresses, info.port,
                                   values, problems, self._interfaces_of(addresses))
        refused = await _refuses(addresses, info.port)
        if refused:
            service = service.merge(Service(kind=kind, name=instance, host="", addresses=(),
                                            port=0, problems=(refused,)))
        logger.debug("DNS-SD: %s resolved%s%s", name, " again" if again else "",
                     f" ({'; '.join(service.problems)})" if service.problems else "")
        self.found(service, again)

    def _interfaces_of(self, addresses: Sequence[str]) -> tuple[str, ...]:
        """The chosen interfaces whose networks hold `addresses` (loopback's for 127/8)."""
        names = []
        for address in addresses:
            ip = ipaddress.IPv4Address(address)
            for interface in self.chosen:
                if any(_same_network(ip, own, broadcast)
                       for own in interface.ipv4 for broadcast in interface.broadcast) \
                        or (ip.is_loopback and interface.loopback):
                    names.append(interface.name)
        return tuple(dict.fromkeys(names))


def _kind_of(service_type: str) -> Kind:
    return next(kind for kind, known in SERVICE_TYPES.items() if known == service_type)


def _instance(name: str, service_type: str) -> str:
    """``pi INDI 7624`` of ``pi INDI 7624._indi._tcp.local.``."""
    return name[: -len(service_type) - 1] if name.endswith("." + service_type) else name


def _same_network(ip: ipaddress.IPv4Address, own: str, broadcast: str) -> bool:
    mine, last = int(ipaddress.IPv4Address(own)), int(ipaddress.IPv4Address(broadcast))
    for bits in range(2, 32):
        host = (1 << bits) - 1
        if mine | host == last:
            return int(ip) & ~host == mine & ~host
    return False


def service_from_txt(kind: Kind, name: str, host: str, addresses: tuple[str, ...], port: int,
                     values: Mapping[str, str], problems: Sequence[str],
                     interfaces: tuple[str, ...]) -> Service:
    """A resolved DNS-SD service as a `Service`, its fields from its TXT `values` (as
    ``txt.parse_txt`` read them: a port there is a port)."""
    devices, _ = txt_devices(values)
    tls, alpaca = values.get("tls"), values.get("alpaca")
    return Service(kind=kind, name=name, host=host, addresses=addresses, port=port,
                   tls_port=int(tls) if tls else None, alpaca_port=int(alpaca) if alpaca else None,
                   web=values.get("web"), software=values.get("software", ""),
                   version=values.get("version", ""), devices=tuple(devices), txt=dict(values),
                   interfaces=interfaces, problems=tuple(dict.fromkeys(problems)))


async def _refuses(addresses: Sequence[str], port: int) -> str | None:
    """None when one of `addresses` accepts a TCP connection on `port` (closed at once), else
    what happened at each."""
    failures = []
    for address in addresses or ():
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(address, port),
                                               CONNECT_CHECK)
        except (OSError, TimeoutError) as exc:
            reason = ("no answer" if isinstance(exc, TimeoutError) else
                      os.strerror(exc.errno) if exc.errno else str(exc))
            failures.append(f"{address}:{port}: {reason.lower()}")
            continue
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass  # it accepted: that is all this asked
        return None
    if not addresses:
        return "resolved to no IPv4 address"
    return "cannot connect: " + "; ".join(failures)
