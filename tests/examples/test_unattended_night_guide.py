"""docs/guides/unattended_night.rst does what it says (issue 71 item 10).

The guide's script (``examples/start_night.py``, included in the guide by ``:pyobject:``, so
the documented code is the tested code) and its ``indi_setprop``/``indi_getprop`` lines, taken
from the guide itself, are run as an observer runs them: against our server hosting the agent
in-process beside our simulated camera and filter wheel, with a short plan of flats and a dark
(no slew, so no sky is needed).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from agentkit import AGENT
from peers import REPO
from peers import OurServer
from peers import getprop
from peers import setprop
from waiting import wait_for

GUIDE = REPO / "docs" / "guides" / "unattended_night.rst"
SCRIPT = REPO / "examples" / "start_night.py"
BIN = Path(sys.executable).parent
PLAN = """\
name = "Guide flats"
folder = "guide"

[devices]
camera = "Python CCD Simulator"
wheel = "Python Filter Wheel"

[[targets]]
name = "Flats"

[[targets.batches]]
type = "Flat"
filter = "Red"
count = 2
exposure = 0.2

[[targets.batches]]
type = "Dark"
count = 1
exposure = 0.2
"""
FRAMES = ["darks/Flats_NoFilter_Dark_001.fits", "flats/Red/Flats_Red_Flat_001.fits", "flats/Red/Flats_Red_Flat_002.fits"]


def agent_server(tmp_path: Path) -> OurServer:
    """``indipyserver indipyagents.imager`` with our camera and wheel, as the guide starts it;
    the state folder in the test's folder."""
    return OurServer("indipyagents.imager", str(BIN / "indipy_simulator_ccd"),
                     str(BIN / "indipy_simulator_focus"), workdir=tmp_path,
                     env={"INDIPY_AGENT_STATE": str(tmp_path / "state")})


def run_script(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, str(SCRIPT), "--port", str(port), *args],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def section(title: str) -> str:
    """The guide's section `title`, up to the next section's title."""
    lines = GUIDE.read_text().splitlines()
    start = lines.index(title) + 2
    end = next((n - 1 for n in range(start + 1, len(lines))
                if set(lines[n]) == {"-"} and len(lines[n]) == len(lines[n - 1])), len(lines))
    return "\n".join(lines[start:end])


def guide_commands() -> list[list[str]]:
    """The ``indi_setprop``/``indi_getprop`` lines of the guide's "From a script", split as
    the shell would."""
    return [shlex.split(line.strip()) for line in section("From a script").splitlines()
            if re.match(r"\s+indi_(setprop|getprop) \"Imager Agent", line)]


def test_the_guide_includes_the_tested_script() -> None:
    """The guide shows `start_night` from examples/start_night.py (the function run below)
    and the example night; a renamed function or file would leave the guide showing nothing."""
    text = GUIDE.read_text()
    assert ".. literalinclude:: ../../examples/start_night.py" in text
    assert ":pyobject: start_night" in text
    assert "def start_night(" in SCRIPT.read_text()
    assert ".. literalinclude:: ../../examples/night.toml" in text


@pytest.mark.timeout(120)
def test_the_guides_script_runs_a_night_and_reports_a_refused_plan(tmp_path: Path) -> None:
    """start_night.py loads the plan, starts it, waits for the end and exits 0 with every
    frame saved under IMAGE_FOLDER/<plan folder>, named as the guide says; a bad plan exits 1
    with the plan's line and reason, and nothing is taken."""
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    bad = tmp_path / "bad.toml"
    bad.write_text(PLAN.replace("exposure = 0.2", "exposure = -3"))
    frames = tmp_path / "frames"
    with agent_server(tmp_path) as server:
        refused = run_script(server.port, str(bad), "--folder", str(frames))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        # Every error of the plan, each at its line (issue 79 item 6), the file named.
        assert "bad.toml: 2 errors: line 15: " in refused.stdout, refused.stdout
        assert "line 20: " in refused.stdout and "-3" in refused.stdout, refused.stdout
        done = run_script(server.port, str(plan), "--folder", str(frames))
        assert done.returncode == 0, done.stdout + done.stderr + server.log_tail()
        assert "Ok: 3 of 3 frames" in done.stdout, done.stdout
    assert sorted(p.relative_to(frames / "guide").as_posix() for p in (frames / "guide").rglob("*.fits")) == FRAMES


@pytest.mark.timeout(120)
def test_the_guides_command_lines_run_a_night(tmp_path: Path) -> None:
    """The guide's indi_setprop lines (its paths swapped for the test's, -p for the port)
    load and start a night, and its indi_getprop line then reads SEQUENCE_STATE Ok with
    every frame done."""
    commands = guide_commands()
    assert [c[0] for c in commands] == ["indi_setprop"] * 3 + ["indi_getprop"], commands
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    frames = tmp_path / "frames"

    def here(spec: str) -> str:
        return spec.replace("/home/pi/night/plan.toml", str(plan)).replace(
            "/home/pi/night/frames", str(frames))

    with agent_server(tmp_path) as server:
        for command in commands[:3]:
            result = setprop(server.port, *map(here, command[1:]), timeout=10)
            assert result.returncode == 0, result
        specs = commands[3][1:]

        def finished() -> dict[str, str] | None:
            found = getprop(server.port, *specs, timeout=2)
            state = found.get(f"{AGENT}.SEQUENCE_STATE._STATE")
            assert state != "Alert", (found, server.log_tail())
            return found if state == "Ok" else None

        found = wait_for(finished, 90, lambda: server.log_tail())
    assert found[f"{AGENT}.SEQUENCE_STATE.PROGRESS"] == "3"
    assert found[f"{AGENT}.SEQUENCE_STATE.PROGRESS_TOTAL"] == "3"
    assert sorted(p.relative_to(frames / "guide").as_posix() for p in (frames / "guide").rglob("*.fits")) == FRAMES


def test_the_readme_and_the_guide_name_every_simulator_with_its_device() -> None:
    """Every ``indipy_simulator_*`` program the package installs is named in the README and in
    the guide, and the guide gives each its device name (issue 89 item 12: the guide camera
    simulator, which the Guider Agent's own default names, was in neither list)."""
    import tomllib

    from indipysimulators import ccd
    from indipysimulators import guidecamera
    from indipysimulators import telescope
    from indipysimulators import weather

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    simulators = {name for name in scripts if name.startswith("indipy_simulator_")}
    readme = (REPO / "README.md").read_text()
    guide = " ".join(GUIDE.read_text().split())
    assert len(simulators) >= 5
    assert {name for name in simulators if f"`{name}`" not in readme} == set()
    assert {name for name in simulators if f"``{name}``" not in guide} == set()
    devices = {ccd.DEVICE, guidecamera.DEVICE, telescope.DEVICE, weather.DEVICE,
               "Python Focuser", "Python Filter Wheel"}
    assert {device for device in devices if f"``{device}``" not in guide} == set()
