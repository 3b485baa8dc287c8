"""Issue 78 item 1: the sequencer's control as a pure table (`indipyagents.sequencer.control`).
Any sequence of events gives a legal phase and ledger; a hold never loses the step in hand (cut
by UNSAFE, it is still pending and taken again once safe); ABORT always ends; a client's pause
stands through a hold; a pause lets the step in hand end; while unsafe only the steps that may
go on are chosen, the close last. Issue 82 item 4: a device lost past the retries holds the run
(WAITING) and its return (DEVICE_BACK) resumes it, unless a client paused or aborted meanwhile;
a device refusing stays a failure for a human's START. Issue 91 item 2: an event a phase has
no row for is refused (`NoRow`), changing nothing; any sequence of events either moves by a
row or is refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.control import FINAL
from indipyagents.sequencer.control import HOLD
from indipyagents.sequencer.control import TABLE
from indipyagents.sequencer.control import Control
from indipyagents.sequencer.control import Event
from indipyagents.sequencer.control import Hold
from indipyagents.sequencer.control import NoRow
from indipyagents.sequencer.control import Phase


@dataclass(frozen=True)
class S:
    id: str
    needs_sky: bool = True
    closing: bool = False


def night(lights: int = 3, darks: int = 2) -> list[S]:
    """A slew, light frames, darks, then the close: the shape plan/steps.py expands."""
    return [S("slew"), *(S(f"light{i}") for i in range(lights)),
            *(S(f"dark{i}", needs_sky=False) for i in range(darks)),
            S("end", needs_sky=False, closing=True)]


def first_in_hand(control: Control[S]) -> tuple[int, S]:
    """A run begun on a fresh journal (the slew done) and started, its first frame taken in
    hand, as the engine would."""
    control.begin({"slew"})
    control.feed(Event.START)
    assert control.phase is Phase.RUNNING
    chosen = control.choose()
    assert chosen is not None and not isinstance(chosen, Hold)
    assert control.take(chosen[1])
    return chosen


# What the engine can do to the control: feed an event, or take the step chosen.
TAKE = "take"
moves = st.lists(st.one_of(st.sampled_from(list(Event)), st.just(TAKE)), max_size=40)


def offer(control: Control[S], event: Event) -> bool:
    """`event` fed if the phase has a row for it, else refused (`NoRow`) with nothing
    changed; whether it was taken."""
    if control.allows(event):
        row = TABLE[control.phase]
        assert control.feed(event) is row[event]
        return True
    ledger = (control.phase, control.unsafe, set(control.done), control.in_hand)
    with pytest.raises(NoRow):
        control.feed(event)
    assert (control.phase, control.unsafe, control.done, control.in_hand) == ledger
    return False


def play(control: Control[S], move: Event | str) -> None:
    if move == TAKE:
        chosen = control.choose()
        if chosen is not None and not isinstance(chosen, Hold):
            control.take(chosen[1])
    else:
        assert isinstance(move, Event)
        offer(control, move)


def legal(control: Control[S]) -> None:
    ids = {step.id for step in control.steps}
    assert control.phase in Phase
    assert control.state in RunState
    assert control.done <= ids
    assert control.in_hand is None or control.in_hand.id not in control.done
    assert control.phase not in FINAL or control.in_hand is None
    chosen = control.choose()
    if chosen is None:
        assert control.done == ids
    elif isinstance(chosen, Hold):
        assert control.unsafe
    else:
        index, step = chosen
        assert control.steps[index - 1] is step and step.id not in control.done
        assert not control.unsafe or control.may_go_on(step)


@given(moves, st.booleans())
def test_any_sequence_of_events_gives_a_legal_state(played: list[Event | str],
                                                   sky_free: bool) -> None:
    """Whatever the engine feeds, in whatever order, the phase is one of the table's, the
    ledger names only the plan's steps, the step in hand is never done, and the choice is a
    pending step (while unsafe, one that may go on), HOLD only while unsafe, None only when
    all is done."""
    control = Control(night(), sky_free=sky_free)
    for move in played:
        play(control, move)
        legal(control)


def test_the_table_is_whole_and_final_phases_move_only_by_start_or_abort() -> None:
    """Every phase has a row, every row leads to phases; a phase where run() returns moves
    only by a new run (START, RESTART) or an abort."""
    assert set(TABLE) == set(Phase)
    for phase, row in TABLE.items():
        assert set(row.values()) <= set(Phase)
        if phase in FINAL:
            moving = {event for event, after in row.items() if after is not phase}
            assert moving <= {Event.START, Event.RESTART, Event.ABORT}, phase


@given(moves, moves)
def test_a_hold_never_loses_the_step_in_hand(before: list[Event | str],
                                             during: list[Event | str]) -> None:
    """A light frame in hand when UNSAFE cuts it: it is not done, nothing that needs the sky is
    taken while unsafe, and once SAFE (and running again) the frame is chosen first."""
    control = Control(night(), sky_free=True)
    for move in before:
        play(control, move)
    # Bring the run to a light frame in hand, as the engine would.
    for move in (Event.SAFE, Event.CLEAR, Event.ABORT, Event.ABORT_DONE):
        offer(control, move)
    _, frame = first_in_hand(control)
    assert frame.id == "light0"
    control.feed(Event.UNSAFE)
    assert control.cuts()
    control.feed(Event.STEP_CUT)
    assert "light0" not in control.done and control.in_hand is None
    for move in during:
        if move in (Event.SAFE, Event.CLEAR, Event.START, Event.RESTART):
            continue
        play(control, move)
        assert control.in_hand is None or not control.in_hand.needs_sky
        assert "light0" not in control.done
    for move in (Event.SAFE, Event.CLEAR, Event.STEP_DONE, Event.DEVICE_BACK,
                 Event.ABORT_DONE, Event.START):
        offer(control, move)  # safe; a dark in hand ends; a lost device back; the abort's
        # end and a client's START (each where the phase has a row for it)

    assert control.choose() == (2, frame)
    assert control.take(frame)


@given(moves)
def test_abort_always_ends(played: list[Event | str]) -> None:
    """From any phase, ABORT then the abort's park and warm (ABORT_DONE) reach a phase where
    run() returns: ABORTED, or DONE/ABORTED already; while aborting nothing else moves it."""
    control = Control(night())
    for move in played:
        play(control, move)
    before = control.phase
    offer(control, Event.ABORT)
    if control.phase is Phase.ABORTING:
        for event in Event:
            if event is not Event.ABORT_DONE:
                offer(control, event)  # taken or refused, it stays aborting
                assert control.phase is Phase.ABORTING
        assert control.take(control.steps[-1]) is False
        control.feed(Event.ABORT_DONE)
    assert control.phase in FINAL and not control.active
    assert control.phase is Phase.ABORTED or before in (Phase.DONE, Phase.ABORTED)


@given(moves)
def test_a_clients_pause_stands_through_a_hold(during: list[Event | str]) -> None:
    """PAUSE while held pauses at once; SAFE, UNSAFE and whatever a step could say after
    leave it paused: only a client's START (or an abort) moves it."""
    control = Control(night())
    control.feed(Event.UNSAFE)
    control.feed(Event.START)
    assert control.choose() is HOLD
    assert control.feed(Event.HOLD) is Phase.HELD
    assert control.feed(Event.PAUSE) is Phase.PAUSED
    for move in during:
        if move in (Event.START, Event.RESTART, Event.ABORT):
            continue
        play(control, move)
        assert control.phase is Phase.PAUSED and control.in_hand is None


@given(st.sampled_from([Event.STEP_DONE, Event.STEP_CUT]), st.lists(
    st.sampled_from([Event.PAUSE, Event.UNSAFE, Event.SAFE]), max_size=5))
def test_a_pause_lets_the_step_in_hand_end(outcome: Event, meanwhile: list[Event]) -> None:
    """PAUSE with a frame in hand: the run is PAUSING (still RUNNING to a client) until the
    frame ends, done or cut; the next step boundary pauses it; a frame done stays done."""
    control = Control(night())
    first_in_hand(control)
    control.feed(Event.PAUSE)
    for event in meanwhile:
        offer(control, event)  # a second PAUSE is refused
    assert control.phase is Phase.PAUSING and control.state is RunState.RUNNING
    control.feed(outcome)
    assert control.phase is Phase.PAUSING
    assert ("light0" in control.done) == (outcome is Event.STEP_DONE)
    assert control.feed(Event.NEXT) is Phase.PAUSED and control.state is RunState.PAUSED


def test_while_unsafe_the_sky_free_steps_go_first_and_the_close_last() -> None:
    """Unsafe: with the plan's sky_free_while_unsafe the darks are chosen, then HOLD (the
    close waits while light frames are left); without it, HOLD at once. Once only the close
    is left, it goes on unsafe (it parks and warms)."""
    for sky_free, expected in ((True, ["dark0", "dark1"]), (False, [])):
        control = Control(night(), sky_free=sky_free)
        control.feed(Event.UNSAFE)
        control.feed(Event.START)
        taken = []
        while not isinstance(chosen := control.choose(), Hold):
            assert chosen is not None
            assert control.take(chosen[1])
            taken.append(chosen[1].id)
            control.feed(Event.STEP_DONE)
        assert taken == expected
        assert control.feed(Event.HOLD) is Phase.HELD
    control = Control(night(lights=0, darks=0))
    control.begin({"slew"})
    control.feed(Event.UNSAFE)
    control.feed(Event.RESTART)
    assert control.choose() == (2, control.steps[-1])


def test_a_failure_pauses_with_the_step_pending_and_start_retries_it() -> None:
    """STEP_FAILED (a device refusing, or lost on a rig that cannot tell when it is back):
    FAILED, which a client sees as PAUSED; the step is still pending, and START takes it
    again; DEVICE_BACK does not resume it."""
    control = Control(night())
    control.feed(Event.START)
    chosen = control.choose()
    assert chosen is not None and not isinstance(chosen, Hold)
    control.take(chosen[1])
    assert control.feed(Event.STEP_FAILED) is Phase.FAILED
    assert control.state is RunState.PAUSED and not control.active
    assert not offer(control, Event.DEVICE_BACK) and control.phase is Phase.FAILED
    assert control.feed(Event.START) is Phase.RUNNING
    assert control.choose() == chosen


def test_a_restart_takes_what_the_journal_says() -> None:
    """A new run on a journal begun (RESTART): the steps it says are done are skipped, and a
    hold it recorded (UNSAFE fed before) holds before the first step that needs the sky."""
    control = Control(night(lights=2, darks=0))
    control.begin({"slew", "light0"})
    control.feed(Event.UNSAFE)
    assert control.feed(Event.RESTART) is Phase.RUNNING
    assert control.choose() is HOLD
    control.feed(Event.HOLD)
    assert control.feed(Event.SAFE) is Phase.RUNNING
    assert control.choose() == (3, control.steps[2])


def lost_in_hand(control: Control[S]) -> S:
    """The run brought to light0 in hand, then its device lost past the retries."""
    _, frame = first_in_hand(control)
    assert frame.id == "light0"
    assert control.feed(Event.DEVICE_LOST) is Phase.WAITING
    return frame


#: What may come while a run waits for its device, but neither the device nor a client.
NOT_MOVING = [event for event in Event if event not in (
    Event.DEVICE_BACK, Event.PAUSE, Event.ABORT, Event.NIGHT_OVER)]


@given(st.lists(st.one_of(st.sampled_from(NOT_MOVING), st.just(TAKE)), max_size=30))
def test_a_lost_device_holds_the_run_and_its_return_resumes_it(during: list[Event | str]) -> None:
    """DEVICE_LOST with a frame in hand: the run WAITS (still running to a client, never
    returning), the frame not done and nothing taken, whatever comes (unsafe, safe, a step's
    outcome, a START); DEVICE_BACK then runs it on and the lost frame is chosen first (once
    safe), as a restart would."""
    control = Control(night())
    frame = lost_in_hand(control)
    for move in during:
        play(control, move)
        assert control.phase is Phase.WAITING and control.active
        assert control.state is RunState.RUNNING
        assert control.in_hand is None and "light0" not in control.done
    assert control.feed(Event.DEVICE_BACK) is Phase.RUNNING
    control.feed(Event.SAFE)
    control.feed(Event.CLEAR)
    assert control.choose() == (2, frame)
    assert control.take(frame)


@given(st.sampled_from([Event.PAUSE, Event.ABORT]), moves)
def test_a_clients_pause_or_abort_while_waiting_for_a_device_stands(
        client: Event, after: list[Event | str]) -> None:
    """PAUSE while waiting for a lost device pauses at once, ABORT aborts: the device coming
    back afterwards (or anything but a new START or an abort) resumes nothing."""
    control = Control(night())
    lost_in_hand(control)
    control.feed(client)
    if client is Event.ABORT:
        assert control.phase is Phase.ABORTING
        assert not offer(control, Event.DEVICE_BACK) and control.phase is Phase.ABORTING
        control.feed(Event.ABORT_DONE)
    assert control.phase in (Phase.PAUSED, Phase.ABORTED)
    stopped = control.phase
    for move in after:
        if move in (Event.START, Event.RESTART, Event.ABORT):
            return
        play(control, move)
        assert control.phase is stopped and not control.active


def test_a_device_lost_while_a_pause_is_asked_fails_for_a_human() -> None:
    """A client's pause asked (PAUSING), then the frame's device lost past the retries: the
    run stops FAILED (paused, the reason the device's), not waiting: nobody resumes what a
    client paused; START takes the frame again."""
    control = Control(night())
    chosen = first_in_hand(control)
    control.feed(Event.PAUSE)
    assert control.feed(Event.DEVICE_LOST) is Phase.FAILED
    assert not offer(control, Event.DEVICE_BACK) and control.phase is Phase.FAILED
    assert control.feed(Event.START) is Phase.RUNNING and control.choose() == chosen


def test_waiting_for_a_device_past_the_night_end_ends_the_night() -> None:
    """Still waiting once the plan's night_end passed (NIGHT_OVER): the abort's park and
    warm, then ABORTED."""
    control = Control(night())
    lost_in_hand(control)
    assert control.feed(Event.NIGHT_OVER) is Phase.ABORTING
    assert control.feed(Event.ABORT_DONE) is Phase.ABORTED


@given(st.lists(st.sampled_from(list(Event)), max_size=40))
def test_any_event_moves_by_its_row_or_is_refused(played: list[Event]) -> None:
    """Issue 91 item 2: whatever is fed, the phase after is the row's, or the event is
    refused (`NoRow`, naming the event and the phase) and nothing changed; never a silent
    no-op. PAUSE and ABORT are asked of the table as the engine asks it (`allows`)."""
    control = Control(night())
    for event in played:
        before = control.phase
        row = TABLE[before]
        if event in row:
            assert control.allows(event) and control.feed(event) is row[event]
        else:
            assert not control.allows(event)
            with pytest.raises(NoRow, match=event.value):
                control.feed(event)
            assert control.phase is before
        assert control.pausing == (control.phase is Phase.PAUSING)


def test_the_sky_is_heard_in_every_phase_and_a_pause_is_asked_of_the_table() -> None:
    """SAFE and UNSAFE have a row everywhere (the ledger's `unsafe` is kept whatever the
    phase); a second PAUSE has none (the engine's pause() asks `allows`, no list of its own);
    ABORT has one wherever a run can still be aborted."""
    for phase, row in TABLE.items():
        assert {Event.SAFE, Event.UNSAFE} <= set(row), phase
    assert {p for p, row in TABLE.items() if Event.PAUSE in row} == {
        Phase.RUNNING, Phase.HELD, Phase.WAITING}
    assert {p for p, row in TABLE.items() if Event.ABORT not in row} == {
        Phase.ABORTING, Phase.ABORTED, Phase.DONE}
