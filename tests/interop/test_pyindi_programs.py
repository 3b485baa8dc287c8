"""pyindi-client programs run unchanged on our pure-Python ``PyIndi``, against indilib's telescope
and CCD simulators served by indilib's ``indiserver`` and by our server (``python -m
indipyserver`` running the same executables).

Each program in ``pyindi_scripts/`` is written as pyindi-client users write them (our own code)
and prints what it saw; the tests run it as its own process and check those lines.

Protects: connecting, listing devices and properties (a missing property or device is falsy);
connecting a camera, exposing and receiving the FITS twice (``getblobdata()``, sizes); slewing
a mount and waiting while Busy on the live property; toggling switches both ways; receiving a
device's messages; a callback that raises is logged and the client goes on; a 1.x program's
``newSwitch``/``newNumber`` with the struct fields; the server going away
(``serverDisconnected(-1)``, not connected, no devices) and ``connectServer()`` working again
once it is back, then ``serverDisconnected(0)`` after ``disconnectServer()``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyindi_serving import SCRIPTS
from pyindi_serving import Served
from pyindi_serving import run_going_away
from pyindi_serving import run_script
from pyindi_serving import script_env
from pyindi_serving import simulators


@pytest.fixture(params=["indiserver", "indipyserver"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """The simulators behind indilib's indiserver, then behind ours."""
    with simulators(request.param, tmp_path) as server:
        yield server


def test_lists_devices_and_properties(served: Served, tmp_path: Path) -> None:
    """The README lister: both simulators with their interface bits, DRIVER_INFO and
    CONNECTION read through the generic and the typed properties; missing things falsy."""
    lines = run_script("list_devices.py", served.port, tmp_path)
    assert lines[:2] == ["host 127.0.0.1 port True", "connected True True"]
    assert "device CCD Simulator interface 22 True" in lines
    assert "device Telescope Simulator interface 5 True" in lines
    assert lines.count("  CONNECTION INDI_SWITCH rw OneOfMany Main Control 2") == 2
    assert lines.count("    DISCONNECT Disconnect On") == 2
    assert "    DRIVER_EXEC indi_simulator_ccd" in lines
    assert "    DRIVER_EXEC indi_simulator_telescope" in lines
    assert lines[-4:] == ["missing number falsy True", "wrong kind falsy True",
                          "generic to typed True False", "missing device falsy True"]


def test_every_property_is_told_once_with_its_attributes(served: Served,
                                                          tmp_path: Path) -> None:
    """What a control panel reads of every property (type, label, group, permission, state,
    timeout, rule, elements with labels, values, limits, formats), each told once by
    newProperty, however many times the drivers define it."""
    lines = run_script("dump_properties.py", served.port, tmp_path)
    props = [line for line in lines if line.startswith(("CCD Simulator.", "Telescope "))]
    assert len(props) >= 25
    assert all(line.endswith(" told 1") for line in props), props
    assert ("CCD Simulator.CCD_SIMULATE_CRASH INDI_SWITCH 'Crash' 'Simulator Config' wo Idle "
            "timeout 0 AtMostOne told 1") in props
    assert "  SIM_XRES 'CCD X resolution' 1280 [512, 8192] step 512 %4.0f" in lines


ALLSKY = [
    "connected True",
    "camera CCD Simulator indi_simulator_ccd",
    "connected camera CONNECT",
    "gain 50.0 Ok",
    "binning [('HOR_BIN', 2.0), ('VER_BIN', 2.0)]",
    "frame type FRAME_DARK",
    "image 1 CCD1 .fits True b'SIMPLE'",
    "image 2 CCD1 .fits True b'SIMPLE'",
    "exposure Ok extra images 0",
]

#: A program (its name and extra arguments) and every line it must print, in order; each
#: row's comment says what it proves.
PRINTS = [
    # A second client's getProperties makes the drivers define everything again, which indiserver
    # sends to the first client too: newProperty and newDevice still come once.
    pytest.param("defined_again.py", [], [
        "first connected True", "second connected True", "second told as many True",
        "first told each once True True",
        "devices told [('CCD Simulator', 1), ('Telescope Simulator', 1)]",
    ], id="properties_defined_again_are_told_once"),
    # The tutorial camera: connected through CONNECTION, B_ALSO on CCD1, two exposures each
    # delivering a FITS (the second needs the pingReply the library answers).
    pytest.param("camera.py", [], [
        "connected True", "ccd connected True", "blob mode True",
        "shot 1 CCD1 .fits size True bloblen == size True FITS True old spelling True",
        "shot 2 CCD1 .fits size True bloblen == size True FITS True old spelling True",
        "exposure state Ok",
    ], id="camera_exposes_and_receives_the_fits"),
    # indi-allsky's way: the camera found by its interface bits, controls polled until truthy,
    # numbers and switches set by element name and waited on, BLOBs asked device-wide (prop None),
    # each FITS taken in updateProperty (2.x path), once.
    pytest.param("allsky_style.py", [], ALLSKY, id="an_allsky_style_session"),
    # The same session written for 1.x only (newBLOB, newNumber, newSwitch, no updateProperty):
    # newBLOB gets each FITS, once.
    pytest.param("allsky_style.py", ["1x"], ALLSKY, id="an_allsky_style_1x_program"),
    # The tutorial mount: TRACK, a slew sent with setValue and the 1.x ``value =``, and the
    # program's own property object going Busy then Ok at the target.
    pytest.param("telescope.py", [], [
        "connected True", "mount connected True", "slew state Ok", "at ra True dec True",
        "track TRACK 0",
    ], id="mount_slews_and_the_live_property_follows"),
    # DEBUG toggled through the property object (reset, setState, sendNewSwitch) and through
    # sendNewSwitch(device, property, element); the driver's answers update the same object.
    pytest.param("switches.py", [], [
        "connected True", "rule True OneOfMany", "DEBUG Idle [('ENABLE', 0), ('DISABLE', 1)]",
        "DEBUG Ok [('ENABLE', 1), ('DISABLE', 0)]", "DEBUG Ok [('ENABLE', 0), ('DISABLE', 1)]",
        "DEBUG Ok [('ENABLE', 0), ('DISABLE', 1)]",
    ], id="switches_toggle_both_ways"),
    # newMessage(device, id) with the text at messageQueue(id), prefixed by its timestamp.
    pytest.param("messages.py", [], [
        "connected True", "message [INFO] Telescope simulator is online.", "stamped True",
        "last message has text True",
    ], id="device_messages_arrive"),
    # watchDevice before connecting: only that device reaches getDevices() and the callbacks;
    # PropertySwitch(p) kept from newProperty stays live and sendNewProperty connects it.
    pytest.param("monitor.py", [], [
        "connected True", "connection CONNECT Ok",
        "devices ['Telescope Simulator'] ['Telescope Simulator']", "ccd unknown True",
        "connection DISCONNECT",
    ], id="a_monitor_sees_only_its_watched_device"),
    # disconnectServer(): serverDisconnected(0), not connected; connectServer() again: the devices
    # are told again, serverConnected once per connection.
    pytest.param("reconnect.py", [], [
        "connected True True", "round 1 devices told 2 connects 1", "disconnect",
        "codes [0] connected False", "connected True True", "round 2 devices told 4 connects 2",
        "disconnect", "codes [0, 0] connected False",
    ], id="disconnecting_and_connecting_again"),
    # newSwitch/newNumber (and no updateProperty) get each set once, with the struct fields.
    pytest.param("legacy_callbacks.py", [], [
        "connected True", "newSwitch [('ENABLE', 1), ('DISABLE', 0)]",
        "newSwitch [('ENABLE', 0), ('DISABLE', 1)]",
        "struct fields POLLING_PERIOD True 1 PERIOD_MS True True",
    ], id="a_1x_program_gets_its_legacy_callbacks"),
]


@pytest.mark.parametrize(("program", "extra", "lines"), PRINTS)
def test_a_program_prints_what_it_saw(program: str, extra: list[str], lines: list[str],
                                      served: Served, tmp_path: Path) -> None:
    """Each program of `PRINTS` run to its end prints every line its row says, in order."""
    assert run_script(program, served.port, tmp_path, extra=extra) == lines


def test_a_raising_callback_is_logged_and_the_client_goes_on(served: Served,
                                                             tmp_path: Path) -> None:
    """newProperty raises every time: each is logged (stderr) and the next event still comes."""
    result = subprocess.run([sys.executable, str(SCRIPTS / "callback_raises.py"), "127.0.0.1",
                             str(served.port)], check=False, capture_output=True, text=True,
                            timeout=120,
                            cwd=SCRIPTS, env=script_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.splitlines() == ["connected True", "went on after raising True True"]
    assert "RuntimeError: a bug in the program's newProperty for CONNECTION" in result.stderr


def test_the_server_going_away_is_reported_and_reconnecting_works(served: Served,
                                                                  tmp_path: Path) -> None:
    """Stop the server under a connected program: serverDisconnected(-1), not connected, no
    devices; start it again: connectServer() succeeds and the devices come back; then
    disconnectServer() reports serverDisconnected(0)."""
    result = run_going_away(served, tmp_path)
    seen = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + "\n" + result.stderr[-3000:]
    assert seen == [
        "connected True",
        "READY",
        "serverDisconnected [-1]",
        "still connected False devices 0",
        "connected again True",
        "AGAIN",
        "serverDisconnected [-1, 0] connected False",
    ]
