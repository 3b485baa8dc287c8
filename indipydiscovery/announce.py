"""Announcing services by DNS-SD (multicast DNS), with python-zeroconf (the extra
``[discovery]``), imported only when an `Announcer` starts.

An `Announcer` announces a few services on the chosen interfaces (``interfaces``: only their
addresses are handed to zeroconf, never "all") until `stop`, which sends the goodbyes, so
browsers drop them at once. Only addresses the announced server can be reached on are
announced: a server listening on 127.0.0.1 is announced on the loopback interface only.

A name already taken on the network (another host's, or a second server of ours) is renamed
as RFC 6763 suggests, ``NAME (2)``, ``NAME (3)``... (zeroconf probes for it first).

What keeps it from announcing at all -- the extra missing, no chosen interface that is up with
multicast on and reaches the server, zeroconf's sockets refused -- is a `NotAnnounced` carrying
the reason in words: the caller says it once and keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from indipycore.commandline import install_hint
from indipydiscovery.interfaces import Interface
from indipydiscovery.interfaces import chosen_interfaces

if TYPE_CHECKING:
    from zeroconf import Zeroconf
    from zeroconf._dns import DNSRecord
    from zeroconf.asyncio import AsyncServiceInfo
    from zeroconf.asyncio import AsyncZeroconf

__all__ = ["HTTP_SERVICE", "INDI_SERVICE", "Announcement", "Announcer", "NotAnnounced",
           "extra_missing", "instance_name", "reachable_addresses", "renew_queued_answers"]

logger = logging.getLogger(__name__)

INDI_SERVICE = "_indi._tcp.local."
HTTP_SERVICE = "_http._tcp.local."
#: Renames tried after a conflict before giving up on a service.
MAX_RENAMES = 32
#: Milliseconds a name is asked for by multicast while zeroconf probes it (`_answered`): two
#: questions (zeroconf spaces them a second apart), since a responder that has just announced
#: answers no multicast question about the record within a second of it (RFC 6762 6); the
#: probing and the announcements take longer, so this costs no time.
TAKEN_WAIT_MS = 1300
#: DNS's SRV type and IN class (RFC 1035, RFC 2782).
_TYPE_SRV = 33
_CLASS_IN = 1
#: How long `stop` waits for the goodbyes to go out.
GOODBYE_TIMEOUT = 3.0
#: A DNS label's limit, an instance name's.
_LABEL = 63
#: Where python-zeroconf keeps the multicast answers it is holding back (a leading underscore
#: before 0.131).
_ANSWER_QUEUES = ("out_queue", "out_delay_queue", "_out_queue", "_out_delay_queue")


class NotAnnounced(Exception):
    """Nothing could be announced; the message says why, and what to do."""


@dataclass(frozen=True)
class Announcement:
    """One service to announce: its instance name (as wished: a conflict renames it), its
    type (``INDI_SERVICE``...), port and TXT record."""

    name: str
    type: str
    port: int
    txt: Mapping[str, str] = field(default_factory=dict)


def extra_missing() -> str | None:
    """Why announcing cannot work here (zeroconf not installed, said with what to install), or
    None when it can."""
    try:
        import zeroconf  # noqa: F401
    except ImportError as exc:
        return (f"DNS-SD needs the optional extra [discovery] (zeroconf: {exc}): "
                f"{install_hint('discovery')}")
    return None


def instance_name(kind: str, port: int, hostname: str | None = None) -> str:
    """``HOST KIND PORT`` (``vm INDI 7624``), the host part cut to keep it one DNS label."""
    host = (hostname or socket.gethostname()).split(".")[0] or "indipy"
    tail = f" {kind} {port}"
    room = _LABEL - len(tail.encode()) - len(" (99)")
    return host.encode()[:room].decode(errors="ignore") + tail


def _covers(listen_host: str, address: str) -> bool:
    if listen_host in ("", "0.0.0.0", "::", "*"):
        return True
    if listen_host == "localhost":
        return ipaddress.ip_address(address).is_loopback
    try:
        return ipaddress.ip_address(listen_host) == ipaddress.ip_address(address)
    except ValueError:  # a host name: whatever it resolves to here
        try:
            resolved = {info[4][0] for info in socket.getaddrinfo(listen_host, None,
                                                                   socket.AF_INET)}
        except OSError:
            return False
        return address in resolved


def _unusable(interface: Interface) -> str:
    """Why `interface` carries no multicast DNS, and what changes that."""
    if not interface.up:
        return f"{interface.name} is down"
    if not interface.multicast:
        return (f"{interface.name} has multicast off (ip link set {interface.name} multicast "
                "on)")
    return f"{interface.name} has no IPv4 address"


def reachable_addresses(interfaces: Sequence[Interface], listen_host: str) -> list[str]:
    """The IPv4 addresses of `interfaces` that are up with multicast on and that a server
    listening on `listen_host` is reached on; `NotAnnounced` saying why when none is."""
    if not interfaces:
        raise NotAnnounced("no network interface is up with multicast on")
    usable = [i for i in interfaces if i.up and i.multicast and i.ipv4]
    if not usable:
        why = "; ".join(_unusable(i) for i in interfaces)
        raise NotAnnounced(f"no interface can carry multicast DNS: {why}")
    found = [a for i in usable for a in i.ipv4 if _covers(listen_host, a)]
    if not found:
        names = ", ".join(i.name for i in usable)
        raise NotAnnounced(f"the server listens on {listen_host} only, which {names} "
                           f"cannot reach: serve on 0.0.0.0 (or an address of {names})")
    return found


def renew_queued_answers(zeroconf: Zeroconf, old: DNSRecord, new: DNSRecord) -> int:
    """Make the answers `zeroconf` holds back carry `new` where they carry `old`; returns how
    many did. Called on zeroconf's loop, right after its registry took `new`.

    A multicast answer waits 20-500 ms, and one whose records went out in the last second a
    second more (RFC 6762 section 14), holding the records of the moment it was asked: the
    answer to a question asked just before an update would go out just after it with the TXT
    the update replaced, cache-flush bit set, and every cache on the link (avahi's, a listing's)
    would hold the old record again, a server's devices gone for the record's TTL."""
    if old == new:
        return 0
    renewed = 0
    for attribute in _ANSWER_QUEUES:
        for group in getattr(getattr(zeroconf, attribute, None), "queue", ()):
            answers = group.answers
            if old in answers:
                answers.setdefault(new, set()).update(answers.pop(old))
                renewed += 1
            for additionals in answers.values():
                if old in additionals:
                    additionals.discard(old)
                    additionals.add(new)
                    renewed += 1
    if renewed:
        logger.debug("%d answers held back carry the new %s", renewed, new.name)
    return renewed


class Announcer:
    """Announces services on the chosen interfaces (`interfaces` names, else
    ``INDIPY_MDNS_INTERFACES``, else every multicast one) for a server listening on
    `listen_host`; `names` maps each service's wished name to the one announced."""

    def __init__(self, interfaces: Sequence[str] | None = None, *,
                 listen_host: str = "0.0.0.0", hostname: str | None = None) -> None:
        self.interfaces = list(interfaces) if interfaces else None
        self.listen_host = listen_host
        self.hostname = (hostname or socket.gethostname()).split(".")[0] or "indipy"
        self.names: dict[str, str] = {}
        self.addresses: list[str] = []
        self._zeroconf: AsyncZeroconf | None = None
        self._infos: dict[str, AsyncServiceInfo] = {}

    async def start(self, services: Sequence[Announcement]) -> list[str]:
        """Announce `services` (their names probed, renamed on a conflict); returns the names
        announced. `NotAnnounced` says why nothing is (nothing is left open then)."""
        missing = extra_missing()
        if missing is not None:
            raise NotAnnounced(missing)
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        try:
            chosen = chosen_interfaces(self.interfaces)
        except ValueError as exc:
            raise NotAnnounced(str(exc)) from None
        self.addresses = reachable_addresses(chosen, self.listen_host)
        try:
            self._zeroconf = AsyncZeroconf(interfaces=list(self.addresses),
                                           ip_version=IPVersion.V4Only)
        except OSError as exc:
            raise NotAnnounced(f"multicast DNS sockets refused on {self.addresses}: "
                               f"{exc}") from None
        try:  # probed side by side: each probe takes about a second (RFC 6762 8.1)
            await asyncio.gather(*(self._register(service) for service in services))
        except BaseException:
            await self.stop()
            raise
        return list(self.names.values())

    async def _register(self, service: Announcement) -> None:
        from zeroconf import NonUniqueNameException

        assert self._zeroconf is not None
        for attempt in range(1, MAX_RENAMES + 1):
            name = service.name if attempt == 1 else f"{service.name} ({attempt})"
            info = self._info(service, name)
            # zeroconf probes (and then registers) while the name is asked by multicast
            probing = asyncio.ensure_future(self._zeroconf.async_register_service(info))
            try:
                if await self._answered(info):
                    await self._withdraw(probing, info)
                    raise NonUniqueNameException
                await (await probing)  # the probing, then the announcements
            except NonUniqueNameException:
                logger.info("DNS-SD name %r is taken on the network: trying another", name)
                continue
            self.names[service.name] = name
            self._infos[service.name] = info
            logger.debug("announced %r (%s) on port %d", name, service.type, service.port)
            return
        raise NotAnnounced(f"{service.name!r} and {MAX_RENAMES - 1} renames of it are all "
                           "taken on the network")

    async def _answered(self, info: AsyncServiceInfo) -> bool:
        """Whether another responder holds `info`'s name: its SRV asked by a multicast (QM)
        question while zeroconf probes, and an SRV for that name heard that is not ours
        (another host or port; the same record twice is no conflict, RFC 6762 8.2).

        zeroconf's probes are QU questions (RFC 6762 8.1), answered by unicast to port 5353.
        On one host every responder (avahi-daemon, a second server of ours) binds 5353 with
        SO_REUSEPORT, and the kernel hands a unicast datagram to one of those sockets, not
        always the prober's: the conflict went unseen now and then and two services shared a
        name (issue 90: "our server announced the very name avahi-publish held"). A
        multicast answer reaches every socket in the group."""
        from zeroconf import DNSQuestionType
        from zeroconf._dns import DNSService
        from zeroconf.asyncio import AsyncServiceInfo

        assert self._zeroconf is not None
        zeroconf = self._zeroconf.zeroconf
        asked = AsyncServiceInfo(info.type, info.name)
        await asked.async_request(zeroconf, TAKEN_WAIT_MS, question_type=DNSQuestionType.QM)
        ours = (str(info.server).lower(), info.port)
        return any(isinstance(record, DNSService) and (record.server_key, record.port) != ours
                   for record in zeroconf.cache.async_all_by_details(
                       info.name.lower(), _TYPE_SRV, _CLASS_IN))

    async def _withdraw(self, probing: asyncio.Future[Awaitable[None]],
                        info: AsyncServiceInfo) -> None:
        """Stop announcing a name found taken: the probing cancelled, or, where it was over
        already, the service unregistered (a goodbye)."""
        assert self._zeroconf is not None
        probing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await (await probing)
        if info in self._zeroconf.zeroconf.registry.async_get_service_infos():
            await (await self._zeroconf.async_unregister_service(info))

    def _info(self, service: Announcement, name: str) -> AsyncServiceInfo:
        from zeroconf.asyncio import AsyncServiceInfo

        return AsyncServiceInfo(service.type, f"{name}.{service.type}", port=service.port,
                                properties=dict(service.txt),
                                server=f"{self.hostname}.local.",
                                addresses=[socket.inet_aton(a) for a in self.addresses])

    async def update(self, name: str, txt: Mapping[str, str]) -> None:
        """Announce a new TXT record for the service first wished as `name`."""
        old = self._infos.get(name)
        if old is None or self._zeroconf is None:
            raise KeyError(f"{name!r} is not announced")
        info = self._info(Announcement(self.names[name], old.type, old.port or 0, txt),
                          self.names[name])
        self._infos[name] = info
        broadcast = await self._zeroconf.async_update_service(info)  # registry updated now
        renew_queued_answers(self._zeroconf.zeroconf, old.dns_text(), info.dns_text())
        await broadcast

    async def stop(self) -> None:
        """Send the goodbyes (bounded by `GOODBYE_TIMEOUT`) and close; idempotent."""
        zeroconf, self._zeroconf = self._zeroconf, None
        self._infos.clear()
        if zeroconf is None:
            return
        try:
            # One goodbye (TTL 0), not zeroconf's three 125 ms apart: a querier drops a record
            # one second after the goodbye it hears (RFC 6762 10.1), and avahi counts that
            # second from each repeat, so three kept a stopped server listed 1.25 s.
            goodbye = zeroconf.zeroconf.generate_unregister_all_services()  # takes them out
            if goodbye is not None:
                zeroconf.zeroconf.async_send(goodbye)
        finally:
            async with asyncio.timeout(GOODBYE_TIMEOUT):
                await zeroconf.async_close()
