"""The journal's records as pure code: encoded, read back, folded into a resume's state; torn
tails tolerated, corruption refused with its line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.journal import JournalError
from indipyagents.journal.records import Record
from indipyagents.journal.records import decode
from indipyagents.journal.records import encode
from indipyagents.journal.records import fold
from indipyagents.journal.records import plan_digest

PLAN = 'name = "night"\n[[target]]\nname = "M42"\n'

texts = st.text(max_size=20)
step_ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | texts
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(texts, inner, max_size=3), max_leaves=6)
records: st.SearchStrategy[Record] = st.one_of(
    texts.map(lambda t: {"kind": "start", "plan": "night", "sha256": plan_digest(t), "text": t}),
    step_ids.map(lambda s: {"kind": "begin", "step": s}),
    st.builds(lambda s, f, n, r: {"kind": "frame", "step": s, "file": f, "size": n,
                                  "sha256": "0" * 64, **({"recovered": True} if r else {})},
              step_ids, texts, st.integers(0, 2**40), st.booleans()),
    step_ids.map(lambda s: {"kind": "done", "step": s}),
    st.builds(lambda k, d: {"kind": "note", "note": k, "data": d}, texts,
              st.dictionaries(texts, json_values, max_size=3)),
    texts.map(lambda r: {"kind": "paused", "reason": r}),
    st.just({"kind": "resumed"}),
    texts.map(lambda r: {"kind": "aborted", "reason": r}),
    st.just({"kind": "finished"}),
    st.builds(lambda s, f, m, v, r: {"kind": "graded", "step": s, "file": f, "measure": m,
                                     "verdict": v, "reasons": r},
              step_ids, texts, st.dictionaries(texts, json_values, max_size=3),
              st.sampled_from(("accepted", "rejected")), st.lists(texts, max_size=3)),
)


@given(st.lists(records, max_size=8))
def test_records_read_back_as_written(written: list[Record]) -> None:
    """Any records, encoded one a line, decode to the same records with nothing torn."""
    data = b"".join(encode(record) for record in written)
    assert decode(data) == (written, len(data))


@given(st.lists(records, min_size=1, max_size=6), st.data())
def test_a_torn_tail_is_left_out_never_an_error(written: list[Record], data: st.DataObject) -> None:
    """Cut anywhere (a writer killed mid-line), the bytes give the whole lines' records and
    the length to cut back to, never an error."""
    lines = [encode(record) for record in written]
    whole = b"".join(lines)
    cut = data.draw(st.integers(0, len(whole)))
    got, length = decode(whole[:cut])
    ends = [sum(len(line) for line in lines[:i + 1]) for i in range(len(lines))]
    kept = sum(1 for end in ends if end <= cut)
    assert got == written[:kept]
    assert length == (ends[kept - 1] if kept else 0)


@pytest.mark.parametrize(("line", "reason"), [
    (b"{not json\n", "not a JSON record"),
    (b"\xff\xfe\n", "not a JSON record"),
    (b"\n", "not a JSON record"),
    (b"[1, 2]\n", "not a JSON object"),
    (b'{"kind": "teleport"}\n', "unknown record kind 'teleport'"),
    (b'{"kind": "done"}\n', "a done record lacks 'step'"),
    (b'{"kind": "done", "step": 7}\n', "a done record's 'step' is not a str"),
    (b'{"kind": "frame", "step": "s", "file": "f", "size": true, "sha256": ""}\n',
     "a frame record's 'size' is not a int"),
    (b'{"kind": "resumed", "why": "x"}\n', "unknown fields"),
    (b'{"kind": "start", "plan": "p", "sha256": "00", "text": "t"}\n', "does not match"),
])
def test_a_corrupt_line_in_the_middle_is_refused_with_its_number(line: bytes,
                                                                 reason: str) -> None:
    """A line that is not a valid record, followed by others, raises `JournalError` naming
    the source, the line and why."""
    data = encode({"kind": "resumed"}) + line + encode({"kind": "finished"})
    with pytest.raises(JournalError, match=f"night.jsonl line 2: .*{reason}") as caught:
        decode(data, "night.jsonl")
    assert caught.value.line == 2


def test_a_corrupt_last_line_with_its_newline_is_corruption_not_a_tear() -> None:
    """A last line that was written whole (its newline is there) but is not a record is
    refused: only a line without its newline is a torn write."""
    data = encode({"kind": "resumed"}) + b'{"kind": "done"}\n'
    with pytest.raises(JournalError, match="line 2"):
        decode(data)
    assert decode(data[:-1]) == ([{"kind": "resumed"}], len(encode({"kind": "resumed"})))


def test_encode_refuses_what_it_could_not_read_back() -> None:
    """A record with a wrong field, or data that is not plain JSON, is refused when written."""
    with pytest.raises(ValueError, match="lacks 'step'"):
        encode({"kind": "begin"})
    with pytest.raises(ValueError, match="plain JSON"):
        encode({"kind": "note", "note": "focus", "data": {"position": object()}})
    with pytest.raises(ValueError, match="plain JSON"):
        encode({"kind": "note", "note": "focus", "data": {"hfr": float("nan")}})


def _fold(*written: dict[str, Any]) -> Any:
    return fold(decode(b"".join(encode(record) for record in written))[0])


def test_fold_gives_what_a_resume_needs() -> None:
    """Each record kind lands in the state: the plan, steps done, frames, the step under way,
    notes (the latest of each kind), paused, aborted, finished."""
    start = {"kind": "start", "plan": "night", "sha256": plan_digest(PLAN), "text": PLAN}
    state = _fold(
        start,
        {"kind": "begin", "step": "M42/slew"}, {"kind": "done", "step": "M42/slew"},
        {"kind": "note", "note": "autofocus", "data": {"position": 100}},
        {"kind": "begin", "step": "M42/1/Red/Light/001"},
        {"kind": "frame", "step": "M42/1/Red/Light/001", "file": "M42_Red_Light_001.fits",
         "size": 10, "sha256": "ab"},
        {"kind": "done", "step": "M42/1/Red/Light/001"},
        {"kind": "note", "note": "autofocus", "data": {"position": 120, "time": "22:00"}},
        {"kind": "note", "note": "dither", "data": {"frames_since": 2}},
        {"kind": "begin", "step": "M42/1/Red/Light/002"},
        {"kind": "paused", "reason": "CCD Simulator: lost"},
    )
    assert state.started and state.plan_name == "night" and state.plan_text == PLAN
    assert state.plan_sha256 == plan_digest(PLAN)
    assert state.done == {"M42/slew", "M42/1/Red/Light/001"}
    assert state.frames == {"M42/1/Red/Light/001": "M42_Red_Light_001.fits"}
    assert state.saved["M42/1/Red/Light/001"].size == 10
    assert not state.saved["M42/1/Red/Light/001"].recovered
    assert state.notes == {"autofocus": {"position": 120, "time": "22:00"},
                           "dither": {"frames_since": 2}}
    assert state.current == "M42/1/Red/Light/002"
    assert state.paused == "CCD Simulator: lost"
    assert not state.finished and not state.aborted


MEASURE = {"stars": 40, "hfr_px": 1.9, "fwhm_px": 4.2, "fwhm_arcsec": 3.0,
           "eccentricity": 0.3, "sky": 510.0, "noise": 4.0, "guide_rms_arcsec": None,
           "alt_deg": 61.5}


def test_fold_keeps_every_verdict_and_a_rejected_step_is_not_done() -> None:
    """Issue 93 item 2: accepted and rejected counted per step; a rejected frame's step is no
    longer done nor saved (it is taken again), until its retake is saved and done."""
    first, second = "M42/1/Red/Light/001", "M42/1/Red/Light/002"
    file = "lights/Red/M42_Red_Light_002.fits"

    def graded(step: str, verdict: str, *reasons: str) -> Record:
        return {"kind": "graded", "step": step, "file": file, "measure": MEASURE,
                "verdict": verdict, "reasons": list(reasons)}

    def framed(step: str) -> list[Record]:
        return [{"kind": "begin", "step": step},
                {"kind": "frame", "step": step, "file": file, "size": 10, "sha256": "ab"},
                {"kind": "done", "step": step}]

    start = {"kind": "start", "plan": "night", "sha256": plan_digest(PLAN), "text": PLAN}
    state = _fold(start, *framed(first), graded(first, "accepted"), *framed(second),
                  graded(second, "rejected", "HFR 3.1 > 1.5 x median 1.9"))
    assert state.done == {first} and second not in state.saved and second not in state.frames
    assert state.accepted == {first: 1} and state.rejected == {second: 1}
    assert state.rejecting == {second: file} and state.ungraded == {}
    assert [record["verdict"] for record in state.graded] == ["accepted", "rejected"]
    state = _fold(start, *framed(first), graded(first, "accepted"), *framed(second),
                  graded(second, "rejected", "stars 3 < 0.5 x median 40"), *framed(second),
                  graded(second, "accepted"))
    assert state.done == {first, second} and state.saved[second].file == file
    assert state.accepted == {first: 1, second: 1} and state.rejected == {second: 1}
    assert state.rejecting == {}
    assert _fold(start, *framed(first)).ungraded == {first: file}  # killed before its verdict


def test_a_verdict_is_accepted_or_rejected() -> None:
    record = {"kind": "graded", "step": "a", "file": "f", "measure": {}, "verdict": "maybe",
              "reasons": []}
    with pytest.raises(ValueError, match="verdict"):
        encode(record)
    with pytest.raises(ValueError, match="reasons"):
        encode({**record, "verdict": "rejected", "reasons": [1]})


def test_fold_of_the_run_records() -> None:
    """Resumed clears a pause and an abort; finished stays; a new journal is not started."""
    assert not _fold().started
    start = {"kind": "start", "plan": "n", "sha256": plan_digest(""), "text": ""}
    assert _fold(start, {"kind": "paused", "reason": "r"}, {"kind": "resumed"}).paused is None
    aborted = _fold(start, {"kind": "aborted", "reason": "the user"})
    assert aborted.aborted and aborted.started
    assert not _fold(start, {"kind": "aborted", "reason": "r"}, {"kind": "resumed"}).aborted
    assert _fold(start, {"kind": "finished"}).finished


def test_a_line_is_one_json_object() -> None:
    """The format other tools read: one compact JSON object a line, UTF-8, ending in a
    newline."""
    line = encode({"kind": "done", "step": "NGC 7000/1/Hα/Light/001"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"kind": "done", "step": "NGC 7000/1/Hα/Light/001"}
