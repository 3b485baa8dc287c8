"""Issue 89 item 10, "said whole": a plan with two mistakes of different kinds (a wrong value,
and what the whole plan checks after reading: a device not named, a scheduled target with an
in-order wait) is refused naming both in one round, at load (the plan reader, and the agent's
AGENT_PLAN through its face on our server) and in ``indipy-schedule``; before, the whole-plan
checks ran only once every value read well, so the second mistake came a round later."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from seqdoubles import rigged
from serverkit import running
from serverkit import server
from test_face import Factory

import indipyclient
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.sequencer.face import SequencerFace
from indipydriver import Device
from indipydriver import IPyDriver

AGENT = "Imager Agent"
#: Two mistakes: M42's filter asks for a wheel the plan does not name (the whole plan's
#: check), and the darks' exposure is negative (a value).
TWO = plan_to_toml(night("two", target("M42", Batch(2, 30.0, "Red"), ra=5.58, dec=-5.39),
                         target("Darks", Batch(1, 10.0, frame_type="Dark")),
                         camera="CCD Simulator", mount="Telescope Simulator")
                   ).replace("exposure = 10.0", "exposure = -3")


RED = 'filter = "Red"'


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_wrong_value_and_a_device_not_named_are_refused_together() -> None:
    """The reader's one pass names both mistakes, each at its line."""
    with pytest.raises(PlanError) as caught:
        parse_plan(TWO, "night.toml")
    said = [(problem.line, problem.reason) for problem in caught.value.problems]
    assert said == sorted([
        (line_of(TWO, RED), 'targets[0].batches[0].filter (a filter) needs a wheel: '
                                    'name one in [devices] wheel = "..."'),
        (line_of(TWO, "exposure = -3"), "targets[1].batches[0].exposure must be a number > 0, "
                                        "not -3")]), said
    assert str(caught.value).startswith("night.toml: 2 errors: line "), caught.value


def test_indipy_schedule_names_every_mistake(tmp_path: Path) -> None:
    """``indipy-schedule`` (status 2) says a scheduled plan's wrong value and its target's
    in-order wait in one refusal."""
    text = plan_to_toml(night("sched", target("M31", Batch(2, 30.0), ra=0.712, dec=41.27),
                              camera="CCD Simulator", mount="Telescope Simulator"))
    text = text.replace("exposure = 30.0", "exposure = -3").replace(
        'name = "M31"', 'name = "M31"\nwait = { altitude = 20 }')
    text = text.replace("[[targets]]", "[site]\nlatitude = 48.0\nlongitude = 2.0\n"
                        "elevation = 100.0\n[schedule]\n\n[[targets]]", 1)
    path = tmp_path / "sched.toml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "indipyagents.schedule", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done
    assert "sched.toml: 2 errors: " in done.stderr, done.stderr
    assert f"line {line_of(text, 'wait = {')}: targets[0].wait belongs to a plan taken in " \
           "order" in done.stderr, done.stderr
    assert f"line {line_of(text, 'exposure = -3')}: targets[0].batches[0].exposure must be" \
        in done.stderr, done.stderr


async def test_agent_plan_refuses_naming_both_mistakes(tmp_path: Path) -> None:
    """AGENT_PLAN (the agent's face with the real plan reader, on our server) goes Alert
    naming the file and both mistakes with their lines; nothing is loaded."""
    factory = Factory(rigged())
    face = SequencerFace(factory, parse_plan)
    path = tmp_path / "night.toml"
    path.write_text(TWO, encoding="utf-8")
    async with running(server(IPyDriver(Device(AGENT, roles=[face])))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        assert (await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=10)).ok
        result = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=10)
        assert result.state == "Alert"
        message = result.message or ""
        assert message.startswith("night.toml: 2 errors: line "), message
        assert f"line {line_of(TWO, 'exposure = -3')}: " in message, message
        assert f"line {line_of(TWO, RED)}: " in message, message
    assert factory.calls == []


async def _face_on_server(tmp_path: Path, *texts: tuple[str, str]) -> list[tuple[str, str]]:
    """Each plan text loaded in turn through AGENT_PLAN (FILE) of the face with the real
    reader on our server: (AGENT_PLAN's state, its message) for each, then PLAN_STATUS's
    (NAME, message) and SEQUENCE_STATE's message last."""
    face = SequencerFace(Factory(rigged()), parse_plan)
    answers = []
    async with running(server(IPyDriver(Device(AGENT, roles=[face])))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        assert (await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=10)).ok
        for name, text in texts:
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            result = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=10)
            answers.append((result.state.value, result.message or ""))
        status = client.vector(AGENT, "PLAN_STATUS")
        answers.append((str(status["NAME"]), status.message or ""))
        answers.append(("", client.vector(AGENT, "SEQUENCE_STATE").message or ""))
        # What a client connecting later reads: values, not the messages it missed.
        async with indipyclient.connect("127.0.0.1", ours.port) as later:
            seen = await later.wait_for(AGENT, "PLAN_CHECK", timeout=10)
            answers.append((str(seen["NEVER"]), str(seen["REFUSED"])))
    return answers


async def test_a_refused_plan_says_which_plan_stays_loaded(tmp_path: Path) -> None:
    """A plan loaded, then one with two mistakes: AGENT_PLAN and PLAN_STATUS Alert say the
    first stays loaded, then the refusal with both mistakes; PLAN_STATUS still names it, and
    PLAN_CHECK.REFUSED says the refusal to a client that connects later."""
    good = plan_to_toml(night("good night", target("M42", Batch(2, 30.0), ra=5.58, dec=-5.39),
                              camera="CCD Simulator", mount="Telescope Simulator"))
    (first, second, (name, status), _state, (_never, refused)) = await _face_on_server(
        tmp_path, ("good.toml", good), ("night.toml", TWO))
    assert first[0] == "Ok", first
    assert second[0] == "Alert"
    assert second[1].startswith("refused (good night from good.toml stays loaded): "
                                "night.toml: 2 errors: line "), second
    assert (name, status) == ("good night", second[1])
    assert refused.startswith("night.toml: 2 errors: line "), refused


async def test_a_target_never_high_is_named_at_load(tmp_path: Path) -> None:
    """A scheduled plan (its [site] at 48 degrees north, two nights) with a target at
    declination -80: loaded Ok, and PLAN_STATUS's and SEQUENCE_STATE's messages name it with
    the schedule's reason, before any run; PLAN_CHECK.NEVER keeps it for a later client."""
    plan = Plan("south", (
        Target("M42", 5.588, -5.39, batches=(Batch(1, 60.0),)),
        Target("Low", 5.0, -80.0, batches=(Batch(1, 60.0),))),
        devices=Devices(camera="CCD Simulator", mount="Telescope Simulator"),
        site=Site(48.0, 2.0), schedule=Schedule(min_altitude=30, nights=2))
    (loaded, (_name, status), (_, state), (never, refused)) = await _face_on_server(
        tmp_path, ("south.toml", plan_to_toml(plan)))
    assert loaded[0] == "Ok", loaded
    said = "never imaged: Low (never 30 degrees high while dark)"
    assert said in status and said in state, (status, state)
    assert "M42" not in status, status
    assert (never, refused) == ("Low (never 30 degrees high while dark)", "")
