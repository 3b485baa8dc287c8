"""`Service`: one server found on the network, whatever found it (DNS-SD or Alpaca's probe).

Pure values, no I/O: the browser, the probe and the resolver build them, the command and the
front ends show them. A service seen on several interfaces or addresses is one `Service` (the
finders `merge` what they see by kind and name); what was wrong with what it announced (a TXT
record too long, a key missing, an address that refuses) is in `problems`, so nothing found is
dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Literal

Kind = Literal["indi", "indigo", "alpaca"]

#: The kinds a listing may ask for, in the order the command prints them.
KINDS: tuple[Kind, ...] = ("indi", "indigo", "alpaca")


@dataclass(frozen=True)
class Service:
    """A server found: `name` is the service instance name as DNS-SD announced it (``"pi
    INDI 7624"``, without ``._indi._tcp.local.``), or an Alpaca server's own; `host` its host
    name (``pi.local.``) or, for Alpaca, the address that answered; `addresses` every IPv4
    address it was seen at; `port` the port to connect to (an Alpaca server's API port).
    `txt` is what its TXT record said, decoded; `problems` what was wrong, one sentence each."""

    kind: Kind
    name: str
    host: str
    addresses: tuple[str, ...]
    port: int
    tls_port: int | None = None
    alpaca_port: int | None = None
    web: str | None = None
    software: str = ""
    version: str = ""
    devices: tuple[str, ...] = ()
    txt: Mapping[str, str] = field(default_factory=dict, hash=False)
    interfaces: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """Where to connect: the first address, else the host name."""
        return self.addresses[0] if self.addresses else self.host

    @property
    def key(self) -> tuple[str, str]:
        """What makes two sightings one service: its kind and name."""
        return (self.kind, self.name)

    def merge(self, other: Service) -> Service:
        """This service and another sighting of it as one: the addresses, interfaces and
        problems of both (in the order first seen), what `other` knows that this does not."""
        if other.key != self.key:
            raise ValueError(f"{other.kind} {other.name!r} is not {self.kind} {self.name!r}")
        return replace(
            self,
            host=self.host or other.host,
            addresses=_union(self.addresses, other.addresses),
            port=self.port or other.port,
            tls_port=self.tls_port if self.tls_port is not None else other.tls_port,
            alpaca_port=self.alpaca_port if self.alpaca_port is not None else other.alpaca_port,
            web=self.web if self.web is not None else other.web,
            software=self.software or other.software,
            version=self.version or other.version,
            devices=self.devices or other.devices,
            txt={**other.txt, **self.txt},
            interfaces=_union(self.interfaces, other.interfaces),
            problems=_union(self.problems, other.problems),
        )

    def as_json(self) -> dict[str, object]:
        """The service as JSON values (the command's ``--json``), every field by its name."""
        return {
            "kind": self.kind, "name": self.name, "host": self.host,
            "addresses": list(self.addresses), "port": self.port, "tls_port": self.tls_port,
            "alpaca_port": self.alpaca_port, "web": self.web, "software": self.software,
            "version": self.version, "devices": list(self.devices), "txt": dict(self.txt),
            "interfaces": list(self.interfaces), "problems": list(self.problems),
        }


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def merge_all(services: list[Service], found: Service) -> Service:
    """Add `found` to `services` (in place), merged with an earlier sighting of the same
    service if there is one; returns the service as it now stands."""
    for index, known in enumerate(services):
        if known.key == found.key:
            services[index] = known.merge(found)
            return services[index]
    services.append(found)
    return found


def find(services: list[Service], name: str) -> Service | None:
    """The service called `name`: its instance name, or its full DNS-SD name
    (``pi INDI 7624._indi._tcp.local.``); None when none is."""
    for service in services:
        if name in (service.name, full_name(service)):
            return service
    return None


def full_name(service: Service) -> str:
    """The service's full DNS-SD name (an Alpaca server's name alone: it has no other)."""
    if service.kind == "alpaca":
        return service.name
    return f"{service.name}._{service.kind}._tcp.local."
