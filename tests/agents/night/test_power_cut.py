"""Issue 71 item 5's proof, with indilib's ``indi_setprop``/``indi_getprop`` as the only
client (item 8): a night on our server (a child process: the imager agent and our simulated
camera, wheel and mount) killed with SIGKILL at seeded random moments (while it starts, right
after a frame lands, during an exposure) and started again with the same command and no
client action resumes by itself, and ends with exactly the planned frames, each whole, each
journalled once. The same when only the agent's process (an executable driver) is killed and
our server restarts it. A night a client paused stays paused through a kill; a finished
night runs nothing again."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import write_plan
from powercutkit import LONG
from powercutkit import Rig
from powercutkit import check_night
from powercutkit import frames_on_disk
from powercutkit import long_night_at_first_frame
from powercutkit import night_plan
from powercutkit import planned_files
from powercutkit import wait_frames

#: Frames on disk after which each kill comes: the first while the night starts (the slew,
#: the wheel, the first exposure), then four spread over the night, alternately the moment
#: a frame lands and a moment into the next exposure.
SEED = 71


def kill_points(rng: random.Random, frames: int) -> list[tuple[str, int, float]]:
    """(what the kill interrupts, frames on disk first, seconds after) for one night."""
    points = [("the start", 0, rng.uniform(0.3, 1.5))]
    for order, after in enumerate(sorted(rng.sample(range(1, frames - 1), 4))):
        if order % 2 == 0:
            points.append(("a frame just landed", after, 0.0))
        else:
            points.append(("an exposure", after, rng.uniform(0.1, 0.4)))
    return points


def run_killed_night(tmp_path: Path, *, agent_only: bool) -> None:
    """The night, its kills and restarts, and the end checks (both variants)."""
    rig = Rig(tmp_path, agent_as_executable=agent_only)
    plan = write_plan(tmp_path / "plan.toml", night_plan("night"))
    folder = rig.images / "night"
    expected = planned_files()
    try:
        rig.start()
        rig.load_and_start(plan)
        rig.wait_seen("Busy")
        for what, after, delay in kill_points(random.Random(SEED), len(expected)):
            wait_frames(folder, after, rig)
            time.sleep(delay)  # the moment of the kill, not a look
            if agent_only:
                rig.agent_pid(other_than=rig.kill_agent())  # our server restarts it
            else:
                rig.kill_all()
                rig.start()  # the same command; no client action follows
            on_disk = len(frames_on_disk(folder))
            seen = rig.wait_seen("Busy", at_least=on_disk)
            assert seen.total == len(expected), (what, seen)
        rig.wait_seen("Ok", at_least=len(expected), timeout=120)
        frames = check_night(folder, expected)
        assert len(frames) == len(expected)
    finally:
        rig.stop()


@pytest.mark.timeout(300)
def test_a_night_killed_with_its_server_at_random_moments_ends_with_exactly_its_frames(
        tmp_path: Path) -> None:
    """SIGKILL to the server's whole process group five times (while starting, right after a
    frame lands, during an exposure), each time the same command again and no client: the
    agent resumes by itself (SEQUENCE_STATE Busy, PROGRESS at least the frames on disk), and
    at the end exactly the 10 planned frames exist, whole (size as the header says, EXPTIME
    and FILTER of their batch), no partial left, each in the journal once with its digest."""
    run_killed_night(tmp_path, agent_only=False)


@pytest.mark.timeout(300)
def test_a_night_whose_agent_process_is_killed_at_random_moments_ends_with_its_frames(
        tmp_path: Path) -> None:
    """The agent as an executable driver of our server (``indipy_agent_imager``, told the
    server by INDIPY_AGENT_SERVER) killed with SIGKILL five times: the server restarts it,
    the agent resumes the night by itself, and the end is the same: exactly the planned
    frames, whole, each journalled once."""
    run_killed_night(tmp_path, agent_only=True)


@pytest.mark.timeout(180)
def test_a_night_paused_by_a_client_stays_paused_through_a_kill(tmp_path: Path) -> None:
    """A client's PAUSE during the night, then SIGKILL as soon as the agent answers it (the
    frame in hand not finished yet), and the same command again: the agent says it does not
    resume a night a client paused, shows nothing running (SEQUENCE_STATE Idle, PROGRESS 0)
    and takes no frame; the client's load and START then continue it to exactly its frames."""
    rig = Rig(tmp_path)
    try:
        plan, folder = long_night_at_first_frame(rig)
        time.sleep(0.5)  # the moment of the pause: into the second frame's exposure
        rig.set(f"{AGENT}.AGENT_PAUSE_PROCESS.PAUSE=On")
        rig.wait_state("AGENT_PAUSE_PROCESS", ("Busy", "Ok"))  # the agent has it
        rig.kill_all()
        kept = frames_on_disk(folder)
        rig.start()
        assert rig.server.wait_for_log("it was paused by a client", 30), rig.log_tail()
        seen = rig.answer()
        assert (seen.state, seen.progress) == ("Idle", 0), seen
        assert frames_on_disk(folder) == kept
        rig.load_and_start(plan)
        rig.wait_seen("Ok", at_least=4, timeout=90)
        check_night(folder, planned_files(2), exposure=LONG)
    finally:
        rig.stop()


@pytest.mark.timeout(180)
def test_a_finished_night_runs_nothing_again_after_a_kill(tmp_path: Path) -> None:
    """A night run to its end (SEQUENCE_STATE Ok), then SIGKILL and the same command again:
    the agent says the night finished and resumes nothing; no frame is added or rewritten and
    the journal gains no line."""
    rig = Rig(tmp_path)
    plan = write_plan(tmp_path / "plan.toml",
                      night_plan("night", count=2, dither=False))
    folder = rig.images / "night"
    try:
        rig.start()
        rig.load_and_start(plan)
        rig.wait_seen("Ok", at_least=4, timeout=90)
        journal = next((folder / ".journal").iterdir())
        before = {name: os.stat(folder / name).st_mtime_ns for name in frames_on_disk(folder)}
        journal_before = journal.read_bytes()
        rig.kill_all()
        rig.start()
        assert rig.server.wait_for_log("it was finished", 30), rig.log_tail()
        seen = rig.answer()
        assert (seen.state, seen.progress) == ("Idle", 0), seen
        after = {name: os.stat(folder / name).st_mtime_ns for name in frames_on_disk(folder)}
        assert after == before and sorted(after) == planned_files(2)
        assert journal.read_bytes() == journal_before
        check_night(folder, planned_files(2))
    finally:
        rig.stop()
