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
from peers import getprop
from test_focuser_wheel import connect
from test_focuser_wheel import serve

DEVICES = ("Simulator Focuser", "Simulator Filter Wheel", "Simulator Telescope",
           "Simulator Observing Conditions")


@pytest.mark.timeout(420)
def test_alpaca_devices_pass_indipy_conform_live(our_server: object,
                                                 alpaca_sim: AlpacaSimulators,
                                                 tmp_path: Path, tmp_home: Path) -> None:
    """No FAIL with --live on the four devices, and the moves really happened (the focuser
    moved, the wheel turned, the mount slewed and parked). The camera is left out: the
    checker takes light frames, which alpaca-simulators renders from a network catalogue
    (offline they end in CameraState Error, an Alert here, as they should)."""
    server = serve(our_server, alpaca_sim,
                   "focuser/0,filterwheel/0,telescope/0,observingconditions/0", *DEVICES)
    done = subprocess.run(
        [sys.executable, "-m", "indipyconform", "-h", "127.0.0.1", "-p",
         str(server.port), "--json", "--live", *DEVICES], capture_output=True, text=True,
        timeout=400, cwd=tmp_path, check=False, env={"PYTHONPATH": str(REPO), "HOME": str(tmp_home),
                                                       "PATH": "/usr/bin:/bin"})
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    failures = [check for check in report.get("checks", []) if not check["ok"]]
    assert done.returncode == 0 and not failures, (failures, done.stderr[-2000:])
    said = " ".join(str(check) for check in report["checks"])
    for driven in ("moved", "turned", "goto", "parked"):
        assert driven in said, driven


CAMERA = "Simulator Camera"


@pytest.mark.timeout(300)
def test_alpaca_camera_passes_indipy_conform_live_with_dark_frames(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path, tmp_home: Path
) -> None:
    """``--live --frame-type dark`` on the Alpaca camera: CCD_FRAME_TYPE is set to FRAME_DARK
    first (the simulator's light frames need a network catalogue), the exposure counts down,
    ends Ok and delivers a FITS image of the sensor's full 1024 x 1024 (CCD_FRAME at
    binning 1), the abort stops a running exposure, and no check FAILs; the frame type is
    put back to light afterwards."""
    server = serve(our_server, alpaca_sim, "camera/0", CAMERA)
    done = subprocess.run(
        [sys.executable, "-m", "indipyconform", "-h", "127.0.0.1", "-p",
         str(server.port), "--json", "--live", "--frame-type", "dark", CAMERA],
        capture_output=True, text=True, timeout=280, cwd=tmp_path, check=False,
        env={"PYTHONPATH": str(REPO), "HOME": str(tmp_home), "PATH": "/usr/bin:/bin"})
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    checks = report.get("checks", [])
    failures = [check for check in checks if not check["ok"]]
    assert done.returncode == 0 and not failures, (failures, done.stderr[-2000:])
    passed = {(check["property"], check["detail"]) for check in checks
              if check["level"] == "PASS"}
    assert ("CCD_FRAME_TYPE", "FRAME_DARK for the exposures (--frame-type)") in passed, checks
    assert any(prop == "CCD1" and detail.startswith("FITS 1024 x 1024, BITPIX 16")
               for prop, detail in passed), checks
    assert ("CCD_EXPOSURE", "ended Ok") in passed, checks
    assert any(prop == "CCD_ABORT_EXPOSURE" and detail.startswith("aborted")
               for prop, detail in passed), checks
    connect(server.port, CAMERA, tmp_path)  # the checker left it disconnected, as it found it
    light = f"{CAMERA}.CCD_FRAME_TYPE.FRAME_LIGHT"
    assert getprop(server.port, light, timeout=5, cwd=tmp_path)[light] == "On"


def test_frame_type_is_refused_when_unknown(tmp_path: Path, tmp_home: Path) -> None:
    """``--frame-type`` takes light, dark, bias or flat; anything else is a usage error
    (exit 2) naming the choices, before any server is asked."""
    done = subprocess.run(
        [sys.executable, "-m", "indipyconform", "-p", "1", "--live",
         "--frame-type", "sky"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
        check=False, env={"PYTHONPATH": str(REPO), "HOME": str(tmp_home), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2, done
    assert "--frame-type" in done.stderr and "dark" in done.stderr, done.stderr
