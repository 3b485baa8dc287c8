"""A Python driver snooping indilib's telescope simulator, both under indilib's `indiserver`:
examples/snooping_dome.py (through its launcher examples/exdrivers/indi_py_dome) receives the
telescope's coordinates and turns them into a dome azimuth."""

from __future__ import annotations

import sys
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from peers import getprop
from peers import setprop
from waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LAUNCHER = EXAMPLES / "exdrivers" / "indi_py_dome"
sys.path.insert(0, str(EXAMPLES))

from snooping_dome import azimuth_deg
from snooping_dome import local_sidereal_hours

SCOPE = "Telescope Simulator"


def test_dome_receives_the_telescope_simulator_coordinates(indiserver_factory) -> None:  # type: ignore[no-untyped-def]
    """After the telescope is synced to RA 5.5 h, DEC -20, the snooping dome publishes the same
    coordinates and the azimuth they give at the snooped site."""
    server = indiserver_factory("indi_simulator_telescope", str(LAUNCHER))
    # The dome defines its vectors once it has started; the snoop is registered by then.
    assert getprop(server.port, "Dome.TELESCOPE.RA", timeout=10).returncode == 0, server.log_tail()
    for spec in (f"{SCOPE}.CONNECTION.CONNECT=On", f"{SCOPE}.ON_COORD_SET.SYNC=On",
                 f"{SCOPE}.EQUATORIAL_EOD_COORD.RA;DEC=5.5;-20"):
        sent = setprop(server.port, spec, timeout=5)
        assert sent.returncode == 0, sent.describe()
    # The simulator keeps tracking, so RA drifts by a few arc-seconds: compare loosely. (Not
    # indi_eval -w: once connected it waits for a true expression for ever, ignoring -t.)
    seen: dict[str, str] = {}

    def dome_follows() -> bool:
        nonlocal seen
        seen = dict(getprop(server.port, "Dome.TELESCOPE.RA", "Dome.TELESCOPE.DEC"))
        return seen.keys() == {"Dome.TELESCOPE.RA", "Dome.TELESCOPE.DEC"} and abs(
            float(seen["Dome.TELESCOPE.RA"]) - 5.5) < 0.01 and abs(
            float(seen["Dome.TELESCOPE.DEC"]) + 20) < 0.01

    wait_for(dome_follows, 10, lambda: f"the dome to follow; it saw {seen}\n{server.log_tail()}",
             interval=0.2)
    # The members named, not wildcards (which wait out a fixed 2 s and say what came):
    # indiserver passes the getProperties to both drivers, and indi_getprop ends once all came.
    values = getprop(server.port, "Dome.TELESCOPE.RA", "Dome.DOME_AZIMUTH.AZ",
                     f"{SCOPE}.GEOGRAPHIC_COORD.LAT", f"{SCOPE}.GEOGRAPHIC_COORD.LONG",
                     timeout=20)
    assert values.returncode == 0, values.result.describe() + server.log_tail()
    ra = float(values["Dome.TELESCOPE.RA"])
    lat = float(values[f"{SCOPE}.GEOGRAPHIC_COORD.LAT"])
    lon = float(values[f"{SCOPE}.GEOGRAPHIC_COORD.LONG"])
    expected = azimuth_deg(ra, -20.0, lat, local_sidereal_hours(datetime.now(UTC), lon))
    # a few seconds may separate the dome's computation from ours: 15"/s of hour angle at most
    difference = abs((float(values["Dome.DOME_AZIMUTH.AZ"]) - expected + 180) % 360 - 180)
    assert difference == pytest.approx(0, abs=1.0)
