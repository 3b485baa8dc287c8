"""`batchjournal`: the indilib face's batch journalled with the plans' machinery, and the rule
that says which of its frames a restart must still take."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.imager.batchjournal import JOURNAL
from indipyagents.imager.batchjournal import BatchLog
from indipyagents.imager.batchjournal import BatchSpec
from indipyagents.imager.batchjournal import Group
from indipyagents.imager.batchjournal import frame_name
from indipyagents.journal import Journal


def _spec(folder: Path, *groups: Group) -> BatchSpec:
    return BatchSpec(str(folder), "IMG", "CCD Simulator", "Filter Simulator",
                     groups or (Group(2, 1, 1, 1.0), Group(1, 2, 2, 0.5)))


@settings(max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 999), st.integers(1, 4), st.integers(0, 16),
                          st.floats(0, 3600, allow_nan=False)), max_size=16),
       st.text(min_size=1, max_size=20), st.text(max_size=30))
def test_a_spec_round_trips_through_the_journals_text(
        groups: list[tuple[int, int, int, float]], prefix: str, ccd: str) -> None:
    """What START ran is read back from the journal's start record as it was."""
    spec = BatchSpec("/frames", prefix, ccd, "", tuple(Group(*group) for group in groups))
    assert BatchSpec.from_text(spec.to_text()) == spec


def test_another_journals_text_is_refused() -> None:
    """A start record that is not a batch's (a plan's TOML, or JSON of another shape) is a
    ValueError saying so, never a batch run on guesses."""
    for text in ('name = "M42"', '{"kind": "plan"}', '{"kind": "indilib imager batch"}'):
        with pytest.raises(ValueError):
            BatchSpec.from_text(text)


def test_frames_are_indilibs_names_and_a_finished_batch_is_not_continued(tmp_path: Path
                                                                        ) -> None:
    """Each frame is saved as PREFIX_G_NNN.fits and journalled once; an unfinished batch is
    continued at its first frame not saved; once finished, or aborted, nothing is."""
    log = BatchLog(tmp_path / "state")
    running = log.begin(_spec(tmp_path / "frames"))
    running.save(1, 1, b"one")
    again = log.unfinished()
    assert again is not None and again.first_to_take() == (1, 2)
    again.journal.close()
    running.save(1, 2, b"two")
    running.save(2, 1, b"three")
    assert running.first_to_take() is None
    running.finished()
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        "IMG_1_001.fits", "IMG_1_002.fits", "IMG_2_001.fits"]
    assert log.unfinished() is None
    log.begin(_spec(tmp_path / "frames")).aborted("aborted by a client")
    assert log.unfinished() is None


def test_a_frame_saved_but_not_journalled_counts_once(tmp_path: Path) -> None:
    """Killed between the frame's rename and its record: at the restart the file on disk
    counts (journalled as recovered) and a killed writer's partial is swept."""
    log = BatchLog(tmp_path / "state")
    spec = _spec(tmp_path / "frames")
    running = log.begin(spec)
    running.save(1, 1, b"one")
    running.store.save(frame_name("IMG", 1, 2), b"two")  # the kill came before its record
    partial = tmp_path / "frames" / ".IMG_2_001.fits.partial-99999"
    partial.write_bytes(b"thr")
    running.journal.close()
    again = log.unfinished()
    assert again is not None and again.first_to_take() == (2, 1)
    assert not partial.exists()
    recovered = [r for r in Journal(log.path).records() if r.get("recovered")]
    assert [r["file"] for r in recovered] == ["IMG_1_002.fits"]


def test_an_earlier_batchs_file_is_not_taken_for_this_ones(tmp_path: Path) -> None:
    """indilib's agent overwrites the files of an earlier batch of the same prefix: a file
    there before START, unchanged at the restart, is taken again (overwritten), while one this
    batch saved is not."""
    frames = tmp_path / "frames"
    log = BatchLog(tmp_path / "state")
    first = log.begin(_spec(frames))
    for group, image in ((1, 1), (1, 2), (2, 1)):
        first.save(group, image, b"old")
    first.finished()
    second = log.begin(_spec(frames))
    second.save(1, 1, b"new")
    second.journal.close()
    again = log.unfinished()
    assert again is not None and again.first_to_take() == (1, 2)
    assert again.done == {"1/001"}
    again.save(1, 2, b"new")
    assert (frames / "IMG_1_002.fits").read_bytes() == b"new"


def test_a_failed_batch_is_continued_and_a_new_start_replaces_it(tmp_path: Path) -> None:
    """A device lost (journalled paused) is continued at the restart (the journal says
    resumed); a new START begins a new journal of the new batch."""
    log = BatchLog(tmp_path / "state")
    failed = log.begin(_spec(tmp_path / "frames"))
    failed.save(1, 1, b"one")
    failed.failed("CCD Simulator: it was disconnected")
    again = log.unfinished()
    assert again is not None and again.first_to_take() == (1, 2)
    assert Journal(log.path).records()[-1]["kind"] == "resumed"
    again.journal.close()
    other = _spec(tmp_path / "other", Group(1, 1, 0, 1.0))
    log.begin(other).journal.close()
    continued = log.unfinished()
    assert continued is not None and continued.spec == other
    assert continued.first_to_take() == (1, 1)
    assert sorted(p.name for p in log.state.iterdir()) == [JOURNAL]


def test_a_prefix_that_is_no_file_name_is_refused_at_start(tmp_path: Path) -> None:
    """A prefix FrameStore cannot name (a hidden or absolute path) is refused before any
    journal is written."""
    log = BatchLog(tmp_path / "state")
    for prefix in (".hidden", "/abs/IMG"):
        spec = BatchSpec(str(tmp_path), prefix, "CCD", "", (Group(1, 1, 0, 1.0),))
        with pytest.raises(ValueError):
            log.begin(spec)
    assert not log.path.exists()
