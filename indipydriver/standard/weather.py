"""`Weather`: the weather role (WEATHER bit), indilib's ``INDI::WeatherInterface`` properties.

The user writes a `WeatherHardware` with one coroutine, ``read()``, returning the current
value of each parameter by name. The role defines WEATHER_UPDATE, WEATHER_REFRESH,
WEATHER_OVERRIDE, the WEATHER_STATUS lights, WEATHER_PARAMETERS and, per parameter, its
MIN_OK/MAX_OK/PERC_WARN vector (as indilib 1.9.9's weather simulator has them), reads the
hardware every PERIOD seconds (and on REFRESH) and sets the lights: Ok inside the OK range,
Busy (a warning) within PERC_WARN percent of the range from either end, Alert outside it.
WEATHER_STATUS's state is the worst of its lights (what observatory managers such as Ekos'
read), or Ok while WEATHER_OVERRIDE is on.

A read that fails leaves the lights as they were, as indilib's WeatherInterface does (only
WEATHER_PARAMETERS goes Alert). With ``fail_closed=True`` (a station read over a link that can
go quiet: the Alpaca bridge's) a failed read is no verdict, and no verdict is unsafe: every
light and WEATHER_STATUS go Alert, with the reason once, until a read works again.
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
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["Weather", "WeatherHardware", "WeatherParameter", "parameter_state", "worst_state"]

logger = logging.getLogger(__name__)

_SEVERITY = {"Idle": 0, "Ok": 1, "Busy": 2, "Alert": 3}


#: The station's vectors (indilib 1.9.9's weather simulator); a vector per parameter for its
#: OK range (`RANGE_MEMBERS`) is defined between WEATHER_PARAMETERS and GEOGRAPHIC_COORD.
WEATHER_VECTORS = (
    VectorSpec("WEATHER_UPDATE", "Update", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("PERIOD", "Period (s)", "%.f", 0, 3600, 60, Param("period")),
    ), timeout=60),
    VectorSpec("WEATHER_REFRESH", "Weather", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("REFRESH", "Refresh"),
    ), rule="AtMostOne"),
    VectorSpec("WEATHER_OVERRIDE", "Safety", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("OVERRIDE", "Override Status"),
    ), rule="AnyOfMany"),
    VectorSpec("WEATHER_STATUS", "Status", MAIN_CONTROL_TAB, "ro", Param("lights")),
    VectorSpec("WEATHER_PARAMETERS", "Parameters", PARAMETERS_TAB, "ro", Param("values"),
               timeout=60),
    VectorSpec("GEOGRAPHIC_COORD", "Location", SITE_TAB, "rw", (
        NumberSpec("LAT", "Lat (dd:mm:ss)", "%010.6m", -90, 90, 0, Param("latitude")),
        NumberSpec("LONG", "Lon (dd:mm:ss)", "%010.6m", 0, 360, 0, Param("longitude")),
        NumberSpec("ELEV", "Elevation (m)", "%g", -200, 10000, 0, Param("elevation")),
    ), state="Ok", timeout=60),
)

#: The members of a parameter's own vector (named and labelled as the parameter).
RANGE_MEMBERS = (
    NumberSpec("MIN_OK", "OK range min", "%4.2f", -1e6, 1e6, 0, Param("min_ok")),
    NumberSpec("MAX_OK", "OK range max", "%4.2f", -1e6, 1e6, 0, Param("max_ok")),
    NumberSpec("PERC_WARN", "% for Warning", "%g", 0, 100, 1, Param("perc_warn")),
)


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


def _range_vector(p: WeatherParameter) -> NumberVector:
    """`p`'s vector of its OK range and warning margin, which clients may change."""
    spec = VectorSpec(p.name, p.label, PARAMETERS_TAB, "rw", RANGE_MEMBERS, timeout=60)
    made = build((spec,), min_ok=p.min_ok, max_ok=p.max_ok, perc_warn=p.perc_warn)
    return made.vector(p.name, NumberVector)


class Weather:
    """The weather role::

        weather = Weather(MyStation(), [
            WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
            WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20),
        ])
        device = Device("Weather", roles=[weather])

    `period` is WEATHER_UPDATE's first value (seconds between reads; 0 reads only on
    REFRESH). `latitude`/`longitude`/`elevation` start GEOGRAPHIC_COORD "Location".
    `fail_closed`: a failed read turns every light and WEATHER_STATUS Alert (module doc).
    """

    #: Saved by CONFIG_SAVE (indilib's Weather::saveConfigItems, of what this role has); its
    #: period is WEATHER_UPDATE's, not POLLING_PERIOD (indilib's Weather has none).
    config_names = ("WEATHER_UPDATE", "ACTIVE_DEVICES", "GEOGRAPHIC_COORD")
    #: Taken from the saved file when the driver starts (indilib's Weather::initProperties:
    #: LocationNP.load() and ActiveDeviceTP.load()), of what this role has: the site.
    startup_names = ("GEOGRAPHIC_COORD", "ACTIVE_DEVICES")

    def __init__(self, hardware: WeatherHardware, parameters: Sequence[WeatherParameter], *,
                 period: float = 60.0, latitude: float = 0.0, longitude: float = 0.0,
                 elevation: float = 0.0, fail_closed: bool = False) -> None:
        if not parameters:
            raise ValueError("a weather station needs at least one parameter")
        self.hardware = hardware
        self.parameters = {p.name: p for p in parameters}
        if len(self.parameters) != len(parameters):
            raise ValueError("two weather parameters have the same name")
        self.logger = logger
        self._tasks = RoleTasks()
        self._wake = asyncio.Event()
        critical = [p for p in parameters if p.critical]
        made = build(
            WEATHER_VECTORS, period=period, latitude=latitude, longitude=longitude % 360,
            elevation=elevation,
            lights=[LightMember(p.name, p.label) for p in critical or parameters],
            values=[NumberMember(p.name, p.label, "%4.2f", p.min_ok, p.max_ok, 0, 0)
                    for p in parameters])
        self.update = made.vector("WEATHER_UPDATE", NumberVector)
        self.refresh = made.vector("WEATHER_REFRESH", SwitchVector)
        self.override = made.vector("WEATHER_OVERRIDE", SwitchVector)
        self.status = made.vector("WEATHER_STATUS", LightVector)
        self.values = made.vector("WEATHER_PARAMETERS", NumberVector)
        self.ranges = {p.name: _range_vector(p) for p in parameters}
        self.site = made.vector("GEOGRAPHIC_COORD", NumberVector)
        self._read_once = False
        self.fail_closed = fail_closed
        #: Why the last read failed (None while reads work): with `fail_closed`, every light
        #: is Alert meanwhile, whatever a client does to the OK ranges.
        self.unread: str | None = None

    # ---------------------------------------------------------------- Role

    @property
    def interface(self) -> Interface:
        return Interface.WEATHER

    def vectors(self) -> Sequence[PropertyVector]:
        return [self.update, self.refresh, self.override, self.status, self.values,
                *self.ranges.values(), self.site]

    def attach(self, device: RoleDevice) -> None:
        self.logger = device.logger
        self._tasks.attach(device)

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

    async def _send_lights(self, message: str = "") -> None:
        if self.fail_closed and self.unread is not None:
            for name in self.status:
                self.status[name] = "Alert"
            await self.status.send_setVector(state="Ok" if self.overridden else "Alert",
                                             message=message)
            return
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
        self.unread = None
        await self.values.send_setVector(state="Ok")
        await self._send_lights()

    async def _loop(self) -> None:
        reading = RepeatedRead(self.logger, "Reading the weather")
        while True:
            self._wake.clear()
            try:
                await self.read_now()
            except Exception as exc:  # noqa: BLE001  # say so once, keep trying
                first = not reading.failing
                reading.failed(exc)
                self.unread = f"{type(exc).__name__}: {exc}"
                await self.values.send_setVector(state="Alert")
                if self.fail_closed:
                    await self._send_lights(
                        f"No reading, so unsafe: {self.unread}"[:250] if first else "")
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
