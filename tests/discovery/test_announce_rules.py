"""Which addresses are announced and how a service is named (indipydiscovery.announce), decided
before anything is sent: only addresses the server is reached on, on interfaces that carry
multicast, and every refusal said with what changes it."""

from __future__ import annotations

import pytest

from indipydiscovery.announce import NotAnnounced
from indipydiscovery.announce import instance_name
from indipydiscovery.announce import reachable_addresses
from indipydiscovery.interfaces import Interface

LO = Interface("lo", 1, ("127.0.0.1",), ("127.255.255.255",), loopback=True)
ETH = Interface("eth9", 2, ("192.0.2.5", "192.0.2.6"), ("192.0.2.255",))


def test_a_wildcard_server_is_announced_on_every_address_of_the_chosen_interfaces() -> None:
    assert reachable_addresses([LO, ETH], "0.0.0.0") == ["127.0.0.1", "192.0.2.5", "192.0.2.6"]
    assert reachable_addresses([ETH], "::") == ["192.0.2.5", "192.0.2.6"]


def test_a_server_on_one_address_is_announced_there_only() -> None:
    """localhost: the loopback's addresses; an address: itself, if a chosen interface has it."""
    assert reachable_addresses([LO, ETH], "localhost") == ["127.0.0.1"]
    assert reachable_addresses([LO, ETH], "192.0.2.6") == ["192.0.2.6"]
    with pytest.raises(NotAnnounced, match=r"listens on 127\.0\.0\.1 only, which eth9 cannot "
                                           r"reach: serve on 0\.0\.0\.0"):
        reachable_addresses([ETH], "127.0.0.1")


def test_interfaces_that_carry_no_multicast_are_each_said_with_the_fix() -> None:
    down = Interface("eth8", 3, ("198.51.100.1",), (), up=False)
    quiet = Interface("lo", 1, ("127.0.0.1",), (), multicast=False, loopback=True)
    bare = Interface("wg0", 4, (), ())
    with pytest.raises(NotAnnounced) as refused:
        reachable_addresses([down, quiet, bare], "0.0.0.0")
    assert str(refused.value) == (
        "no interface can carry multicast DNS: eth8 is down; lo has multicast off (ip link "
        "set lo multicast on); wg0 has no IPv4 address")
    with pytest.raises(NotAnnounced, match="no network interface is up with multicast on"):
        reachable_addresses([], "0.0.0.0")


def test_an_instance_name_is_one_dns_label_with_room_for_a_rename() -> None:
    """``HOST KIND PORT``; a long host name is cut so that ``NAME (99)`` still fits 63 bytes."""
    assert instance_name("INDI", 7624, "vm.example.org") == "vm INDI 7624"
    long = instance_name("INDI TLS", 7625, "h" * 100)
    assert long.endswith(" INDI TLS 7625") and len(f"{long} (99)".encode()) <= 63
