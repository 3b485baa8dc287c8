"""The crash test of issue 71 item 5: a night of frames saved and journalled by a child process
that is SIGKILLed 30 times at random moments, and at chosen ones (mid-save, between the save
and its record, mid-record), and restarted each time. At the end exactly the planned frames
exist, each whole and correct, none repeated, no partial left, and the journal lists each
frame exactly once."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from journal_crash_child import frame_bytes
from journal_crash_child import frame_steps

from indipyagents.journal import Journal

CHILD = Path(__file__).with_name("journal_crash_child.py")
FRAMES = 60
#: The kills: at chosen moments (each at the run's first or second frame), and at random.
KILLS = ["mid-save"] * 4 + ["after-save"] * 4 + ["torn"] * 4 + ["random"] * 18


def night(folder: Path, journal: Path, seed: str, stall: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(folder), str(journal), str(FRAMES), seed, stall],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_once(folder: Path, journal: Path, rng: random.Random, seed: str, kind: str) -> str:
    """One run of the night, killed with SIGKILL at a `kind` moment; returns its stderr."""
    stall = "none" if kind == "random" else f"{kind}:{rng.randint(1, 2)}"
    with night(folder, journal, seed, stall) as child:
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready == "ready\n", f"{ready!r}: {child.communicate()[1]}"
        if kind == "random":
            time.sleep(rng.uniform(0, 0.04))
        else:
            assert child.stdout.readline() == "stalled\n", child.communicate()[1]
            if kind == "mid-save":
                assert any(".partial-" in path.name for path in folder.iterdir())
        child.kill()
        out, err = child.communicate()
    assert "finished" not in out, "the night ended before the test's kills did: slow it"
    return err


@pytest.mark.timeout(180)
def test_sigkill_at_any_moment_loses_no_frame_and_repeats_none(tmp_path: Path) -> None:
    """Kill after kill, each restart resumes from the journal and the folder (the child's
    `reconcile`), and the night ends with every planned frame once: the files are exactly the
    plan's, byte for byte; no partial is left; the journal lists each frame and each step done
    once, the frames saved but not journalled as recovered, the torn records cut off."""
    rng = random.Random(71)
    kills = KILLS.copy()
    rng.shuffle(kills)
    folder, journal = tmp_path / "frames", tmp_path / "night.jsonl"
    errors = [kill_once(folder, journal, rng, f"71-{index}", kind)
              for index, kind in enumerate(kills)]
    with night(folder, journal, "71-last", "none") as child:
        out, err = child.communicate(timeout=120)
    assert child.returncode == 0 and out.endswith("finished\n"), err

    steps = frame_steps(FRAMES)
    assert sorted(path.name for path in folder.iterdir()) == sorted(file for _, file in steps)
    for step, file in steps:
        assert (folder / file).read_bytes() == frame_bytes(step), file

    records = [json.loads(line) for line in journal.read_bytes().splitlines()]
    frames = Counter(record["step"] for record in records if record["kind"] == "frame")
    done = Counter(record["step"] for record in records if record["kind"] == "done")
    assert frames == done == Counter(step for step, _ in steps)
    kinds = Counter(record["kind"] for record in records)
    assert kinds["start"] == 1 and kinds["finished"] == 1 and records[-1]["kind"] == "finished"
    assert kinds["resumed"] == len(KILLS)
    recovered = sum(1 for record in records if record.get("recovered"))
    assert recovered >= KILLS.count("after-save") + KILLS.count("torn")
    torn = sum(error.count("cut off a torn last line") for error in [*errors, err])
    assert torn == KILLS.count("torn")
    state = Journal(journal).state()
    assert state.finished and state.frames == dict(steps)
