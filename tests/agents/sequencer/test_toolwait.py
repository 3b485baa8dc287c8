"""Issue 89 item 9(b): the pure decision of a step lost past its retries (`toolwait`): the
plate solver (`ToolLost`) with a ``centre_retry_after`` is waited for on the night's clock and
its next try said; with 0 the run pauses; a device is waited for only where the rig can see
it come back."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import ToolLost
from indipyagents.sequencer.toolwait import Wait
from indipyagents.sequencer.toolwait import wait_for
from indipyagents.sequencer.toolwait import waiting_said

SOLVER = "the plate solver"
seconds = st.floats(min_value=0.001, max_value=86400.0, allow_nan=False)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(UTC))


@given(after=seconds, presence=st.booleans())
def test_a_solver_with_a_retry_after_is_waited_for_on_the_clock(after: float,
                                                                presence: bool) -> None:
    assert wait_for(ToolLost(SOLVER, "no solution", after), presence) == Wait(SOLVER, after)


@given(presence=st.booleans())
def test_a_solver_without_one_pauses_the_run(presence: bool) -> None:
    assert wait_for(ToolLost(SOLVER, "no solution", 0.0), presence) is None


def test_a_device_is_waited_for_only_where_the_rig_sees_it_back() -> None:
    assert wait_for(DeviceLost("CCD", "gone"), True) == Wait("CCD")
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
