"""Each tool runs as its console script and as ``python -m indipyclient.<tool>`` (and
``indipyclient.frontends.tools.<module>``), and a bad command line is one line and the indilib exit
status (2; indi_eval's usage is 1), never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from toolkit import run_tool

TOOLS = [("getprop", "getprop", 2), ("setprop", "setprop", 2), ("eval", "evalexpr", 1),
         ("watch", "watch", 2)]


@pytest.mark.parametrize(("tool", "module", "usage_status"), TOOLS)
def test_every_way_to_start_a_tool_prints_its_help(tool: str, module: str,
                                                   usage_status: int) -> None:
    script = Path(sys.executable).with_name(f"indipy-{tool}")
    assert script.exists(), f"console script {script.name} is not installed"
    for argv in ([str(script)], [sys.executable, "-m", f"indipyclient.{tool}"],
                 [sys.executable, "-m", f"indipyclient.frontends.tools.{module}"]):
        result = run_tool([*argv, "--help"])
        assert result.returncode == 0, result.describe()
        assert result.stdout.startswith(f"usage: indipy-{tool}"), result.describe()


@pytest.mark.parametrize(("tool", "module", "usage_status"), TOOLS)
def test_a_bad_option_is_one_line_and_the_usage_status(tool: str, module: str,
                                                       usage_status: int) -> None:
    result = run_tool([sys.executable, "-m", f"indipyclient.frontends.tools.{module}", "-Q", "x.y.z=1"])
    assert result.returncode == usage_status, result.describe()
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"indipy-{tool}: ")
