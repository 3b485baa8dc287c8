"""The focuser, filter wheel and weather roles: their properties as indilib's simulators define
them and the sequences clients follow, against hardware doubles the test drives."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rolekit import connected
from rolekit import number
from rolekit import switch
from waiting import HeldCalls
from waiting import until

from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import SetLightVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipydriver.standard.filterwheel import FilterWheel
from indipydriver.standard.focuser import Focuser
from indipydriver.standard.weather import Weather
from indipydriver.standard.weather import WeatherParameter
from indipydriver.standard.weather import parameter_state
from indipydriver.standard.weather import worst_state
from indipydriver.testing import DriverHarness


class FakeFocuser:
    """`FocuserHardware`: a move waits until the test calls `arrive()`."""

    def __init__(self) -> None:
        self.steps = 50000
        self.arrived = asyncio.Event()
        self.calls: list[tuple[object, ...]] = []

    def arrive(self) -> None:
        self.arrived.set()

    async def move_to(self, steps: int) -> None:
        self.calls.append(("move_to", steps))
        self.arrived.clear()
        await self.arrived.wait()
        self.steps = steps

    async def position(self) -> int:
        return self.steps

    async def abort(self) -> None:
        self.calls.append(("abort",))

    async def set_speed(self, speed: int) -> None:
        self.calls.append(("speed", speed))


async def test_focuser_absolute_move_busy_then_ok() -> None:
    """ABS_FOCUS_POSITION: Busy, the position sent as it changes, Ok at the target."""
    hardware = FakeFocuser()
    focuser = Focuser(hardware, max_position=100000, max_speed=5, poll_interval=0.02)
    async with connected("Focus", focuser) as client:
        defs = {}
        while len(defs) < len(focuser.vectors()):
            event = await client.receive()
            if isinstance(event, DefNumberVector) or type(event).__name__ == "DefSwitchVector":
                defs[event.name] = event
        assert list(defs) == ["FOCUS_MOTION", "FOCUS_SPEED", "REL_FOCUS_POSITION",
                              "ABS_FOCUS_POSITION", "FOCUS_MAX", "FOCUS_ABORT_MOTION"]
        absolute = defs["ABS_FOCUS_POSITION"]
        assert (absolute.label, absolute.members[0].name, absolute.members[0].format,
                absolute.members[0].max) == ("Absolute Position", "FOCUS_ABSOLUTE_POSITION",
                                             "%.f", "100000")
        await number(client, "Focus", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=42000)
        await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.BUSY)
        hardware.steps = 46000  # on its way
        moving = await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION",
                                     state=State.BUSY)
        assert moving["FOCUS_ABSOLUTE_POSITION"].float == 46000
        hardware.arrive()
        done = await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.OK)
        assert done["FOCUS_ABSOLUTE_POSITION"].float == 42000
    assert hardware.calls == [("move_to", 42000)]


async def test_focuser_relative_move_follows_direction_and_refuses_out_of_range() -> None:
    """FOCUS_MOTION inward + REL 1000 moves to position - 1000 (both vectors Ok after); a
    relative move past FOCUS_MAX is refused with Alert and a message."""
    hardware = FakeFocuser()
    async with connected("Focus", Focuser(hardware, poll_interval=0.02)) as client:
        await number(client, "Focus", "REL_FOCUS_POSITION", FOCUS_RELATIVE_POSITION=1000)
        await client.expect(SetNumberVector, name="REL_FOCUS_POSITION", state=State.BUSY)
        hardware.arrive()
        await client.expect(SetNumberVector, name="REL_FOCUS_POSITION", state=State.OK)
        done = await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.OK)
        assert done["FOCUS_ABSOLUTE_POSITION"].float == 49000
        await switch(client, "Focus", "FOCUS_MOTION", FOCUS_OUTWARD="On")
        await client.expect(SetSwitchVector, name="FOCUS_MOTION", state=State.OK)
        await number(client, "Focus", "REL_FOCUS_POSITION", FOCUS_RELATIVE_POSITION=60000)
        refused = await client.expect(SetNumberVector, name="REL_FOCUS_POSITION",
                                      state=State.ALERT)
        assert "109000 is outside 0..100000" in (refused.message or "")
    assert hardware.calls == [("move_to", 49000)]


async def test_focuser_abort_and_max() -> None:
    """FOCUS_ABORT_MOTION stops a move (hardware abort, ABORT Ok and Off, position Idle);
    a smaller FOCUS_MAX re-defines ABS_FOCUS_POSITION with the new maximum."""
    hardware = FakeFocuser()
    async with connected("Focus", Focuser(hardware, poll_interval=0.02)) as client:
        await number(client, "Focus", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=1000)
        await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.BUSY)
        await switch(client, "Focus", "FOCUS_ABORT_MOTION", ABORT="On")
        answer = await client.expect(SetSwitchVector, name="FOCUS_ABORT_MOTION")
        assert answer.state == State.OK and answer["ABORT"].value == SwitchState.OFF
        await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.IDLE)
        await number(client, "Focus", "FOCUS_MAX", FOCUS_MAX_VALUE=60000)
        redefined = await client.expect(DefNumberVector, name="ABS_FOCUS_POSITION")
        assert redefined.members[0].max == "60000"
        await client.expect(SetNumberVector, name="FOCUS_MAX", state=State.OK)
        await number(client, "Focus", "FOCUS_MAX", FOCUS_MAX_VALUE=40000)
        refused = await client.expect(SetNumberVector, name="FOCUS_MAX", state=State.ALERT)
        assert "at 50000" in (refused.message or "")
    assert ("abort",) in hardware.calls


class FakeWheel(HeldCalls[int]):
    """A wheel that arrives at the slot asked (`calls`) when the test says so (`release`)."""

    async def select(self, slot: int) -> None:
        await self.held(slot)


async def test_filter_slot_busy_with_old_slot_then_ok_with_new() -> None:
    """FILTER_SLOT: Busy with the old slot while turning, then Ok with the new one; names are
    kept as FILTER_NAME's members FILTER_SLOT_NAME_n."""
    hardware = FakeWheel()
    wheel = FilterWheel(hardware, ["Red", "Green", "Blue"])
    async with connected("Wheel", wheel) as client:
        await number(client, "Wheel", "FILTER_SLOT", FILTER_SLOT_VALUE=3)
        busy = await client.expect(SetNumberVector, name="FILTER_SLOT")
        assert busy.state == State.BUSY and busy["FILTER_SLOT_VALUE"].float == 1
        hardware.release.set()
        done = await client.expect(SetNumberVector, name="FILTER_SLOT")
        assert done.state == State.OK and done["FILTER_SLOT_VALUE"].float == 3
        await client.send('<newTextVector device="Wheel" name="FILTER_NAME">'
                          '<oneText name="FILTER_SLOT_NAME_2">Ha</oneText></newTextVector>')
        names = await client.expect(SetTextVector, name="FILTER_NAME")
        assert names.state == State.OK and names["FILTER_SLOT_NAME_2"].value == "Ha"
    assert hardware.calls == [3] and wheel.current == 3 and wheel.filter_name(2) == "Ha"
    with pytest.raises(ValueError, match="outside 1..3"):
        FilterWheel(hardware, ["a", "b", "c"], slot=4)


@given(st.floats(-100, 100), st.floats(-50, 0), st.floats(1, 50), st.floats(0, 50))
def test_parameter_state_bands(value: float, low: float, width: float, perc: float) -> None:
    """Alert outside the OK range, Busy within PERC_WARN percent of either end, Ok between."""
    high = low + width
    state = parameter_state(value, low, high, perc)
    margin = width * perc / 100
    if value < low or value > high:
        assert state == "Alert"
    elif low + margin <= value <= high - margin:
        assert state == "Ok"
    else:
        assert state == "Busy"
    assert worst_state(["Ok", state, "Idle"]) == state
    assert worst_state([]) == "Idle"


class Station:
    def __init__(self) -> None:
        self.values = {"WEATHER_TEMPERATURE": 15.0, "WEATHER_WIND_SPEED": 5.0}

    async def read(self) -> Mapping[str, float]:
        return dict(self.values)


async def test_weather_lights_and_override() -> None:
    """Readings reach WEATHER_PARAMETERS; WEATHER_STATUS's lights and state follow the OK
    ranges (the worst light), REFRESH reads again, OVERRIDE makes the state Ok."""
    station = Station()
    weather = Weather(station, [
        WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
        WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20)], period=3600)
    async with connected("Meteo", weather) as client:
        status = await client.expect(SetLightVector, name="WEATHER_STATUS")
        assert status.state == State.OK
        station.values["WEATHER_WIND_SPEED"] = 25.0
        await switch(client, "Meteo", "WEATHER_REFRESH", REFRESH="On")
        status = await client.expect(SetLightVector, name="WEATHER_STATUS")
        assert status.state == State.ALERT
        assert status["WEATHER_WIND_SPEED"].value == State.ALERT
        assert status["WEATHER_TEMPERATURE"].value == State.OK
        refreshed = await client.expect(SetSwitchVector, name="WEATHER_REFRESH")
        assert refreshed.state == State.OK and refreshed["REFRESH"].value == SwitchState.OFF
        await switch(client, "Meteo", "WEATHER_OVERRIDE", OVERRIDE="On")
        status = await client.expect(SetLightVector, name="WEATHER_STATUS")
        assert status.state == State.OK and status["WEATHER_WIND_SPEED"].value == State.ALERT
        await number(client, "Meteo", "WEATHER_WIND_SPEED", MIN_OK=0, MAX_OK=30, PERC_WARN=10)
        await client.expect(SetNumberVector, name="WEATHER_WIND_SPEED", state=State.OK)
        status = await client.expect(SetLightVector, name="WEATHER_STATUS")
        assert status["WEATHER_WIND_SPEED"].value == State.OK


async def test_focuser_failure_is_an_alert_and_a_new_target_replaces_a_move() -> None:
    """A new target during a move replaces it (no Alert on the way); an error raised by the
    user's move_to gives ABS_FOCUS_POSITION Alert with the error's text."""
    hardware = FakeFocuser()
    async with connected("Focus", Focuser(hardware, poll_interval=0.02)) as client:
        await number(client, "Focus", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=1000)
        await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION", state=State.BUSY)
        await number(client, "Focus", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=2000)
        await until(lambda: len(hardware.calls) >= 2, what="the second move started")
        hardware.arrive()
        while True:
            event = await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION")
            assert event.state != State.ALERT
            if event.state == State.OK:
                break
        assert event["FOCUS_ABSOLUTE_POSITION"].float == 2000

        async def stuck(steps: int) -> None:
            raise RuntimeError("motor stalled")

        hardware.move_to = stuck  # type: ignore[method-assign]
        await number(client, "Focus", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=3000)
        failed = await client.expect(SetNumberVector, name="ABS_FOCUS_POSITION",
                                     state=State.ALERT)
        assert "motor stalled" in (failed.message or "")
    assert hardware.calls[:2] == [("move_to", 1000), ("move_to", 2000)]


class FailingStation(Station):
    """`Station` whose reads raise while `broken` says why."""

    broken = ""

    async def read(self) -> Mapping[str, float]:
        if self.broken:
            raise OSError(self.broken)
        return await super().read()


async def refreshed_status(client: DriverHarness) -> SetLightVector:
    """Meteo's WEATHER_REFRESH pressed: the WEATHER_STATUS that follows."""
    await switch(client, "Meteo", "WEATHER_REFRESH", REFRESH="On")
    return await client.expect(SetLightVector, name="WEATHER_STATUS")


async def test_weather_fail_closed_makes_a_failed_read_alert() -> None:
    """With fail_closed, a read that raises turns every light and WEATHER_STATUS Alert, the
    reason in the first such set only; widening an OK range meanwhile does not make it Ok;
    the next read that works shows the lights of the readings again. Without it (indilib's
    way) the lights stay as they were."""
    for fail_closed in (True, False):
        station = FailingStation()
        weather = Weather(station, [
            WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
            WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20)], period=3600,
            fail_closed=fail_closed)
        async with connected("Meteo", weather) as client:
            status = await client.expect(SetLightVector, name="WEATHER_STATUS")
            assert status.state == State.OK
            station.broken = "station unplugged"
            await switch(client, "Meteo", "WEATHER_REFRESH", REFRESH="On")
            values = await client.expect(SetNumberVector, name="WEATHER_PARAMETERS")
            assert values.state == State.ALERT
            if not fail_closed:
                refreshed = await client.expect(SetSwitchVector, name="WEATHER_REFRESH")
                assert refreshed.state == State.ALERT
                assert weather.status.state == "Ok"
                continue
            status = await client.expect(SetLightVector, name="WEATHER_STATUS")
            assert status.state == State.ALERT
            assert {status[name].value for name in ("WEATHER_TEMPERATURE", "WEATHER_WIND_SPEED")} \
                == {State.ALERT}
            assert "station unplugged" in (status.message or "")
            status = await refreshed_status(client)
            assert status.state == State.ALERT and not status.message
            await number(client, "Meteo", "WEATHER_WIND_SPEED", MIN_OK=0, MAX_OK=30,
                         PERC_WARN=10)
            status = await client.expect(SetLightVector, name="WEATHER_STATUS")
            assert status.state == State.ALERT
            station.broken = ""
            assert (await refreshed_status(client)).state == State.OK
