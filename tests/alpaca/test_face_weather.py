"""ObservingConditions and SafetyMonitor served by the face, driven by alpyca, on our weather
simulator and indilib's.

Protects: each INDI weather station is an ObservingConditions and a SafetyMonitor; its
readings come through in Alpaca's units (wind km/h -> m/s); sensors the station lacks are
NotImplemented rather than invented; SensorDescription names the INDI reading;
TimeSinceLastUpdate("") is answered; AveragePeriod takes only 0; Refresh asks the station;
IsSafe is False until connected, then follows WEATHER_STATUS.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from alpaca.observingconditions import ObservingConditions
from alpaca.safetymonitor import SafetyMonitor
from facekit import alpaca_server
from facekit import number_of
from facekit import serving
from peers import getprop
from peers import getprop_holding

from indipysimulators.weather import make_driver


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_weather",))) as server:
        yield f"127.0.0.1:{server.alpaca_port}", server.port


@pytest.mark.parametrize("name", ["Python Weather", "Weather Simulator"])
def test_readings_and_safety(served: tuple[str, int], name: str) -> None:
    address, indi_port = served
    safety = SafetyMonitor(address, number_of(address, name, "SafetyMonitor"))
    assert safety.IsSafe is False  # not connected yet
    weather = ObservingConditions(address, number_of(address, name, "ObservingConditions"))
    assert weather.InterfaceVersion == 2 and safety.InterfaceVersion == 3
    weather.Connected = True
    safety.Connected = True
    indi = getprop_holding(indi_port, f"{name}.WEATHER_PARAMETERS.*")  # the readings
    assert weather.Temperature == pytest.approx(
        float(indi[f"{name}.WEATHER_PARAMETERS.WEATHER_TEMPERATURE"]), abs=1e-6)
    assert weather.WindSpeed == pytest.approx(
        float(indi[f"{name}.WEATHER_PARAMETERS.WEATHER_WIND_SPEED"]) / 3.6, abs=1e-6)
    for missing in ("Humidity", "SkyQuality", "StarFWHM", "RainRate"):
        with pytest.raises(NotImplementedException):
            getattr(weather, missing)
    assert "WEATHER_TEMPERATURE" in weather.SensorDescription("Temperature")
    with pytest.raises(InvalidValueException):
        weather.SensorDescription("NoSuchSensor")
    assert weather.TimeSinceLastUpdate("") >= 0.0
    assert weather.AveragePeriod == 0.0
    # alpyca 3.1.3 has no AveragePeriod setter: its own PUT, as the property would send it.
    weather._put("averageperiod", AveragePeriod=0.0)
    with pytest.raises(InvalidValueException):
        weather._put("averageperiod", AveragePeriod=1.0)
    weather.Refresh()
    status = getprop(indi_port, f"{name}.WEATHER_STATUS._STATE")
    expected = status.get(f"{name}.WEATHER_STATUS._STATE") == "Ok"
    assert safety.IsSafe is expected
    names = {entry["Name"] for entry in weather.DeviceState}
    assert {"Temperature", "WindSpeed", "WindGust"} <= names
    assert "Humidity" not in names and "TimeSinceLastUpdate" not in names
