"""The simulators installed as executables named as indilib names its own (issue 47 item 4):
indilib's ``indiserver`` starts each by that name alone (found on PATH, as it finds
``indi_simulator_ccd``), and each device's DRIVER_INFO says the name it was started by and the
role it plays, as indi_getprop reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from peers import IndiServer
from peers import getprop

#: Executable -> {device: DRIVER_INTERFACE}, as indilib's simulators of the same role say.
EXECUTABLES = {
    "indipy_simulator_ccd": {"Python CCD Simulator": "2"},
    "indipy_simulator_telescope": {"Python Mount": "5"},  # TELESCOPE|GUIDER, as indilib's
    "indipy_simulator_focus": {"Python Focuser": "8", "Python Filter Wheel": "16"},
    "indipy_simulator_weather": {"Python Weather": "128"},
}


def test_indiserver_starts_each_simulator_by_its_exec_name(
        tmp_home: Path, indiserver_factory: Callable[..., IndiServer]) -> None:
    """``indiserver indipy_simulator_ccd indipy_simulator_telescope ...`` (no path, no
    wrapper): every device is served, its DRIVER_EXEC is the name indiserver ran, and its
    DRIVER_INTERFACE is its role's bit."""
    server = indiserver_factory(*EXECUTABLES)
    specs = [f"{device}.DRIVER_INFO.{member}" for devices in EXECUTABLES.values()
             for device in devices for member in ("DRIVER_EXEC", "DRIVER_INTERFACE")]
    values = getprop(server.port, *specs, timeout=15)
    found = {name: {device: (values.get(f"{device}.DRIVER_INFO.DRIVER_EXEC"),
                             values.get(f"{device}.DRIVER_INFO.DRIVER_INTERFACE"))
                    for device in devices} for name, devices in EXECUTABLES.items()}
    expected = {name: {device: (name, bits) for device, bits in devices.items()}
                for name, devices in EXECUTABLES.items()}
    assert found == expected, values.result.describe() + server.log_tail()
