"""What the owner is told, as pure code: the night's events (`NightEvent`) read off its
journal's records (`events_of`), the end's summary per target (`summary_of`), and each event's
message (`message_of`: a title, a body and Apprise's kind of notification). No I/O.

From the journal: a safety note (``unsafe`` true: ``hold`` with its cause; false:
``hold_end``), a device note (``lost``: ``device_lost``; ``back``: ``device_back``), a pause
that is not a client's (a step failed past the retries: ``failed``), an abort that is not a
client's (the night ended unsafe or waiting past its end: ``failed``, then ``night_end``), a
client's abort or the finished record (``night_end``), a clouds note (``clouds``: the hold
with its cause, and its end, ``ended`` "clear"). ``rejected_in_a_row`` is counted over the
graded records by the watch (`watch.NightWatch`), which knows the plan's N.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..plan.model import Plan
from ..plan.steps import expand
from ..plan.steps import frames
from ..sequencer.engine import CLIENT_PAUSE

__all__ = ["CLIENT_ABORT", "CLIENT_PAUSE", "Message", "NightEvent", "TargetSummary",
           "events_of", "message_of", "night_link", "summary_of"]

#: The journalled reason of a client's abort (`Sequencer.abort`'s): not a failure.
CLIENT_ABORT = "aborted by a client"
FINISHED = "finished"
#: How a clouds event that ends the hold says so.
CLEAR = "clear"

Record = dict[str, Any]


@dataclass(frozen=True)
class TargetSummary:
    """One target at the night's end: frames asked and taken; accepted and rejected where
    the journal has graded frames and the target has light frames (None: not graded);
    `given_up`, its frames rejected past their retakes (``retakes_spent`` notes)."""

    name: str
    asked: int
    taken: int
    accepted: int | None = None
    rejected: int | None = None
    given_up: int = 0


@dataclass(frozen=True)
class NightEvent:
    """Something the owner may be told of: `kind` one of `plan.notifying.EVENTS`; `cause`
    why (the hold's, the failure's reason, the lost device's error), `device` the device lost
    or back, `target` and `count` the frames rejected in a row (or the clouded target);
    `ended` how a night ended ("finished" or the abort's reason), `summary` its targets."""

    kind: str
    cause: str = ""
    device: str = ""
    target: str = ""
    count: int = 0
    ended: str = ""
    summary: tuple[TargetSummary, ...] = ()


@dataclass(frozen=True)
class Message:
    """A notification: `kind` is Apprise's (``info``, ``success``, ``warning``,
    ``failure``)."""

    title: str
    body: str
    kind: str = "info"


def events_of(record: Record) -> list[NightEvent]:
    """The events one journal record makes (most make none)."""
    kind = record.get("kind")
    if kind == "note":
        data = record.get("data", {})
        if record.get("note") == "safety":
            if data.get("unsafe"):
                return [NightEvent("hold", cause=str(data.get("cause", "")))]
            return [NightEvent("hold_end")]
        if record.get("note") == "clouds":
            return [NightEvent("clouds", cause=str(data.get("cause", "")),
                               target=str(data.get("target", "")),
                               ended="" if data.get("held") else CLEAR)]
        if record.get("note") == "device":
            if "lost" in data:
                return [NightEvent("device_lost", device=str(data["lost"]),
                                   cause=str(data.get("reason", "")))]
            if "back" in data:
                return [NightEvent("device_back", device=str(data["back"]))]
    elif kind == "paused" and record.get("reason") != CLIENT_PAUSE:
        return [NightEvent("failed", cause=str(record.get("reason", "")))]
    elif kind == "aborted":
        reason = str(record.get("reason", ""))
        ending = NightEvent("night_end", ended=reason)
        return [ending] if reason == CLIENT_ABORT else [NightEvent("failed", cause=reason),
                                                        ending]
    elif kind == "finished":
        return [NightEvent("night_end", ended=FINISHED)]
    return []


def summary_of(plan: Plan, records: Iterable[Record]) -> tuple[TargetSummary, ...]:
    """Each target of `plan` (the plan the night ran): its frames asked, taken (saved, each
    once), and accepted and rejected when the journal has graded records
    (``{"kind": "graded", "step": ..., "verdict": "accepted" | "rejected"}``)."""
    steps = frames(expand(plan))
    target_of = {step.id: step.target_index for step in steps}
    # A frame graded under an id the plan does not expand to (a retake) counts for the target
    # its id begins with.
    key_of = {step.id.split("/")[0]: step.target_index for step in steps}
    taken: set[str] = set()
    verdicts: dict[str, str] = {}
    given_up: list[str] = []
    for record in records:
        step = record.get("step")
        if record.get("kind") == "frame" and step in target_of:
            taken.add(step)
        elif record.get("kind") == "graded" and isinstance(step, str):
            verdicts[step] = str(record.get("verdict", ""))  # a regrade replaces it
        elif record.get("kind") == "note" and record.get("note") == "retakes_spent":
            given_up.append(str(record.get("data", {}).get("step", "")))
    found = []
    for index, target in enumerate(plan.targets):
        mine = {step.id for step in steps if step.target_index == index}
        said = [verdict for step, verdict in verdicts.items()
                if target_of.get(step, key_of.get(step.split("/")[0])) == index]
        graded = bool(verdicts) and any(b.frame_type == "Light" for b in target.batches)
        found.append(TargetSummary(
            target.name, len(mine), len(taken & mine),
            accepted=said.count("accepted") if graded else None,
            rejected=said.count("rejected") if graded else None,
            given_up=sum(target_of.get(step, key_of.get(step.split("/")[0])) == index
                         for step in given_up)))
    return tuple(found)


def night_link(web: str, folder: str) -> str:
    """The web client's page of the night in the plan folder `folder` ("" without `web`)."""
    return f"{web.rstrip('/')}/night/{quote(folder)}" if web and folder else ""


def message_of(event: NightEvent, plan_name: str, link: str = "") -> Message:
    """The notification of `event` in the night of `plan_name`; `link` (the night's page)
    ends the night's end's body."""
    said = _SAYING[event.kind](event)
    title, body, kind = said
    if event.kind == "night_end" and link:
        body += f"\n\nThe night: {link}"
    return Message(f"{plan_name}: {title}", body, kind)


def _ended(event: NightEvent) -> tuple[str, str, str]:
    finished = event.ended == FINISHED
    given_up = sum(one.given_up for one in event.summary)
    lines = [f"Ended early: {event.ended}." if not finished else
             f"Finished, {given_up} frames given up (rejected past their retakes)." if given_up
             else "Finished: the plan is done."]
    for one in event.summary:
        line = f"{one.name}: {one.taken} of {one.asked} frames taken"
        if one.accepted is not None:
            line += f", {one.accepted} accepted, {one.rejected} rejected"
        if one.given_up:
            line += f", {one.given_up} given up"
        lines.append(line)
    return ("night over" if finished else "night ended early", "\n".join(lines),
            "success" if finished and not given_up else "warning")


def _cause(text: str, otherwise: str) -> str:
    return text or otherwise


_SAYING = {
    "hold": lambda event: (
        "held (unsafe)", f"The night is held: {_cause(event.cause, 'unsafe, no cause given')}."
        " It goes on by itself once safe.", "warning"),
    "hold_end": lambda event: ("safe again", "Safe again: the night goes on.", "info"),
    "device_lost": lambda event: (
        f"{event.device} lost", f"{event.device} is lost "
        f"({_cause(event.cause, 'no answer')}). The night waits for it to come back.",
        "warning"),
    "device_back": lambda event: (
        f"{event.device} back", f"{event.device} is back: the night goes on.", "info"),
    "failed": lambda event: (
        "stopped", f"The night stopped: {_cause(event.cause, 'no reason given')}.",
        "failure"),
    "rejected_in_a_row": lambda event: (
        f"{event.count} frames rejected in a row",
        f"{event.target}: the last {event.count} frames were rejected"
        + (f" ({event.cause})." if event.cause else "."), "warning"),
    "clouds": lambda event: (
        "clear again", f"{event.target or 'The target'}: a test frame shows the stars again:"
        " the night goes on.", "info") if event.ended == CLEAR else (
        "clouds", f"{event.target or 'The target'}: the stars faded "
        f"({_cause(event.cause, 'clouds')}). The night holds until a test frame shows them "
        "again.", "warning"),
    "night_end": _ended,
}
