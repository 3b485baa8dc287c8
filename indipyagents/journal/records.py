"""The journal's records as pure code: one JSON object a line, bytes in, records and state out.

Each record has a ``kind`` and the fields its kind requires (`FIELDS`), and a ``time`` for the
reader. Reading takes the file's bytes whole: a last line without its newline is a record the
writer was killed writing (torn), left out and reported by its length so the writer can cut it
off; any other line that is not a valid record is corruption, refused with its line number,
because a journal that guesses would resume the wrong night.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

Record = dict[str, Any]

#: Each kind's required fields and their types (``time`` is optional on every kind).
FIELDS: dict[str, dict[str, type]] = {
    "start": {"plan": str, "sha256": str, "text": str},
    "begin": {"step": str},
    "frame": {"step": str, "file": str, "size": int, "sha256": str},
    "graded": {"step": str, "file": str, "measure": dict, "verdict": str, "reasons": list},
    "done": {"step": str},
    "note": {"note": str, "data": dict},
    "paused": {"reason": str},
    "resumed": {},
    "aborted": {"reason": str},
    "finished": {},
}
#: A graded frame's verdicts.
VERDICTS = ("accepted", "rejected")
#: Fields a kind may carry beyond its required ones.
OPTIONAL: dict[str, dict[str, type]] = {"frame": {"recovered": bool}}


class JournalError(Exception):
    """A journal that cannot be trusted (or a record that cannot be written): `source` names
    the file, `line` the line (1 first; 0 when no line is to blame), `reason` says why."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        where = f"{source} line {line}" if line else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class SavedFrame:
    """What the journal says of one saved frame."""

    file: str
    size: int
    sha256: str
    recovered: bool = False


@dataclass
class JournalState:
    """What a restart needs: the plan (its text, so the very same plan runs again), the steps
    done, the frames saved (step id -> file name), whether the night finished or was aborted,
    and the latest data of each note kind the sequencer recorded (e.g. its last autofocus)."""

    plan_name: str = ""
    plan_text: str = ""
    done: set[str] = field(default_factory=set)
    frames: dict[str, str] = field(default_factory=dict)
    finished: bool = False
    aborted: bool = False
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    plan_sha256: str = ""
    saved: dict[str, SavedFrame] = field(default_factory=dict)
    #: The pause's reason while paused (None once resumed).
    paused: str | None = None
    #: The step begun last and not done: what was under way when the night stopped.
    current: str | None = None
    #: Each step's frames graded accepted, and rejected (a rejected frame's step is not
    #: done: its frame is taken again).
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    #: Every graded record, in order (the running medians of the accepted frames).
    graded: list[Record] = field(default_factory=list)
    #: The steps whose last record is a rejection, and the rejected frame's file: a kill
    #: before it was moved to ``rejected/`` leaves it at its name (`resume.reconcile`).
    rejecting: dict[str, str] = field(default_factory=dict)
    #: The frames saved and not yet graded (step -> file): a kill came before the verdict
    #: of a night that grades, which the resume gives them.
    ungraded: dict[str, str] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether the journal holds a plan at all (a new journal, or one whose start record
        was torn, does not)."""
        return bool(self.plan_sha256)


def plan_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(record: Record) -> bytes:
    """One record as its line, newline included; a record `check` refuses raises ValueError."""
    problem = check(record)
    if problem:
        raise ValueError(problem)
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"a {record['kind']} record must be plain JSON: {error}") from None
    return text.encode("utf-8") + b"\n"


def check(record: object) -> str:
    """Why `record` is not a valid record, or "" when it is."""
    if not isinstance(record, dict):
        return "not a JSON object"
    kind = record.get("kind")
    if kind not in FIELDS:
        return f"unknown record kind {kind!r}"
    required = FIELDS[kind]
    allowed = {"kind", "time", *required, *OPTIONAL.get(kind, {})}
    extra = set(record) - allowed
    if extra:
        return f"a {kind} record has unknown fields {sorted(extra)}"
    types = {"time": str, **required, **OPTIONAL.get(kind, {})}
    for name, wanted in types.items():
        if name not in record:
            if name in required:
                return f"a {kind} record lacks {name!r}"
            continue
        value = record[name]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            return f"a {kind} record's {name!r} is not a {wanted.__name__}"
    if kind == "start" and plan_digest(record["text"]) != record["sha256"]:
        return "the plan's text does not match its sha256"
    if kind == "graded" and (record["verdict"] not in VERDICTS
                             or not all(isinstance(why, str) for why in record["reasons"])):
        return "a graded record's verdict is accepted or rejected, its reasons strings"
    return ""


def decode(data: bytes, source: str = "journal") -> tuple[list[Record], int]:
    """The records of a journal's bytes, and the length of its whole lines (less than
    ``len(data)`` when the last line is torn). Raises `JournalError` on a corrupt line."""
    whole = data.rfind(b"\n") + 1
    records = []
    for number, line in enumerate(data[:whole].split(b"\n")[:-1], start=1):
        try:
            record = json.loads(line)
        except ValueError as error:  # UnicodeDecodeError is one
            raise JournalError(source, number, f"not a JSON record ({error})") from None
        problem = check(record)
        if problem:
            raise JournalError(source, number, problem)
        records.append(record)
    return records, whole


def fold(records: Iterable[Record]) -> JournalState:
    """The state the records leave, in order (later records win)."""
    state = JournalState()
    for record in records:
        kind = record["kind"]
        if kind == "start":
            state = JournalState(plan_name=record["plan"], plan_text=record["text"],
                                 plan_sha256=record["sha256"])
        elif kind == "begin":
            state.current = record["step"]
        elif kind == "frame":
            state.rejecting.pop(record["step"], None)
            state.ungraded[record["step"]] = record["file"]
            state.frames[record["step"]] = record["file"]
            state.saved[record["step"]] = SavedFrame(record["file"], record["size"],
                                                     record["sha256"],
                                                     record.get("recovered", False))
        elif kind == "done":
            state.done.add(record["step"])
            if state.current == record["step"]:
                state.current = None
        elif kind == "note":
            state.notes[record["note"]] = record["data"]
        elif kind == "graded":
            _fold_graded(state, record)
        else:
            _fold_run(state, record)
    return state


def _fold_graded(state: JournalState, record: Record) -> None:
    """A frame's verdict: counted; a rejected one's step is no longer done nor its frame
    saved, so a resume (and the scheduler's frames done) takes it again."""
    step = record["step"]
    state.graded.append(record)
    state.ungraded.pop(step, None)
    if record["verdict"] == "accepted":
        state.accepted[step] = state.accepted.get(step, 0) + 1
        return
    state.rejected[step] = state.rejected.get(step, 0) + 1
    state.done.discard(step)
    state.saved.pop(step, None)
    state.frames.pop(step, None)
    state.rejecting[step] = record["file"]


def _fold_run(state: JournalState, record: Record) -> None:
    """The records of the run as a whole: paused, resumed, aborted, finished."""
    kind = record["kind"]
    if kind == "paused":
        state.paused = record["reason"]
    elif kind == "resumed":
        state.paused = None
        state.aborted = False
    elif kind == "aborted":
        state.aborted = True
        state.paused = None
    elif kind == "finished":
        state.finished = True
