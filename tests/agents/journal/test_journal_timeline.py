"""A night's journal as a timeline (issue 93 item 5): `indipyagents.journal.timeline`, pure.

The journals are written by the `Journal`'s own writers (tests/journalkit.py), the grades as the
raw record h-grade adds. The sample night is read whole; then any night of frames (graded or
not), holds and notes keeps the counts' rules, and the bytes cut anywhere (a journal being
written) or spoilt by a bad line or a kind of record this code does not know still read."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from journalkit import NightWriter
from journalkit import sample_night
from journalkit import sample_plan

from indipyagents.journal.timeline import timeline


def test_the_sample_night_read_whole(tmp_path: Path) -> None:
    night = timeline(sample_night(tmp_path).path.read_bytes())
    assert night.plan == "Winter pair" and night.ended.startswith("aborted: dawn")
    assert night.rows == ["Red", "Green", "Luminance"]
    assert len(night.exposures) == 15
    assert [e.verdict for e in night.exposures[:4]] == ["accepted", "accepted", "rejected",
                                                      "accepted"]
    soft, again = night.exposures[2], night.exposures[3]
    assert soft.step == again.step == "M42/0/Red/Light/003"  # taken again, graded apart
    assert (soft.hfr, soft.reasons, again.hfr) == (3.4, ("hfr",), 2.1)
    assert soft.end - soft.start == (soft.end - soft.start).__class__(seconds=120)
    assert night.exposures[-1].verdict is None  # no grade: taken, not judged
    assert [(h.cause, (h.end - h.start).seconds if h.end else None) for h in night.holds] == [
        ("unsafe: rain", 1500), ("Python CCD Simulator lost: no answer", 600)]
    assert [m.kind for m in night.marks] == ["slew", "autofocus", "flip", "slew"]
    assert night.marks[1].text == "autofocus (start): 50010, HFR 1.90"
    tallies = {t.target: t for t in night.targets}
    assert (tallies["M42"].planned, tallies["M42"].taken, tallies["M42"].accepted,
            tallies["M42"].rejected_frames, tallies["M42"].left) == (10, 12, 10, 2, 0)
    assert tallies["M42"].rejected == {"hfr": 1, "stars": 1, "background": 1}
    assert (tallies["M81"].planned, tallies["M81"].taken, tallies["M81"].left) == (8, 3, 6)


def test_without_grades_every_frame_counts_and_a_hold_still_open_is_open(
        tmp_path: Path) -> None:
    w = NightWriter(tmp_path, sample_plan())
    for _ in range(3):
        w.frame()
    w.journal.paused("the camera failed")
    w.journal.close()
    night = timeline(w.path.read_bytes())
    assert night.ended == "running" and night.end is None
    assert all(e.verdict is None for e in night.exposures)
    m42 = night.targets[0]
    assert (m42.taken, m42.accepted, m42.rejected_frames, m42.left) == (3, 0, 0, 7)
    assert [(h.cause, h.end) for h in night.holds] == [("the camera failed", None)]


def test_a_torn_line_a_bad_line_and_an_unknown_kind_are_left_out(tmp_path: Path) -> None:
    w = NightWriter(tmp_path, sample_plan())
    w.frame("accepted")
    w.journal.close()
    whole = w.path.read_bytes()
    spoilt = whole + b'not json\n{"kind":"weather","time":"2026-12-03T21:30:00+00:00"}\n' \
        + b'{"kind":"frame","step":"M42/0/Red/Light/002"'  # torn: no newline
    night = timeline(spoilt)
    assert timeline(whole) == night
    assert len(night.exposures) == 1 and night.exposures[0].verdict == "accepted"


@st.composite
def nights(draw: st.DrawFn) -> list[tuple[str, object]]:
    """What a night does, in order: frames (graded accepted or rejected, or not at all),
    holds and their ends, marks."""
    acts = st.one_of(
        st.tuples(st.just("frame"), st.sampled_from(["accepted", "rejected", None])),
        st.tuples(st.just("hold"), st.sampled_from(["rain", "clouds"])),
        st.tuples(st.just("safe"), st.none()),
        st.tuples(st.just("paused"), st.just("a device failed")),
        st.tuples(st.just("resumed"), st.none()),
        st.tuples(st.just("autofocus"), st.booleans()))
    return draw(st.lists(acts, max_size=25))


@settings(max_examples=40, deadline=None)
@given(nights(), st.data())
def test_any_night_keeps_the_counts_rules_and_reads_cut_anywhere(
        acts: list[tuple[str, object]], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        w = NightWriter(Path(folder), sample_plan())
        frames = 0
        for act, arg in acts:
            if act == "frame" and w.taken < len(w.steps):
                w.frame(arg if isinstance(arg, str) else None,
                        ("hfr",) if arg == "rejected" else ())
                frames += 1
            elif act == "hold":
                w.journal.note("safety", unsafe=True, cause=str(arg))
            elif act == "safe":
                w.journal.note("safety", unsafe=False, cause="")
            elif act == "paused":
                w.journal.paused(str(arg))
            elif act == "resumed":
                w.journal.resumed()
            elif act == "autofocus":
                w.journal.note("autofocus", ok=arg, why="hfr", position=1, hfr=2.0)
            w.wait(60)
        w.journal.close()
        data_bytes = w.path.read_bytes()
    night = timeline(data_bytes)
    assert len(night.exposures) == frames == sum(t.taken for t in night.targets)
    for tally in night.targets:
        assert tally.accepted + tally.rejected_frames <= tally.taken
        assert tally.left == max(0, tally.planned - (tally.taken - tally.rejected_frames))
    assert all(e.start <= e.end for e in night.exposures)
    assert all(h.end is None or h.start <= h.end for h in night.holds)
    assert len(night.marks) == sum(act == "autofocus" for act, _ in acts)
    cut = data.draw(st.integers(0, len(data_bytes)))
    part = timeline(data_bytes[:cut])  # a journal being written: never refused
    assert len(part.exposures) <= len(night.exposures)
