"""The round trip for domes, rotators and safety monitors, each side a real server on the
command line: server A runs indilib's indi_simulator_dome and indi_simulator_rotator (or our
weather simulator) and serves them as Alpaca (``--alpaca``); server B takes A's Alpaca devices
back as INDI devices with ``alpaca://HOST:PORT`` (every device A's management API lists) on
the standard Dome, Rotator and Weather roles, and indilib's tools drive B and read both."""

from __future__ import annotations

from pathlib import Path

from alpacapeers import until
from peers import OurServer
from peers import getprop
from peers import getprop_holding
from peers import setprop
from test_round_trip import both_read
from test_round_trip import connected_on
from test_round_trip import served_back

DOME = "Dome Simulator"
ROTATOR = "Rotator Simulator"


def both_servers(our_server: object, tmp_path: Path) -> tuple[OurServer, OurServer]:
    """A (indilib's simulators served as Alpaca) and B (A's Alpaca devices as INDI ones),
    both devices connected on B (which connects them on A through the Alpaca face)."""
    a, b = served_back(our_server, tmp_path, "indi_simulator_dome", "indi_simulator_rotator")
    connected_on(b, a, (DOME, ROTATOR), tmp_path)
    for name in (DOME, ROTATOR):
        until(a.port, f'"{name}.CONNECTION._STATE"==1', tmp_path, timeout=15)
    return a, b


def same(a: OurServer, b: OurServer, keys: tuple[str, ...], cwd: Path) -> None:
    """Each of `keys` reads the same number on A (indilib's driver) and B (the round trip)."""
    ours, theirs = both_read(a, b, keys, cwd)
    for key in keys:
        assert float(theirs[key]) == float(ours[key]), (key, theirs.get(key), ours.get(key))


def test_dome_round_trip(our_server: object, tmp_path: Path) -> None:
    """B's dome is A's: the same azimuth and the same DOME_PARK; a slew asked of B moves A's
    indilib dome, both ending Ok at the target with the same azimuth; the shutter opened on B
    is open (Ok) on A; a park asked of B parks A's dome, both DOME_PARK Ok with PARK On."""
    a, b = both_servers(our_server, tmp_path)
    same(a, b, (f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION",), tmp_path)
    # Named, not DOME_PARK.* (a wildcard waits out its fixed timeout and says what came,
    # however late B answers): indi_getprop ends as soon as it came.
    park = getprop(b.port, f"{DOME}.DOME_PARK.UNPARK", timeout=20, cwd=tmp_path)
    assert park.returncode == 0, park.result.describe()
    assert park[f"{DOME}.DOME_PARK.UNPARK"] == "On"
    assert setprop(b.port, f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION=25",
                   cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        until(port, f'"{DOME}.ABS_DOME_POSITION._STATE"==1 && '
              f'"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION"==25', tmp_path, timeout=60)
    same(a, b, (f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION",), tmp_path)

    assert setprop(b.port, f"{DOME}.DOME_SHUTTER.SHUTTER_OPEN=On", cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        until(port, f'"{DOME}.DOME_SHUTTER.SHUTTER_OPEN"==1 && "{DOME}.DOME_SHUTTER._STATE"==1',
              tmp_path, timeout=60)

    assert setprop(b.port, f"{DOME}.DOME_PARK.PARK=On", cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        until(port, f'"{DOME}.DOME_PARK.PARK"==1 && "{DOME}.DOME_PARK._STATE"==1', tmp_path,
              timeout=90)
    until(b.port, f'"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION"!=25', tmp_path)
    same(a, b, (f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION",), tmp_path)


def test_rotator_round_trip(our_server: object, tmp_path: Path) -> None:
    """B's rotator is A's: the same angle; a move asked of B turns A's indilib rotator, both
    ending Ok at the same angle; ROTATOR_REVERSE set on B is set on A; A's Alpaca rotator is
    interface version 4, so B offers SYNC_ROTATOR_ANGLE."""
    a, b = both_servers(our_server, tmp_path)
    key = f"{ROTATOR}.ABS_ROTATOR_ANGLE.ANGLE"
    same(a, b, (key,), tmp_path)
    sync = getprop(b.port, f"{ROTATOR}.SYNC_ROTATOR_ANGLE.ANGLE", timeout=20, cwd=tmp_path)
    assert sync.returncode == 0, sync.result.describe()
    assert f"{ROTATOR}.SYNC_ROTATOR_ANGLE.ANGLE" in sync
    assert setprop(b.port, f"{key}=33", cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        until(port, f'"{key}"==33 && "{ROTATOR}.ABS_ROTATOR_ANGLE._STATE"==1', tmp_path,
              timeout=60)
    same(a, b, (key,), tmp_path)
    assert setprop(b.port, f"{ROTATOR}.ROTATOR_REVERSE.INDI_ENABLED=On",
                   cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        until(port, f'"{ROTATOR}.ROTATOR_REVERSE.INDI_ENABLED"==1', tmp_path)


WEATHER = "Python Weather"


def test_safety_monitor_round_trip(our_server: object, tmp_path: Path) -> None:
    """A's weather station is served as an ObservingConditions and a SafetyMonitor of the
    same name, so B has two devices, one with `` 2`` added; the safety monitor's
    WEATHER_SAFETY on B follows A's WEATHER_STATUS: Ok (0) while A's lights are Ok, Alert (2)
    once a narrowed OK range on A turns A's status Alert."""
    a, b = served_back(our_server, tmp_path, "--module", "indipysimulators.weather")
    connected_on(b, a, (WEATHER, f"{WEATHER} 2"), tmp_path)
    until(a.port, f'"{WEATHER}.WEATHER_STATUS._STATE"==1', tmp_path)
    # A wildcard, as which of B's two devices is the safety monitor is what is found out:
    # exactly one device must have it.
    found = getprop_holding(b.port, "*.WEATHER_PARAMETERS.WEATHER_SAFETY", timeout=3,
                            cwd=tmp_path)
    assert len(found) == 1, found
    safety = next(iter(found)).split(".")[0]
    until(b.port, f'"{safety}.WEATHER_STATUS._STATE"==1 && '
          f'"{safety}.WEATHER_PARAMETERS.WEATHER_SAFETY"==0', tmp_path)
    assert setprop(a.port, f"{WEATHER}.WEATHER_TEMPERATURE.MAX_OK=-20",
                   cwd=tmp_path).returncode == 0
    until(a.port, f'"{WEATHER}.WEATHER_STATUS._STATE"==3', tmp_path)
    until(b.port, f'"{safety}.WEATHER_STATUS._STATE"==3 && '
          f'"{safety}.WEATHER_PARAMETERS.WEATHER_SAFETY"==2', tmp_path)
