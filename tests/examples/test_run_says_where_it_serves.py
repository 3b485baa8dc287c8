"""`IPyServer.run()` in a plain script, as the README's ten-line Lamp driver uses it: with no
logging configured it says where it serves and that it stops, and Ctrl-C stops it cleanly
(issue 28, item 5). Driven by indilib's indi_getprop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from peers import ServingProgram
from peers import free_port
from peers import getprop
from test_acceptance_readme import _snippet

REPO = Path(__file__).resolve().parents[2]


def run_readme_lamp(tmp_path: Path, before: str = "", **server_options: object
                    ) -> tuple[int, int, str]:
    """The README's snippet as a script on a free port (`before` runs first), asked for its
    properties by indi_getprop, then sent SIGINT; (exit status, port, stderr)."""
    port = free_port()
    options = ", ".join(f"{k}={v!r}" for k, v in {"port": port, **server_options}.items())
    script = tmp_path / "lamp.py"
    script.write_text(
        "import functools, indipyserver\n"
        f"indipyserver.IPyServer = functools.partial(indipyserver.IPyServer, {options})\n"
        + before + _snippet())
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    program = ServingProgram([sys.executable, str(script)], port, tmp_path,
                             env={"PYTHONPATH": path})
    try:
        program.wait_listening(15)
        assert getprop(port, "Lamp.POWER.ON", timeout=5)["Lamp.POWER.ON"] == "Off"
        status, _, err = program.ctrl_c()
    finally:
        program.kill()
    return status, port, err


def test_a_script_that_configured_no_logging_is_told_where_it_serves(tmp_path: Path) -> None:
    """Failed before: the script said nothing at all, started or stopped."""
    status, port, err = run_readme_lamp(tmp_path)
    assert status == 0, err
    lines = [line.split(" ", 2)[2] for line in err.splitlines()]  # without the timestamp
    assert lines == [f"INFO indipyserver.server: serving INDI on localhost:{port}",
                     "INFO indipyserver.server: SIGINT received: shutting down",
                     f"INFO indipyserver.server: server on port {port} stopped"], err


def test_ctrl_c_stops_cleanly_without_the_servers_signal_handlers(tmp_path: Path) -> None:
    """handle_signals=False: the KeyboardInterrupt ends run() quietly. Failed before: a
    traceback ending in KeyboardInterrupt, exit status 1."""
    status, port, err = run_readme_lamp(tmp_path, handle_signals=False)
    assert status == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert f"serving INDI on localhost:{port}" in err
    assert "SIGINT received: stopped" in err


@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_a_script_that_configured_logging_keeps_its_own(tmp_path: Path, level: str) -> None:
    """run() adds no handler of its own then: nothing twice, nothing the user turned off."""
    status, port, err = run_readme_lamp(
        tmp_path, before=f"import logging\nlogging.basicConfig(level=logging.{level}, "
                         "format='%(levelname)s:%(name)s:%(message)s')\n")
    assert status == 0, err
    serving = [line for line in err.splitlines() if "serving INDI" in line]
    assert serving == ([] if level == "WARNING"
                       else [f"INFO:indipyserver.server:serving INDI on localhost:{port}"]), err
