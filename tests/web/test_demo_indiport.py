"""`indipyweb --demo --indiport Q` serves the demo's INDI server on Q (issue 70 item 6): the
option was ignored with --demo (a free port was taken), so a user who pointed KStars or
`indi_getprop` at the port they had chosen found nothing there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import peers
from peers import free_port


def test_demo_serves_its_indi_server_on_the_port_given(tmp_path: Path) -> None:
    """The demo announces Q, and indilib's `indi_getprop` reads the thermostat there."""
    root = Path(__file__).resolve().parents[2]
    indiport = free_port()
    process = subprocess.Popen([sys.executable, "-m", "indipyweb", "--demo", "--port",
                                str(free_port()), "--indiport", str(indiport), "--dbfolder",
                                str(tmp_path / "db")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONPATH": str(root)})
    said = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            said.append(line)
            if "demo INDI server" in line:
                break
        assert said and f"localhost:{indiport}" in said[-1], said
        result = peers.getprop(indiport, "Thermostat.TARGET.TARGET", timeout=10)
        assert result.get("Thermostat.TARGET.TARGET") == "20.0", result.result.describe()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, "".join(said) + output
