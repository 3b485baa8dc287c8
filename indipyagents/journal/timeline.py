"""A night's journal as a timeline (issue 93 item 5): pure, the journal's bytes in, a `Timeline`
out, for the web client's ``/night`` page and ``/api/night`` (and anything else that draws a
night).

What it reads, from the records the imager agent's sequencer writes (`records`): each frame
step's ``begin`` and its ``frame`` (an exposure: its target, filter, frame type and length from
the plan's own steps, `plan.steps.expand` on the ``start`` record's text; from the step's id
where the plan does not parse); the holds (``paused`` with its reason until ``resumed``; a
``safety`` note unsafe until safe, with its cause; a ``device`` note lost until back); the marks
(``autofocus``, ``flip``, ``centre``, ``slew``, ``dither`` notes); the end (``finished``,
``aborted`` with its reason, else still running). A ``graded`` record (a frame measured and
judged: issue 93 items 1 and 2) gives its exposure a verdict, its reasons, its HFR, guide RMS
and the target's altitude; without one a frame is taken, unjudged.

Per target: planned (the plan's frame steps), taken (frames saved), accepted, rejected (by
reason) and left for another night (planned less the frames that count: accepted, and the
unjudged ones).

A web page reads a journal another process is writing, or one a newer agent wrote: a torn last
line, a line that is not JSON and a kind it does not know are left out, never refused.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

from ..plan.grading import reason_rule
from ..plan.steps import expand
from ..plan.steps import filter_label
from ..plan.toml import parse_plan

__all__ = ["Exposure", "HeldSpan", "Mark", "RuleCount", "TargetCount", "Timeline", "rule_counts",
           "timeline"]

#: The notes drawn as marks on the timeline.
MARKS = ("autofocus", "flip", "centre", "slew", "dither")
_ID = re.compile(r"^(?P<target>[^/]+)/(?P<batch>\d+)/(?P<filter>[^/]+)/(?P<type>[^/]+)/\d+$")


@dataclass(frozen=True)
class Exposure:
    """One frame saved: its step, file, target, filter (label) and frame type, when it began
    and was saved, its length (s, None when unknown), and its grade where judged."""

    step: str
    file: str
    target: str
    filter: str
    frame_type: str
    start: datetime
    end: datetime
    seconds: float | None = None
    verdict: str | None = None
    reasons: tuple[str, ...] = ()
    hfr: float | None = None
    fwhm_arcsec: float | None = None
    stars: int | None = None
    guide_rms: float | None = None
    altitude: float | None = None

    @property
    def row(self) -> str:
        """The timeline's row: a light's filter, else its frame type and filter."""
        return self.filter if self.frame_type == "Light" else f"{self.frame_type} {self.filter}"


@dataclass(frozen=True)
class HeldSpan:
    """The night held from `start` to `end` (None: still held) for `cause`."""

    start: datetime
    end: datetime | None
    cause: str


@dataclass(frozen=True)
class Mark:
    """A moment of note: its kind (`MARKS`) and what it says."""

    time: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class RuleCount:
    """The frames a grading rule rejected (`indipyagents.plan.grading.reason_rule`): the rule,
    how many, their figures' range and the medians' (None: the rule has none), and all of it
    as one line an observer reads (``stars < 0.5 x median: 8 (145–154 of 1107)``)."""

    rule: str
    frames: int
    values: tuple[str, str] | None
    medians: tuple[str, str] | None
    text: str


def _span_of(figures: list[str]) -> tuple[str, str] | None:
    if not figures:
        return None
    ordered = sorted(figures, key=lambda figure: float(figure.rstrip('"')))
    return ordered[0], ordered[-1]


def _said_span(span: tuple[str, str]) -> str:
    return span[0] if span[0] == span[1] else f"{span[0]}–{span[1]}"


def rule_counts(reasons: list[str]) -> list[RuleCount]:
    """`reasons` (one a rejection, raw) grouped by rule, the most frequent first."""
    grouped: dict[str, list[tuple[str | None, str | None]]] = {}
    for reason in reasons:
        split = reason_rule(reason)
        grouped.setdefault(split.rule, []).append((split.value, split.median))
    counts = []
    for rule, seen in grouped.items():
        values = _span_of([value for value, _ in seen if value is not None])
        medians = _span_of([median for _, median in seen if median is not None])
        said = "" if values is None else _said_span(values) + (
            "" if medians is None else f" of {_said_span(medians)}")
        counts.append(RuleCount(rule, len(seen), values, medians,
                                f"{rule}: {len(seen)}" + (f" ({said})" if said else "")))
    return sorted(counts, key=lambda count: -count.frames)


@dataclass(frozen=True)
class TargetCount:
    """A target's frames: planned, taken, accepted, rejected by reason (each reason's raw
    words) and by rule (`RuleCount`: what the page shows), left."""

    target: str
    planned: int
    taken: int
    accepted: int
    rejected: dict[str, int]
    rejected_frames: int
    left: int
    rejected_rules: list[RuleCount] = field(default_factory=list)


@dataclass
class Timeline:
    """A night: its plan, when it began and ended (None: still running), how it ended, its
    exposures, holds and marks, its rows (filters, in order of first use) and targets."""

    plan: str = ""
    start: datetime | None = None
    end: datetime | None = None
    ended: str = "running"
    exposures: list[Exposure] = field(default_factory=list)
    holds: list[HeldSpan] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    targets: list[TargetCount] = field(default_factory=list)

    @property
    def rows(self) -> list[str]:
        return list(dict.fromkeys(exposure.row for exposure in self.exposures))

    @property
    def last(self) -> datetime | None:
        """The latest moment the journal speaks of."""
        moments = [self.start, self.end, *(e.end for e in self.exposures),
                   *(h.end or h.start for h in self.holds), *(m.time for m in self.marks)]
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON: times as ISO 8601 text."""
        data = asdict(self)
        data["rows"] = self.rows
        return _iso(data)  # type: ignore[no-any-return]


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(item) for item in value]
    return value


@dataclass(frozen=True)
class _StepInfo:
    target: str
    filter: str
    frame_type: str
    seconds: float | None


def _plan_steps(text: str) -> tuple[dict[str, _StepInfo], list[str]]:
    """Each frame step's target, filter, type and length, and the targets in order; nothing
    when the plan does not parse (the ids say enough)."""
    try:
        plan = parse_plan(text, "journal")
    except ValueError:
        return {}, []
    steps: dict[str, _StepInfo] = {}
    for step in expand(plan):
        frame = step.as_frame
        if frame is not None:
            batch = frame.batch
            steps[frame.id] = _StepInfo(plan.targets[frame.target_index].name,
                                        filter_label(batch.filter), batch.frame_type,
                                        batch.exposure)
    return steps, list(dict.fromkeys(target.name for target in plan.targets))


def _from_id(step: str) -> _StepInfo:
    found = _ID.match(step)
    if found is None:
        return _StepInfo(step.split("/")[0], "NoFilter", "Light", None)
    return _StepInfo(found["target"].split("#")[0], found["filter"], found["type"], None)


def _records(data: bytes) -> list[dict[str, Any]]:
    """The journal's whole lines that are JSON objects with a kind and a time."""
    found = []
    for line in data[:data.rfind(b"\n") + 1].splitlines():
        try:
            record = json.loads(line)
            when = datetime.fromisoformat(record["time"])
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(record, dict) and isinstance(record.get("kind"), str):
            record["time"] = when
            found.append(record)
    return found


class _Reader:
    """The records folded into a `Timeline`, in order."""

    def __init__(self) -> None:
        self.night = Timeline()
        self.steps: dict[str, _StepInfo] = {}
        self.order: list[str] = []
        self.begun: dict[str, datetime] = {}
        self.open: dict[str, tuple[datetime, str]] = {}  # a hold's key -> (start, cause)

    def read(self, record: dict[str, Any]) -> None:
        kind, when = record["kind"], record["time"]
        if kind == "start":
            self.night.plan = str(record.get("plan", ""))
            self.night.start = when
            self.steps, self.order = _plan_steps(str(record.get("text", "")))
        elif kind == "begin":
            self.begun[str(record.get("step", ""))] = when
        elif kind == "frame":
            self._frame(record, when)
        elif kind == "graded":
            self._grade(record)
        elif kind == "note":
            self._note(str(record.get("note", "")), record.get("data") or {}, when)
        elif kind == "paused":
            self._hold("paused", when, str(record.get("reason", "")))
        elif kind == "resumed":
            self._release("paused", when)
        elif kind in ("finished", "aborted"):
            for key in list(self.open):
                self._release(key, when)
            self.night.end = when
            self.night.ended = "finished" if kind == "finished" else \
                f"aborted: {record.get('reason', '')}"

    def _frame(self, record: dict[str, Any], when: datetime) -> None:
        step = str(record.get("step", ""))
        info = self.steps.get(step) or _from_id(step)
        begun = self.begun.pop(step, when)
        if info.seconds is not None:  # the bar is the exposure, not the wheel's turn before
            begun = max(begun, when - timedelta(seconds=info.seconds))
        self.night.exposures.append(Exposure(step, str(record.get("file", "")), info.target,
                                             info.filter, info.frame_type, begun, when,
                                             info.seconds))

    def _note(self, note: str, data: dict[str, Any], when: datetime) -> None:
        if note == "safety":
            if data.get("unsafe"):
                self._hold("safety", when, f"unsafe: {data.get('cause') or 'no cause given'}")
            else:
                self._release("safety", when)
        elif note == "device":
            if data.get("lost"):
                self._hold("device", when, f"{data['lost']} lost: {data.get('reason', '')}")
            elif data.get("back"):
                self._release("device", when)
        elif note in MARKS:
            self.night.marks.append(Mark(when, note, _said(note, data)))

    def _hold(self, key: str, when: datetime, cause: str) -> None:
        if key in self.open:  # a new cause for the same hold: the hold goes on
            self._release(key, when)
        self.open[key] = (when, cause)

    def _release(self, key: str, when: datetime) -> None:
        if key in self.open:
            start, cause = self.open.pop(key)
            self.night.holds.append(HeldSpan(start, when, cause))

    def finish(self) -> Timeline:
        for start, cause in self.open.values():
            self.night.holds.append(HeldSpan(start, None, cause))
        self.night.holds.sort(key=lambda hold: hold.start)
        self.night.targets = self._tally()
        return self.night

    def _grade(self, grade: dict[str, Any]) -> None:
        """The latest exposure of the grade's step not judged yet (its file the grade's,
        where one is) takes the grade: a frame retaken under the same step has its own."""
        exposures, step, file = self.night.exposures, grade.get("step"), grade.get("file")
        waiting = [i for i, e in enumerate(exposures) if e.step == step and e.verdict is None]
        same = [i for i in waiting if exposures[i].file == file]
        chosen = same or waiting
        if chosen:
            exposures[chosen[-1]] = _graded(exposures[chosen[-1]], grade)

    def _tally(self) -> list[TargetCount]:
        planned = Counter(info.target for info in self.steps.values())
        names = list(dict.fromkeys([*self.order, *(e.target for e in self.night.exposures)]))
        tallies = []
        for name in names:
            mine = [e for e in self.night.exposures if e.target == name]
            rejected = [e for e in mine if e.verdict == "rejected"]
            every = [reason for e in rejected for reason in (e.reasons or ("rejected",))]
            accepted = sum(e.verdict == "accepted" for e in mine)
            counted = len(mine) - len(rejected)
            tallies.append(TargetCount(name, planned[name], len(mine), accepted,
                                       dict(Counter(every)), len(rejected),
                                       max(0, planned[name] - counted), rule_counts(every)))
        return tallies


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _graded(exposure: Exposure, grade: dict[str, Any]) -> Exposure:
    measure = grade.get("measure") if isinstance(grade.get("measure"), dict) else {}
    assert isinstance(measure, dict)
    verdict = grade.get("verdict")
    stars = measure.get("stars")
    return Exposure(**{**asdict(exposure),
                       "verdict": verdict if verdict in ("accepted", "rejected") else None,
                       "reasons": tuple(str(r) for r in grade.get("reasons") or ()),
                       "hfr": _number(measure.get("hfr_px")),
                       "fwhm_arcsec": _number(measure.get("fwhm_arcsec")),
                       "stars": stars if isinstance(stars, int) else None,
                       "guide_rms": _number(measure.get("guide_rms_arcsec")),
                       "altitude": _number(measure.get("alt_deg"))})


def _said(note: str, data: dict[str, Any]) -> str:
    """A mark's words."""
    if note == "autofocus":
        if data.get("ok"):
            hfr = _number(data.get("hfr"))
            return f"autofocus ({data.get('why', '')}): {data.get('position')}" + \
                (f", HFR {hfr:.2f}" if hfr is not None else "")
        return f"autofocus failed: {data.get('reason', '')}"
    if note == "flip":
        return f"meridian flip to {data.get('pier_side', '?')}"
    if note == "centre":
        return "centred" if data.get("ok") else f"not centred: {data.get('reason', '')}"
    if note == "slew":
        return f"slew ({data.get('pier_side', '')})"
    return f"dither ({data.get('method', '')})"


def timeline(data: bytes) -> Timeline:
    """The night a journal's bytes tell (see the module's docstring)."""
    reader = _Reader()
    for record in _records(data):
        reader.read(record)
    return reader.finish()
