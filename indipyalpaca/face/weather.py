"""ObservingConditions (IObservingConditionsV2) and SafetyMonitor (ISafetyMonitorV3) on an
INDI weather station.

Each sensor is a WEATHER_PARAMETERS member under indilib's names (wind in km/h there, m/s in
Alpaca); a sensor the station lacks is not implemented, as are sky quality, sky brightness
and star FWHM, which INDI has no common name for, and RainRate when the station only counts
the rain of the last hour. The safety monitor is safe when the station's WEATHER_STATUS is Ok.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Handler

PARAMETERS = "WEATHER_PARAMETERS"
KPH = 1 / 3.6
# Alpaca sensor name -> (INDI members in order of preference, factor to Alpaca's unit).
SENSORS: dict[str, tuple[tuple[str, ...], float]] = {
    "CloudCover": (("WEATHER_CLOUD_COVER",), 1.0),
    "DewPoint": (("WEATHER_DEWPOINT",), 1.0),
    "Humidity": (("WEATHER_HUMIDITY",), 1.0),
    "Pressure": (("WEATHER_PRESSURE", "WEATHER_BAROMETER"), 1.0),
    "RainRate": (("WEATHER_RAIN_RATE",), 1.0),
    "SkyBrightness": ((), 1.0),
    "SkyQuality": ((), 1.0),
    "SkyTemperature": (("WEATHER_SKY_TEMPERATURE",), 1.0),
    "StarFWHM": ((), 1.0),
    "Temperature": (("WEATHER_TEMPERATURE",), 1.0),
    "WindDirection": (("WEATHER_WIND_DIRECTION",), 1.0),
    "WindGust": (("WEATHER_WIND_GUST",), KPH),
    "WindSpeed": (("WEATHER_WIND_SPEED",), KPH),
}
_BY_MEMBER = {name.lower(): name for name in SENSORS}


class ObservingConditions(AlpacaDevice):
    device_type = DeviceType.OBSERVINGCONDITIONS
    MEMBERS = frozenset({"averageperiod", "refresh", "sensordescription",
                         "timesincelastupdate", *_BY_MEMBER})
    STATE = (*SENSORS, "TimeSinceLastUpdate")

    def handler(self, verb: str, member: str) -> Handler | None:
        """A sensor's GET is one method for all thirteen."""
        if verb.upper() == "GET" and member in _BY_MEMBER:
            sensor = _BY_MEMBER[member]

            async def read(params: Params) -> float:
                return self._sensor(sensor)

            return read
        return super().handler(verb, member)

    def _member_of(self, sensor: str) -> str | None:
        vector = self.indi.vector(self.name, PARAMETERS)
        if vector is None:
            return None
        return next((m for m in SENSORS[sensor][0] if m in vector), None)

    def _sensor(self, sensor: str) -> float:
        member = self._member_of(sensor)
        if member is None:
            raise AlpacaError.not_implemented(f"{sensor} (the INDI station has no such reading)")
        value = self.indi.number(self.name, PARAMETERS, member)
        assert value is not None
        return value * SENSORS[sensor][1]

    def _sensor_name(self, params: Params) -> str:
        name = params.get("SensorName") or ""
        if name and name not in SENSORS:
            raise AlpacaError.invalid_value(f"SensorName {name!r} is not a sensor of "
                                            f"ObservingConditions")
        return name

    async def get_averageperiod(self, params: Params) -> float:
        return 0.0

    async def put_averageperiod(self, params: Params) -> None:
        if params.as_float("AveragePeriod") != 0.0:
            raise AlpacaError.invalid_value("only AveragePeriod 0 (instantaneous readings) "
                                            "is supported")

    async def put_refresh(self, params: Params) -> None:
        self.indi.require(self.name, "WEATHER_REFRESH", "Refresh")
        await self.indi.send(self.name, "WEATHER_REFRESH", {"REFRESH": "On"})

    async def get_sensordescription(self, params: Params) -> str:
        name = self._sensor_name(params)
        if not name:
            raise AlpacaError.invalid_value("SensorName is required")
        member = self._member_of(name)
        if member is None:
            raise AlpacaError.not_implemented(f"{name} (the INDI station has no such reading)")
        vector = self.indi.vector(self.name, PARAMETERS)
        assert vector is not None
        return f"{vector.memberlabel(member)} (INDI {member})"

    async def get_timesincelastupdate(self, params: Params) -> float:
        name = self._sensor_name(params)
        if name and self._member_of(name) is None:
            raise AlpacaError.not_implemented(f"{name} (the INDI station has no such reading)")
        vector = self.indi.require(self.name, PARAMETERS, "TimeSinceLastUpdate")
        return max(0.0, (datetime.now(UTC) - vector.timestamp).total_seconds())


class SafetyMonitor(AlpacaDevice):
    device_type = DeviceType.SAFETYMONITOR
    MEMBERS = frozenset({"issafe"})
    STATE = ("IsSafe",)
    ALWAYS = frozenset({"issafe"})

    async def get_issafe(self, params: Params) -> bool:
        """Unsafe unless connected and the station says Ok (ASCOM: False when not
        connected, rather than an error)."""
        if not self.connected:
            return False
        safety = self.indi.vector(self.name, "SAFETY_STATUS")
        if safety is not None and "SAFETY" in safety:
            return str(safety["SAFETY"]) == "Ok"
        status = self.indi.vector(self.name, "WEATHER_STATUS")
        if status is None:
            raise AlpacaError.not_implemented("IsSafe (neither SAFETY_STATUS nor WEATHER_STATUS)")
        return bool(status.state == State.OK)
