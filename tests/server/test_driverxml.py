"""`indipy-driverxml` (issue 47 item 4) writes the drivers XML indilib's tools read.

Each EXEC is started and its DRIVER_INFO read over stdin/stdout. Run on indilib's own
simulators, the result lists each of them exactly as Debian's /usr/share/indi/drivers.xml does
(group, label, driver name, executable, version): the reference file is the proof. A Python
driver (examples/ccd_simulator.py behind an executable on PATH) is listed under CCDs. A program
that is not there, or not an INDI driver, is one clear error and exit status 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from indipydriver.standard.interface import Interface
from indipyserver.driverxml import drivers_xml, group_of, read_driver_info

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/usr/share/indi/drivers.xml")
SIMULATORS = ("indi_simulator_ccd", "indi_simulator_telescope", "indi_simulator_focus",
              "indi_simulator_wheel", "indi_simulator_weather", "indi_simulator_dome")


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


def test_a_python_driver_is_listed_by_its_interface(tmp_path: Path) -> None:
    """examples/ccd_simulator.py behind an executable named like indilib's drivers: listed
    under CCDs with its DRIVER_NAME, the executable's name and its version."""
    shim = tmp_path / "bin" / "indipy_test_ccd"
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'examples' / 'ccd_simulator.py'}"
                    f" --stdio\n")
    shim.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{shim.parent}:{os.environ['PATH']}"}
    done = _run("indipy_test_ccd", env=env)
    assert done.returncode == 0, done.stderr
    [(group, label, name, exe, version)] = _listed(done.stdout)
    assert (group, exe) == ("CCDs", "indipy_test_ccd")
    assert label and name and version


def test_not_a_driver_and_not_there_are_clear_errors(tmp_path: Path) -> None:
    """A name not on PATH, and a program that defines no DRIVER_INFO (`true` exits at once):
    exit 1 with one line naming it."""
    done = _run("no_such_driver_here")
    assert done.returncode == 1 and "no_such_driver_here: not found on PATH" in done.stderr
    done = _run("true")
    assert done.returncode == 1 and "true: defined no DRIVER_INFO" in done.stderr


async def test_several_devices_of_one_driver_are_all_listed() -> None:
    """A driver serving two devices (our examples' chain of a dome and a mount would do;
    here indilib's none does): read_driver_info returns one entry per DRIVER_INFO, and the
    group follows the first role bit found (a CCD with a filter wheel is a CCD)."""
    assert group_of(Interface.CCD | Interface.GUIDER | Interface.FILTER) == "CCDs"
    assert group_of(Interface.TELESCOPE | Interface.GUIDER) == "Telescopes"
    assert group_of(Interface.AUX) == "Auxiliary"
    entries = await read_driver_info("indi_simulator_ccd")
    assert [e.label for e in entries] == ["CCD Simulator"]
    assert b'<devGroup group="CCDs">' in drivers_xml(entries)
