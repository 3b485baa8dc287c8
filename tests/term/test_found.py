"""indipyterm's start screen lists the servers found on the network (issue 73 item 2): our
indipyserver announcing itself and an INDIGO service avahi publishes, on lo (the tests'
INDIPY_MDNS_INTERFACES), refreshed while the screen shows; choosing one fills the settings
(its TLS port when indipyterm connects by TLS), and Connect moves the client there; an Alpaca
server is listed as not reachable from here; without python-zeroconf, or on a network without
multicast, the list says so and typing an address with ``s`` still works."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from discoverykit import Avahi
from discoverykit import lo_multicast
from discoverykit import set_lo_multicast
from kitdriver import KitDriver
from peers import OurServer
from termhelpers import click
from termhelpers import wait_for
from textual.widgets import Input

from indipydiscovery.announce import instance_name
from indipydiscovery.service import Service
from indipyserver import IPyServer
from indipyterm.app import TermApp
from indipyterm.found import FoundServers
from indipyterm.settingsscreen import SettingsScreen
from indipyterm.startscreen import StartScreen

SIZE = (120, 40)
#: A folder: the start screen's SVG is saved there too (to look at it).
PICTURES = os.environ.get("INDIPYTERM_PICTURES")


def found_lines(app: TermApp) -> list[str]:
    return app.found.lines() if app.found is not None else []


async def test_the_start_screen_lists_servers_and_a_pick_connects(
        avahi: Avahi, demo: OurServer, kit: tuple[IPyServer, KitDriver],
        tmp_path: Path) -> None:
    """Connected to the Kit's server, the start screen lists our announcing server (with its
    Thermostat) and the INDIGO service; Enter on ours opens the settings with its address
    and port filled in; Connect moves the client: the Thermostat is listed as a device."""
    server, _ = kit
    name = instance_name("INDI", demo.port)
    with avahi.publish("Observatory dome", "_indigo._tcp", server.port):
        app = TermApp("127.0.0.1", server.port)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: any(name in line and "Thermostat" in line
                                              for line in found_lines(app))
                           and any("Observatory dome" in line for line in found_lines(app)),
                           timeout=30, what="our server and the INDIGO one listed")
            start = app.screen
            assert isinstance(start, StartScreen)
            await wait_for(pilot, lambda: start.found.option_count == len(found_lines(app)),
                           what="the list drawn")
            # What the screen shows, looked at until it shows both: the list is filled before
            # it is drawn, and a loaded run's one screenshot caught it not yet drawn.
            svgs = [""]

            def shows_both() -> bool:
                svgs[0] = app.export_screenshot(title="indipyterm: servers found")
                shown = svgs[0].replace("&#160;", " ")
                return "Observatory dome  [INDIGO]" in shown and f"{name}  [INDI]" in shown

            await wait_for(pilot, shows_both, what="both servers on the screen")
            (tmp_path / "found.svg").write_text(svgs[0])
            if PICTURES:
                Path(PICTURES, "indipyterm-found.svg").write_text(svgs[0])
            index = next(i for i, line in enumerate(found_lines(app)) if name in line)
            start.found.focus()
            start.found.highlighted = index
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen),
                           what="the settings")
            settings = app.screen
            assert isinstance(settings, SettingsScreen)
            assert (settings.host.value, settings.port.value) == ("127.0.0.1", str(demo.port))
            await click(pilot, "#apply")
            await wait_for(pilot, lambda: "Thermostat" in app.device_names(), timeout=20,
                           what="the picked server's device")
            assert app.server == f"127.0.0.1:{demo.port}"


async def test_without_zeroconf_the_list_says_what_to_install_and_typing_works(
        kit: tuple[IPyServer, KitDriver], monkeypatch: pytest.MonkeyPatch) -> None:
    """python-zeroconf absent (``sys.modules['zeroconf'] = None``): the start screen's list
    says which extra to install; ``s`` still opens the settings to type an address."""
    monkeypatch.setitem(sys.modules, "zeroconf", None)
    server, _ = kit
    app = TermApp("127.0.0.1", server.port)
    async with app.run_test(size=SIZE) as pilot:
        start = app.screen
        assert isinstance(start, StartScreen)
        await wait_for(pilot, lambda: "[discovery]" in str(start.found_note.render()),
                       what="the note")
        await wait_for(pilot, lambda: app.device_names() == ["Kit", "Weather"], what="devices")
        await pilot.press("s")
        # A screen just pushed mounts its widgets one by one: the host field is looked for
        # until it is there (a loaded run queried it before, NoMatches).
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen)
                       and bool(app.screen.query("#host")), what="settings")
        assert app.screen.query_one("#host", Input).value == "127.0.0.1"


def test_without_multicast_the_list_says_to_type_an_address() -> None:
    """lo (the only interface chosen; this worker's own, tests/ownnetwork.py, so no other
    test's DNS-SD is disturbed) with multicast off: a listing finds nothing and the note says
    why and what to do; with multicast back on the note goes."""
    was = lo_multicast()
    set_lo_multicast(False)
    try:
        found = FoundServers()
        asyncio.run(found.listen(0.3, lambda: None))
        assert "No interface with multicast (lo)" in found.note and "s." in found.note
        assert [s for s in found.services if s.kind != "alpaca"] == []
        set_lo_multicast(True)
        asyncio.run(found.listen(0.3, lambda: None))
        assert found.note == ""
    finally:
        set_lo_multicast(was)


def test_a_pick_is_the_port_indipyterm_can_reach() -> None:
    """Plain: the server's port; with TLS: its announced TLS port, or its port with a note
    when it announces none; a TLS-only service picked without TLS is filled with a note; an
    Alpaca server cannot be picked, and the note says how to reach its devices."""
    found = FoundServers()
    found.services = [
        Service("indi", "pi INDI 7624", "pi.local.", ("10.0.0.5",), 7624, tls_port=7625),
        Service("indi", "pi INDI TLS 7625", "pi.local.", ("10.0.0.5",), 7625, tls_port=7625),
        Service("indigo", "dome", "dome.local.", ("10.0.0.6",), 7624),
        Service("alpaca", "ASCOM sims", "10.0.0.7", ("10.0.0.7",), 32323),
    ]
    plain, tls_only, indigo, alpaca = (found.pick(i, tls=False) for i in range(4))
    assert (plain.host, plain.port, plain.note) == ("10.0.0.5", 7624, "")
    assert tls_only.port == 7625 and "--tls-ca" in tls_only.note
    assert (indigo.host, indigo.port, indigo.note) == ("10.0.0.6", 7624, "")
    assert alpaca.host is None and "alpaca://10.0.0.7:32323" in alpaca.note
    assert found.pick(0, tls=True).port == 7625
    assert found.pick(2, tls=True).port == 7624 and "no TLS port" in found.pick(2, tls=True).note
    lines = found.lines()
    assert "TLS 7625" in lines[0] and "not reachable from here" in lines[3]
