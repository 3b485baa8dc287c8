"""The sequencer's INDI face (`indipyagents.sequencer.face`) served by our server in-process,
driven by indipyclient as any client would: a bad plan refused with its line before anything
moves, a good one's totals shown, START running it (on the doubles' rig) to Ok, PAUSE and a
second START, ABORT, and a lost device's Alert naming it. The plan reader is a double of
plan/toml.py's `parse_plan`, the run's journal and store in memory (seqdoubles)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from agentkit import AGENT
from agentkit import line_of
from agentkit import night
from agentkit import target
from seqdoubles import FocusDouble
from seqdoubles import FocusResultDouble
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import parse_plan_double
from seqdoubles import rigged
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.plan.check import RigFacts
from indipyagents.plan.check import check_against
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import plan_to_toml
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import Observer
from indipyagents.sequencer.engine import Sequencer
from indipyagents.sequencer.face import SequencerFace
from indipyclient import events
from indipycore.fits import read_header
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipydriver import Device
from indipydriver import IPyDriver

#: A plan of two targets (M42 slewed to, darks where the mount points), written as a user
#: would (the kit's `night`, the package's `plan_to_toml`).
M42 = target("M42", Batch(2, 30.0, "Red"), ra=5.58, dec=-5.39)
DARKS = target("Darks", Batch(1, 10.0, frame_type="Dark"))
GOOD = plan_to_toml(night("two targets", M42, DARKS, camera="CCD Simulator"))
BAD = GOOD.replace("exposure = 30.0", "exposure = -3")
BAD_LINE = line_of(BAD, "exposure = -3")


@dataclass
class Factory:
    """The face's SequenceFactory on the doubles: every call recorded (a refused plan must
    never reach it)."""

    r: Rigged
    calls: list[str] = field(default_factory=list)
    journal: MemoryJournal = field(default_factory=MemoryJournal)
    store: MemoryStore = field(default_factory=MemoryStore)

    #: The instruments as the agent's factory sees them: given, the plan is checked against
    #: them first (`check_against`, as the agent's `Night` does) and refused with every error.
    facts: RigFacts | None = None

    async def __call__(self, plan: Plan, plan_text: str, observer: Observer) -> Sequencer:
        self.calls.append(plan.name)
        if self.facts is not None:
            problems = check_against(plan, self.facts, text=plan_text, source=plan.name)
            if problems:
                raise PlanError.every(problems)
        r = self.r
        return Sequencer(plan, Rig(r.camera, r.wheel, r.focuser, r.mount), self.journal,
                         self.store, plan_text=plan_text, observer=observer, clock=r.sky.clock,
                         sleep=r.sky.sleep, retry=Retry(ConstantBackoff(0.0), retries=1))


@dataclass
class Agent:
    client: indipyclient.Client
    factory: Factory

    async def set(self, vector: str, values: dict[str, Any]) -> Any:
        return await self.client.set(AGENT, vector, values, timeout=10)

    async def send(self, vector: str, values: dict[str, Any]) -> None:
        """Values whose answer is Busy (a run started): sent, not waited for."""
        await self.client.set(AGENT, vector, values, wait=False)

    async def until(self, vector: str, state: str) -> Any:
        return await self.client.wait_for(AGENT, vector, state=state, timeout=10)


@pytest.fixture
async def agent(request: pytest.FixtureRequest) -> AsyncIterator[Agent]:
    """The face on a device of its own under our server, connected, BLOBs enabled (with an
    autofocus run when the test asks with ``indirect`` True)."""
    factory = Factory(rigged())
    factory.r.camera.shutter = asyncio.Semaphore(0)
    focusing = None
    if getattr(request, "param", False):
        focus = FocusDouble(factory.r.sky, hfr=2.25)

        async def focusing(observer: Observer) -> FocusResultDouble:
            return await focus(factory.r.camera, factory.r.focuser, Autofocus(points=3))

    face = SequencerFace(factory, parse_plan_double, focusing=focusing)
    driver = IPyDriver(Device(AGENT, roles=[face]))
    async with running(server(driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.send_enableBLOB("Also", AGENT)
        result = await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        assert result.ok
        await client.wait_for(AGENT, "SEQUENCE_STATE", timeout=10)
        yield Agent(client, factory)


async def test_a_bad_plan_is_refused_with_its_line_before_anything_moves(
        agent: Agent, tmp_path: Path) -> None:
    """A plan file with a bad value is refused: AGENT_PLAN and PLAN_STATUS go Alert with the
    plan's error naming the file and line, nothing is loaded or started; an uploaded one is
    refused the same way, named as uploaded."""
    night = tmp_path / "night.toml"
    night.write_text(BAD)
    result = await agent.set("AGENT_PLAN", {"FILE": str(night)})
    assert result.state == "Alert"
    assert result.message.startswith(f"night.toml, line {BAD_LINE}: ")
    status = await agent.until("PLAN_STATUS", "Alert")
    assert status.message.startswith(f"night.toml, line {BAD_LINE}: ")
    assert agent.client.get(AGENT, "SEQUENCE_STATE", "PROGRESS_TOTAL") == 0
    upload = await agent.set("AGENT_PLAN_UPLOAD", {"PLAN": (BAD.encode(), len(BAD), ".toml")})
    assert upload.state == "Alert"
    assert upload.message.startswith(f"the uploaded plan, line {BAD_LINE}: ")
    start = await agent.set("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    assert start.state == "Alert" and "load a plan first" in start.message
    assert agent.factory.calls == []
    assert agent.factory.r.sky.log == []
    missing = await agent.set("AGENT_PLAN", {"FILE": str(tmp_path / "none.toml")})
    assert missing.state == "Alert" and "cannot read" in missing.message


async def test_a_plan_refused_at_start_names_its_file_and_lists_every_error(
        agent: Agent, tmp_path: Path) -> None:
    """Issue 79 item 6: a plan that reads well but slews with no mount and asks two filters
    the wheel lacks, checked at START against the instruments (the factory's
    `check_against`, as the agent's): START and SEQUENCE_STATE Alert naming the plan's file
    and its three errors with their lines (as much as indilib's 255 characters hold), each
    error said whole as a message of the agent, and nothing moves."""
    m42 = target("M42", Batch(2, 30.0, "Ha"), Batch(1, 5.0, "OIII"), ra=5.58, dec=-5.39)
    text = plan_to_toml(night("two targets", m42, DARKS, camera="CCD Simulator"))
    path = tmp_path / "night.toml"
    path.write_text(text)
    assert (await agent.set("AGENT_PLAN", {"FILE": str(path)})).ok
    agent.factory.facts = RigFacts(camera="CCD", filters=("Red", "Green"), wheel="Wheel")
    start = await agent.set("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    slew, ha, oiii = (next(i for i, line in enumerate(text.splitlines(), 1) if key in line)
                      for key in ("slew = true", '"Ha"', '"OIII"'))
    errors = [f"night.toml, line {slew}: targets[0].slew (slewing to M42) needs a mount, and "
              "the rig has none",
              f"night.toml, line {ha}: targets[0].batches[0].filter (a filter): the wheel "
              "'Wheel' has no filter 'Ha' (it has Red, Green)",
              f"night.toml, line {oiii}: targets[0].batches[1].filter (a filter): the wheel "
              "'Wheel' has no filter 'OIII' (it has Red, Green)"]
    assert start.state == "Alert"
    assert start.message.startswith(f"night.toml: 3 errors: line {slew}: targets[0].slew"), \
        start.message
    state = agent.client.vector(AGENT, "SEQUENCE_STATE")
    assert (state.state, state.message) == ("Alert", start.message)
    await until(lambda: all(any(error in message.message for message in agent.client.messages)
                            for error in errors), what=f"each error said whole: {errors}")
    assert agent.factory.r.sky.log == []


async def test_a_good_plan_shows_its_totals_and_start_runs_it_to_ok(agent: Agent,
                                                                    tmp_path: Path) -> None:
    """A plan read from the server's disk shows its name and totals (PROGRESS_TOTAL 3,
    EXPOSURE_TOTAL 70); START makes SEQUENCE_STATE Busy, the frames count up in PROGRESS and
    AGENT_IMAGER_STATS, the last frame arrives as AGENT_LAST_FRAME, and the end is Ok."""
    night = tmp_path / "night.toml"
    night.write_text(GOOD)
    assert (await agent.set("AGENT_PLAN", {"FILE": str(night)})).ok
    client = agent.client
    assert client.get(AGENT, "PLAN_STATUS", "NAME") == "two targets"
    assert client.get(AGENT, "PLAN_STATUS", "TARGETS") == "M42, Darks"
    assert client.get(AGENT, "SEQUENCE_STATE", "PROGRESS_TOTAL") == 3
    assert client.get(AGENT, "SEQUENCE_STATE", "EXPOSURE_TOTAL") == 70
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    await agent.until("SEQUENCE_STATE", "Busy")
    assert agent.factory.r.camera.shutter is not None
    agent.factory.r.camera.shutter.release()
    for _ in range(2):
        agent.factory.r.camera.shutter.release()
    state = await agent.until("SEQUENCE_STATE", "Ok")
    assert state.member("PROGRESS").getfloatvalue() == 3
    assert state.member("EXPOSURE").getfloatvalue() == 70
    await agent.until("AGENT_START_PROCESS", "Ok")
    assert client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "Off"
    last = await agent.until("AGENT_LAST_FRAME", "Ok")
    assert last.message == "Darks_NoFilter_Dark_001.fits"
    assert read_header(agent.factory.store.files[f"darks/{last.message}"])["OBJECT"] == "Darks"
    assert client.get(AGENT, "AGENT_IMAGER_STATS", "TARGET") == 2


async def test_pause_then_start_resumes_and_abort_stops_at_once(agent: Agent) -> None:
    """PAUSE while a frame exposes: that frame is finished, SEQUENCE_STATE goes Idle
    ("paused") with one frame done; START resumes it; ABORT during the next exposure aborts
    the camera and SEQUENCE_STATE says Alert with the reason, the frame not saved."""
    assert (await agent.set("AGENT_PLAN_UPLOAD",
                            {"PLAN": (GOOD.encode(), len(GOOD), ".toml")})).ok
    camera = agent.factory.r.camera
    assert camera.shutter is not None
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    await camera.exposing.wait()
    await agent.send("AGENT_PAUSE_PROCESS", {"PAUSE": "On"})
    pause = agent.client.vector(AGENT, "AGENT_PAUSE_PROCESS")
    await until(lambda: pause.message == "after the frame in hand", what="PAUSE's answer")
    camera.shutter.release()
    state = await agent.until("SEQUENCE_STATE", "Idle")
    assert state.message == "paused" and state.member("PROGRESS").getfloatvalue() == 1
    await agent.until("AGENT_PAUSE_PROCESS", "Ok")
    assert agent.factory.store.order == ["lights/Red/M42_Red_Light_001.fits"]
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    await agent.until("SEQUENCE_STATE", "Busy")
    await until(camera.exposing.is_set, what="the second frame's exposure")
    aborted = await agent.set("AGENT_ABORT_PROCESS", {"ABORT": "On"})
    assert aborted.ok
    state = await agent.until("SEQUENCE_STATE", "Alert")
    assert state.message == "aborted by a client"
    assert camera.aborted == 1 and camera.warmed == 1
    assert agent.factory.store.order == ["lights/Red/M42_Red_Light_001.fits"]
    assert agent.factory.calls == ["two targets"]


async def test_a_lost_device_turns_the_state_alert_naming_it(agent: Agent) -> None:
    """A mount that stays lost through the retries pauses the run: SEQUENCE_STATE Alert with
    the mount named, START Alert; the agent keeps answering (a later load is accepted)."""
    agent.factory.r.mount.failing.always = DeviceLost("Telescope Simulator", "not connected")
    assert (await agent.set("AGENT_PLAN_UPLOAD",
                            {"PLAN": (GOOD.encode(), len(GOOD), ".toml")})).ok
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    state = await agent.until("SEQUENCE_STATE", "Alert")
    assert "Telescope Simulator: not connected" in state.message
    await agent.until("AGENT_START_PROCESS", "Alert")
    assert (await agent.set("AGENT_PLAN_UPLOAD",
                            {"PLAN": (GOOD.encode(), len(GOOD), ".toml")})).ok


async def test_focusing_without_autofocus_is_refused(agent: Agent) -> None:
    """FOCUSING on an agent with no autofocus run (no focuser, no [agents] extra) is refused
    with the reason; nothing moves."""
    start = await agent.set("AGENT_START_PROCESS", {"FOCUSING": "On"})
    assert start.state == "Alert" and "autofocus needs a focuser" in start.message
    assert agent.factory.r.sky.log == []


@pytest.mark.parametrize("agent", [True], indirect=True)
async def test_focusing_runs_autofocus_alone_and_shows_its_hfd(agent: Agent) -> None:
    """FOCUSING runs autofocus alone (INDIGO's name): START goes Ok with where it focused, and
    AGENT_IMAGER_STATS.HFD shows twice the HFR found."""
    start = await agent.set("AGENT_START_PROCESS", {"FOCUSING": "On"})
    assert start.state == "Ok" and "focused at 4990" in start.message
    assert agent.client.get(AGENT, "AGENT_IMAGER_STATS", "HFD") == 4.5
    assert agent.factory.r.sky.said("autofocus") == ["autofocus"]


async def test_clients_leaving_do_not_stop_it_but_a_disconnect_pauses(agent: Agent) -> None:
    """Started, the run is the agent's: the client that started it leaves and the frames go
    on; a DISCONNECT of the agent by another client pauses it after the frame in hand."""
    assert (await agent.set("AGENT_PLAN_UPLOAD",
                            {"PLAN": (GOOD.encode(), len(GOOD), ".toml")})).ok
    camera = agent.factory.r.camera
    assert camera.shutter is not None
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    await agent.until("SEQUENCE_STATE", "Busy")
    port = agent.client.connection.port
    await agent.client.close()
    camera.shutter.release()
    await until(lambda: len(agent.factory.store.order) == 1, what="a frame with no client")
    async with indipyclient.connect("127.0.0.1", port) as other:
        await other.wait_for(AGENT, "SEQUENCE_STATE", timeout=10)
        await until(camera.exposing.is_set, what="the second frame's exposure")
        result = await other.set(AGENT, "CONNECTION", {"DISCONNECT": "On"}, timeout=10)
        assert result.state == "Idle" and not result.timed_out
        camera.shutter.release()
        await until(lambda: agent.factory.journal.kinds("paused"), what="the pause")
    assert agent.factory.store.order == ["lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits"]
    assert agent.factory.journal.kinds("paused") == [{"reason": "paused by a client"}]


class LateRig:
    """A factory whose rig is not there at first: it raises `failures` in turn (a device
    not defined yet, the server not listening yet), then builds the run."""

    def __init__(self, factory: Factory, failures: list[Exception]) -> None:
        self.factory = factory
        self.failures = failures

    async def __call__(self, plan: Plan, plan_text: str, observer: Observer) -> Sequencer:
        if self.failures:
            raise self.failures.pop(0)
        return await self.factory(plan, plan_text, observer)


@pytest.mark.parametrize("gives_up", [False, True], ids=["rig comes", "rig never comes"])
async def test_a_resumed_night_waits_for_its_rig_by_the_retry_policy(gives_up: bool) -> None:
    """The agent resuming a night after a power cut, its drivers not up yet: the rig is asked
    again by the retry policy (SEQUENCE_STATE Busy saying it waits) and the night runs to Ok
    once it is there; when it never comes, SEQUENCE_STATE goes Alert naming the device, and
    nothing ran. (Before, the first DeviceLost left the night not resumed.)"""
    factory = Factory(rigged())
    lost = DeviceLost("Python CCD Simulator", "no such device")
    failures: list[Exception] = [lost, ConnectionError("connection refused")] if not gives_up \
        else [lost] * 4
    face = SequencerFace(LateRig(factory, failures), parse_plan_double)
    driver = IPyDriver(Device(AGENT, roles=[face]))
    async with running(server(driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.wait_for(AGENT, "SEQUENCE_STATE", timeout=10)
        messages: list[str] = []
        def said(event: Any) -> bool:
            if isinstance(event, events.setVector) and \
                    event.vectorname == "SEQUENCE_STATE":
                messages.append(event.vector.message)
            return False  # watched to the end of the block

        with client.waiters.watching(said):
            await face.resume(GOOD, "journal (resumed)",
                              retry=Retry(ConstantBackoff(0.0), retries=3))
            state = await client.wait_for(AGENT, "SEQUENCE_STATE",
                                          state="Alert" if gives_up else "Ok", timeout=10)
    assert any(m.startswith("resuming: waiting for Python CCD Simulator") for m in messages)
    if gives_up:
        assert "not resumed: Python CCD Simulator" in state.message
        assert factory.calls == [] and factory.store.order == []
    else:
        assert factory.calls == ["two targets"]
        assert state.member("PROGRESS").getfloatvalue() == 3


async def test_agent_safety_is_there_from_the_start_and_holds_the_next_run(
        agent: Agent) -> None:
    """AGENT_SAFETY (SAFE On at first) and AGENT_SAFETY_CAUSE are defined before any plan;
    the cause then UNSAFE are answered Ok with no plan loaded, and the next START holds at once (SEQUENCE_STATE Busy "held: unsafe
    (clouds)", nothing exposed); SAFE clears the cause and the plan runs to Ok."""
    client = agent.client
    assert client.get(AGENT, "AGENT_SAFETY", "SAFE") == "On"
    assert client.get(AGENT, "AGENT_SAFETY_CAUSE", "CAUSE") == ""
    assert (await agent.set("AGENT_SAFETY_CAUSE", {"CAUSE": "clouds"})).ok
    assert (await agent.set("AGENT_SAFETY", {"UNSAFE": "On"})).ok
    assert client.get(AGENT, "AGENT_SAFETY", "SAFE") == "Off"
    assert (await agent.set("AGENT_PLAN_UPLOAD",
                            {"PLAN": (GOOD.encode(), len(GOOD), ".toml")})).ok
    await agent.send("AGENT_START_PROCESS", {"SEQUENCE": "On"})
    state = agent.client.vector(AGENT, "SEQUENCE_STATE")
    await until(lambda: state.message == "held: unsafe (clouds)", what="the hold")
    assert state.state == "Busy" and agent.factory.r.camera.exposures == []
    agent.factory.r.camera.shutter = None
    assert (await agent.set("AGENT_SAFETY", {"SAFE": "On"})).ok
    assert client.get(AGENT, "AGENT_SAFETY_CAUSE", "CAUSE") == ""
    await agent.until("SEQUENCE_STATE", "Ok")
    assert len(agent.factory.store.order) == 3
