"""The standard vectors the roles and `DeviceProps` define, as the wire writes them, compared
with a checked-in record (``data/role_vectors.txt``).

The roles' vector tables are data read by one builder; this proves that writing them so
changed nothing a client sees: names, labels, groups, perms, rules, timeouts, member order,
formats, ranges and first values, for the default configuration and for option combinations.
It also records which role attribute holds which vector (drivers read them by attribute).
``INDIPY_UPDATE_ROLE_VECTORS=1`` rewrites the record from the current code instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from indipydriver.propertyvector import PropertyVector
from indipydriver.standard import Interface
from indipydriver.standard.camera import Camera
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image
from indipydriver.standard.camera import Sensor
from indipydriver.standard.deviceprops import DeviceProps
from indipydriver.standard.filterwheel import FilterWheel
from indipydriver.standard.focuser import Focuser
from indipydriver.standard.mount import Mount
from indipydriver.standard.mount import SlewRate
from indipydriver.standard.weather import Weather
from indipydriver.standard.weather import WeatherParameter

RECORD = Path(__file__).parent / "data" / "role_vectors.txt"
UPDATE = "INDIPY_UPDATE_ROLE_VECTORS"
WHEN = datetime(2024, 1, 2, 3, 4, 5)


class _Hardware:
    """Every role's hardware at once: only the vectors are looked at here."""

    async def read(self) -> Mapping[str, float]:
        return {}

    async def temperature(self) -> float:
        return 0.0


async def _expose(exposure: Exposure) -> Image | bytes:
    return b""


HW: Any = _Hardware()
WEATHER = [WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
           WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20, perc_warn=10),
           WeatherParameter("WEATHER_HUMIDITY", "Humidity %", 0, 90, critical=False)]

#: Each case: a name and the role (or DeviceProps) it makes.
CASES: dict[str, Callable[[], Any]] = {
    "mount default": lambda: Mount(HW),
    "mount options": lambda: Mount(
        HW, latitude=-33.5, longitude=-70.25, elevation=2500, park_position=(-3.0, -45.0),
        slew_rates=[SlewRate("SLOW", "Slow", 0.1), SlewRate("FAST", "Fast", 2.0)],
        slew_rate="SLOW", can_sync=False, can_park=False, aperture=200, focal_length=1000),
    "mount parked": lambda: Mount(HW, parked=True, slew_rates=[SlewRate("1x", "One", 1.0)]),
    "mount parked cannot park": lambda: Mount(HW, parked=True, can_park=False),
    "camera default": lambda: Camera(Sensor(1280, 1024, 5.2), _expose),
    "camera cooled": lambda: Camera(
        Sensor(640, 480, 3.75, pixel_size_y=4.5, bits=8, max_binning=2, min_exposure=0.001,
               max_exposure=60), _expose, cooler=HW, extra_interface=Interface.GUIDER,
        upload_dir="/data/images", upload_prefix="M31_XXX"),
    "focuser default": lambda: Focuser(HW),
    "focuser speed": lambda: Focuser(HW, max_position=60000, position=1234, max_speed=5),
    "wheel": lambda: FilterWheel(HW, ["Red", "Green", "Blue", "Luminance"], slot=2),
    "wheel one slot": lambda: FilterWheel(HW, ["Clear"]),
    "weather default": lambda: Weather(HW, WEATHER[:1]),
    "weather options": lambda: Weather(HW, WEATHER, period=0, latitude=51.5, longitude=-0.5,
                                       elevation=30),
    "weather none critical": lambda: Weather(HW, WEATHER[2:]),
    "deviceprops no role": lambda: DeviceProps("Dev", driver_exec="x.py"),
    "deviceprops with roles": lambda: DeviceProps(
        "Dev", [Focuser(HW), FilterWheel(HW, ["L"])], driver_name="My Focuser",
        driver_exec="f.py", driver_version="2.3"),
    "deviceprops own interface": lambda: DeviceProps(
        "Dev", interface=Interface.TELESCOPE | Interface.GPS, connect=_connect,
        driver_exec="t.py"),
}


async def _connect() -> None:
    """A connect hook (a device with one starts disconnected)."""


def _wire(vector: PropertyVector) -> str:
    vector.devicename = "Dev"
    text = vector._def_bytes("", WHEN).decode()
    if not vector.enable:
        text = "(disabled) " + text
    return text


def dump(name: str, made: Any) -> str:
    """The case's vectors as their definitions, then its attributes holding vectors (with
    the definition of those it keeps without defining them)."""
    vectors = made.vectors() if callable(made.vectors) else made.vectors
    if isinstance(made, DeviceProps):
        vectors = [*vectors, *made.role_vectors]
    lines = [f"== {name}", *(_wire(vector) for vector in vectors)]
    held = [(attr, value) for attr, value in sorted(vars(made).items())
            if isinstance(value, PropertyVector)]
    held += [(f"{attr}[{key}]", value) for attr, table in sorted(vars(made).items())
             if isinstance(table, dict)
             for key, value in table.items() if isinstance(value, PropertyVector)]
    for attr, vector in held:
        # The timeout too: a read-only vector keeps one the wire does not show.
        lines.append(f"{attr} = {vector.name} timeout={vector.timeout}")
        if all(vector is not defined for defined in vectors):
            lines.append(f"  (kept, not defined) {_wire(vector)}")
    text = "\n".join(lines) + "\n"
    # What the clock and the machine give: the mount's TIME_UTC, the camera's home folder.
    text = re.sub(r">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d<", "><now><", text)
    return text.replace(str(Path.home()), "<home>")


def record() -> str:
    return "".join(dump(name, make()) for name, make in CASES.items())


def test_role_vectors_on_the_wire_unchanged() -> None:
    """Every case's definitions are byte for byte the recorded ones."""
    now = record()
    if os.environ.get(UPDATE):
        RECORD.parent.mkdir(exist_ok=True)
        RECORD.write_text(now)
        pytest.skip(f"{RECORD.name} rewritten")
    assert now == RECORD.read_text()


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_recorded(name: str) -> None:
    """The same, one case at a time: a failure names the role and options that changed."""
    expected = RECORD.read_text().split("== ")
    section = next(part for part in expected if part.startswith(f"{name}\n"))
    assert dump(name, CASES[name]()) == "== " + section
