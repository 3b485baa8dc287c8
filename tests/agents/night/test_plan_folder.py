"""A plan's frames kept to themselves (issue 79 item 10): a plan with no ``folder`` used to save
its frames loose in IMAGE_FOLDER (indilib's default ``/tmp``), and every start walked that
whole tree, one log line for each file it met that was not a frame of the plan. Now such a
plan's frames go in a folder of its own, ``<plan name>-<date of the night's evening>``, and a
resume looks only at the frames its plan and journal name, in that folder.

The night is the power-cut tests' (our server a child process with the agent and our
simulators, indilib's ``indi_setprop``/``indi_getprop`` the only client), killed with SIGKILL
and started again with the same command."""

from __future__ import annotations

import os
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from agentkit import write_plan
from powercutkit import Rig
from powercutkit import check_night
from powercutkit import frames_on_disk
from powercutkit import night_plan
from powercutkit import planned_files
from waiting import wait_for

COUNT = 3


def fill_with_strangers(images: Path) -> dict[Path, int]:
    """IMAGE_FOLDER as a shared ``/tmp`` is: hundreds of files that are none of the plan's,
    subfolders, and a frame of an earlier night loose in it with the very name this plan's
    first frame will have; returns each file's modification time (to see none touched)."""
    strangers = [images / f"unrelated-{n:03d}.dat" for n in range(300)]
    strangers += [images / "someone-else" / f"IMG_1_{n:03d}.fits" for n in range(1, 60)]
    strangers += [images / "deep" / "deeper" / "deepest" / ".X.fits.partial-1-abc",
                  images / "lights/Red/High_Red_Light_001.fits"]
    for path in strangers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not this plan's")
    return {path: path.stat().st_mtime_ns for path in strangers}


def evening(moment: datetime) -> str:
    """The date a night is named by, spelt out: before local noon, the day before."""
    return (moment - timedelta(hours=12)).date().isoformat()


@pytest.mark.timeout(240)
def test_a_plan_without_folder_keeps_its_frames_to_themselves_through_a_kill(
        tmp_path: Path) -> None:
    """A plan with no ``folder``, IMAGE_FOLDER full of unrelated files and subfolders: the
    frames land in ``IMAGE_FOLDER/power_cut-<date>``, nothing else is added to IMAGE_FOLDER;
    SIGKILL to the server after two frames and the same command again: the night resumes in
    that folder and ends with exactly its frames, each whole and journalled once (none
    repeated; the earlier night's loose file of the same name is not taken for one); the
    unrelated files are untouched and the server's log names none of them."""
    rig = Rig(tmp_path)
    strangers = fill_with_strangers(rig.images)
    before = sorted(os.listdir(rig.images))
    plan = write_plan(tmp_path / "plan.toml", night_plan("", count=COUNT, dither=False))
    started = datetime.now()
    expected = planned_files(COUNT)
    try:
        rig.start()
        rig.load_and_start(plan)

        def own_folder() -> Path | None:
            made = sorted(set(os.listdir(rig.images)) - set(before))
            return rig.images / made[0] if made else None

        folder = wait_for(own_folder, 60, lambda: f"the plan's folder\n{rig.log_tail()}")
        assert folder.name in {f"power_cut-{evening(started)}",
                               f"power_cut-{evening(datetime.now())}"}, folder
        wait_for(lambda: len(frames_on_disk(folder)) >= 2, 90,
                 lambda: f"2 frames in {folder}\n{rig.log_tail()}", interval=0.005)
        rig.kill_all()
        rig.start()  # the same command; no client action follows
        assert rig.server.wait_for_log("resuming the night of", 30), rig.log_tail()
        rig.wait_seen("Ok", at_least=len(expected), timeout=120)
        frames = check_night(folder, expected)
        assert len(frames) == len(expected)
        assert sorted(os.listdir(rig.images)) == sorted([*before, folder.name])
        log = rig.server.log_text()
    finally:
        rig.stop()
    assert all(path.read_bytes() == b"not this plan's" and path.stat().st_mtime_ns == mtime
               for path, mtime in strangers.items())
    assert "left alone" not in log and "not a frame" not in log
    for path in strangers:
        if path.name not in expected:  # the loose namesake's name is the plan's frame's too
            assert path.name not in log, path
