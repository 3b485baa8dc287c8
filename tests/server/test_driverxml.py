"""`indipy-driverxml` (issue 47 item 4) writes the drivers XML indilib's tools read.

Each EXEC is started and its DRIVER_INFO read over stdin/stdout. Run on indilib's own
simulators, the result lists each of them exactly as Debian's /usr/share/indi/drivers.xml does
(group, label, driver name, executable, version): the reference file is the proof. Our own
simulators (``indipy_simulator_ccd``...) are listed each in its role's group. A program
that is not there, or not an INDI driver, is one clear error and exit status 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from peers import LOADED

from indipycore.interface import Interface
from indipyserver.driverxml import drivers_xml
from indipyserver.driverxml import group_of
from indipyserver.driverxml import read_driver_info

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/usr/share/indi/drivers.xml")
SIMULATORS = ("indi_simulator_ccd", "indi_simulator_telescope", "indi_simulator_focus",
              "indi_simulator_wheel", "indi_simulator_weather", "indi_simulator_dome")
OURS = ("indipy_simulator_ccd", "indipy_simulator_telescope", "indipy_simulator_focus",
        "indipy_simulator_weather")


def _listed(document: bytes | str) -> set[tuple[str, str, str, str, str]]:
    root = ET.fromstring(document)
    found = set()
    for group in root.iter("devGroup"):
        for device in group.iter("device"):
            driver = device.find("driver")
            version = device.find("version")
            assert driver is not None and version is not None
            found.add((group.get("group", ""), device.get("label", ""), driver.get("name", ""),
                       (driver.text or "").strip(), (version.text or "").strip()))
    return found


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from indipyserver.driverxml "
                           "import main; sys.exit(main(sys.argv[1:]))", *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=env or {**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.interop
def test_indilibs_simulators_are_listed_as_debians_drivers_xml_lists_them(tmp_path: Path
                                                                         ) -> None:
    """Every entry written for indilib's six simulators is in Debian's drivers.xml."""
    out = tmp_path / "sims.xml"
    done = _run("-o", str(out), *SIMULATORS)
    assert done.returncode == 0, done.stderr
    ours = _listed(out.read_bytes())
    assert {entry[3] for entry in ours} == set(SIMULATORS)
    assert ours <= _listed(REFERENCE.read_bytes()), ours - _listed(REFERENCE.read_bytes())


def test_our_simulators_are_listed_by_their_interface() -> None:
    """The installed simulators, named like indilib's drivers and found on PATH: each device
    listed in its role's group with its DRIVER_NAME, the executable's name and its version;
    the focus simulator's two devices (a focuser and a filter wheel) are both listed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = _run(*OURS, env=env)
    assert done.returncode == 0, done.stderr
    listed = _listed(done.stdout)
    assert {(group, label, name, exe) for group, label, name, exe, _ in listed} == {
        ("CCDs", "Python CCD Simulator", "Python CCD Simulator", "indipy_simulator_ccd"),
        ("Telescopes", "Python Mount", "Python Mount", "indipy_simulator_telescope"),
        ("Focusers", "Python Focuser", "Python Focuser", "indipy_simulator_focus"),
        ("Filter Wheels", "Python Filter Wheel", "Python Filter Wheel",
         "indipy_simulator_focus"),
        ("Weather", "Python Weather", "Python Weather", "indipy_simulator_weather")}
    assert all(version for *_, version in listed)


def test_not_a_driver_and_not_there_are_clear_errors(tmp_path: Path) -> None:
    """A name not on PATH, and a program that defines no DRIVER_INFO (`true` exits at once):
    exit 1 with one line naming it."""
    done = _run("no_such_driver_here")
    assert done.returncode == 1 and "no_such_driver_here: not found on PATH" in done.stderr
    done = _run("true")
    assert done.returncode == 1 and "true: defined no DRIVER_INFO" in done.stderr


async def test_several_devices_of_one_driver_are_all_listed() -> None:
    """A driver serving two devices (indipy_simulator_focus: a focuser and a filter wheel):
    read_driver_info returns one entry per DRIVER_INFO; the group follows the first role bit
    found (a CCD with a filter wheel is a CCD)."""
    assert group_of(Interface.CCD | Interface.GUIDER | Interface.FILTER) == "CCDs"
    assert group_of(Interface.TELESCOPE | Interface.GUIDER) == "Telescopes"
    assert group_of(Interface.AUX) == "Auxiliary"
    entries = await read_driver_info(str(Path(sys.executable).parent / "indipy_simulator_focus"),
                                     timeout=LOADED)
    assert sorted((e.label, group_of(e.interface)) for e in entries) == [
        ("Python Filter Wheel", "Filter Wheels"), ("Python Focuser", "Focusers")]
    written = drivers_xml(entries)
    assert b'<devGroup group="Focusers">' in written
    assert b'<devGroup group="Filter Wheels">' in written
