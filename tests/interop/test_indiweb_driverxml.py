"""indiwebmanager lists and starts a Python driver from the XML ``indipy-driverxml`` wrote
(issue 47 item 4).

A Python driver (the installed ``indipy_simulator_ccd``, named as indilib names its drivers
and found on PATH as indiserver finds them) is written into a drivers XML by
``indipy-driverxml``; the real indiwebmanager (PyPI ``indiweb``) reading that folder
(``--xmldir``) lists it among its drivers, a profile with it starts indilib's indiserver (and,
in the second run, ours installed as ``indiserver``), and the device is served.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from peers import free_port
from peers import wait_listening
from test_indiweb import Machine
from test_indiweb import end
from test_indiweb import listener
from test_indiweb import machine
from test_indiweb import namespace
from test_indiweb import wait_devices
from waiting import wait_for

from indipysimulators.ccd import DEVICE
from indipysimulators.ccd import EXEC

__all__ = ["machine", "namespace"]  # the fixtures, imported for this module's tests


def _call(port: int, method: str, path: str, body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{quote(path)}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


@pytest.mark.interop
def test_indiweb_lists_and_starts_a_python_driver_from_our_xml(machine: Machine,
                                                               tmp_path: Path) -> None:
    """indipy-driverxml's file in indiweb's --xmldir: the driver is listed under CCDs by its
    label, and starting a profile with it serves the Python camera."""
    xmldir = tmp_path / "xml"
    xmldir.mkdir()
    done = subprocess.run([sys.executable, "-c", "import sys; from indipyserver.driverxml import "
                           "main; sys.exit(main(sys.argv[1:]))", "-o",
                           str(xmldir / "indipy_drivers.xml"), EXEC], env=machine.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    indi_port, web_port = free_port(), free_port()
    log = machine.home / "indiweb-driverxml.log"
    with log.open("ab") as out:
        web = machine.popen([sys.executable, "-m", "indiweb.main", "--indi-port", str(indi_port),
                             "--port", str(web_port), "--host", "127.0.0.1", "--fifo",
                             str(machine.fifo), "--conf", str(machine.conf), "--xmldir",
                             str(xmldir), "--verbose"], cwd=machine.home,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_listening(web, web_port, 30), log.read_text()
        drivers = _call(web_port, "GET", "/api/drivers")
        assert isinstance(drivers, list)
        [ours] = [d for d in drivers if d.get("binary") == EXEC]
        assert ours["label"] == DEVICE and ours["family"] == "CCDs"
        _call(web_port, "POST", "/api/profiles/Py")
        _call(web_port, "PUT", "/api/profiles/Py", {"port": indi_port, "autostart": 0,
                                                     "autoconnect": 0})
        _call(web_port, "POST", "/api/profiles/Py/drivers", [{"label": DEVICE}])
        _call(web_port, "POST", "/api/server/start/Py")
        wait_for(lambda: listener(indi_port) is not None, 20, "no server\n" + log.read_text())
        wait_devices(indi_port, {DEVICE})
        _call(web_port, "POST", "/api/server/stop")
        wait_for(lambda: listener(indi_port) is None, 20, "the server still listens")
    finally:
        end(web, 10)
