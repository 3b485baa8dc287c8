"""Issue 89 items 1 and 9(b): the pure decision of a step's failure (`toolwait`): a device a
client disconnected (`DeviceLeft`) is held on at once, never retried, and waited for; any
other lost device or tool is retried by the policy first. Past its retries, the plate solver
(`ToolLost`) with a ``centre_retry_after`` is waited for on the night's clock and its next try
said; with 0 the run pauses; a device is waited for only where the rig can see it come back."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.rig.protocols import DeviceLeft
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import ToolLost
from indipyagents.sequencer.toolwait import POLICY
from indipyagents.sequencer.toolwait import Failure
from indipyagents.sequencer.toolwait import Follow
from indipyagents.sequencer.toolwait import ToolWait
from indipyagents.sequencer.toolwait import given_up
from indipyagents.sequencer.toolwait import kind_of
from indipyagents.sequencer.toolwait import retried
from indipyagents.sequencer.toolwait import wait_for
from indipyagents.sequencer.toolwait import waiting_said
from indipycore.retrypolicy import RetriesExhausted

SOLVER = "the plate solver"
seconds = st.floats(min_value=0.001, max_value=86400.0, allow_nan=False)
names = st.text(min_size=1, max_size=30)
#: Any failure a step's retry loop catches (a `DeviceLost` of any kind) but a client's
#: DISCONNECT.
losses = st.one_of(st.builds(DeviceLost, names, st.text()),
                   st.builds(ToolLost, names, st.text(), st.floats(0, 86400)))
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(UTC))


@given(after=seconds, presence=st.booleans())
def test_a_solver_with_a_retry_after_is_waited_for_on_the_clock(after: float,
                                                                presence: bool) -> None:
    assert wait_for(ToolLost(SOLVER, "no solution", after), presence) == ToolWait(SOLVER, after)


@given(presence=st.booleans())
def test_a_solver_without_one_pauses_the_run(presence: bool) -> None:
    assert wait_for(ToolLost(SOLVER, "no solution", 0.0), presence) is None


def test_a_device_is_waited_for_only_where_the_rig_sees_it_back() -> None:
    assert wait_for(DeviceLost("CCD", "gone"), True) == ToolWait("CCD")
    assert wait_for(DeviceLost("CCD", "gone"), False) is None
    assert wait_for(DeviceRefused("CCD", "no"), True) is None
    assert wait_for(None, True) is None


@given(after=seconds, now=instants)
def test_the_wait_says_its_next_try_first(after: float, now: datetime) -> None:
    why = "the plate solver: centring M31 failed: no solution (tried 6 times)" + "x" * 300
    said = waiting_said(why, SOLVER, after, now)
    head = "the plate solver failed: next try at "
    assert said.startswith(head) and said.endswith(why)
    shown = said[len(head):].split(" ")[0]
    at = now + timedelta(seconds=after)
    assert shown == at.strftime("%H:%M" if after >= 60 else "%H:%M:%S")
    assert said[len(head) + len(shown):].startswith(" UTC by itself; ")


def test_a_device_wait_says_it_waits_for_it() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    assert waiting_said("CCD: gone", "CCD", 0.0, now) == "CCD: gone; waiting for CCD to come back"


def test_every_kind_of_failure_has_what_follows() -> None:
    assert set(POLICY) == set(Failure)
    assert POLICY[Failure.LEFT] is Follow.HOLD and POLICY[Failure.LOST] is Follow.RETRY


@given(device=names, presence=st.booleans())
def test_a_clients_disconnect_is_held_at_once_never_retried(device: str,
                                                            presence: bool) -> None:
    """`DeviceLeft`: no retry, said as the rig said it (no "tried N times"), and waited for
    like any lost device where the rig can see it come back."""
    left = DeviceLeft(device, "disconnected by a client")
    assert kind_of(left) is Failure.LEFT and not retried(left)
    assert given_up(left) == (left, f"{device}: disconnected by a client")
    assert wait_for(left, presence) == (ToolWait(device) if presence else None)


@given(lost=losses, failures=st.integers(0, 100))
def test_any_other_loss_is_retried_then_said_with_its_tries(lost: DeviceLost,
                                                            failures: int) -> None:
    assert kind_of(lost) is Failure.LOST and retried(lost)
    exhausted = RetriesExhausted("gave up", failures)
    exhausted.__cause__ = lost
    assert given_up(exhausted) == (lost, f"{lost} (tried {failures + 1} times)")
