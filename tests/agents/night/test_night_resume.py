"""`Night`'s side of a restart (indipyagents/imageragent/night.py), the fixes the power-cut test
led to: a resumed night goes on in its own journal and folder though the restarted agent's
IMAGE_FOLDER is back to its default (it used to start the night afresh in ``/tmp``), and
IMAGE_FOLDER shows the folder again; what is not resumed (finished, aborted, paused by a
client, a record that cannot be read) is said in the log. In-process: our server with the
agent and our simulated camera and wheel, indipyclient watching."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imager.face import ImagerFace
from indipyagents.imageragent.driver import make_driver
from indipyagents.imageragent.night import CLIENT_PAUSE
from indipyagents.imageragent.night import Night
from indipyagents.imageragent.night import Unfinished
from indipyagents.journal import Journal
from indipyagents.link import AgentLink
from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipycore.fits import read_header
from indipysimulators import ccd
from indipysimulators import focus

PLAN = plan_to_toml(night("resumed", target("Darkish", Batch(2, 0.1, "Red")), camera=ccd.DEVICE,
                          wheel=focus.WHEEL))
FRAMES = ["lights/Red/Darkish_Red_Light_001.fits", "lights/Red/Darkish_Red_Light_002.fits"]


def remember(state: Path, journal: Path, image_folder: str | None) -> None:
    """current.json as an agent that died running the night left it (`image_folder` None:
    a record written before IMAGE_FOLDER was kept)."""
    state.mkdir()
    record = {"journal": str(journal), "plan": PLAN}
    if image_folder is not None:
        record["image_folder"] = image_folder
        record["plan_file"] = "/plans/resumed.toml"
    (state / "current.json").write_text(json.dumps(record))


@pytest.mark.parametrize("kept", [True, False], ids=["image folder kept", "older record"])
async def test_a_resumed_night_goes_on_in_its_own_folder(tmp_path: Path, kept: bool) -> None:
    """A night begun in IMAGE_FOLDER=<images> (its journal started), the
    agent restarted with IMAGE_FOLDER back at its default: the night resumes by itself in
    <images>/night (one start record), journals each frame once and ends Ok;
    IMAGE_FOLDER shows <images> again when current.json kept it."""
    images = tmp_path / "images"
    folder = images / "night"
    journal_path = folder / ".journal" / "resumed.journal"
    with Journal(journal_path) as journal:
        journal.start("resumed", PLAN)
    remember(tmp_path / "state", journal_path, str(images) if kept else None)
    agent = make_driver(state=tmp_path / "state")
    async with running(server(agent, ccd.make_driver(), focus.make_driver())) as served, \
            indipyclient.connect("127.0.0.1", served.port) as client:
        def state() -> str:
            vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
            return vector.state.value if vector is not None else ""

        await until(lambda: state() == "Ok", 30, lambda: f"SEQUENCE_STATE Ok, not {state()}")
        shown = client.get(AGENT, "IMAGE_NAME", "IMAGE_FOLDER")
        plan = client.vector(AGENT, "PLAN_STATUS")
        # Issue 89 item 10: after the restart, PLAN_STATUS says which plan runs, from where,
        # and that none was refused.
        assert (plan["NAME"], plan["SOURCE"]) == ("resumed", "resumed.journal (resumed)")
        assert client.get(AGENT, "PLAN_CHECK", "REFUSED") == ""
        # and AGENT_PLAN names its file again (none in an older record)
        loaded = client.vector(AGENT, "AGENT_PLAN")
        assert (loaded.state.value, loaded["FILE"]) == ("Ok", "/plans/resumed.toml" if kept
                                                        else "")
    assert sorted(p.name for p in folder.iterdir()) == [".journal", "lights"]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits")) == FRAMES
    for name in FRAMES:
        assert read_header((folder / name).read_bytes())["FILTER"] == "Red"
    records = Journal(journal_path).records()
    assert sorted(r["file"] for r in records if r["kind"] == "frame") == FRAMES
    assert [r["kind"] for r in records].count("start") == 1
    assert shown == (str(images) if kept else "/tmp")


def night_of(tmp_path: Path) -> Night:
    link = AgentLink("127.0.0.1", 1)
    return Night(link, ImagerFace(link), tmp_path / "state")


@pytest.mark.parametrize(("ending", "said"), [
    ("finished", "it was finished"), ("aborted", "it was aborted"),
    ("paused", "it was paused by a client")])
def test_a_night_ended_or_paused_by_a_client_is_not_resumed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str, said: str) -> None:
    """A journal whose last word is finished, aborted or a client's pause: `unfinished` is
    None and the log says why."""
    journal_path = tmp_path / "night" / ".journal" / "resumed.journal"
    with Journal(journal_path) as journal:
        journal.start("resumed", PLAN)
        if ending == "finished":
            journal.finished()
        elif ending == "aborted":
            journal.aborted("aborted by a client")
        else:
            journal.paused(CLIENT_PAUSE)
    remember(tmp_path / "state", journal_path, str(tmp_path))
    with caplog.at_level(logging.INFO, logger="indipyagents.imageragent.night"):
        assert night_of(tmp_path).unfinished() is None
    assert said in caplog.text


def test_a_night_paused_by_a_failure_is_resumed(tmp_path: Path) -> None:
    """A pause the run made itself (a device lost) is no client's: the night is resumed,
    with the IMAGE_FOLDER it was started with."""
    journal_path = tmp_path / "night" / ".journal" / "resumed.journal"
    with Journal(journal_path) as journal:
        journal.start("resumed", PLAN)
        journal.paused("Python CCD Simulator: lost")
    remember(tmp_path / "state", journal_path, str(tmp_path))
    assert night_of(tmp_path).unfinished() == Unfinished(journal_path, PLAN, str(tmp_path),
                                                         "/plans/resumed.toml")


@pytest.mark.parametrize("text", ["", "{", "[]", '{"journal": 3}', '{"plan": "x"}'])
def test_an_unreadable_record_resumes_nothing(tmp_path: Path, text: str) -> None:
    """current.json empty, torn, not an object or lacking a field: nothing is resumed, and
    the agent starts (no exception)."""
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "current.json").write_text(text)
    assert night_of(tmp_path).unfinished() is None


def test_current_json_is_durable_before_it_takes_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """current.json is written to a partial file, fsynced, renamed, and its folder fsynced (a
    power cut right after START must find it whole; the state folder made on the way is made
    durable in its parent), and read back as the night to resume."""
    import os

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    night = night_of(tmp_path)
    journal_path = tmp_path / "night" / ".journal" / "resumed.journal"
    with Journal(journal_path) as journal:
        journal.start("resumed", PLAN)
    monkeypatch.setattr(os, "fsync", fsync)
    night.plan_file = lambda: "/plans/resumed.toml"  # the file the face loaded it from
    night._remember(journal_path, PLAN, str(tmp_path))
    state = tmp_path / "state"
    # the state folder made (durable in its parent), the partial's data, then the name
    assert len(synced) == 3 and synced[0] == str(tmp_path) and synced[2] == str(state), synced
    assert Path(synced[1]).parent == state, synced
    assert Path(synced[1]).name.startswith(".current.json.partial-"), synced
    assert sorted(p.name for p in state.iterdir()) == ["current.json"]
    assert night.unfinished() == Unfinished(journal_path, PLAN, str(tmp_path),
                                            "/plans/resumed.toml")
