"""An Alpaca ObservingConditions (alpaca-simulators) as an INDI weather station of our
server, read with indilib's indi_getprop."""

from __future__ import annotations

from pathlib import Path

from alpacapeers import AlpacaSimulators
from peers import getprop_holding
from peers import indi_eval
from test_focuser_wheel import connect
from test_focuser_wheel import serve

WEATHER = "Simulator Observing Conditions"


def test_weather_parameters_are_the_alpaca_sensors(our_server: object,
                                                    alpaca_sim: AlpacaSimulators,
                                                    tmp_path: Path) -> None:
    """DRIVER_INTERFACE is WEATHER (128); once connected, WEATHER_PARAMETERS holds the Alpaca
    sensors under indilib's names, wind converted from m/s to kph, and WEATHER_STATUS has a
    light for the critical ones; sensors without an INDI name (SkyQuality) are left out."""
    server = serve(our_server, alpaca_sim, "observingconditions/0", WEATHER)
    connect(server.port, WEATHER, tmp_path)
    done = indi_eval(server.port, f'"{WEATHER}.WEATHER_STATUS._STATE"!=0', timeout=15,
                     cwd=tmp_path)
    assert done.returncode == 0, done.describe()
    # A wildcard, as what is left out is the point: read in an answer holding the vectors read
    # below (SkyQuality's member would be among WEATHER_PARAMETERS').
    values = getprop_holding(server.port, f"{WEATHER}.*.*",
                             f"{WEATHER}.DRIVER_INFO.DRIVER_INTERFACE",
                             f"{WEATHER}.WEATHER_PARAMETERS.WEATHER_TEMPERATURE",
                             f"{WEATHER}.WEATHER_STATUS.WEATHER_RAIN_RATE", timeout=3, cwd=tmp_path)
    assert values[f"{WEATHER}.DRIVER_INFO.DRIVER_INTERFACE"] == "128"
    parameters = f"{WEATHER}.WEATHER_PARAMETERS."
    assert float(values[parameters + "WEATHER_TEMPERATURE"]) == alpaca_sim.get(
        "observingconditions/0/temperature")
    wind = alpaca_sim.get("observingconditions/0/windspeed")
    assert isinstance(wind, float)
    assert abs(float(values[parameters + "WEATHER_WIND_SPEED"]) - wind * 3.6) < 1e-6
    assert float(values[parameters + "WEATHER_HUMIDITY"]) == alpaca_sim.get(
        "observingconditions/0/humidity")
    assert f"{WEATHER}.WEATHER_STATUS.WEATHER_RAIN_RATE" in values
    assert not [key for key in values if "SKY_QUALITY" in key]
