"""A device page's tabs: in the order the device defined its groups and vectors, and opened on
the device's main tab (`views.main_group`), not on a tab that holds only CONNECTION.

Over a direct connection here (our server and the demo thermostat, a standard device whose own
groups come after Main Control, General Info and Options); over redis in
tests/bridges/test_websource.py; in chromium in tests/web/test_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from peers import free_port
from starlette.testclient import TestClient
from webpeers import ServerThread
from webpeers import login
from webpeers import wait_for

from indipyserver.demo import make_driver
from indipyweb.app import make_app
from indipyweb.views import VectorView
from indipyweb.views import main_group
from indipyweb.views import vector_view

THERMOSTAT = "Thermostat"
THERMOSTAT_TABS = ["Main Control", "General Info", "Options", "Status", "Control"]


def _switch(name: str, group: str, on: str | None = None) -> VectorView:
    """A switch vector `name` in `group`; with `on`, CONNECTION's members saying so."""
    members: dict[str, Any] = {"X": {"label": "X", "value": "Off"}} if on is None else {
        "CONNECT": {"label": "Connect", "value": "On" if on else "Off"},
        "DISCONNECT": {"label": "Disconnect", "value": "Off" if on else "On"}}
    return vector_view({"devicename": "D", "name": name, "group": group, "label": name,
                        "vectortype": "SwitchVector", "state": "Ok", "perm": "rw",
                        "rule": "OneOfMany", "members": members})


def _grouped(*views: VectorView) -> list[tuple[str, list[VectorView]]]:
    groups: dict[str, list[VectorView]] = {}
    for view in views:
        groups.setdefault(view.group, []).append(view)
    return list(groups.items())


def _standard(connected: bool, *views: VectorView) -> list[tuple[str, list[VectorView]]]:
    """A device's groups as indilib's drivers define them: CONNECTION (on when `connected`) on
    Main Control, DRIVER_INFO on General Info and DEBUG on Options, then its own `views`."""
    return _grouped(_switch("CONNECTION", "Main Control", on=connected),
                    _switch("DRIVER_INFO", "General Info"), _switch("DEBUG", "Options"), *views)


def test_the_main_tab_is_where_the_devices_own_controls_are() -> None:
    """Connected, a device whose CONNECTION is alone in its group (the thermostat) opens on
    its first group of its own, past General Info and Options; indilib's connected devices
    keep Main Control, where CONNECTION sits beside the controls; a disconnected device opens
    where Connect is; a device without CONNECTION on its first group."""
    thermostat = _standard(True, _switch("TEMPERATURE", "Status"), _switch("TARGET", "Control"))
    assert main_group(thermostat) == "Status"
    mount = _grouped(_switch("CONNECTION", "Main Control", on=True),
                     _switch("DRIVER_INFO", "Connection"), _switch("DEVICE_PORT", "Connection"),
                     _switch("POLLING_PERIOD", "Options"),
                     _switch("EQUATORIAL_EOD_COORD", "Main Control"))
    assert main_group(mount) == "Main Control"
    off = _grouped(_switch("CONNECTION", "Main Control", on=False),
                   _switch("DRIVER_INFO", "General Info"), _switch("TEMPERATURE", "Status"))
    assert main_group(off) == "Main Control"
    bare = _grouped(_switch("LEVEL", "Main"), _switch("OPTIONS", "Settings"))
    assert main_group(bare) == "Main"
    only_standard = _grouped(_switch("DRIVER_INFO", "General Info"),
                             _switch("CONNECTION", "Main Control", on=True))
    assert main_group(only_standard) == "Main Control"
    assert main_group([]) == ""


def _tabs(html: str) -> list[str]:
    return re.findall(r'<button type="button" role="tab" class="tab-button" data-tab="([^"]*)"',
                      html)


def test_a_direct_connection_shows_the_tabs_in_definition_order_and_opens_on_the_main_one(
        tmp_home: Path, dbfolder: Path) -> None:
    """The thermostat over a direct connection (our server, ClientSource): its page lists the
    tabs as the device defined its groups and the Status panels as it defined its vectors,
    and names Status as the tab to open (data-main) while it is connected."""
    server = ServerThread(free_port(), make_driver(interval=0.5)).start()
    try:
        app = make_app(indihost="localhost", indiport=server.port, dbfolder=dbfolder)
        with TestClient(app, base_url="http://testserver") as web:
            source = app.state.web.source
            wait_for(lambda: source.vector(THERMOSTAT, "LOG"), what="the thermostat")
            login(web, "view")
            html = web.get(f"/device/{THERMOSTAT}").text
            assert _tabs(html) == THERMOSTAT_TABS
            assert 'data-main="Status"' in html
            panels = html[html.index('class="device-tabs"'):]
            status = panels.split('role="tabpanel" data-tab="Status"')[1].split('role="tabpanel"')[0]
            assert re.findall(r'<section class="vector" id="[^"]*" data-vector="([^"]*)"',
                              status) == ["TEMPERATURE", "HEATER", "LOG"]
    finally:
        server.stop()


def _lights(name: str, group: str) -> VectorView:
    return vector_view({"devicename": "D", "name": name, "group": group, "label": name,
                        "vectortype": "LightVector", "state": "Idle", "perm": "ro",
                        "members": {"SAFE": {"label": "Safe", "value": "Idle"}}})


def test_a_device_opens_on_its_status_lights_when_it_works_disconnected() -> None:
    """The watchdog agent guards with CONNECTION off, its settings beside Connect: its page
    opens on its lights' tab (issue 79), not on Connect; so does a connected device with
    lights. A disconnected device with CONNECTION alone in its group still opens on Connect,
    lights or not."""
    watchdog = _standard(False, _switch("WATCHDOG_HEARTBEAT", "Main Control"),
                         _lights("WATCHDOG_STATUS", "Status"))
    assert main_group(watchdog) == "Status"
    thermostat = _standard(False, _lights("HEATER", "Status"), _switch("TARGET", "Control"))
    assert main_group(thermostat) == "Main Control"
    connected = _grouped(_switch("CONNECTION", "Main Control", on=True),
                         _switch("DRIVER_INFO", "General Info"), _switch("TARGET", "Control"),
                         _lights("HEATER", "Status"))
    assert main_group(connected) == "Status"


def _agent_groups(driver: Any) -> list[tuple[str, list[VectorView]]]:
    """The groups of the agent `driver`'s one device as its page lists them: as defined,
    CONNECTION off (an agent works without it)."""
    (device,) = driver.devices.values()
    views = []
    for vector in device.values():
        members: dict[str, Any] = {}
        if vector.name == "CONNECTION":
            members = {"CONNECT": {"label": "Connect", "value": "Off"},
                       "DISCONNECT": {"label": "Disconnect", "value": "On"}}
        views.append(vector_view({
            "devicename": device.devicename, "name": vector.name, "group": vector.group,
            "label": vector.name, "vectortype": type(vector).__name__, "state": "Idle",
            "perm": "ro", "rule": "AtMostOne", "members": members}))
    return _grouped(*views)


def test_the_imager_and_guider_agents_pages_open_on_their_progress() -> None:
    """Issue 89: the imager agent's page opens on its night (Sequence: SEQUENCE_STATE and the
    last frame), the guider agent's on its state and RMS (Statistics), not on Main Control's
    Connect (the imager's STATUS lights sit there, so it opened on Connect before)."""
    from indipyagents.guider import make_driver as make_guider
    from indipyagents.imager import make_driver as make_imager

    assert main_group(_agent_groups(make_imager())) == "Sequence"
    assert main_group(_agent_groups(make_guider())) == "Statistics"


def _guider(state: str, ra: str, dec: str) -> dict[str, Any]:
    """The guider agent as the snapshot holds it: AGENT_GUIDER_STATE and _STATS."""
    return {"messages": [], "vectors": {
        "AGENT_GUIDER_STATE": {"name": "AGENT_GUIDER_STATE", "state": "Ok",
                               "members": {"STATE": {"value": state}}},
        "AGENT_GUIDER_STATS": {"name": "AGENT_GUIDER_STATS", "state": "Ok", "members": {
            "RMSE_RA": {"value": float(ra), "formattedvalue": ra},
            "RMSE_DEC": {"value": float(dec), "formattedvalue": dec}}}}}


def test_the_guiders_card_says_guiding_or_lostlock_and_its_rms() -> None:
    """Issue 89: the guider agent's card on the instruments page says its PHD2 state
    (Guiding, LostLock) and its RMS in RA and Dec; other devices' cards say nothing more."""
    from indipyweb.views import device_summary

    assert device_summary("Guider Agent", _guider("Guiding", "0.312", "0.250")).progress == (
        "Guiding · RMS RA 0.312, Dec 0.250 px")
    assert device_summary("Guider Agent", _guider("LostLock", "1.500", "2.000")).progress \
        .startswith("LostLock")
    assert device_summary("Mount", {"messages": [], "vectors": {}}).progress == ""


def test_the_guiders_card_says_no_rms_before_its_first_guide_step() -> None:
    """Issue 89: before a guide step is measured the agent's RMS is 0 on both axes; the card
    says the state alone, not "RMS RA 0.000, Dec 0.000" (a perfect guide, to a reader)."""
    from indipyweb.views import device_summary

    for state in ("Stopped", "Looping", "Calibrating", "Guiding"):
        assert device_summary("Guider Agent", _guider(state, "0.000", "0.000")).progress == state
    assert device_summary("Guider Agent", _guider("Guiding", "0.000", "0.120")).progress == (
        "Guiding · RMS RA 0.000, Dec 0.120 px")


@given(st.sampled_from(("Stopped", "Calibrating", "Guiding", "LostLock", "Paused")),
       st.floats(0, 100), st.floats(0, 100))
def test_the_guiders_card_gives_an_rms_exactly_when_one_is_measured(
        state: str, ra: float, dec: float) -> None:
    """Whatever the state and figures: the state first, and an RMS when either axis is
    not 0, both axes then."""
    from indipyweb.views import device_summary

    words = device_summary("Guider Agent", _guider(state, f"{ra:.3f}", f"{dec:.3f}")).progress
    assert words.startswith(state)
    measured = float(f"{ra:.3f}") != 0 or float(f"{dec:.3f}") != 0
    assert ("RMS" in words) == measured, words
    if measured:
        assert words == f"{state} · RMS RA {ra:.3f}, Dec {dec:.3f} px"
