"""The demo driver (indipyserver.demo, every vector kind) as an executable driver under indilib's
real `indiserver`, checked with indilib's own clients (indi_getprop, indi_setprop, indi_eval).

The driver runs through examples/exdrivers/indi_py_thermostat, a launcher that speaks INDI on
stdin/stdout. Missing indi-bin binaries make these tests fail (tests/peers.py), never skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from peers import getprop
from peers import getprop_holding
from peers import indi_eval
from peers import setprop
from waiting import wait_for

from indipyserver.demo import Room

LAUNCHER = Path(__file__).resolve().parents[2] / "examples" / "exdrivers" / "indi_py_thermostat"
# Fast readings; a LOG BLOB every 5 readings.
ENV = {"INDIPY_INTERVAL": "0.05", "INDIPY_LOG_EVERY": "5"}


@pytest.fixture
def demo(indiserver_factory):  # type: ignore[no-untyped-def]
    """indiserver running the demo thermostat; yields its port."""
    server = indiserver_factory(str(LAUNCHER), env=ENV)
    # indiserver accepts clients before the driver has defined anything: wait for a def.
    values = getprop(server.port, "Thermostat.SITE.FIRMWARE", timeout=10)
    assert values.returncode == 0, values.result.describe() + "\n" + server.log_tail()
    return server.port


def test_getprop_lists_every_property_with_its_value(demo: int) -> None:
    """indi_getprop through indiserver shows every non-BLOB member with the right value, and the
    attributes (_PERM, _STATE, _LABEL, _GROUP) the driver defined."""
    # A wildcard, as every property is the point; in an answer holding every vector read below.
    values = getprop_holding(demo, "Thermostat.*.*", "Thermostat.TARGET.TARGET",
                             "Thermostat.TEMPERATURE.TEMPERATURE", "Thermostat.HEATER_MODE.AUTO",
                             "Thermostat.HEATER.HEATING", "Thermostat.SITE.NAME")
    assert float(values["Thermostat.TARGET.TARGET"]) == 20.0
    assert -50 < float(values["Thermostat.TEMPERATURE.TEMPERATURE"]) < 100
    assert values["Thermostat.HEATER_MODE.AUTO"] == "On"
    assert values["Thermostat.HEATER_MODE.ON"] == "Off"
    assert values["Thermostat.HEATER_MODE.OFF"] == "Off"
    assert values["Thermostat.HEATER.HEATING"] in {"Idle", "Busy"}
    assert values["Thermostat.HEATER.FROST"] in {"Idle", "Ok", "Alert"}
    assert values["Thermostat.SITE.NAME"] == "Observatory"
    assert values["Thermostat.SITE.FIRMWARE"] == "indipy demo thermostat 1.0"
    attrs = getprop(demo, "Thermostat.TEMPERATURE._PERM", "Thermostat.TARGET._PERM",
                    "Thermostat.TARGET._LABEL", "Thermostat.TARGET._GROUP",
                    "Thermostat.HEATER_MODE._STATE", timeout=20)
    assert attrs.returncode == 0, attrs.result.describe()
    assert attrs["Thermostat.TEMPERATURE._PERM"] == "ro"
    assert attrs["Thermostat.TARGET._PERM"] == "rw"
    assert attrs["Thermostat.TARGET._LABEL"] == "Target"
    assert attrs["Thermostat.TARGET._GROUP"] == "Control"
    assert attrs["Thermostat.HEATER_MODE._STATE"] == "Ok"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("25", 25.0),
        ("-5 30", -5.5),  # SPEC sexagesimal with a space (indilib's own parser reads -530)
        ("12:30:00", 12.5),
        ("-10:30:18", -10.505),
    ],
)
def test_setprop_number_including_sexagesimal_is_applied(
    demo: int, typed: str, expected: float
) -> None:
    """indi_setprop sends a number (decimal or sexagesimal); the driver's reply carries the
    parsed value, seen by indi_getprop and by indi_eval."""
    sent = setprop(demo, f"Thermostat.TARGET.TARGET={typed}")
    assert sent.returncode == 0, sent.describe()
    evaluated = indi_eval(demo, f'"Thermostat.TARGET.TARGET"=={expected}', timeout=5)
    assert evaluated.returncode == 0, evaluated.describe()
    values = getprop(demo, "Thermostat.TARGET.TARGET", "Thermostat.TARGET._STATE", timeout=20)
    assert values.returncode == 0, values.result.describe()
    assert float(values["Thermostat.TARGET.TARGET"]) == pytest.approx(expected)
    assert values["Thermostat.TARGET._STATE"] == "Ok"


def test_number_beyond_max_is_refused(demo: int) -> None:
    """A target above max (40) never reaches the driver: the value stays at 20, and a later
    valid request is still applied."""
    assert setprop(demo, "Thermostat.TARGET.TARGET=100").returncode == 0
    assert setprop(demo, "Thermostat.SITE.NAME=after refusal").returncode == 0
    # SITE's reply comes after any reply to the refused TARGET would have (one driver, in order)
    assert indi_eval(demo, '"Thermostat.SITE._STATE"==1', timeout=5).returncode == 0
    target = getprop(demo, "Thermostat.TARGET.TARGET", timeout=20)
    assert target.returncode == 0, target.result.describe()
    assert float(target["Thermostat.TARGET.TARGET"]) == 20.0
    assert setprop(demo, "Thermostat.TARGET.TARGET=40").returncode == 0
    assert indi_eval(demo, '"Thermostat.TARGET.TARGET"==40', timeout=5).returncode == 0


def test_setprop_switch_one_of_many_reply_seen_by_getprop_and_eval(demo: int) -> None:
    """Turning HEATER_MODE.OFF on: the reply sets OFF and clears AUTO (OneOfMany), which
    indi_eval and indi_getprop both see; the heater light then goes Idle."""
    sent = setprop(demo, "Thermostat.HEATER_MODE.OFF=On")
    assert sent.returncode == 0, sent.describe()
    evaluated = indi_eval(
        demo, '"Thermostat.HEATER_MODE.OFF"==1 && "Thermostat.HEATER_MODE.AUTO"==0', timeout=5
    )
    assert evaluated.returncode == 0, evaluated.describe()
    lit = indi_eval(demo, '"Thermostat.HEATER.HEATING"==0', timeout=5)  # 0 = Idle
    assert lit.returncode == 0, lit.describe()
    # A wildcard, to see that these three are all the members.
    values = getprop_holding(demo, "Thermostat.HEATER_MODE.*")
    assert values == {
        "Thermostat.HEATER_MODE.AUTO": "Off",
        "Thermostat.HEATER_MODE.ON": "Off",
        "Thermostat.HEATER_MODE.OFF": "On",
    }


def test_setprop_text_with_spaces_round_trips(demo: int) -> None:
    """A text value with spaces is stored and echoed unchanged. indi_setprop exits once it has
    sent, and indi_getprop is another client, whose getProperties may reach the driver before
    the driver's rxevent has taken the new name: so the name is read until it changes (within
    the timeout), and then it must be the one sent, spaces and all."""
    assert setprop(demo, "Thermostat.SITE.NAME=North Dome 2").returncode == 0

    def changed() -> str | None:
        site = getprop(demo, "Thermostat.SITE.NAME", timeout=20)
        assert site.returncode == 0, site.result.describe()
        name = site["Thermostat.SITE.NAME"]
        return name if name != "Observatory" else None  # the demo's name before the set

    assert wait_for(changed, what="the site's new name") == "North Dome 2"


def test_blob_is_saved_by_getprop_with_the_bytes_the_driver_sent(
    demo: int, tmp_path: Path
) -> None:
    """indi_getprop enables BLOBs, receives a LOG and saves Thermostat.LOG.LOG.csv; its bytes
    are exactly the CSV the simulation produced after that many readings (base64 and size
    survive indiserver unchanged)."""
    result = getprop(demo, "Thermostat.LOG.LOG", timeout=10, cwd=tmp_path)
    assert result.returncode == 0, result.result.describe()
    saved = (tmp_path / "Thermostat.LOG.LOG.csv").read_bytes()
    readings = saved.count(b"\n") - 1
    assert readings >= 5 and readings % 5 == 0, saved[:200]
    room = Room()
    for _ in range(readings):
        room.step()
    assert saved == room.csv_log()
