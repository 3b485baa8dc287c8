"""Alpaca's UDP discovery probe (indipydiscovery.alpacaprobe) against real Alpaca servers on
the loopback interface: our server's ``--alpaca`` face (its own discovery responder) and
alpaca-simulators (no responder and no management API of its own: the test answers the probe
for it); what a broken server sends is skipped or listed with its problem, never a crash."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from alpacakit import failing_api
from alpacakit import free_udp_port
from alpacakit import port_answer
from alpacakit import responder
from alpacapeers import AlpacaSimulators
from hypothesis import given
from hypothesis import strategies as st
from peers import OurServer
from peers import free_port
from waiting import wait_for

from indipydiscovery.alpacaprobe import alpaca_port_of
from indipydiscovery.alpacaprobe import probe_alpaca
from indipydiscovery.alpacaprobe import targets
from indipydiscovery.interfaces import Interface
from indipydiscovery.interfaces import chosen_interfaces
from indipydiscovery.service import Service


def probe(udp: int, timeout: float = 0.5) -> list[Service]:
    return asyncio.run(probe_alpaca(chosen_interfaces(["lo"]), timeout, port=udp))


def test_our_alpaca_face_is_found_with_its_devices(tmp_path: Path) -> None:
    """``indipyserver --alpaca`` answers the probe on its discovery port; the listing gives
    its API port, its server name and the devices its management API lists."""
    api, udp = free_port(), free_udp_port()
    with OurServer("--alpaca", str(api), "--alpaca-discovery", str(udp), "--alpaca-devices",
                   str(tmp_path / "ids.json"), "indi_simulator_focus", workdir=tmp_path / "srv"):
        found = wait_for(lambda: [s for s in probe(udp) if s.devices], 30, "the focuser listed")
    assert len(found) == 1
    service = found[0]
    assert (service.kind, service.port, service.alpaca_port) == ("alpaca", api, api)
    assert service.addresses == ("127.0.0.1",) and service.interfaces == ("lo",)
    assert service.devices == ("Focuser Simulator",)
    assert service.software and service.name.startswith(service.software)
    assert service.problems == ()


def test_alpaca_simulators_without_a_management_api_is_listed_with_its_devices(
        tmp_path: Path) -> None:
    """alpaca-simulators has no management API (404): its devices are asked for by type,
    number 0 of each, and the listing says why."""
    simulators = AlpacaSimulators(tmp_path / "sim").start()
    udp = free_udp_port()
    try:
        with responder(udp, port_answer(simulators.port)):
            found = probe(udp, timeout=1.0)
    finally:
        simulators.stop()
    assert [s.port for s in found] == [simulators.port]
    assert {"Simulator Camera", "Simulator Focuser"} <= set(found[0].devices)
    assert len(found[0].devices) == 10
    assert any("no management API" in p for p in found[0].problems)


def test_two_servers_sharing_the_discovery_port_are_both_found() -> None:
    """Alpaca servers share UDP 32227 (SO_REUSEPORT): the loopback broadcast reaches every
    one, where a probe to 127.0.0.1 would reach one of them."""
    udp = free_udp_port()
    with failing_api(404) as first, failing_api(404) as second, \
            responder(udp, port_answer(first)), responder(udp, port_answer(second)):
        found = probe(udp)
    assert sorted(s.port for s in found) == sorted([first, second])


def test_an_answer_that_is_not_json_is_skipped_with_the_reason_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    """A responder answering garbage is skipped (said in the log); a good one beside it is
    still listed."""
    udp = free_udp_port()
    caplog.set_level(logging.WARNING, "indipydiscovery")
    with failing_api(404) as good, responder(udp, b"\xffnot json"), \
            responder(udp, port_answer(good)):
        found = probe(udp)
    assert [s.port for s in found] == [good]
    assert "skipped: not JSON" in caplog.text


def test_a_management_api_that_fails_leaves_the_server_listed_with_the_reason(
        caplog: pytest.LogCaptureFixture) -> None:
    """HTTP 500 from the management API: the server is listed, with no devices and the
    status in its problems and the log."""
    udp = free_udp_port()
    caplog.set_level(logging.WARNING, "indipydiscovery")
    with failing_api(500) as api, responder(udp, port_answer(api)):
        found = probe(udp)
    assert [(s.port, s.devices) for s in found] == [(api, ())]
    assert any("HTTP 500" in p for p in found[0].problems), found[0].problems
    assert "HTTP 500" in caplog.text


def test_an_api_port_that_refuses_is_listed_with_the_reason() -> None:
    """A discovery answer naming a port nothing listens on: listed, the refusal said."""
    udp, closed = free_udp_port(), free_port()
    with responder(udp, port_answer(closed)):
        found = probe(udp)
    assert [s.port for s in found] == [closed]
    assert any("refused" in p.lower() for p in found[0].problems), found[0].problems


@pytest.mark.parametrize("data", [b"", b"{}", b"[]", b'{"AlpacaPort": "11111"}',
                                  b'{"AlpacaPort": 0}', b'{"AlpacaPort": 70000}',
                                  b'{"AlpacaPort": true}', b"\xff\xfe"])
def test_answers_without_a_usable_port_are_refused_with_a_reason(data: bytes) -> None:
    """What a broken responder might send: a ValueError saying what is wrong, never a port."""
    with pytest.raises(ValueError, match="."):
        alpaca_port_of(data)


def test_the_probe_keeps_to_each_interfaces_own_broadcast_address() -> None:
    """Loopback is probed at 127.255.255.255; another interface at its network's broadcast
    address, from its own address, and never at a broadcast address of another network."""
    loopback = Interface("lo", 1, ("127.0.0.1",), (), loopback=True)
    wired = Interface("eth0", 2, ("192.168.1.7", "10.0.0.2"), ("192.168.1.255", "10.0.0.255"))
    got = [(t.interface, t.source, t.broadcast) for t in targets([loopback, wired])]
    assert got == [("lo", "127.0.0.1", "127.255.255.255"),
                   ("eth0", "192.168.1.7", "192.168.1.255"),
                   ("eth0", "10.0.0.2", "10.0.0.255")]
    assert targets([Interface("tun0", 3, ("10.8.0.5",), ())]) == []


@given(st.binary(max_size=80) | st.builds(lambda v: json.dumps({"AlpacaPort": v}).encode(),
                                            st.integers(-5, 70000) | st.text(max_size=5)))
def test_any_answer_is_a_port_or_a_value_error(data: bytes) -> None:
    """Whatever a responder sends: a port between 1 and 65535, or a ValueError; nothing
    else escapes the parser (so one bad server never stops the probe)."""
    try:
        port = alpaca_port_of(data)
    except ValueError:
        return
    assert 0 < port < 65536
