"""Autofocus never skipped in silence (issue 79 item 4): without the extra ``[agents]`` (sep,
which measures the stars), a plan whose ``[autofocus]`` asks for runs used to end Ok having
never focused, with no word in the log. Now it is refused before anything moves, saying
which extra to install: at load (AGENT_PLAN Alert), at START (AGENT_START_PROCESS Alert), on
the command line (``indipy_agent_imager --plan``), and when a night that asked for it is
resumed; a plan that asks for no autofocus runs as before.

The extra's absence is made real in a child process: a ``sitecustomize`` on its PYTHONPATH
sets ``sys.modules["sep"] = None``, so ``import sep`` raises ImportError there as it does
where sep is not installed (checked first). Where the agent runs in this process (the extra
gone between load and START), the same entry is set for the test's length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import hosted
from peers import REPO
from peers import OurServer
from peers import ServingProgram
from peers import free_port
from waiting import until

import indipyclient
from indipyagents.journal import Journal
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.toml import plan_to_toml
from indipysimulators import focus

#: What every refusal says: the extra, and how to install it.
EXTRA = 'the extra [agents] (numpy and sep), not installed here: pip install ".[agents]"'
AGENT_PROGRAM = str(Path(sys.executable).parent / "indipy_agent_imager")


def plan(*, autofocus: bool) -> Plan:
    """Two short dark-ish frames through Red on our camera, wheel and focuser; autofocus at
    each target's start, or none."""
    return night("focused" if autofocus else "unfocused",
                 target("Here", Batch(2, 0.2, "Red")), camera=CCD, wheel=focus.WHEEL,
                 focuser=focus.FOCUSER, autofocus=Autofocus(at_start=autofocus))


def autofocus_line(path: Path) -> int:
    """The line of the plan file that asks for autofocus (``[autofocus]``), spelt out."""
    return path.read_text().splitlines().index("[autofocus]") + 1


@pytest.fixture
def without_the_extra(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a child process where ``import sep`` fails; checked to fail."""
    blocker = tmp_path / "no-agents-extra"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n\n# As an install without the extra [agents]: `import sep` fails.\n"
        "sys.modules['sep'] = None\n")
    path = os.pathsep.join(p for p in (str(blocker), str(REPO), os.environ.get("PYTHONPATH"))
                           if p)
    env = {"PYTHONPATH": path}
    tried = subprocess.run([sys.executable, "-c", "import indipyagents.stars.measure"],
                           env={**os.environ, **env}, capture_output=True, text=True,
                           timeout=60, check=False)
    assert tried.returncode != 0 and "[agents]" in tried.stderr, tried.stderr
    yield env


def test_the_command_line_refuses_such_a_plan_saying_which_extra(
        tmp_path: Path, without_the_extra: dict[str, str]) -> None:
    """``indipy_agent_imager --plan focused.toml`` without the extra: exit 2 at once, before
    serving, saying the file, the line and the extra; a plan without autofocus serves, and so
    does the autofocus plan where the extra is installed."""
    focused = write_plan(tmp_path / "focused.toml", plan(autofocus=True))
    unfocused = write_plan(tmp_path / "unfocused.toml", plan(autofocus=False))
    env = {**os.environ, **without_the_extra}
    refused = subprocess.run([AGENT_PROGRAM, "--plan", str(focused), "--port",
                              str(free_port())], env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode == 2, refused.stderr
    assert (f"--plan refused: focused.toml, line {autofocus_line(focused)}: autofocus asks "
            f"for autofocus runs: they need {EXTRA}") in refused.stderr
    for path, environment in ((unfocused, without_the_extra), (focused, {})):
        port = free_port()
        serving = ServingProgram([AGENT_PROGRAM, "--plan", str(path), "--port", str(port)],
                                 port, tmp_path, env=environment)
        try:
            serving.wait_listening(30)
        finally:
            serving.kill()


@pytest.mark.timeout(120)
async def test_the_agent_refuses_such_a_plan_at_load_and_runs_one_without(
        tmp_path: Path, without_the_extra: dict[str, str]) -> None:
    """Our server (a child process without the extra) with the agent and our simulators:
    AGENT_PLAN with the autofocus plan is Alert naming the file, its line and the extra,
    PLAN_STATUS says it too, the log says it, and START then starts nothing (no frame); the
    plan without autofocus loads and runs to its two frames."""
    focused = write_plan(tmp_path / "focused.toml", plan(autofocus=True))
    unfocused = write_plan(tmp_path / "unfocused.toml", plan(autofocus=False))
    images = tmp_path / "images"
    (tmp_path / "server").mkdir()
    env = {**without_the_extra, "INDIPY_AGENT_STATE": str(tmp_path / "state")}
    with OurServer("indipyagents.imager", CCD_PROGRAM, FOCUS_PROGRAM,
                   workdir=tmp_path / "server", env=env) as served:
        async with indipyclient.connect("127.0.0.1", served.port) as client:
            await client.wait_for(AGENT, "IMAGE_NAME", timeout=20)
            await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(images)}, timeout=10)
            loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(focused)}, timeout=20)
            said = (f"focused.toml, line {autofocus_line(focused)}: autofocus asks for "
                    f"autofocus runs: they need {EXTRA}")
            assert loaded.state.value == "Alert" and said in (loaded.message or ""), loaded
            status = await client.wait_for(AGENT, "PLAN_STATUS", state="Alert", timeout=10)
            assert said in (status.message or ""), status
            started = await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"},
                                       timeout=20)
            assert started.state.value == "Alert", started
            assert not images.exists() or not any(images.rglob("*.fits"))
            assert served.wait_for_log(said, 10), served.log_tail()
            loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(unfocused)},
                                      timeout=20)
            assert loaded.state.value == "Ok", loaded
            await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
            def done() -> bool:  # (SEQUENCE_STATE was Alert from the refused START)
                vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
                return vector is not None and vector.state.value == "Ok" \
                    and float(vector["PROGRESS"]) == 2

            await until(done, 60, lambda: f"the plan without autofocus to end Ok: "
                        f"{client.devices.vector(AGENT, 'SEQUENCE_STATE')!r} "
                        f"{served.log_tail()}")
    frames = sorted("/".join(p.relative_to(images).parts[1:]) for p in images.rglob("*.fits"))
    assert frames == ["lights/Red/Here_Red_Light_001.fits", "lights/Red/Here_Red_Light_002.fits"]


@pytest.mark.timeout(120)
def test_a_resumed_night_that_asks_for_autofocus_is_refused_saying_so(
        tmp_path: Path, without_the_extra: dict[str, str]) -> None:
    """A night begun with autofocus where the extra was installed, the agent restarted where
    it is not (another venv, the extra removed): the resume is refused saying the extra,
    PLAN_STATUS is Alert, and nothing moves (no frame, the journal as it was)."""
    text = plan_to_toml(plan(autofocus=True))
    folder = tmp_path / "images" / "night"
    journal_path = folder / ".journal" / "focused.journal"
    with Journal(journal_path) as journal:
        journal.start("focused", text)
    before = journal_path.read_bytes()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "current.json").write_text(json.dumps(
        {"journal": str(journal_path), "plan": text, "image_folder": str(tmp_path / "images")}))
    (tmp_path / "server").mkdir()
    env = {**without_the_extra, "INDIPY_AGENT_STATE": str(tmp_path / "state")}
    with OurServer("indipyagents.imager", CCD_PROGRAM, FOCUS_PROGRAM,
                   workdir=tmp_path / "server", env=env) as served:
        assert served.wait_for_log(f"autofocus asks for autofocus runs: they need {EXTRA}",
                                   60), served.log_tail()
        assert "resuming the night of" in served.log_text()
    assert journal_path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [".journal"]


@pytest.mark.timeout(120)
async def test_start_refuses_it_when_the_extra_is_gone_after_the_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan loaded where the extra is there, then sep gone before START (its import
    fails from then on): START is Alert naming the plan's file and the extra, nothing is
    taken, and the agent serves on. (The agent runs in this process: the import is made to
    fail here, for this test.)"""
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM) as rig:
        path = write_plan(tmp_path / "focused.toml", plan(autofocus=True))
        loaded = await rig.client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=20)
        assert loaded.state.value == "Ok", loaded
        monkeypatch.setitem(sys.modules, "sep", None)
        for name in ("indipyagents.focus.autofocus", "indipyagents.stars.measure"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        await rig.client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)

        def start_state() -> str:
            vector = rig.client.devices.vector(AGENT, "AGENT_START_PROCESS")
            return vector.state.value if vector is not None else ""

        await until(lambda: start_state() == "Alert", 30, "AGENT_START_PROCESS Alert")
        start = rig.client.devices.vector(AGENT, "AGENT_START_PROCESS")
        assert start is not None
        assert (f"focused.toml, line {autofocus_line(path)}: autofocus asks for autofocus "
                f"runs: they need {EXTRA}") in (start.message or ""), start.message
        assert not rig.frames.exists() or not any(rig.frames.rglob("*.fits"))
