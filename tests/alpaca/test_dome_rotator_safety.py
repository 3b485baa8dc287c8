"""Alpaca dome, rotator and safety monitor (alpaca-simulators) as INDI devices of our server,
on the standard Dome, Rotator and Weather roles, read and driven by indilib's own clients
(indi_getprop, indi_setprop, indi_eval)."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from alpacapeers import AlpacaSimulators
from alpacapeers import until
from peers import getprop
from peers import getprop_holding
from peers import hello
from peers import setprop
from test_focuser_wheel import connect
from test_focuser_wheel import serve

DOME = "Simulator Dome"
ROTATOR = "Simulator Rotator"
SAFETY = "Simulator Safety Monitor"


def test_dome_slews_opens_closes_and_parks(our_server: object, alpaca_sim: AlpacaSimulators,
                                           tmp_path: Path) -> None:
    """DRIVER_INTERFACE is DOME (32); the Alpaca dome starts parked and DOME_PARK says so;
    UNPARK holds though the Alpaca dome (which has no unpark) still says AtPark; DOME_MOTION
    CW is refused (Alpaca domes have no free turning); a slew asked with indi_setprop is
    ABS_DOME_POSITION Busy while the simulator slews (4 s), then Ok at the target, where the
    Alpaca dome's Azimuth is; the shutter
    opens and closes (ShutterStatus 0, then 1), slaving follows DOME_AUTOSYNC, and a park
    ends DOME_PARK Ok with AtPark True."""
    server = serve(our_server, alpaca_sim, "dome/0", DOME)
    # Named members, not wildcards (which wait out a fixed timeout and say what came, however
    # late the server answers): indi_getprop ends once all came; 20 s only bounds a failure.
    values = getprop(server.port, f"{DOME}.DRIVER_INFO.DRIVER_INTERFACE", timeout=20,
                     cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{DOME}.DRIVER_INFO.DRIVER_INTERFACE"] == "32"
    connect(server.port, DOME, tmp_path)
    until(server.port, f'"{DOME}.DOME_PARK.PARK"==1', tmp_path)
    assert setprop(server.port, f"{DOME}.DOME_PARK.UNPARK=On", cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.DOME_PARK.UNPARK"==1 && "{DOME}.DOME_PARK._STATE"==1',
          tmp_path)
    # The Alpaca dome has no unpark: it still says AtPark. A shutter opened behind the
    # bridge's back and then shown proves a poll has read AtPark since: UNPARK holds.
    assert alpaca_sim.get("dome/0/atpark") is True
    alpaca_sim.put("dome/0/openshutter")
    until(server.port, f'"{DOME}.DOME_SHUTTER.SHUTTER_OPEN"==1', tmp_path)
    park = getprop(server.port, f"{DOME}.DOME_PARK.UNPARK", timeout=20, cwd=tmp_path)
    assert park.returncode == 0, park.result.describe()
    assert park[f"{DOME}.DOME_PARK.UNPARK"] == "On"
    assert setprop(server.port, f"{DOME}.DOME_MOTION.DOME_CW=On", cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.DOME_MOTION._STATE"==3', tmp_path)  # no free turning

    assert setprop(server.port, f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION=123.5",
                   cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.ABS_DOME_POSITION._STATE"==2', tmp_path, timeout=3)
    until(server.port, f'"{DOME}.ABS_DOME_POSITION._STATE"==1 && '
          f'"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION"==123.5', tmp_path)
    assert alpaca_sim.get("dome/0/azimuth") == 123.5

    for switch, status in (("SHUTTER_OPEN", 0), ("SHUTTER_CLOSE", 1)):
        assert setprop(server.port, f"{DOME}.DOME_SHUTTER.{switch}=On",
                       cwd=tmp_path).returncode == 0
        until(server.port, f'"{DOME}.DOME_SHUTTER.{switch}"==1 && '
              f'"{DOME}.DOME_SHUTTER._STATE"==1', tmp_path)
        assert alpaca_sim.get("dome/0/shutterstatus") == status

    assert setprop(server.port, f"{DOME}.DOME_AUTOSYNC.DOME_AUTOSYNC_ENABLE=On",
                   cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.DOME_AUTOSYNC.DOME_AUTOSYNC_ENABLE"==1', tmp_path)
    assert alpaca_sim.get("dome/0/slaved") is True

    assert setprop(server.port, f"{DOME}.DOME_PARK.PARK=On", cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.DOME_PARK.PARK"==1 && "{DOME}.DOME_PARK._STATE"==1', tmp_path)
    assert alpaca_sim.get("dome/0/atpark") is True


def test_shutter_opened_elsewhere_is_shown(our_server: object, alpaca_sim: AlpacaSimulators,
                                           tmp_path: Path) -> None:
    """A shutter opened by another Alpaca client (the test's own PUT) reaches DOME_SHUTTER at
    POLLING_PERIOD: SHUTTER_OPEN On, Ok."""
    server = serve(our_server, alpaca_sim, "dome/0", DOME)
    connect(server.port, DOME, tmp_path)
    until(server.port, f'"{DOME}.DOME_SHUTTER.SHUTTER_CLOSE"==1', tmp_path)
    alpaca_sim.put("dome/0/openshutter")
    until(server.port, f'"{DOME}.DOME_SHUTTER.SHUTTER_OPEN"==1 && '
          f'"{DOME}.DOME_SHUTTER._STATE"==1', tmp_path)


def alert_message(port: int, device: str, vector: str, cause: Callable[[], None],
                  timeout: float = 20.0) -> str:
    """The message of the first set of `vector` with state Alert our server sends once
    `cause` has run (called after this client is connected, so the Alert cannot pass before
    it listens); none within `timeout` fails the test."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(hello(device=device))
        cause()
        data = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            sock.settimeout(max(0.1, end - time.monotonic()))
            chunk = sock.recv(65536)
            assert chunk, "our server closed the connection"
            data += chunk
            try:
                root = ET.fromstring(b"<all>" + data + b"</all>")
            except ET.ParseError:
                continue
            for element in root:
                if element.tag.startswith("set") and element.get("name") == vector \
                        and element.get("state") == "Alert":
                    return element.get("message") or ""
    raise AssertionError(f"no Alert on {vector} within {timeout} s")


def test_slew_cut_off_is_an_alert_with_the_reason(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """The Alpaca server stops answering in the middle of a slew: ABS_DOME_POSITION goes Alert
    (bounded in time) with the reason in its message, and CONNECTION Alert too; our server
    keeps serving."""
    server = serve(our_server, alpaca_sim, "dome/0", DOME)
    connect(server.port, DOME, tmp_path)
    assert setprop(server.port, f"{DOME}.DOME_PARK.UNPARK=On", cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.DOME_PARK.UNPARK"==1', tmp_path)
    assert setprop(server.port, f"{DOME}.ABS_DOME_POSITION.DOME_ABSOLUTE_POSITION=200",
                   cwd=tmp_path).returncode == 0
    until(server.port, f'"{DOME}.ABS_DOME_POSITION._STATE"==2', tmp_path, timeout=3)
    message = alert_message(server.port, DOME, "ABS_DOME_POSITION", alpaca_sim.stop)
    assert "Dome move failed" in message and "does not answer" in message, message
    until(server.port, f'"{DOME}.CONNECTION._STATE"==3', tmp_path)
    assert server.running


def test_rotator_moves_reverses_and_follows(our_server: object, alpaca_sim: AlpacaSimulators,
                                            tmp_path: Path) -> None:
    """DRIVER_INTERFACE is ROTATOR (4096); ABS_ROTATOR_ANGLE asked with indi_setprop moves the
    Alpaca rotator there and ends Ok; ROTATOR_REVERSE sets its Reverse; the simulator's
    interface version 2 has no Sync, so there is no SYNC_ROTATOR_ANGLE; a move made behind
    the bridge's back is shown at POLLING_PERIOD."""
    server = serve(our_server, alpaca_sim, "rotator/0", ROTATOR)
    connect(server.port, ROTATOR, tmp_path)
    # A wildcard, as an absent vector is the point: read in an answer holding the vectors
    # read below and the angle.
    values = getprop_holding(server.port, f"{ROTATOR}.*.*",
                             f"{ROTATOR}.DRIVER_INFO.DRIVER_INTERFACE",
                             f"{ROTATOR}.ROTATOR_ABORT_MOTION.ABORT",
                             f"{ROTATOR}.ABS_ROTATOR_ANGLE.ANGLE", timeout=3, cwd=tmp_path)
    assert values[f"{ROTATOR}.DRIVER_INFO.DRIVER_INTERFACE"] == "4096"
    assert f"{ROTATOR}.ROTATOR_ABORT_MOTION.ABORT" in values
    assert not [key for key in values if "SYNC_ROTATOR_ANGLE" in key]
    assert setprop(server.port, f"{ROTATOR}.ABS_ROTATOR_ANGLE.ANGLE=77.5",
                   cwd=tmp_path).returncode == 0
    until(server.port, f'"{ROTATOR}.ABS_ROTATOR_ANGLE.ANGLE"==77.5 && '
          f'"{ROTATOR}.ABS_ROTATOR_ANGLE._STATE"==1', tmp_path)
    assert alpaca_sim.get("rotator/0/position") == 77.5
    assert setprop(server.port, f"{ROTATOR}.ROTATOR_REVERSE.INDI_ENABLED=On",
                   cwd=tmp_path).returncode == 0
    until(server.port, f'"{ROTATOR}.ROTATOR_REVERSE.INDI_ENABLED"==1 && '
          f'"{ROTATOR}.ROTATOR_REVERSE._STATE"==1', tmp_path)
    assert alpaca_sim.get("rotator/0/reverse") is True
    alpaca_sim.put("rotator/0/moveabsolute", Position="12.25")
    until(server.port, f'"{ROTATOR}.ABS_ROTATOR_ANGLE.ANGLE"==12.25', tmp_path)


def test_safety_monitor_is_a_critical_weather_parameter(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """DRIVER_INTERFACE is WEATHER (128); IsSafe True is WEATHER_SAFETY 0 with WEATHER_STATUS
    Ok; the monitor turned unsafe (the simulator's own PUT) is WEATHER_SAFETY 2 and
    WEATHER_STATUS Alert (light and vector) within a few polls; safe again, Ok again."""
    server = serve(our_server, alpaca_sim, "safetymonitor/0", SAFETY)
    connect(server.port, SAFETY, tmp_path)
    until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==1 && '
          f'"{SAFETY}.WEATHER_PARAMETERS.WEATHER_SAFETY"==0', tmp_path)
    values = getprop(server.port, f"{SAFETY}.DRIVER_INFO.DRIVER_INTERFACE",
                     f"{SAFETY}.WEATHER_STATUS.WEATHER_SAFETY", timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{SAFETY}.DRIVER_INFO.DRIVER_INTERFACE"] == "128"
    assert values[f"{SAFETY}.WEATHER_STATUS.WEATHER_SAFETY"] == "Ok"
    alpaca_sim.put("safetymonitor/0/issafe", IsSafe="false")
    until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==3 && '
          f'"{SAFETY}.WEATHER_STATUS.WEATHER_SAFETY"==3 && '
          f'"{SAFETY}.WEATHER_PARAMETERS.WEATHER_SAFETY"==2', tmp_path)
    alpaca_sim.put("safetymonitor/0/issafe", IsSafe="true")
    until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==1', tmp_path)
