"""`indipy-conform --live` (our conformance checker, the way Ekos would drive each role) on
the INDI devices our server makes of alpaca-simulators' focuser, filter wheel, telescope and
weather station: every standard property as indilib defines it, and each role driven."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators
from peers import REPO
from test_focuser_wheel import serve

DEVICES = ("Simulator Focuser", "Simulator Filter Wheel", "Simulator Telescope",
           "Simulator Observing Conditions")


@pytest.mark.timeout(420)
def test_alpaca_devices_pass_indipy_conform_live(our_server: object,
                                                 alpaca_sim: AlpacaSimulators,
                                                 tmp_path: Path) -> None:
    """No FAIL with --live on the four devices, and the moves really happened (the focuser
    moved, the wheel turned, the mount slewed and parked). The camera is left out: the
    checker takes light frames, which alpaca-simulators renders from a network catalogue
    (offline they end in CameraState Error, an Alert here, as they should)."""
    server = serve(our_server, alpaca_sim,
                   "focuser/0,filterwheel/0,telescope/0,observingconditions/0", *DEVICES)
    done = subprocess.run(
        [sys.executable, "-m", "indipyclient.frontends.conform", "-h", "127.0.0.1", "-p",
         str(server.port), "--json", "--live", *DEVICES], capture_output=True, text=True,
        timeout=400, cwd=tmp_path, check=False, env={"PYTHONPATH": str(REPO), "HOME": str(tmp_path),
                                                       "PATH": "/usr/bin:/bin"})
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    failures = [check for check in report.get("checks", []) if not check["ok"]]
    assert done.returncode == 0 and not failures, (failures, done.stderr[-2000:])
    said = " ".join(str(check) for check in report["checks"])
    for driven in ("moved", "turned", "goto", "parked"):
        assert driven in said, driven
