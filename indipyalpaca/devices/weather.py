"""An Alpaca ObservingConditions as an INDI weather station: the standard `Weather` role.

Each Alpaca sensor the device answers for at start becomes a WEATHER_PARAMETERS member with
the name indilib's weather drivers use (WEATHER_TEMPERATURE, WEATHER_WIND_SPEED...); wind in
m/s is shown in kph as INDI has it. Sensors that answer "not implemented" (or any error) at
start are left out. Rain, wind and clouds are critical (WEATHER_STATUS lights). Read every
WEATHER_UPDATE period (the role's), and at WEATHER_REFRESH.

Readings that stop are no verdict, and no verdict is unsafe (the role's ``fail_closed``): a
server that stops answering, or a critical sensor that answers an error or garbage, turns
every light and WEATHER_STATUS Alert at the next read, said once; a sensor that is not
critical keeps its last value, its failure said once too. A server that answers but whose
readings have stopped (TimeSinceLastUpdate, where the device gives it, past `STALE_AFTER`:
our own face serving a station whose driver hangs) is no verdict either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from indipyalpaca.wire import ErrorNumber
from indipydriver.standard import RepeatedRead
from indipydriver.standard import Weather
from indipydriver.standard import WeatherParameter

from .client import AlpacaClient
from .client import AlpacaError
from .client import AlpacaProtocolError
from .part import AlpacaPart

__all__ = ["SENSORS", "AlpacaWeather", "UnreadSensors"]


class UnreadSensors(RuntimeError):
    """A critical sensor gave no reading this time: the station has no verdict."""


@dataclass(frozen=True)
class Sensor:
    """One Alpaca sensor member, its INDI parameter (OK range) and the unit factor."""

    member: str
    parameter: WeatherParameter
    factor: float = 1.0


#: The Alpaca sensors with an INDI counterpart (SkyQuality, SkyBrightness, StarFWHM have none).
SENSORS = (
    Sensor("temperature", WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30,
                                           critical=False)),
    Sensor("humidity", WeatherParameter("WEATHER_HUMIDITY", "Humidity %", 0, 90, 0,
                                        critical=False)),
    Sensor("dewpoint", WeatherParameter("WEATHER_DEWPOINT", "Dew Point (C)", -50, 40,
                                        critical=False)),
    Sensor("pressure", WeatherParameter("WEATHER_PRESSURE", "Pressure (hPa)", 500, 1100,
                                        critical=False)),
    Sensor("windspeed", WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 40, 0), 3.6),
    Sensor("windgust", WeatherParameter("WEATHER_WIND_GUST", "Gust (kph)", 0, 50, 0), 3.6),
    Sensor("winddirection", WeatherParameter("WEATHER_WIND_DIRECTION", "Wind Direction", 0,
                                             360, 0, critical=False)),
    Sensor("rainrate", WeatherParameter("WEATHER_RAIN_RATE", "Rain (mm/h)", 0, 0, 0)),
    Sensor("cloudcover", WeatherParameter("WEATHER_CLOUD_COVER", "Clouds (%)", 0, 30, 0)),
    Sensor("skytemperature", WeatherParameter("WEATHER_SKY_TEMPERATURE", "Sky Temp (C)", -60,
                                              10, critical=False)),
)


#: Seconds after which the device's last update (TimeSinceLastUpdate) is too old to be a
#: verdict: the watchdog's default WATCHDOG_STALE_VALUE.
STALE_AFTER = 120.0


class AlpacaWeather(AlpacaPart):
    """`WeatherHardware` for one Alpaca ObservingConditions, and its INDI device. `ages`: the
    device answers TimeSinceLastUpdate (asked at start), so old readings are seen."""

    def __init__(self, client: AlpacaClient, number: int, name: str,
                 sensors: list[Sensor], ages: bool = False) -> None:
        super().__init__(client, "observingconditions", number, name)
        self.sensors = sensors
        self.ages = ages
        self.role = Weather(self, [sensor.parameter for sensor in sensors], period=10.0,
                            fail_closed=True)
        self.device = self.make_device(self.role)
        self._reads: dict[str, RepeatedRead] = {}

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaWeather:
        path = f"observingconditions/{number}"
        found = []
        for sensor in SENSORS:
            try:
                value = await client.get(path, sensor.member)
            except AlpacaError as exc:
                if exc.number == ErrorNumber.NOT_CONNECTED:
                    raise  # asked again once connected (driver._describe_connected)
                continue  # not implemented (or broken): no such parameter
            except AlpacaProtocolError:
                continue
            if isinstance(value, (int, float)):
                found.append(sensor)
        if not found:
            raise ValueError(f"{path} has no sensor with an INDI weather parameter")
        try:
            age = await client.get(path, "timesincelastupdate", SensorName="")
        except (AlpacaError, AlpacaProtocolError):
            age = None  # not implemented: the readings' age is not known
        return cls(client, number, name, found, ages=isinstance(age, (int, float)))

    async def read(self) -> Mapping[str, float]:
        """Every sensor now. One that is not critical and fails keeps its last value (the
        role's rule); a critical one that fails raises `UnreadSensors` once the rest are read,
        and a server that does not answer raises at once (`AlpacaUnreachable`)."""
        values = {}
        unread = []
        for sensor in self.sensors:
            try:
                value = float(await self.get(sensor.member)) * sensor.factor
            except (AlpacaError, AlpacaProtocolError, TypeError, ValueError) as exc:
                if sensor.parameter.critical:
                    unread.append(f"{sensor.member}: {exc}")
                else:
                    self._read_of(sensor).failed(exc)
                continue
            self._read_of(sensor).worked()
            values[sensor.parameter.name] = value
        if self.ages:
            age = await self._age()
            if age is not None and age > STALE_AFTER:
                unread.append(f"the readings are {age:.0f} s old (TimeSinceLastUpdate; more "
                              f"than {STALE_AFTER:.0f} s is no verdict)")
        if unread:
            raise UnreadSensors(f"{self.path} gives no verdict: {'; '.join(unread)}")
        return values

    async def _age(self) -> float | None:
        """TimeSinceLastUpdate now (None when it fails: said once, the sensors decide)."""
        reading = self._reads.setdefault("timesincelastupdate", RepeatedRead(
            self.logger, f"Reading {self.path} timesincelastupdate"))
        try:
            age = float(await self.get("timesincelastupdate", SensorName=""))
        except (AlpacaError, AlpacaProtocolError, TypeError, ValueError) as exc:
            reading.failed(exc)
            return None
        reading.worked()
        return age

    def _read_of(self, sensor: Sensor) -> RepeatedRead:
        """The sensor's own failure, said once (not at every period)."""
        if sensor.member not in self._reads:
            self._reads[sensor.member] = RepeatedRead(
                self.logger, f"Reading {self.path} {sensor.member}")
        return self._reads[sensor.member]
