"""Listing servers (indipydiscovery.browse, resolve) with Debian's avahi-daemon as the DNS-SD
peer, on the loopback interface only: services published with ``avahi-publish`` as INDIGO
announces itself (``_indigo._tcp``, no TXT) and as an INDI server with our TXT keys are
listed, each once, with what their TXT says; what is wrong with one (a TXT record too long,
malformed, missing keys; an address that refuses) is listed with it, never dropped and never
a crash; Alpaca servers come in the same listing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from alpacakit import failing_api
from alpacakit import free_udp_port
from alpacakit import port_answer
from alpacakit import responder
from discoverykit import Avahi
from discoverykit import sniffing
from peers import IndiServer
from peers import OurServer
from peers import free_port
from waiting import wait_for

from indipydiscovery.browse import discover
from indipydiscovery.browse import discover_async
from indipydiscovery.resolve import resolve_service
from indipydiscovery.service import Service
from indipydiscovery.txt import server_txt


def by_name(services: list[Service]) -> dict[str, Service]:
    names = [s.name for s in services]
    assert len(names) == len(set(names)), f"a service listed twice: {names}"
    return {s.name: s for s in services}


def test_indigo_and_indi_services_are_listed_once_with_what_their_txt_says(
        avahi: Avahi, indiserver_factory: Callable[..., IndiServer]) -> None:
    """indilib's indiserver published as INDIGO publishes itself (no TXT) and as an INDI
    server with our keys: both listed, once each, on lo, with host, port, TLS and Alpaca
    ports, web page, software, version and devices; nothing wrong with either."""
    server = indiserver_factory("indi_simulator_focus")
    txt = server_txt(version="0.1.0", software="indipyserver", tls_port=7625, alpaca_port=11111,
                     web="http://127.0.0.1:8000/", devices=["Focuser Simulator", "Dome"])
    with avahi.publish("Observatory", "_indigo._tcp", server.port), \
            avahi.publish("Dome Pi INDI", "_indi._tcp", server.port, txt):
        found = by_name(discover(3.0, kinds=("indi", "indigo")))
    indigo, indi = found["Observatory"], found["Dome Pi INDI"]
    assert indigo.kind == "indigo" and indi.kind == "indi"
    for service in (indigo, indi):
        assert service.port == server.port
        assert service.addresses == ("127.0.0.1",)
        assert service.host.endswith(".local.")
        assert service.interfaces == ("lo",)
        assert service.problems == ()
    assert (indigo.tls_port, indigo.devices, indigo.software) == (None, (), "")
    assert (indi.tls_port, indi.alpaca_port, indi.web) == (7625, 11111, "http://127.0.0.1:8000/")
    assert (indi.software, indi.version) == ("indipyserver", "0.1.0")
    assert indi.devices == ("Focuser Simulator", "Dome")
    assert indi.txt["protovers"] == "1.7"


def test_bad_services_are_listed_with_their_problems_and_the_rest_still_listed(
        avahi: Avahi, indiserver_factory: Callable[..., IndiServer]) -> None:
    """A TXT record over DNS-SD's 1300 bytes, one with a string that is not key=value and a
    port that is not one, one missing the required keys, and a service whose address refuses
    connections: each listed with what is wrong said; a good one beside them still listed
    whole."""
    server = indiserver_factory("indi_simulator_focus")
    closed = free_port()
    good = server_txt(version="1", devices=["Focuser Simulator"])
    huge = {**good, **{f"x{i}": "y" * 240 for i in range(7)}}
    with avahi.publish("Good", "_indi._tcp", server.port, good), \
            avahi.publish("Huge", "_indi._tcp", server.port, huge), \
            avahi.publish("Malformed", "_indi._tcp", server.port,
                          ["txtvers=1", "protovers=1.7", "garbage", "tls=seven"]), \
            avahi.publish("Bare", "_indi._tcp", server.port, ["hello=world"]), \
            avahi.publish("Refusing", "_indi._tcp", closed, good):
        found = by_name(discover(3.0, kinds=("indi",)))
    # Other tests' servers may announce on lo meanwhile: this test's five are each there.
    assert {"Good", "Huge", "Malformed", "Bare", "Refusing"} <= set(found)
    assert found["Good"].problems == () and found["Good"].devices == ("Focuser Simulator",)
    assert any("more than DNS-SD's 1300" in p for p in found["Huge"].problems)
    assert found["Huge"].devices == ("Focuser Simulator",)
    malformed = found["Malformed"].problems
    assert any("garbage" in p for p in malformed) and any("tls=seven" in p for p in malformed)
    assert found["Malformed"].tls_port is None
    assert any("no txtvers" in p for p in found["Bare"].problems)
    assert found["Bare"].txt == {"hello": "world"}
    refused = found["Refusing"].problems
    assert refused == (f"cannot connect: 127.0.0.1:{closed}: connection refused",), refused


def test_alpaca_and_dns_sd_servers_come_in_one_listing(
        avahi: Avahi, tmp_path: Path) -> None:
    """Our server's ``--alpaca`` face (found by Alpaca's probe, with its devices) and a
    DNS-SD service, in one listing; ``on_found`` is told of each."""
    api, udp = free_port(), free_udp_port()
    told: list[str] = []
    with OurServer("--alpaca", str(api), "--alpaca-discovery", str(udp), "--alpaca-devices",
                   str(tmp_path / "ids.json"), "indi_simulator_focus",
                   workdir=tmp_path / "srv") as ours, \
            avahi.publish("Roof", "_indigo._tcp", ours.port):
        wait_for(lambda: [s for s in discover(0.5, kinds=("alpaca",), alpaca_port=udp)
                          if s.devices], 30, "the face's focuser")
        services = discover(3.0, alpaca_port=udp, on_found=lambda s: told.append(s.name))
    kinds = {(s.kind, s.port) for s in services}
    assert ("indigo", ours.port) in kinds and ("alpaca", api) in kinds
    alpaca = next(s for s in services if s.kind == "alpaca")
    assert alpaca.devices == ("Focuser Simulator",)
    assert {"Roof", alpaca.name} <= set(told)


def test_a_service_is_resolved_by_its_name_or_said_missing(avahi: Avahi) -> None:
    """`resolve_service` finds a service by the name the listing prints and by its full DNS-SD
    name, returning as soon as it is found; a name not there is a LookupError naming what was
    found."""
    with failing_api(404) as port, avahi.publish("Shed Pi", "_indi._tcp", port,
                                                 server_txt(version="2")):
        service = asyncio.run(resolve_service("Shed Pi", 20.0))
        assert (service.name, service.port, service.version) == ("Shed Pi", port, "2")
        full = asyncio.run(resolve_service("Shed Pi._indi._tcp.local.", 20.0))
        assert full.port == port
        with pytest.raises(LookupError, match=r"no server called 'Shed P' .*'Shed Pi'"):
            asyncio.run(resolve_service("Shed P", 2.0))


async def test_the_blocking_listing_works_inside_a_running_event_loop() -> None:
    """`discover` called from a coroutine (a notebook cell, a callback) lists on a thread of
    its own instead of failing on the running loop."""
    udp = free_udp_port()
    with failing_api(404) as api, responder(udp, port_answer(api)):
        found = discover(0.5, kinds=("alpaca",), alpaca_port=udp)
    assert [s.port for s in found] == [api]


async def test_unknown_kinds_and_interfaces_are_refused_clearly() -> None:
    """A kind that is not indi, indigo or alpaca, and an interface this machine lacks, are
    errors saying so (the latter naming the interfaces there are)."""
    with pytest.raises(ValueError, match="unknown kind mdns"):
        await discover_async(0.1, kinds=("mdns",))
    with pytest.raises(ValueError, match="no network interface named 'nosuch0'.* lo"):
        await discover_async(0.1, interfaces=["nosuch0"])


async def test_a_service_that_says_goodbye_during_a_listing_is_not_listed(
        avahi: Avahi, caplog: pytest.LogCaptureFixture) -> None:
    """avahi-publish stopped while a listing runs: avahi's goodbye takes that service out of
    the list the listing returns; the one still published stays. The listing runs 16 s and
    the service is heard within 8. Two full runs listed the leaving service anyway (with an 8
    and a 16 s listing; never reproduced alone or with the discovery tests under load): on a
    failure the message shows Leaving's records on the wire and what the browse heard."""
    heard = asyncio.Event()
    caplog.set_level(logging.DEBUG, logger="indipydiscovery.browse")

    def found(service: Service) -> None:
        if service.name == "Leaving":
            heard.set()

    with sniffing() as sniffer, failing_api(404) as port, \
            avahi.publish("Staying", "_indi._tcp", port, server_txt(version="1")):
        leaving = avahi.publish("Leaving", "_indi._tcp", port, server_txt(version="1"))
        leaving.__enter__()
        try:
            listing = asyncio.ensure_future(discover_async(16.0, kinds=("indi",),
                                                           on_found=found))
            await asyncio.wait_for(heard.wait(), 8.0)
        finally:
            await asyncio.to_thread(leaving.__exit__, None, None, None)
        services = await listing
        wire = sniffer.records("Leaving")
    # Other tests' servers may announce on lo meanwhile: of this test's two, one is left.
    listed = [s for s in services if s.name in ("Staying", "Leaving")]
    heard_of = [r.getMessage() for r in caplog.records if "Leaving" in r.getMessage()]
    assert [s.name for s in listed] == ["Staying"], (listed, wire, heard_of)
