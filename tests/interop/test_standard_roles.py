"""The mount, focuser, filter wheel and weather examples driven by indilib's own clients, on our server
and as executable drivers under indilib's indiserver.

indi_getprop reads DRIVER_INFO (the interface bits clients pick a device's role by),
indi_setprop sends the requests, and indilib's client library (``INDI::BaseClient``, what
KStars/Ekos are built on; the probe of tests/interop/baseclient) watches what the drivers send:
the coordinates moving while Busy, the Ok at the target, the Alert and its message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from peers import BaseClientProbe
from peers import IndiServer
from peers import baseclient_probe
from peers import getprop
from peers import setprop
from serverkit import running

from indipycore.astro import local_sidereal_time
from indipyserver import IPyServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MOUNT_LAUNCHER = EXAMPLES / "exdrivers" / "indi_py_mount"
FOCUS_LAUNCHER = EXAMPLES / "exdrivers" / "indi_py_focuser"
WEATHER_LAUNCHER = EXAMPLES / "exdrivers" / "indi_py_weather"
MOUNT, FOCUSER, WHEEL = "Python Mount", "Python Focuser", "Python Filter Wheel"
WEATHER = "Python Weather"
SLEW_RATE = 10.0  # degrees per second: a 30 degree goto takes 3 s
SERVERS = ["ipyserver", "indiserver"]


def _examples() -> tuple[Any, Any, Any]:
    import sys
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import focuser_simulator
    import mount_simulator
    import weather_simulator
    return mount_simulator, focuser_simulator, weather_simulator


@dataclass
class Served:
    name: str
    port: int


@pytest.fixture(params=SERVERS)
async def served(request: pytest.FixtureRequest, tmp_home: Path,
                 indiserver_factory: Callable[..., IndiServer]) -> AsyncIterator[Served]:
    """Both examples on our IPyServer (in-process) or on indilib's indiserver (launchers)."""
    if request.param == "indiserver":
        server = indiserver_factory(str(MOUNT_LAUNCHER), str(FOCUS_LAUNCHER),
                                    str(WEATHER_LAUNCHER),
                                    env={"INDIPY_SLEW_RATE": str(SLEW_RATE),
                                         "INDIPY_FOCUS_SPEED": "20000",
                                         "INDIPY_WEATHER_PERIOD": "3600"})
        yield Served("indiserver", server.port)
        return
    mount_simulator, focuser_simulator, weather_simulator = _examples()
    ours = IPyServer(mount_simulator.make_driver(SLEW_RATE),
                     focuser_simulator.make_driver(20000, 0.1),
                     weather_simulator.make_driver(3600),
                     host="127.0.0.1", port=0, handle_signals=False)
    async with running(ours):
        yield Served("ipyserver", ours.port)


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return baseclient_probe(tmp_path_factory)


@pytest.fixture
async def probe(probe_binary: Path, served: Served, tmp_path: Path) -> AsyncIterator[BaseClientProbe]:
    client = BaseClientProbe(probe_binary, served.port, log_path=tmp_path / "probe.log")
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def _getprop(port: int, *specs: str, timeout: float | None = None) -> dict[str, str]:
    result = await asyncio.to_thread(getprop, port, *specs, timeout=timeout)
    missing = [spec for spec in specs if spec not in result]
    assert not missing, f"{missing} not in {dict(result)}\n{result.result.describe()}"
    return dict(result)


async def _setprop(port: int, *specs: str) -> None:
    result = await asyncio.to_thread(setprop, port, *specs, timeout=5.0)
    assert result.returncode == 0, result.describe()


async def _connect(probe: BaseClientProbe, port: int, device: str, then: str) -> None:
    """CONNECT with indi_setprop; the probe sees CONNECTION Ok and the role's `then` defined.
    First the probe has the device's CONNECTION defined: its getProperties and the set travel
    on two connections, and a set handled first reaches the probe only as a definition already
    Ok, never as the newSwitch awaited (a fresh-clone run on 2026-11-29 saw 81 events, none)."""
    await probe.expect("newProperty", device=device, name="CONNECTION", timeout=30)
    after = probe.mark()
    await _setprop(port, f"{device}.CONNECTION.CONNECT=On")
    await probe.expect("newSwitch", after=after, device=device, name="CONNECTION", state="Ok")
    await probe.expect("newProperty", after=after, device=device, name=then)


def _values(event: dict[str, Any]) -> dict[str, float]:
    return {member["name"]: member["value"] for member in event["members"]}


async def test_driver_info_has_the_role_bits(served: Served) -> None:
    """Before any connect, DRIVER_INFO says what each device is: a mount that guides
    (TELESCOPE|GUIDER = 5, as indilib's telescope simulator), a
    focuser (FOCUSER = 8), a filter wheel (FILTER = 16), a weather station (WEATHER = 128), as
    indilib's simulators say."""
    specs = [f"{device}.DRIVER_INFO.{member}" for device in (MOUNT, FOCUSER, WHEEL, WEATHER)
             for member in ("DRIVER_INTERFACE", "DRIVER_EXEC")]
    # The first question of the run: under indiserver the three Python drivers may still be
    # starting (a loaded CI machine took over 5 s); indi_getprop ends once all have answered.
    values = await _getprop(served.port, *specs, timeout=30.0)
    assert values[f"{MOUNT}.DRIVER_INFO.DRIVER_INTERFACE"] == "5"
    assert values[f"{FOCUSER}.DRIVER_INFO.DRIVER_INTERFACE"] == "8"
    assert values[f"{WHEEL}.DRIVER_INFO.DRIVER_INTERFACE"] == "16"
    assert values[f"{WEATHER}.DRIVER_INFO.DRIVER_INTERFACE"] == "128"
    assert values[f"{MOUNT}.DRIVER_INFO.DRIVER_EXEC"] == "indipy_simulator_telescope"
    assert values[f"{FOCUSER}.DRIVER_INFO.DRIVER_EXEC"] == "indipy_simulator_focus"


async def test_goto_moves_while_busy_and_ends_ok_at_the_target(
        served: Served, probe: BaseClientProbe) -> None:
    """indi_setprop sends a goto 2 h of RA and some 30 degrees of Dec away; BaseClient sees
    EQUATORIAL_EOD_COORD Busy with coordinates that change from update to update, then Ok
    within arc seconds of the target, and TARGET_EOD_COORD holding it."""
    await _connect(probe, served.port, MOUNT, "EQUATORIAL_EOD_COORD")
    here = await _getprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA")
    ra = (float(here[f"{MOUNT}.EQUATORIAL_EOD_COORD.RA"]) + 2.0) % 24.0
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC={ra:.6f};60")
    done = await probe.expect("newNumber", after=after, device=MOUNT,
                              name="EQUATORIAL_EOD_COORD", state="Ok", timeout=30)
    final = _values(done)
    assert abs(final["DEC"] - 60.0) < 1e-3 and abs(final["RA"] - ra) < 1e-3
    busy = [tuple(_values(e).values()) for e in probe.select(
        "newNumber", after=after, device=MOUNT, name="EQUATORIAL_EOD_COORD", state="Busy")]
    assert len(set(busy)) >= 3, busy  # it moved over time, not in one jump
    decs = [dec for _, dec in busy]
    assert decs == sorted(decs, reverse=True)  # from the pole down towards +60, never back
    target = probe.select("newNumber", after=after, device=MOUNT, name="TARGET_EOD_COORD")
    assert abs(_values(target[-1])["DEC"] - 60.0) < 1e-9


async def test_abort_stops_a_slew(served: Served, probe: BaseClientProbe) -> None:
    """A long goto (the pole to DEC -20, over 10 s) aborted with indi_setprop once under way:
    TELESCOPE_ABORT_MOTION Ok, the coordinates leave Busy, and the Dec stays where it stopped,
    far from the target."""
    await _connect(probe, served.port, MOUNT, "EQUATORIAL_EOD_COORD")
    # On the meridian (RA = the local sidereal time at Greenwich): 18.5 degrees up.
    ra = local_sidereal_time(datetime.now(UTC), 0.0)
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC={ra:.6f};-20")
    await probe.expect("newNumber", after=after, device=MOUNT, name="EQUATORIAL_EOD_COORD",
                       state="Busy", where=lambda e: _values(e)["DEC"] < 85)
    aborted = probe.mark()
    await _setprop(served.port, f"{MOUNT}.TELESCOPE_ABORT_MOTION.ABORT=On")
    answer = await probe.expect("newSwitch", after=aborted, device=MOUNT,
                                name="TELESCOPE_ABORT_MOTION")
    assert answer["state"] == "Ok" and answer["members"][0]["value"] == "Off"
    stopped = await probe.expect("newNumber", after=aborted, device=MOUNT,
                                 name="EQUATORIAL_EOD_COORD", state="Idle")
    dec = _values(stopped)["DEC"]
    assert dec > 0  # nowhere near -20
    # The mount's own next updates are the clock: not tracking, it stands still while the sky
    # turns, so each poll (a second apart) sends the RA grown by sidereal time; a slew going
    # on would be Busy and 10 degrees further at each.
    since = next(i for i, e in enumerate(probe.events) if e is stopped) + 1
    for _ in range(2):
        update = await probe.expect("newNumber", after=since, device=MOUNT,
                                    name="EQUATORIAL_EOD_COORD")
        assert update["state"] == "Idle" and abs(_values(update)["DEC"] - dec) < 1e-6, update
        since = next(i for i, e in enumerate(probe.events) if e is update) + 1
    later = await _getprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC",
                           f"{MOUNT}.EQUATORIAL_EOD_COORD._STATE")
    assert abs(float(later[f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC"]) - dec) < 1e-6
    assert later[f"{MOUNT}.EQUATORIAL_EOD_COORD._STATE"] == "Idle"


async def test_goto_below_the_horizon_is_an_alert_with_a_message(
        served: Served, probe: BaseClientProbe) -> None:
    """From Greenwich DEC -80 never rises: the goto is refused, EQUATORIAL_EOD_COORD Alert,
    and BaseClient receives the reason as the device's message."""
    await _connect(probe, served.port, MOUNT, "EQUATORIAL_EOD_COORD")
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC=3;-80")
    await probe.expect("newNumber", after=after, device=MOUNT, name="EQUATORIAL_EOD_COORD",
                       state="Alert")
    message = await probe.expect("newMessage", after=after, device=MOUNT,
                                 where=lambda e: "below the limit" in e["message"])
    assert "Goto refused: the target is at altitude" in message["message"]


async def test_park_then_a_goto_is_refused(served: Served, probe: BaseClientProbe) -> None:
    """TELESCOPE_PARK PARK: Busy while it slews to the park position, Ok with PARK On when
    parked; a goto then is refused (Alert, "parked"); UNPARK answers Ok."""
    await _connect(probe, served.port, MOUNT, "TELESCOPE_PARK")
    # Away from the park position first (the mount starts at the pole), so parking moves.
    after = probe.mark()
    here = await _getprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA")
    ra = float(here[f"{MOUNT}.EQUATORIAL_EOD_COORD.RA"])
    await _setprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC={ra:.6f};75")
    await probe.expect("newNumber", after=after, device=MOUNT, name="EQUATORIAL_EOD_COORD",
                       state="Ok", timeout=30)
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.TELESCOPE_PARK.PARK=On")
    await probe.expect("newSwitch", after=after, device=MOUNT, name="TELESCOPE_PARK",
                       state="Busy")
    parked = await probe.expect("newSwitch", after=after, device=MOUNT, name="TELESCOPE_PARK",
                                state="Ok", timeout=30)
    assert {m["name"]: m["value"] for m in parked["members"]}["PARK"] == "On"
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC=3;60")
    await probe.expect("newMessage", after=after, device=MOUNT,
                       where=lambda e: "parked" in e["message"])
    after = probe.mark()
    await _setprop(served.port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On")
    await probe.expect("newSwitch", after=after, device=MOUNT, name="TELESCOPE_PARK",
                       state="Ok", where=lambda e: e["members"][1]["value"] == "On")


async def test_focuser_moves_and_filter_slot_changes(served: Served,
                                                     probe: BaseClientProbe) -> None:
    """The focuser goes Busy and reaches 42000 Ok; the wheel goes Busy with the old slot,
    then Ok with slot 3."""
    await _connect(probe, served.port, FOCUSER, "ABS_FOCUS_POSITION")
    after = probe.mark()
    await _setprop(served.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=42000")
    busy = await probe.expect("newNumber", after=after, device=FOCUSER,
                              name="ABS_FOCUS_POSITION", state="Busy")
    # Ok after the Busy (the position read on connect may come in between, Ok at 50000).
    done = await probe.expect("newNumber", after=probe.events.index(busy), device=FOCUSER,
                              name="ABS_FOCUS_POSITION", state="Ok")
    assert _values(done)["FOCUS_ABSOLUTE_POSITION"] == 42000
    await _connect(probe, served.port, WHEEL, "FILTER_SLOT")
    after = probe.mark()
    await _setprop(served.port, f"{WHEEL}.FILTER_SLOT.FILTER_SLOT_VALUE=3")
    busy = await probe.expect("newNumber", after=after, device=WHEEL, name="FILTER_SLOT",
                              state="Busy")
    assert _values(busy)["FILTER_SLOT_VALUE"] == 1
    done = await probe.expect("newNumber", after=after, device=WHEEL, name="FILTER_SLOT",
                              state="Ok")
    assert _values(done)["FILTER_SLOT_VALUE"] == 3
    values = await _getprop(served.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION",
                            f"{WHEEL}.FILTER_SLOT.FILTER_SLOT_VALUE")
    assert float(values[f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"]) == 42000
    assert float(values[f"{WHEEL}.FILTER_SLOT.FILTER_SLOT_VALUE"]) == 3


async def test_weather_lights_follow_the_ok_ranges(served: Served, probe: BaseClientProbe) -> None:
    """Connected, the station's readings come with WEATHER_STATUS Ok (a mild night); a wind
    range narrowed below the reading with indi_setprop turns the wind light and the status
    Alert; OVERRIDE makes the status Ok again with the light still Alert."""
    await _connect(probe, served.port, WEATHER, "WEATHER_STATUS")
    await probe.expect("newLight", device=WEATHER, name="WEATHER_STATUS", state="Ok")
    after = probe.mark()
    await _setprop(served.port, f"{WEATHER}.WEATHER_WIND_SPEED.MIN_OK;MAX_OK;PERC_WARN=0;1;15")
    status = await probe.expect("newLight", after=after, device=WEATHER, name="WEATHER_STATUS",
                                state="Alert")
    lights = {m["name"]: m["value"] for m in status["members"]}
    assert lights["WEATHER_WIND_SPEED"] == "Alert" and lights["WEATHER_TEMPERATURE"] == "Ok"
    assert "WEATHER_WIND_GUST" not in lights  # not critical: no light
    after = probe.mark()
    await _setprop(served.port, f"{WEATHER}.WEATHER_OVERRIDE.OVERRIDE=On")
    status = await probe.expect("newLight", after=after, device=WEATHER, name="WEATHER_STATUS",
                                state="Ok")
    assert {m["name"]: m["value"] for m in status["members"]}["WEATHER_WIND_SPEED"] == "Alert"
    values = await _getprop(served.port, f"{WEATHER}.WEATHER_PARAMETERS.WEATHER_TEMPERATURE")
    assert -10 < float(values[f"{WEATHER}.WEATHER_PARAMETERS.WEATHER_TEMPERATURE"]) < 30


async def test_libindiclient_sees_the_standard_groups(served: Served,
                                                      probe: BaseClientProbe) -> None:
    """What KStars' INDI control panel makes its tabs from: the groups libindiclient reads for
    each role's properties are indilib's (Main Control, Motion Control, Site Management,
    Options, Filter Wheel, Parameters; DRIVER_INFO in General Info)."""
    for device, then in ((MOUNT, "TELESCOPE_INFO"), (FOCUSER, "FOCUS_ABORT_MOTION"),
                         (WHEEL, "FILTER_NAME"), (WEATHER, "GEOGRAPHIC_COORD")):
        await _connect(probe, served.port, device, then)
    groups = {(e["device"], e["name"]): e["group"] for e in probe.select("newProperty")}
    expected = {
        (MOUNT, "DRIVER_INFO"): "General Info",
        (MOUNT, "CONNECTION"): "Main Control",
        (MOUNT, "EQUATORIAL_EOD_COORD"): "Main Control",
        (MOUNT, "TELESCOPE_ABORT_MOTION"): "Main Control",
        (MOUNT, "TELESCOPE_PARK"): "Main Control",
        (MOUNT, "TELESCOPE_MOTION_NS"): "Motion Control",
        (MOUNT, "TELESCOPE_SLEW_RATE"): "Motion Control",
        (MOUNT, "TARGET_EOD_COORD"): "Motion Control",
        (MOUNT, "GEOGRAPHIC_COORD"): "Site Management",
        (MOUNT, "TIME_UTC"): "Site Management",
        (MOUNT, "TELESCOPE_INFO"): "Options",
        (FOCUSER, "ABS_FOCUS_POSITION"): "Main Control",
        (FOCUSER, "FOCUS_MOTION"): "Main Control",
        (WHEEL, "FILTER_SLOT"): "Filter Wheel",
        (WHEEL, "FILTER_NAME"): "Filter Wheel",
        (WEATHER, "WEATHER_STATUS"): "Main Control",
        (WEATHER, "WEATHER_PARAMETERS"): "Parameters",
        (WEATHER, "WEATHER_TEMPERATURE"): "Parameters",
        (WEATHER, "GEOGRAPHIC_COORD"): "Site Management",
    }
    assert {key: groups.get(key) for key in expected} == expected


def test_indiserver_runs_the_example_files_themselves(
        tmp_home: Path, indiserver_factory: Callable[..., IndiServer]) -> None:
    """``indiserver ./examples/mount_simulator.py`` (and the focuser and weather examples):
    with no terminal on stdin each speaks INDI on stdin/stdout, as examples/ccd_simulator.py
    does; indi_getprop then reads each device's DRIVER_INTERFACE."""
    server = indiserver_factory(*(str(EXAMPLES / name) for name in (
        "mount_simulator.py", "focuser_simulator.py", "weather_simulator.py")))
    specs = [f"{device}.DRIVER_INFO.DRIVER_INTERFACE" for device in (MOUNT, FOCUSER, WHEEL,
                                                                      WEATHER)]
    result = getprop(server.port, *specs, timeout=10)
    assert [result.get(spec) for spec in specs] == ["5", "8", "16", "128"], \
        result.result.describe() + server.log_tail()
