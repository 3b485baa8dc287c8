"""`reconcile`, the resume rule: which steps are done, from the journal and the frames on disk,
and what the journal gains so it lists each frame exactly once."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indipyagents.journal import FrameStore
from indipyagents.journal import Journal
from indipyagents.journal import reconcile

PLAN = 'name = "night"\n'
#: The plan's frame steps as the sequencer hands them: (step id, file name).
STEPS = [(f"M42/1/Red/Light/{n:03d}", f"M42_Red_Light_{n:03d}.fits") for n in range(1, 5)]


def frame(step: str) -> bytes:
    return step.encode() * 1000


def save_and_journal(store: FrameStore, journal: Journal, index: int) -> None:
    step, file = STEPS[index]
    journal.begin(step)
    data = frame(step)
    store.save(file, data)
    journal.frame_saved(step, file, len(data), hashlib.sha256(data).hexdigest())
    journal.done(step)


@pytest.fixture
def night(tmp_path: Path) -> Iterator[tuple[FrameStore, Journal]]:
    store = FrameStore(tmp_path / "frames")
    with Journal(tmp_path / "night.jsonl") as journal:
        journal.start("night", PLAN)
        yield store, journal


def test_the_journal_alone_says_what_is_done(night: tuple[FrameStore, Journal]) -> None:
    """Frames saved and journalled, and the other steps journalled done, are done; nothing is
    written to a journal that lacks nothing."""
    store, journal = night
    journal.begin("M42/slew")
    journal.done("M42/slew")
    save_and_journal(store, journal, 0)
    save_and_journal(store, journal, 1)
    before = journal.path.read_bytes()
    done = reconcile(journal.state(), store, STEPS, journal)
    assert done == {"M42/slew", STEPS[0][0], STEPS[1][0]}
    assert journal.path.read_bytes() == before


def test_a_frame_saved_but_not_journalled_is_done_and_recovered(
        night: tuple[FrameStore, Journal], caplog: pytest.LogCaptureFixture) -> None:
    """Killed between the save and its record: the whole frame on disk counts as done, and
    the journal gains its frame record (marked recovered, with the file's size and sha256) and
    its done record; a second reconcile adds nothing."""
    store, journal = night
    save_and_journal(store, journal, 0)
    journal.begin(STEPS[1][0])
    store.save(STEPS[1][1], frame(STEPS[1][0]))
    with caplog.at_level(logging.INFO):
        done = reconcile(journal.state(), store, STEPS, journal)
    assert done == {STEPS[0][0], STEPS[1][0]}
    assert f"recovered frame {STEPS[1][1]}" in caplog.text
    state = journal.state()
    saved = state.saved[STEPS[1][0]]
    assert saved.recovered and saved.file == STEPS[1][1]
    assert saved.size == len(frame(STEPS[1][0]))
    assert saved.sha256 == hashlib.sha256(frame(STEPS[1][0])).hexdigest()
    assert state.done == done
    records = journal.records()
    assert reconcile(journal.state(), store, STEPS, journal) == done
    assert journal.records() == records


def test_a_frame_journalled_but_not_done_is_done(night: tuple[FrameStore, Journal]) -> None:
    """Killed between the frame record and the done record: done, and the journal says so."""
    store, journal = night
    step, file = STEPS[0]
    store.save(file, frame(step))
    journal.frame_saved(step, file, len(frame(step)), "00")
    assert reconcile(journal.state(), store, STEPS, journal) == {step}
    assert journal.state().done == {step}
    assert [r["kind"] for r in journal.records()].count("frame") == 1


def test_partials_are_swept_and_their_steps_not_done(night: tuple[FrameStore, Journal]) -> None:
    """Killed mid-save: the partial file is removed and its step is to be taken again."""
    store, journal = night
    journal.begin(STEPS[0][0])
    (store.folder / f".{STEPS[0][1]}.partial-999").parent.mkdir(parents=True)
    (store.folder / f".{STEPS[0][1]}.partial-999").write_bytes(b"half a frame")
    assert reconcile(journal.state(), store, STEPS, journal) == set()
    assert list(store.folder.iterdir()) == []


def test_files_the_plan_does_not_name_are_left_alone_unsaid_and_unread(
        night: tuple[FrameStore, Journal], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Files in the frames' folder that are no frame of this plan (another night's, a shared
    folder's hundreds) stay as they are and are not said in the log, one line each, as they
    used to be (issue 79 item 10); the folder's tree is never walked: only the folder itself
    is read (for partials), the plan's frames asked for by name."""
    store, _ = night
    (store.folder / "sub" / "deeper").mkdir(parents=True)
    strangers = [store.folder / f"IMG_1_{n:03d}.fits" for n in range(1, 200)]
    strangers.append(store.folder / "sub" / "deeper" / "notes.txt")
    for path in strangers:
        path.write_bytes(b"another night")
    read: list[Path] = []
    real_scandir = os.scandir

    def recording(path: Any = ".") -> Any:
        read.append(Path(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording)
    monkeypatch.setattr(Path, "rglob", lambda *_: pytest.fail("the folder was walked"))
    with Journal(store.folder / "night.jsonl") as journal, caplog.at_level(logging.DEBUG):
        journal.start("night", PLAN)
        assert reconcile(journal.state(), store, STEPS, journal) == set()
    assert caplog.text == ""
    assert set(read) == {store.folder}
    assert all(path.read_bytes() == b"another night" for path in strangers)


def test_a_journalled_frame_moved_away_is_not_taken_again(
        night: tuple[FrameStore, Journal], caplog: pytest.LogCaptureFixture) -> None:
    """The journal is the record: a saved frame since moved out of the folder still counts as
    done (taking it again would repeat it), and the absence is logged; a size that differs
    is logged too."""
    store, journal = night
    save_and_journal(store, journal, 0)
    save_and_journal(store, journal, 1)
    store.path(STEPS[0][1]).unlink()
    store.path(STEPS[1][1]).write_bytes(b"short")
    with caplog.at_level(logging.WARNING):
        done = reconcile(journal.state(), store, STEPS, journal)
    assert done == {STEPS[0][0], STEPS[1][0]}
    assert "journalled but not in" in caplog.text
    assert "has 5 bytes, the journal says" in caplog.text


def test_a_frame_step_done_without_its_frame_is_taken_again(
        night: tuple[FrameStore, Journal], caplog: pytest.LogCaptureFixture) -> None:
    """A done record for a frame step with neither a frame record nor a file (a journal
    edited by hand) does not make the frame exist: the step is not done, and that is logged."""
    store, journal = night
    journal.done(STEPS[2][0])
    with caplog.at_level(logging.WARNING):
        assert reconcile(journal.state(), store, STEPS, journal) == set()
    assert "without its frame" in caplog.text


def rejected_frame(step: str) -> bytes:
    """A FITS header with FILTER and REJECTED cards (as the sequencer writes a rejected
    frame's), then some data."""
    from indipycore.fits import fits_bytes
    return fits_bytes(8, 8, [int(step[-1])] * 64,
                      cards=[("FILTER", "Red", ""), ("REJECTED", "HFR 3.1 > 1.5 x median", "")])


def test_a_rejected_frame_is_not_done_and_one_left_at_its_name_is_moved_aside(
        night: tuple[FrameStore, Journal]) -> None:
    """Issue 93 item 2: a frame journalled rejected does not count (its step is taken again);
    killed after its verdict and before its move, it is found at its name with its REJECTED
    card, moved to rejected/<filter>/ (beside an earlier rejection of that name), not
    recovered as done."""
    store, journal = night
    save_and_journal(store, journal, 0)
    step, file = STEPS[1]
    for _ in range(2):
        journal.begin(step)
        data = rejected_frame(step)
        store.save(file, data, overwrite=True)
        journal.frame_saved(step, file, len(data), hashlib.sha256(data).hexdigest())
        journal.done(step)
        journal.frame_graded(step, file, {"stars": 0}, "rejected", ["no stars"])
    store.save("rejected/Red/" + file, b"the earlier rejection")
    done = reconcile(journal.state(), store, STEPS, journal)
    assert done == {STEPS[0][0]}
    assert not store.exists(file)
    assert store.path("rejected/Red/" + file.replace(".fits", "-2.fits")).read_bytes() == data
    assert journal.state().rejected == {step: 2}
