"""`NightWatch`: a night's journal watched (`Journal.watchers`), its events told.

Each record the journal writes is read for events (`messages.events_of`); those the plan's
``[notify]`` tells of become messages (`messages.message_of`) put on the agent's `Notifier`,
which sends them off the night's path. The night's end carries the summary of its targets
(`summary_of`, from the journal's records) and the link to its page on the web client.
``rejected_in_a_row`` is counted here over the graded records: the plan's ``[notify]
rejected_in_a_row`` frames rejected in a row (any target) tell once, with the target and the
last frame's reasons; an accepted frame starts the count again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..plan.model import Plan
from ..plan.steps import expand
from ..plan.steps import frames
from .messages import NightEvent
from .messages import events_of
from .messages import message_of
from .messages import night_link
from .messages import summary_of
from .notifier import Notifier

__all__ = ["NightWatch"]


class NightWatch:
    """The night of `plan` (the plan its sequencer runs), told through `notifier`; `records`
    reads the journal's records whole (the end's summary); `folder` is the plan folder's
    name below the agent's image folder (the web page's)."""

    def __init__(self, plan: Plan, notifier: Notifier,
                 records: Callable[[], list[dict[str, Any]]], folder: str = "") -> None:
        self.plan = plan
        self.notifier = notifier
        self.records = records
        self.folder = folder
        self.rejected = 0  # frames rejected in a row

    def __call__(self, record: dict[str, Any]) -> None:
        """A journal's watcher: the record just written."""
        for event in events_of(record):
            self.tell(event)
        if record.get("kind") == "graded":
            self._graded(record)

    def _graded(self, record: dict[str, Any]) -> None:
        if record.get("verdict") != "rejected":
            self.rejected = 0
            return
        self.rejected += 1
        if self.rejected == self.plan.notify.rejected_in_a_row:
            step = str(record.get("step", ""))
            index = {one.id: one.target_index for one in frames(expand(self.plan))}.get(step)
            target = step.split("/")[0] if index is None else self.plan.targets[index].name
            reasons = record.get("reasons") or []
            self.tell(NightEvent("rejected_in_a_row", target=target, count=self.rejected,
                                 cause="; ".join(str(why) for why in reasons)))

    def tell(self, event: NightEvent) -> None:
        """`event` told, if the plan's [notify] tells of its kind."""
        settings = self.plan.notify
        if not settings.tells(event.kind):
            return
        link = ""
        if event.kind == "night_end":
            event = replace(event, summary=summary_of(self.plan, self.records()))
            link = night_link(settings.web, self.folder)
        self.notifier.put(message_of(event, self.plan.name, link), settings.urls)
