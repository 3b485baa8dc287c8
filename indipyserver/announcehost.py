"""The server's one door to DNS-SD announcing (``IPyServer.announce``, on by default for the
command, ``--no-announce`` off): ``_indi._tcp`` on each port it listens on, plain and TLS,
with the TXT record of `indipydiscovery.txt` (its ports, its devices).

`indipydiscovery.announce` needs zeroconf (the extra ``[discovery]``) and imports it only when
announcing starts. Whatever keeps the server from announcing -- the extra missing, an interface
without multicast, sockets refused -- is logged once, saying why, and the server serves on: a
server nobody can find is still a server. The device list is looked at every
`DEVICE_CHECK` seconds, off the routing paths, and the TXT record announced again only when it
changed. A clean stop sends the goodbyes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from indipycore.commandline import toolkit_version
from indipydiscovery.announce import INDI_SERVICE
from indipydiscovery.announce import Announcement
from indipydiscovery.announce import Announcer
from indipydiscovery.announce import NotAnnounced
from indipydiscovery.announce import extra_missing
from indipydiscovery.announce import instance_name
from indipydiscovery.interfaces import chosen_interfaces
from indipydiscovery.txt import server_txt

__all__ = ["DEVICE_CHECK", "AnnouncedServer", "ServerAnnouncing"]

logger = logging.getLogger(__name__)

#: Seconds between looks at the server's device names.
DEVICE_CHECK = 2.0


class AnnouncedServer(Protocol):
    """What announcing reads of the server (`IPyServer`), once it listens."""

    host: str
    port: int
    serves_tcp: bool
    tls_port: int | None
    tls_host: str | None
    alpaca_port: int | None

    def device_names(self) -> list[str]: ...


class ServerAnnouncing:
    """Announces one server while it runs: `run` until cancelled, then the goodbyes."""

    def __init__(self, interfaces: Sequence[str] | None = None, *, web: str | None = None,
                 hostname: str | None = None) -> None:
        """Unknown `interfaces` names raise `InterfaceError` (a ValueError) here, before the
        server starts; those of ``INDIPY_MDNS_INTERFACES`` are said when it runs."""
        self.interfaces = list(interfaces) if interfaces else None
        if self.interfaces:
            chosen_interfaces(self.interfaces)
        extra_missing()  # zeroconf imported now, if it is there: not after the ports open
        self.web = web
        self.hostname = hostname
        #: Wished instance name -> the one announced, once announced.
        self.names: dict[str, str] = {}
        self._announcers: list[Announcer] = []
        self._devices: tuple[str, ...] = ()

    def _groups(self, server: AnnouncedServer) -> dict[str, list[Announcement]]:
        """The services to announce, by the address their port listens on."""
        txt = self._txt(server)
        groups: dict[str, list[Announcement]] = {}
        if server.serves_tcp:
            name = instance_name("INDI", server.port, self.hostname)
            groups.setdefault(server.host, []).append(
                Announcement(name, INDI_SERVICE, server.port, txt))
        if server.tls_port is not None:
            name = instance_name("INDI TLS", server.tls_port, self.hostname)
            groups.setdefault(server.tls_host or server.host, []).append(
                Announcement(name, INDI_SERVICE, server.tls_port, txt))
        return groups

    def _txt(self, server: AnnouncedServer) -> dict[str, str]:
        return server_txt(version=toolkit_version(), software="indipyserver",
                          tls_port=server.tls_port, alpaca_port=server.alpaca_port,
                          web=self.web, devices=self._devices)

    async def run(self, server: AnnouncedServer) -> None:
        """Announce, follow the device list, and say goodbye when cancelled. Without the
        extra, say so once (INFO: the server is as it was without it) and return."""
        missing = extra_missing()
        if missing is not None:
            logger.info("not announced by DNS-SD: %s", missing)
            return
        self._devices = tuple(server.device_names())
        try:
            for host, services in self._groups(server).items():
                announcer = Announcer(self.interfaces, listen_host=host, hostname=self.hostname)
                try:
                    names = await announcer.start(services)
                except NotAnnounced as exc:
                    ports = ", ".join(str(s.port) for s in services)
                    logger.info("not announced by DNS-SD (port %s): %s", ports, exc)
                    continue
                self._announcers.append(announcer)
                self.names.update(announcer.names)
                logger.info("announced by DNS-SD as %s on %s", ", ".join(map(repr, names)),
                            ", ".join(announcer.addresses))
            if self._announcers:
                await self._follow(server)
        finally:
            await self.stop()

    async def _follow(self, server: AnnouncedServer) -> None:
        while True:  # first at once: drivers define their devices while the names are probed
            devices = tuple(server.device_names())
            if devices != self._devices:
                self._devices = devices
                txt = self._txt(server)
                for announcer in self._announcers:
                    for wished in announcer.names:
                        await announcer.update(wished, txt)
            await asyncio.sleep(DEVICE_CHECK)

    async def stop(self) -> None:
        """The goodbyes of every service announced (idempotent)."""
        announcers, self._announcers = self._announcers, []
        for announcer in announcers:
            await announcer.stop()

