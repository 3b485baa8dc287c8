"""A host or a discovered service's name: where a front end takes a host, a service name works.

PyIndi's ``setServer`` and the bridges' ``--ihost`` take a host; `server_address` turns what
they were given into the address and port to connect to. A host name this machine resolves, an
IP address or ``localhost:PATH`` (a Unix socket) is kept as it is, at no cost; anything else is
looked for as a DNS-SD service instance name, as ``indipy-discover`` prints it (``"pi INDI
7624"``), for at most `RESOLVE_TIMEOUT` seconds (``resolve.resolve_service``). A name found
nowhere is `ServiceNotFound`, naming the services that were found, so a typo shows as one. It
is a ConnectionError too: the bridges retry it as they retry a refused connection (the server
may not be up yet), PyIndi's ``connectServer`` logs it and returns False.

The address is resolved at each connect, so a server whose address the router changed is found
again at the next one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from indipycore.commandline import install_hint
from indipydiscovery.browse import zeroconf_available
from indipydiscovery.service import Service

__all__ = [
    "RESOLVE_TIMEOUT",
    "ServerAddress",
    "ServiceNotFound",
    "looks_like_host",
    "server_address",
]

logger = logging.getLogger(__name__)

#: Seconds a service name is looked for (the listing's own default).
RESOLVE_TIMEOUT = 3.0

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


class ServiceNotFound(LookupError, ConnectionError):
    """Not a host name this machine resolves, nor a service found by that name; the message
    says which services were found (or what to install to look for them)."""


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """Where to connect: `host` and `port`, and the `service` they came from (None: `host`
    was a host name or address, kept)."""

    host: str
    port: int
    service: Service | None = None


def looks_like_host(text: str) -> bool:
    """Whether `text` can be a host name or an address (``localhost:PATH`` too): dot-separated
    labels of letters, digits, ``-`` and ``_``, 253 characters at most. A service instance
    name (``pi INDI 7624``: spaces) cannot."""
    if text.startswith("localhost:"):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return True
    name = text.removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


async def _resolves(host: str) -> bool:
    try:
        await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return True


async def server_address(host: str, port: int, *, tls: bool = False,
                         timeout: float = RESOLVE_TIMEOUT,
                         interfaces: Sequence[str] | None = None) -> ServerAddress:
    """`host` and `port` as given when `host` is an address, ``localhost:PATH`` or a name this
    machine resolves; else the INDI or INDIGO service called `host` found within `timeout`
    seconds on `interfaces` (``INDIPY_MDNS_INTERFACES``, else all): its first address and its
    port, its TLS port when `tls` and it announces one (`port` is then ignored). Raises
    `ServiceNotFound`."""
    if looks_like_host(host) and (host.startswith("localhost:") or await _resolves(host)):
        return ServerAddress(host, port)
    if not zeroconf_available():
        raise ServiceNotFound(
            f"{host!r} is not a host name this machine resolves; to connect to a discovered "
            f"server by its name, install the extra [discovery] (python-zeroconf): "
            f"{install_hint('discovery')}")
    from indipydiscovery.resolve import resolve_service

    try:
        service = await resolve_service(host, timeout, interfaces=interfaces)
    except LookupError as exc:
        raise ServiceNotFound(f"{host!r} is not a host name this machine resolves, and "
                              f"{str(exc)[0].lower()}{str(exc)[1:]}") from None
    if service.kind == "alpaca":
        raise ServiceNotFound(f"{host!r} is an ASCOM Alpaca server, not an INDI one: serve its "
                              f"devices with indipyserver alpaca://{service.address}:"
                              f"{service.port} and connect to that server")
    chosen = service.tls_port if tls and service.tls_port else service.port
    if tls and not service.tls_port:
        logger.warning("%s announces no TLS port: connecting by TLS to its port %s", host,
                       service.port)
    logger.info("%r is the %s server at %s:%s", host, service.kind.upper(), service.address,
                chosen)
    return ServerAddress(service.address, chosen, service)
