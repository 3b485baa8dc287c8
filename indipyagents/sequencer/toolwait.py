"""`wait_for`: whether a step failed past the run's retries waits or pauses, and what the
wait says (issue 89 item 9(b)). A lost device the rig's `Presence` watches is waited for until
it is back; a tool of the night's own (the plate solver, `ToolLost`) that gives a
``retry_after`` is waited for on the night's clock, its next try's time said, and the step
tried again by itself (it can never be "back": no server defines it); anything else pauses
the run for a client's START. Pure: the engine carries the wait out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from ..rig.protocols import DeviceLost
from ..rig.protocols import ToolLost

__all__ = ["Wait", "wait_for", "waiting_said"]


@dataclass(frozen=True)
class Wait:
    """What the run waits for: `device` back (`after` 0), or `after` seconds of its clock."""

    device: str
    after: float = 0.0


def wait_for(lost: BaseException | None, presence: bool) -> Wait | None:
    """The wait for `lost`, the error a step's retries ended on (None: the run pauses);
    `presence`: whether the rig can tell a device is back."""
    if isinstance(lost, ToolLost):
        return Wait(lost.device, lost.retry_after) if lost.retry_after > 0 else None
    if isinstance(lost, DeviceLost) and presence:
        return Wait(lost.device)
    return None


def waiting_said(why: str, device: str, after: float, now: datetime) -> str:
    """SEQUENCE_STATE's message while the run waits for `device` (`after`: `Wait.after`),
    `why` the failure; a timed wait says its next try first (the message is cut at 250
    characters), to the second under a minute."""
    if after <= 0:
        return f"{why}; waiting for {device} to come back"
    at = now + timedelta(seconds=after)
    shown = at.strftime("%H:%M" if after >= 60 else "%H:%M:%S")
    zone = at.tzname() or "local"
    return f"{device} failed: next try at {shown} {zone} by itself; {why}"
