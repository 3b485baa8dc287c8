"""What a step's failure leads to: `retried` (whether the run's retry policy tries it again),
`given_up` and `wait_for` (whether a step failed for good waits or pauses), and what the wait
says (issue 89 items 1 and 9(b)).

Each failure is of a `Failure` kind, and `POLICY` maps the kind to what follows. A device a
client disconnected on purpose (`DeviceLeft`, the rig's keeper says so) is a respected
disconnect: no retry can undo a person's choice, so it is held at once, said once, and waited
for until a client connects it (2-16 s of back-off saying "retrying" would only mislead). A lost device the rig's `Presence` watches is waited for until
it is back; a tool of the night's own (the plate solver, `ToolLost`) that gives a
``retry_after`` is waited for on the night's clock, its next try's time said, and the step
tried again by itself (it can never be "back": no server defines it); anything else pauses
the run for a client's START. Pure: the engine carries the wait out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from indipycore.retrypolicy import RetriesExhausted

from ..rig.protocols import DeviceLeft
from ..rig.protocols import DeviceLost
from ..rig.protocols import ToolLost

__all__ = ["POLICY", "Failure", "Follow", "ToolWait", "given_up", "kind_of", "retried", "wait_for",
           "waiting_said"]


class Failure(enum.Enum):
    """What kind of failure a step ended on."""

    LOST = "lost"  # a device gone, dead or silent, or a tool of the night's own failing
    LEFT = "respected disconnect"  # a client disconnected the device on purpose


class Follow(enum.Enum):
    """What follows a failure of a kind."""

    RETRY = "retry"  # the run's retry policy, then `wait_for`
    HOLD = "hold"  # at once `wait_for`, no retry and no back-off


#: Each kind of failure, what follows it.
POLICY: dict[Failure, Follow] = {Failure.LOST: Follow.RETRY, Failure.LEFT: Follow.HOLD}


def kind_of(error: BaseException) -> Failure:
    """The kind of `error`, one the step's retry loop caught (a `DeviceLost`)."""
    return Failure.LEFT if isinstance(error, DeviceLeft) else Failure.LOST


def retried(error: BaseException) -> bool:
    """Whether the run's retry policy tries the step again after `error`."""
    return POLICY[kind_of(error)] is Follow.RETRY


def given_up(failure: RetriesExhausted | DeviceLost) -> tuple[BaseException | None, str]:
    """The error a step ended on and why the run stops, as SEQUENCE_STATE says it: the last
    of its retries (how many tries said), or one that `POLICY` holds on at once."""
    if isinstance(failure, RetriesExhausted):
        lost = failure.__cause__
        return lost, f"{lost} (tried {failure.failures + 1} times)"
    return failure, str(failure)


@dataclass(frozen=True)
class ToolWait:
    """What the run waits for: `device` back (`after` 0), or `after` seconds of its clock."""

    device: str
    after: float = 0.0


def wait_for(lost: BaseException | None, presence: bool) -> ToolWait | None:
    """The wait for `lost`, the error a step's retries ended on (None: the run pauses);
    `presence`: whether the rig can tell a device is back."""
    if isinstance(lost, ToolLost):
        return ToolWait(lost.device, lost.retry_after) if lost.retry_after > 0 else None
    if isinstance(lost, DeviceLost) and presence:
        return ToolWait(lost.device)
    return None


def waiting_said(why: str, device: str, after: float, now: datetime) -> str:
    """SEQUENCE_STATE's message while the run waits for `device` (`after`: `ToolWait.after`),
    `why` the failure; a timed wait says its next try first (the message is cut at 250
    characters), to the second under a minute."""
    if after <= 0:
        return f"{why}; waiting for {device} to come back"
    at = now + timedelta(seconds=after)
    shown = at.strftime("%H:%M" if after >= 60 else "%H:%M:%S")
    zone = at.tzname() or "local"
    return f"{device} failed: next try at {shown} {zone} by itself; {why}"
