"""A plan named on the command line (issue 71 item 3): ``indipy_agent_imager --plan FILE
--start`` and, for the agent in-process, ``INDIPY_AGENT_PLAN``/``INDIPY_AGENT_START``: the
night runs with no client at all, and only indi_getprop looks, afterwards."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from peers import OurServer
from peers import getprop
from waiting import wait_for

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipycore.fits import read_header


def darks(folder: str) -> Plan:
    """Two darks through Red, saved in `folder`; the end warms the camera."""
    return night("darks from the command line", target("Darks", Batch(2, 0.5, "Red",
                                                                     frame_type="Dark")),
                 folder=folder, camera="Python CCD Simulator", wheel="Python Filter Wheel",
                 warm=True)


def executable(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} is not installed in this environment"
    return found


def sequence_state(port: int) -> dict[str, str]:
    return getprop(port, f"{AGENT}.SEQUENCE_STATE.*", timeout=1.0)


def test_a_plan_named_on_the_command_line_runs_with_no_client(tmp_path: Path) -> None:
    """`INDIPY_AGENT_PLAN` and `INDIPY_AGENT_START=1` (the in-process form of ``--plan FILE
    --start``) load the plan at start and run it: no client connects until indi_getprop
    looks, and by then both darks are saved, whole, SEQUENCE_STATE's PROGRESS 2 of 2."""
    # No client sets IMAGE_NAME: the frames go to its default folder (/tmp, as indilib's),
    # under a plan folder of this test's own.
    folder = Path("/tmp") / f"indipy-test-{uuid.uuid4().hex}"
    plan = write_plan(tmp_path / "darks.toml", darks(folder.name))
    env = {"INDIPY_AGENT_PLAN": str(plan), "INDIPY_AGENT_START": "1",
           "INDIPY_AGENT_STATE": str(tmp_path / "state")}
    server = OurServer("indipyagents.imager", executable("indipy_simulator_ccd"),
                       executable("indipy_simulator_focus"), workdir=tmp_path, env=env)
    with server:
        try:
            wait_for(lambda: sequence_state(server.port).get(
                f"{AGENT}.SEQUENCE_STATE.PROGRESS") == "2", timeout=90,
                what="the command line's plan to finish")
            names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits"))
            assert names == ["darks/Darks_Red_Dark_001.fits", "darks/Darks_Red_Dark_002.fits"]
            for name in names:
                header = read_header((folder / name).read_bytes())
                assert header["EXPTIME"] == 0.5 and header["FILTER"] == "Red"
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def test_start_without_a_plan_is_refused_by_the_command() -> None:
    """``--start`` alone is a mistake said at once, not a night that never begins."""
    from indipyagents.imageragent.main import main

    with pytest.raises(SystemExit) as exited:
        main(["--start"])
    assert exited.value.code == 2
