"""`Weather`: the weather role (WEATHER bit), indilib's ``INDI::WeatherInterface`` properties.

The user writes a `WeatherHardware` with one coroutine, ``read()``, returning the current
value of each parameter by name. The role defines WEATHER_UPDATE, WEATHER_REFRESH,
WEATHER_OVERRIDE, the WEATHER_STATUS lights, WEATHER_PARAMETERS and, per parameter, its
MIN_OK/MAX_OK/PERC_WARN vector (as indilib 1.9.9's weather simulator has them), reads the
hardware every PERIOD seconds (and on REFRESH) and sets the lights: Ok inside the OK range,
Busy (a warning) within PERC_WARN percent of the range from either end, Alert outside it.
WEATHER_STATUS's state is the worst of its lights (what observatory managers such as Ekos'
read), or Ok while WEATHER_OVERRIDE is on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from ..members import LightMember
from ..members import NumberMember
from ..members import SwitchMember
from ..rxevents import ClientVectorEvent
from ..vectors import LightVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from .groups import MAIN_CONTROL_TAB
from .groups import PARAMETERS_TAB
from .groups import SITE_TAB
from .role import RepeatedRead
from .role import RoleDevice
from .role import RoleTasks

__all__ = ["Weather", "WeatherHardware", "WeatherParameter", "parameter_state", "worst_state"]

logger = logging.getLogger(__name__)

_SEVERITY = {"Idle": 0, "Ok": 1, "Busy": 2, "Alert": 3}


class WeatherHardware(Protocol):
    """What the user writes for a weather station."""

    async def read(self) -> Mapping[str, float]:
        """The current value of each parameter, by parameter name (WEATHER_TEMPERATURE...);
        a parameter left out keeps its last value."""
        ...


@dataclass(frozen=True)
class WeatherParameter:
    """One weather parameter: its INDI name and label, its OK range and the warning margin
    (percent of the range, from either end). A `critical` one has a light in WEATHER_STATUS."""

    name: str
    label: str
    min_ok: float
    max_ok: float
    perc_warn: float = 15.0
    critical: bool = True


def parameter_state(value: float, min_ok: float, max_ok: float, perc_warn: float) -> str:
    """The light for `value`: Alert outside [min_ok, max_ok], Busy within `perc_warn` percent
    of the range from either end, Ok otherwise."""
    if value < min_ok or value > max_ok:
        return "Alert"
    margin = (max_ok - min_ok) * perc_warn / 100.0
    if value < min_ok + margin or value > max_ok - margin:
        return "Busy"
    return "Ok"


def worst_state(states: Sequence[str]) -> str:
    """The most severe of some states (Alert > Busy > Ok > Idle); Idle for none."""
    return max(states, key=_SEVERITY.__getitem__, default="Idle")


class Weather:
    """The weather role::

        weather = Weather(MyStation(), [
            WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
            WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20),
        ])
        device = Device("Weather", roles=[weather])

    `period` is WEATHER_UPDATE's first value (seconds between reads; 0 reads only on
    REFRESH). `latitude`/`longitude`/`elevation` start GEOGRAPHIC_COORD "Location".
    """

    def __init__(self, hardware: WeatherHardware, parameters: Sequence[WeatherParameter], *,
                 period: float = 60.0, latitude: float = 0.0, longitude: float = 0.0,
                 elevation: float = 0.0) -> None:
        if not parameters:
            raise ValueError("a weather station needs at least one parameter")
        self.hardware = hardware
        self.parameters = {p.name: p for p in parameters}
        if len(self.parameters) != len(parameters):
            raise ValueError("two weather parameters have the same name")
        self.logger = logger
        self._tasks = RoleTasks()
        self._wake = asyncio.Event()
        self.update = NumberVector("WEATHER_UPDATE", "Update", MAIN_CONTROL_TAB, "rw", "Idle",
                                   [NumberMember("PERIOD", "Period (s)", "%.f", 0, 3600, 60,
                                                 period)])
        self.refresh = SwitchVector("WEATHER_REFRESH", "Weather", MAIN_CONTROL_TAB, "rw",
                                    "AtMostOne", "Idle", [SwitchMember("REFRESH", "Refresh")])
        self.override = SwitchVector("WEATHER_OVERRIDE", "Safety", MAIN_CONTROL_TAB, "rw",
                                     "AnyOfMany", "Idle",
                                     [SwitchMember("OVERRIDE", "Override Status")])
        critical = [p for p in parameters if p.critical]
        self.status = LightVector("WEATHER_STATUS", "Status", MAIN_CONTROL_TAB, "Idle",
                                  [LightMember(p.name, p.label) for p in critical or parameters])
        self.values = NumberVector(
            "WEATHER_PARAMETERS", "Parameters", PARAMETERS_TAB, "ro", "Idle",
            [NumberMember(p.name, p.label, "%4.2f", p.min_ok, p.max_ok, 0, 0)
             for p in parameters])
        self.ranges = {
            p.name: NumberVector(p.name, p.label, PARAMETERS_TAB, "rw", "Idle", [
                NumberMember("MIN_OK", "OK range min", "%4.2f", -1e6, 1e6, 0, p.min_ok),
                NumberMember("MAX_OK", "OK range max", "%4.2f", -1e6, 1e6, 0, p.max_ok),
                NumberMember("PERC_WARN", "% for Warning", "%g", 0, 100, 1, p.perc_warn)])
            for p in parameters}
        self.site = NumberVector(
            "GEOGRAPHIC_COORD", "Location", SITE_TAB, "rw", "Ok",
            [NumberMember("LAT", "Lat (dd:mm:ss)", "%010.6m", -90, 90, 0, latitude),
             NumberMember("LONG", "Lon (dd:mm:ss)", "%010.6m", 0, 360, 0, longitude % 360),
             NumberMember("ELEV", "Elevation (m)", "%g", -200, 10000, 0, elevation)])
        for vector in (self.update, self.values, self.site, *self.ranges.values()):
            vector.timeout = 60
        self._read_once = False

    # ---------------------------------------------------------------- Role

    @property
    def interface(self) -> Interface:
        return Interface.WEATHER

    def vectors(self) -> Sequence[PropertyVector]:
        return [self.update, self.refresh, self.override, self.status, self.values,
                *self.ranges.values(), self.site]

    def attach(self, device: RoleDevice) -> None:
        self.logger = self._tasks.logger = device.logger

    async def connected(self) -> None:
        self._wake = asyncio.Event()  # for the event loop serving now
        self._tasks.start(self._loop(), "Weather updates")

    async def disconnected(self) -> None:
        await self._tasks.stop()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        vector = event.vector
        if vector is self.refresh:
            self._wake.set()  # the loop reads now and answers REFRESH
            self.refresh["REFRESH"] = "On"
            await self.refresh.send_setVector(state="Busy")
            return
        for name, value in event.items():
            vector[name] = value
        if vector is self.update:
            self._wake.set()  # a new period starts now
        await vector.send_setVector(state="Ok")
        if vector is self.override or event.vectorname in self.ranges:
            await self._send_lights()

    # ---------------------------------------------------------------- reading

    @property
    def overridden(self) -> bool:
        return bool(self.override["OVERRIDE"] == "On")

    def light(self, name: str) -> str:
        """The state of parameter `name` for its current value and OK range."""
        ranges = self.ranges[name]
        return parameter_state(self.values.getfloatvalue(name),
                               ranges.getfloatvalue("MIN_OK"), ranges.getfloatvalue("MAX_OK"),
                               ranges.getfloatvalue("PERC_WARN"))

    async def _send_lights(self) -> None:
        if not self._read_once:
            return
        before = {name: self.status[name] for name in self.status}
        for name in self.status:
            self.status[name] = self.light(name)
        worst = worst_state([self.status[name] for name in self.status])
        for name, state in before.items():
            if state != self.status[name] and self.status[name] != "Ok":
                self.logger.warning("%s is %s: %s", self.parameters[name].label,
                                    "outside its OK range" if self.status[name] == "Alert"
                                    else "near a limit of its OK range",
                                    self.values.getformattedvalue(name).strip())
        await self.status.send_setVector(state="Ok" if self.overridden else worst)

    async def read_now(self) -> None:
        """Read the station once and send the values and the lights."""
        readings = await self.hardware.read()
        for name, value in readings.items():
            if name not in self.parameters:
                self.logger.debug("ignoring unknown weather parameter %r", name)
                continue
            self.values[name] = float(value)
        self._read_once = True
        await self.values.send_setVector(state="Ok")
        await self._send_lights()

    async def _loop(self) -> None:
        reading = RepeatedRead(self.logger, "Reading the weather")
        while True:
            self._wake.clear()
            try:
                await self.read_now()
            except Exception as exc:  # noqa: BLE001  # say so once, keep trying
                reading.failed(exc)
                await self.values.send_setVector(state="Alert")
            else:
                reading.worked()
            if self.refresh["REFRESH"] == "On":
                self.refresh["REFRESH"] = "Off"
                await self.refresh.send_setVector(state="Alert" if reading.failing else "Ok")
            period = self.update.getfloatvalue("PERIOD")
            try:
                async with asyncio.timeout(period if period > 0 else None):
                    await self._wake.wait()  # (wait_for can lose a cancellation)
            except TimeoutError:
                pass
