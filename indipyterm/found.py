"""The servers found on the network, as the start screen lists them (no textual here).

`FoundServers.listen` runs one listing (``indipydiscovery``: INDI and INDIGO by DNS-SD, Alpaca
by its UDP probe, on the interfaces ``INDIPY_MDNS_INTERFACES`` names, else every one with
multicast on) and says each change as it comes, so the first server shows as soon as it
answers; at the listing's end the list is what it found (a server gone is gone). The app runs
one listing after another while the start screen is shown. `pick` turns a line into the host
and port to type: the TLS port when indipyterm has a TLS context (``--tls-ca``) and the server
announces one. An Alpaca server is listed as not reachable from here (indipyterm speaks INDI;
``indipyserver alpaca://`` serves its devices). Without python-zeroconf (the extra
``[discovery]``) only Alpaca servers are listed and `note` says what to install.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from indipydiscovery.browse import EXTRA_HINT
from indipydiscovery.browse import discover_async
from indipydiscovery.browse import zeroconf_available
from indipydiscovery.interfaces import without_multicast
from indipydiscovery.service import KINDS
from indipydiscovery.service import Service

__all__ = ["FoundServers", "Pick", "describe"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pick:
    """What choosing a server fills in: `host` and `port` (None: cannot be reached from here),
    and `note`, what the user should know ("": nothing)."""

    host: str | None
    port: int | None
    note: str = ""


def describe(service: Service) -> str:
    """One line of the list: name, kind, where, TLS port, devices, the first problem."""
    where = f"{service.address}:{service.port}"
    tls = f" TLS {service.tls_port}" if service.tls_port and service.tls_port != service.port \
        else " (TLS)" if service.tls_port else ""
    if service.kind == "alpaca":
        tail = "  not reachable from here (ASCOM Alpaca: indipyserver alpaca://...)"
    else:
        tail = f"  {', '.join(service.devices)}" if service.devices else ""
    problem = f"  ! {service.problems[0]}" if service.problems else ""
    return f"{service.name}  [{service.kind.upper()}] {where}{tls}{tail}{problem}"


class FoundServers:
    """See the module docstring."""

    def __init__(self) -> None:
        self.services: list[Service] = []
        self.note = "" if zeroconf_available() else (
            f"INDI servers cannot be listed: {EXTRA_HINT}. Type an address with s.")
        self.listings = 0

    async def listen(self, timeout: float, on_change: Callable[[], None]) -> None:
        """One listing of `timeout` seconds; `on_change()` after each change to the list."""
        kinds = KINDS if zeroconf_available() else ("alpaca",)
        if zeroconf_available():
            self.note = self._no_multicast()
        seen: list[Service] = []

        def found(service: Service) -> None:
            for services in (seen, self.services):
                keys = [s.key for s in services]
                if service.key in keys:
                    services[keys.index(service.key)] = service
                else:
                    services.append(service)
            on_change()

        try:
            seen = await discover_async(timeout, kinds=kinds, on_found=found)
        except (OSError, ValueError, ImportError) as exc:  # an interface this machine lacks
            logger.warning("listing the servers on the network: %s", exc)
            self.note = f"Cannot list the servers on the network: {exc}"
        self.listings += 1
        self.services = seen  # what this listing found, sorted: a server gone is gone
        on_change()

    @staticmethod
    def _no_multicast() -> str:
        """What to say when no chosen interface can carry DNS-SD ("": one can)."""
        names = without_multicast()
        if names is None:
            return ""
        return (f"No interface with multicast ({names}): INDI servers cannot be listed. "
                f"Type host and port with s.")

    def lines(self) -> list[str]:
        return [describe(service) for service in self.services]

    def pick(self, index: int, tls: bool) -> Pick:
        """The host and port for the `index`th server; `tls`: indipyterm connects by TLS."""
        service = self.services[index]
        if service.kind == "alpaca":
            return Pick(None, None, f"{service.name} is an ASCOM Alpaca server, which "
                        f"indipyterm cannot reach: serve its devices with indipyserver "
                        f"alpaca://{service.address}:{service.port} and connect to that")
        if tls:
            if service.tls_port:
                return Pick(service.address, service.tls_port)
            return Pick(service.address, service.port, f"{service.name} announces no TLS "
                        f"port, and indipyterm was started with TLS (--tls-ca)")
        if service.tls_port == service.port:
            return Pick(service.address, service.port, f"{service.port} is a TLS port: start "
                        f"indipyterm with --tls-ca FILE to reach it")
        return Pick(service.address, service.port)
