"""The same pyindi-client programs under the real pyindi-client and under our PyIndi: what each
prints must be the same, line for line.

The real one is pyindi-client 2.x from PyPI (SWIG over libindi's client; its manylinux wheel
bundles libindiclient), installed by scripts/run-tests into a venv of its own (its module is
also named PyIndi) and named by ``PYINDI_CLIENT_PYTHON``. Without it the tests fail: a skipped
comparison would hide exactly the differences it exists to find.

Each program runs against a fresh server of indilib's simulators (the programs change the
devices: a second run would start from another state), under indilib's indiserver and under
ours. Where the two modules differ on purpose (docs/pyindi.rst), the last tests pin both sides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyindi_serving import run_going_away
from pyindi_serving import run_program
from pyindi_serving import run_script
from pyindi_serving import script_env
from pyindi_serving import simulators

HINT = ("the real pyindi-client is needed: run the suite with `bash scripts/run-tests`, which "
        "installs it into its own venv and sets PYINDI_CLIENT_PYTHON")

SAME = ["dump_properties.py", "defined_again.py", "list_devices.py", "camera.py", "allsky_style.py", "telescope.py", "switches.py", "messages.py", "reconnect.py",
        "monitor.py", "busy_at_once.py"]


def real_python(tmp_path: Path) -> str:
    """The Python of the real pyindi-client's venv; fails the test when there is none."""
    python = os.environ.get("PYINDI_CLIENT_PYTHON", "")
    if not python or not Path(python).exists():
        pytest.fail(f"PYINDI_CLIENT_PYTHON is not set or missing: {HINT}", pytrace=False)
    # -I: from the repository's root a bare -c would import our PyIndi/ folder. The real one
    # is SWIG's: BaseClient comes from its generated module (2.x: PyIndi.PyIndi; 1.x: PyIndi).
    code = "import PyIndi; print(PyIndi.BaseClient.__module__)"
    probe = subprocess.run([python, "-I", "-c", code], check=False, capture_output=True, text=True, timeout=60,
                           env=script_env(tmp_path))
    if probe.returncode != 0:
        pytest.fail(f"{python} cannot import PyIndi: {probe.stderr[-2000:]}\n{HINT}",
                    pytrace=False)
    assert probe.stdout.strip() in ("PyIndi", "PyIndi.PyIndi"), f"not pyindi-client: {probe}"
    return python


@pytest.mark.parametrize("server", ["indiserver", "indipyserver"])
@pytest.mark.parametrize("program", SAME)
def test_both_modules_print_the_same(program: str, server: str, tmp_path: Path) -> None:
    """Every property with its attributes and elements (and newProperty once each, also when a second client makes the drivers define them
    again), listing
    devices and properties, the camera's two FITS, an indi-allsky-style camera session, disconnecting and connecting again, the mount's slew, switches both
    ways, a device's message, the watching monitor: the real pyindi-client and ours print
    the same lines."""
    python = real_python(tmp_path)
    with simulators(server, tmp_path / "real") as served:
        real = run_script(program, served.port, tmp_path, python=python, reference=True)
    with simulators(server, tmp_path / "ours") as served:
        ours = run_script(program, served.port, tmp_path)
    assert ours == real
    assert len(real) >= 4


def test_a_raising_callback_differs_on_purpose(tmp_path: Path) -> None:
    """pyindi-client ends the process when a callback raises (abort, status 134 seen with 2.x);
    ours logs the exception and goes on (docs/pyindi.rst, item 3)."""
    python = real_python(tmp_path)
    with simulators("indiserver", tmp_path / "real") as served:
        real = run_program("callback_raises.py", served.port, tmp_path, python=python)
    with simulators("indiserver", tmp_path / "ours") as served:
        ours = run_program("callback_raises.py", served.port, tmp_path)
    assert real.returncode != 0, real.stdout
    assert "RuntimeError: a bug in the program's newProperty" in real.stderr
    assert ours.returncode == 0, ours.stdout + ours.stderr[-3000:]
    assert ours.stdout.splitlines() == ["connected True", "went on after raising True True"]


def test_a_lost_server_differs_on_purpose(tmp_path: Path) -> None:
    """After the server goes away pyindi-client still says it is connected, keeps the devices,
    and refuses to connect again ("Already connected"); ours says it is not connected, has no
    devices, and connects again (docs/pyindi.rst, item 2)."""
    python = real_python(tmp_path)
    lines: dict[str, list[str]] = {}
    for who, interpreter in (("real", python), ("ours", sys.executable)):
        with simulators("indiserver", tmp_path / who) as served:
            lines[who] = run_going_away(served, tmp_path, interpreter).stdout.splitlines()
    assert lines["real"][:4] == ["connected True", "READY", "serverDisconnected [-1]",
                                 "still connected True devices 2"]
    assert lines["real"][-1] == "could not connect again"
    assert lines["ours"][:4] == ["connected True", "READY", "serverDisconnected [-1]",
                                 "still connected False devices 0"]
    assert lines["ours"][-1] == "serverDisconnected [-1, 0] connected False"


# What pyindi-client 2.x has that PyIndi does not, and why (docs/pyindi.rst, "Not provided").
NOT_PROVIDED = {
    # SWIG's own machinery and libindi's C++ containers
    "thisown", "PyIndi", "SwigPyIterator", "typing", "weakref", "AbstractBaseClient",
    "BaseDeviceVector", "BaseDeviceVectorShared", "Properties", "PropertyVector",
    "PropertyBasicBlob", "PropertyBasicLight", "PropertyBasicNumber", "PropertyBasicSwitch",
    "PropertyBasicText", "PropertyViewBlob", "PropertyViewLight", "PropertyViewNumber",
    "PropertyViewSwitch", "PropertyViewText", "DATA_INSTALL_DIR", "begin", "end", "reserve",
    "resize", "shrink_to_fit", "push", "fill", "clear", "cast", "getProperty", "setProperty",
    "getRawProperty", "nvp", "svp", "tvp", "lvp", "bvp", "setParent", "aux", "aux0", "aux1",
    "aux2", "getAux", "setAux", "setBlobDeleter", "getSharedFilePath",
    # the driver's side of libindi (building, registering, snooping, saving properties)
    "attach", "detach", "buildProp", "buildSkeleton", "registerProperty", "removeProperty",
    "setDeviceName", "setMediator", "getMediator", "setValue", "addMessage", "checkMessage",
    "doMessage", "emitUpdate", "hasUpdateCallback", "onUpdate", "onNewValues", "load", "save",
    "snoop", "update", "updateMinMax", "isUpdated", "setBaseDevice", "setDynamic",
    "setGroupName", "setLabel", "setName", "setPermission", "setRegistered", "setRule",
    "setTimeout", "setTimestamp", "setType",
    # per-property callbacks on a device, pings, direct BLOB access, element uploads
    "watchProperty", "WATCH_NEW", "WATCH_UPDATE", "WATCH_NEW_OR_UPDATE", "newPingReply",
    "sendPingReply", "sendPingRequest", "enableDirectBlobAccess", "sendOneBlob", "setBlob",
    "setBlobLen", "setSize", "setFormat", "getBlobAsString",
}

SURFACE = """
import json, PyIndi
names = {"module": sorted(n for n in dir(PyIndi) if not n.startswith("_"))}
for cls in ("BaseClient", "BaseDevice", "Property", "PropertyNumber", "PropertySwitch",
            "PropertyText", "PropertyLight", "PropertyBlob", "WidgetViewNumber",
            "WidgetViewSwitch", "WidgetViewText", "WidgetViewLight", "WidgetViewBlob"):
    names[cls] = sorted(n for n in dir(getattr(PyIndi, cls)) if not n.startswith("_"))
values = {n: getattr(PyIndi, n) for n in names["module"] if n.isupper()
          and isinstance(getattr(PyIndi, n), (int, float))}
values.update({"BaseDevice." + n: getattr(PyIndi.BaseDevice, n) for n in names["BaseDevice"]
               if n.isupper() and isinstance(getattr(PyIndi.BaseDevice, n), int)})
print(json.dumps({"names": names, "values": values}))
"""


def surface(python: str, tmp_path: Path) -> dict[str, Any]:
    result = subprocess.run([python, "-I", "-c", SURFACE], check=True, capture_output=True,
                            text=True, timeout=60, env=script_env(tmp_path))
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_every_name_programs_may_use_is_there_with_the_same_value(tmp_path: Path) -> None:
    """Every public name of pyindi-client 2.x's module and client-side classes exists in ours
    (bar the list of what is not provided, and why), and every constant and interface bit has
    the same value; our INDI_VERSION is the 2.x one pyindi-client reports."""
    real = surface(real_python(tmp_path), tmp_path)
    ours = surface(sys.executable, tmp_path)
    for where, names in real["names"].items():
        missing = sorted(set(names) - set(ours["names"][where]) - NOT_PROVIDED)
        assert not missing, f"{where} lacks {missing}"
    differ = {name: (value, ours["values"].get(name)) for name, value in real["values"].items()
              if name.split(".")[-1] not in NOT_PROVIDED and ours["values"].get(name) != value}
    assert not differ
