"""What the server announces, decided before anything is sent (indipyserver.announcehost):
one ``_indi._tcp`` service per port, grouped by the address each port listens on, each with
the server's TXT record (its TLS and Alpaca ports, the web client, its devices)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import pytest

from indipycore.commandline import toolkit_version
from indipydiscovery.announce import INDI_SERVICE
from indipydiscovery.interfaces import InterfaceError
from indipyserver.announcehost import ServerAnnouncing


@dataclass
class Listening:
    """An `AnnouncedServer`: what announcing reads of a running server."""

    host: str = "0.0.0.0"
    port: int = 7624
    serves_tcp: bool = True
    tls_port: int | None = None
    tls_host: str | None = None
    alpaca_port: int | None = None
    devices: list[str] = field(default_factory=list)

    def device_names(self) -> list[str]:
        return list(self.devices)


def test_plain_and_tls_ports_are_two_services_with_one_record() -> None:
    """A server on 0.0.0.0:7624 with TLS on 7625 (its TLS port on another address) and Alpaca
    on 11111, a web client beside it: two services, ``HOST INDI 7624`` and ``HOST INDI TLS
    7625``, grouped by their listening address, both with tls=7625, alpaca=11111, web=."""
    announcing = ServerAnnouncing(web="http://vm.local:8000/", hostname="vm")
    server = Listening(tls_port=7625, tls_host="192.0.2.9", alpaca_port=11111)
    groups = announcing._groups(server)
    assert list(groups) == ["0.0.0.0", "192.0.2.9"]
    plain, secure = groups["0.0.0.0"][0], groups["192.0.2.9"][0]
    assert (plain.name, plain.type, plain.port) == ("vm INDI 7624", INDI_SERVICE, 7624)
    assert (secure.name, secure.port) == ("vm INDI TLS 7625", 7625)
    assert plain.txt == secure.txt == {
        "txtvers": "1", "protovers": "1.7", "software": "indipyserver",
        "version": toolkit_version(), "tls": "7625", "alpaca": "11111",
        "web": "http://vm.local:8000/", "ndev": "0"}


def test_a_tls_only_server_is_one_service() -> None:
    """``-p 0 --tls-port 7625``: only the TLS port is announced."""
    groups = ServerAnnouncing(hostname="vm")._groups(
        Listening(serves_tcp=False, port=0, tls_port=7625))
    assert [[s.name for s in group] for group in groups.values()] == [["vm INDI TLS 7625"]]


def test_an_interface_this_machine_lacks_is_refused_when_announcing_is_asked_for() -> None:
    """``announce(["nope0"])`` raises at once (before the server runs), naming the
    interfaces there are."""
    with pytest.raises(InterfaceError, match="'nope0'; this machine has"):
        ServerAnnouncing(["nope0"])
