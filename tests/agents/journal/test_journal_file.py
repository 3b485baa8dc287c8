"""`Journal` on disk: each record a fsynced line, a torn last line cut off before appending,
corruption refused, one writer at a time."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from indipyagents.journal import Journal
from indipyagents.journal import JournalError
from indipyagents.journal.records import plan_digest

PLAN = 'name = "night"\n[[target]]\nname = "M42"\nra = 5.59\ndec = -5.39\n'


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_every_record_kind_is_written_and_read_back(tmp_path: Path) -> None:
    """start, begin, frame, done, note, paused, resumed, aborted and finished each write one
    line with their fields and a time; `state()` folds them."""
    path = tmp_path / "night.jsonl"
    with Journal(path) as journal:
        journal.start("night", PLAN)
        journal.begin("M42/1/Red/Light/001")
        journal.frame_saved("M42/1/Red/Light/001", "M42_Red_Light_001.fits", 12, "ab" * 32)
        journal.done("M42/1/Red/Light/001")
        journal.note("autofocus", position=1234, hfr=2.5, time="2026-11-27T22:00:00+00:00")
        journal.paused("Focuser Simulator: lost")
        journal.resumed()
        journal.frame_saved("M42/1/Red/Light/002", "M42_Red_Light_002.fits", 12, "cd" * 32,
                            recovered=True)
        journal.aborted("the user")
        journal.finished()
    written = lines(path)
    assert [line["kind"] for line in written] == [
        "start", "begin", "frame", "done", "note", "paused", "resumed", "frame", "aborted",
        "finished"]
    assert all(isinstance(line.pop("time"), str) for line in written)
    assert written[0] == {"kind": "start", "plan": "night", "sha256": plan_digest(PLAN),
                          "text": PLAN}
    assert written[2] == {"kind": "frame", "step": "M42/1/Red/Light/001",
                          "file": "M42_Red_Light_001.fits", "size": 12, "sha256": "ab" * 32}
    assert written[4] == {"kind": "note", "note": "autofocus",
                          "data": {"position": 1234, "hfr": 2.5,
                                   "time": "2026-11-27T22:00:00+00:00"}}
    assert written[7]["recovered"] is True
    state = Journal(path).state()
    assert (state.plan_name, state.plan_text) == ("night", PLAN)
    assert state.done == {"M42/1/Red/Light/001"}
    assert state.frames == {"M42/1/Red/Light/001": "M42_Red_Light_001.fits",
                            "M42/1/Red/Light/002": "M42_Red_Light_002.fits"}
    assert state.saved["M42/1/Red/Light/002"].recovered
    assert state.notes["autofocus"]["position"] == 1234
    assert state.aborted and state.finished


def test_each_line_is_fsynced_before_the_call_returns(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A record is on disk when its call returns: the journal's file is fsynced after each
    line, and the folder once when the file is created (its name made durable)."""
    path = tmp_path / "night.jsonl"
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        synced.append(("folder" if stat.S_ISDIR(info.st_mode) else "file", info.st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    journal = Journal(path)
    journal.start("night", PLAN)
    sizes = [path.stat().st_size]
    journal.begin("a")
    sizes.append(path.stat().st_size)
    journal.close()
    assert synced == [("folder", synced[0][1]), ("file", sizes[0]), ("file", sizes[1])]


def test_a_torn_last_line_is_ignored_then_cut_off(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A writer killed mid-line leaves a last line without its newline: reading leaves it
    out (and the file alone); the next writer cuts it off, says so, and appends after the last
    whole line."""
    path = tmp_path / "night.jsonl"
    with Journal(path) as journal:
        journal.start("night", PLAN)
        journal.done("a")
    whole = path.read_bytes()
    torn = b'{"kind":"frame","step":"b","file":"b.fi'
    path.write_bytes(whole + torn)
    assert Journal(path).state().done == {"a"}
    assert path.read_bytes() == whole + torn
    with caplog.at_level(logging.WARNING), Journal(path) as journal:
        journal.done("c")
    assert f"torn last line ({len(torn)} bytes)" in caplog.text
    assert path.read_bytes().startswith(whole)
    assert [line["kind"] for line in lines(path)] == ["start", "done", "done"]
    assert Journal(path).state().done == {"a", "c"}


def test_a_corrupt_line_is_refused_when_read_and_when_appended_to(tmp_path: Path) -> None:
    """A line in the middle that is not a record: `state()` raises naming the file and the
    line, and no record is appended after it (a journal that guesses resumes the wrong
    night); the file is left as it was, for a person to look at."""
    path = tmp_path / "night.jsonl"
    with Journal(path) as journal:
        journal.start("night", PLAN)
        journal.done("a")
        journal.done("b")
    text = path.read_bytes().splitlines(keepends=True)
    text[1] = b'{"kind":"done","step":"a"\n'
    path.write_bytes(b"".join(text))
    with pytest.raises(JournalError, match=r"night\.jsonl line 2: not a JSON record"):
        Journal(path).state()
    with pytest.raises(JournalError, match="line 2"):
        Journal(path).done("c")
    assert path.read_bytes() == b"".join(text)


def test_a_journal_holds_one_plan(tmp_path: Path) -> None:
    """A second start on a started journal is refused: a restart resumes the plan it holds."""
    path = tmp_path / "night.jsonl"
    with Journal(path) as journal:
        journal.start("night", PLAN)
    with Journal(path) as journal, pytest.raises(JournalError, match="already holds the plan"):
        journal.start("other", "")
    assert [line["kind"] for line in lines(path)] == ["start"]


def test_a_torn_start_leaves_a_journal_not_started(tmp_path: Path) -> None:
    """Killed while writing its first record, the journal is as new: the night starts over."""
    path = tmp_path / "night.jsonl"
    path.write_bytes(b'{"kind":"start","plan":"night","sha')
    assert not Journal(path).state().started
    with Journal(path) as journal:
        journal.start("night", PLAN)
    assert Journal(path).state().plan_text == PLAN


def test_a_missing_journal_reads_as_new(tmp_path: Path) -> None:
    """No file yet: no records, not started; the folder is made at the first record."""
    path = tmp_path / "a" / "b" / "night.jsonl"
    assert Journal(path).records() == []
    assert not Journal(path).state().started
    with Journal(path) as journal:
        journal.start("night", PLAN)
    assert path.is_file()


def test_one_writer_at_a_time_and_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    """A second writer (another agent) is refused while the first holds the journal; a writer
    killed with SIGKILL leaves no lock behind."""
    path = tmp_path / "night.jsonl"
    first = Journal(path)
    first.start("night", PLAN)
    with pytest.raises(JournalError, match="another process is writing it"):
        Journal(path).done("x")
    assert Journal(path).state().started  # readers need no lock
    first.close()
    with subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time\nfrom indipyagents.journal import Journal\n"
             "j = Journal(sys.argv[1]); j.begin('held'); print('held', flush=True)\n"
             "time.sleep(60)\n", str(path)],
            stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "held\n"
            with pytest.raises(JournalError, match="another process"):
                Journal(path).done("x")
        finally:
            child.kill()
    with Journal(path) as journal:
        journal.done("held")
    assert Journal(path).state().done == {"held"}


def test_a_note_must_be_plain_json(tmp_path: Path) -> None:
    """Data JSON cannot hold is refused when noted, and nothing is written."""
    path = tmp_path / "night.jsonl"
    with Journal(path) as journal:
        journal.start("night", PLAN)
        with pytest.raises(ValueError, match="plain JSON"):
            journal.note("autofocus", at=object())
    assert [line["kind"] for line in lines(path)] == ["start"]


def test_before_write_sees_each_record_and_what_it_raises_writes_nothing(tmp_path: Path
                                                                        ) -> None:
    """A test's crash point between two records: `before_write` is called with each record
    before its line; raising there leaves the file without it, and the journal writes the
    next record whole."""
    seen: list[str] = []

    def killed_at_done(record: dict[str, object]) -> None:
        seen.append(str(record["kind"]))
        if record["kind"] == "done":
            raise KeyboardInterrupt("killed")

    path = tmp_path / "night.jsonl"
    with Journal(path, before_write=killed_at_done) as journal:
        journal.start("night", PLAN)
        journal.begin("M42/1")
        with pytest.raises(KeyboardInterrupt):
            journal.done("M42/1")
        journal.note("after", ok=True)
    assert seen == ["start", "begin", "done", "note"]
    assert [line["kind"] for line in lines(path)] == ["start", "begin", "note"]
    assert Journal(path).state().done == set()
