"""The client library's change notices, their coalescing and the value history
(indipyclient.model.changes, coalesce, history): what the terminal and the web client subscribe to.

The coalescer stays bounded whatever the rate (one entry per key, then one overflow), and what
a reader takes folds into what it has to redraw from the model, whatever the order of the
notices."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyclient.model.changes import Change
from indipyclient.model.history import ValueHistory
from indipyclient.session.coalesce import Coalescer
from indipyclient.session.coalesce import summarise


def test_repeated_notices_for_one_part_coalesce_to_one_entry() -> None:
    """100 sets of one vector for a reader that is not reading are one entry, oldest order."""
    queue: Coalescer[str] = Coalescer(max_keys=10)
    for _ in range(100):
        queue.put("a")
        queue.put("b")
    assert len(queue) == 2 and queue.coalesced == 198
    assert queue.take() == (["a", "b"], False)
    assert len(queue) == 0


def test_too_many_distinct_parts_collapse_into_one_overflow() -> None:
    """Past max_keys the queue empties itself and says 'refresh everything' once."""
    queue: Coalescer[int] = Coalescer(max_keys=5)
    for key in range(1000):
        queue.put(key)
    assert len(queue) == 0 and queue.overflowed
    assert queue.take() == ([], True)
    queue.put(1)
    assert queue.take() == ([1], False)


async def test_get_waits_for_the_next_notice() -> None:
    """A reader waiting on an empty queue wakes when a notice arrives."""
    queue: Coalescer[str] = Coalescer()
    waiter = asyncio.create_task(queue.get())
    for _ in range(3):  # turns of the loop: the waiter runs until it waits for a notice
        await asyncio.sleep(0)
    assert not waiter.done()
    queue.put("x")
    assert await asyncio.wait_for(waiter, 1) == (["x"], False)


# --- folding notices into what to redraw (the terminal's refresh) -------------------------------


def _fold(notices: list[Change], known: set[tuple[str, str]] | None = None):  # type: ignore[no-untyped-def]
    """What a reader takes from a coalescer, folded against a model holding `known`."""
    queue: Coalescer[Change] = Coalescer()
    for notice in notices:
        queue.put(notice)
    taken, overflowed = queue.take()
    held = known if known is not None else {(n.device, n.vector) for n in notices
                                            if n.kind != "delete"}
    return summarise(taken, overflowed, lambda d, v: (d, v) in held)


def test_a_thousand_sets_of_one_vector_coalesce_to_one_refresh() -> None:
    """A thousand notices of one vector are one redraw, and every one is counted."""
    queue: Coalescer[Change] = Coalescer()
    for _ in range(1000):
        queue.put(Change("set", "Bench", "NUM"))
    taken, overflowed = queue.take()
    changes = summarise(taken, overflowed, lambda d, v: True)
    assert changes.vectors == [("Bench", "NUM")]
    assert queue.noted == 1000
    assert not queue.pending() and not summarise(*queue.take(), lambda d, v: True)


def test_changes_keep_first_seen_order_and_mark_new_devices() -> None:
    """Vectors are drawn in the order first noted; a definition may add a device."""
    assert not _fold([Change("set", "A", "x")]).devices
    changes = _fold([Change("define", "B", "y"), Change("set", "A", "x")])
    assert changes.vectors == [("B", "y"), ("A", "x")]
    assert changes.devices


def test_delete_after_set_drops_the_refresh_and_redefine_undoes_the_delete() -> None:
    """What the model holds decides: set then deleted is gone, deleted then defined is drawn."""
    changes = _fold([Change("set", "A", "x"), Change("delete", "A", "x")], known=set())
    assert changes.vectors == [] and changes.deleted == [("A", "x")]
    changes = _fold([Change("delete", "A", "x"), Change("define", "A", "x")], known={("A", "x")})
    assert changes.deleted == [] and changes.vectors == [("A", "x")]


def test_deleting_a_device_redraws_it_whole() -> None:
    """A device deleted whole is named, and its vectors the model no longer holds are gone."""
    changes = _fold([Change("set", "A", "x"), Change("delete", "A", "y"), Change("set", "B", "z"),
                     Change("delete", "A", None)], known={("B", "z")})
    assert changes.vectors == [("B", "z")]
    assert changes.deleted == [("A", "x"), ("A", "y")]
    assert changes.deleted_devices == ["A"]


def test_messages_and_connection_changes_are_flags() -> None:
    """A message asks for the log; the connection (or an overflow) for everything."""
    changes = _fold([Change("message", "A")])
    assert changes.messages and not changes.connection
    changes = _fold([Change("connection")])
    assert changes.connection and changes.devices and changes.messages
    changes = summarise([], True, lambda d, v: True)
    assert changes.connection and changes.devices and changes.messages


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 3)), max_size=300))
def test_pending_changes_are_bounded_by_the_vectors_not_the_events(
        ops: list[tuple[int, int, int]]) -> None:
    """However many notices, what is pending is at most one entry per vector and device."""
    queue: Coalescer[Change] = Coalescer()
    for device, vector, op in ops:
        kind = ("set", "define", "delete", "delete")[op]
        queue.put(Change(kind, f"D{device}", f"V{vector}" if op < 3 else None))  # type: ignore[arg-type]
    assert len(queue) <= 5 * 5 * 3 + 5  # set, define, delete of each vector; each device
    changes = summarise(*queue.take(), lambda d, v: v < "V2")
    assert len(changes.vectors) + len(changes.deleted) <= 25
    assert not set(changes.vectors) & set(changes.deleted)
    assert len(changes.deleted_devices) <= 5


# --- the value history ----------------------------------------------------------------------------


def test_value_history_is_bounded_and_forgotten_with_its_vector() -> None:
    """A ring per vector, at most `length` samples; forgetting a vector or a whole device."""
    history = ValueHistory(length=3)
    for value in range(10):
        history.record("A", "x", {"m": float(value)}, when=float(value))
    assert history.series("A", "x", "m") == [7.0, 8.0, 9.0]
    assert [when for when, _ in history.samples("A", "x") or ()] == [7.0, 8.0, 9.0]
    history.record("A", "y", {"m": 1.0})
    history.record("B", "x", {"m": 1.0})
    history.forget("A", "x")
    assert history.series("A", "x", "m") == [] and history.samples("A", "x") is None
    assert len(history) == 2
    history.forget("A")
    assert len(history) == 1
    with pytest.raises(ValueError):
        ValueHistory(length=1)


def test_a_budget_shares_the_history_among_the_vectors_no_page_shows() -> None:
    """With a budget: few vectors each keep `length`; as more come they keep an equal share
    (at least two), and one that stopped changing is trimmed to it too (the sweep); a shown
    device keeps `length` until `keep_shown` seconds after its last page closed; a negative
    budget is refused."""
    now = [0.0]
    history = ValueHistory(length=10, budget=40, keep_shown=5.0, clock=lambda: now[0])
    for value in range(10):
        history.record("quiet", "x", {"m": float(value)})
    assert len(history.series("quiet", "x", "m")) == 10  # alone: the whole length
    history.show("shown")
    for value in range(12):
        for device in range(20):
            history.record(f"d{device}", "x", {"m": float(value)})
        history.record("shown", "x", {"m": float(value)})
    assert history.series("d3", "x", "m") == [10.0, 11.0]  # 40 // 22 vectors: the floor, 2
    assert history.series("quiet", "x", "m") == [8.0, 9.0]  # never set again, swept
    assert len(history.series("shown", "x", "m")) == 10
    history.hide("shown")
    history.record("d0", "x", {"m": 1.0})
    assert len(history.series("shown", "x", "m")) == 10  # closed just now: kept a while
    now[0] = 5.0
    history.record("d0", "x", {"m": 2.0})
    assert history.series("shown", "x", "m") == [10.0, 11.0]
    assert history.samples_kept() == 22 * 2
    with pytest.raises(ValueError, match="budget"):
        ValueHistory(budget=-1)


def test_a_redefined_vector_starts_its_history_afresh() -> None:
    """`restart` (the vector defined again): the old samples may not fit its new members."""
    history = ValueHistory()
    history.record("A", "x", {"m": 1.0})
    history.record("A", "x", {"n": 2.0}, restart=True)
    assert history.series("A", "x", "m") == [] and history.series("A", "x", "n") == [2.0]


def test_each_client_event_maps_to_one_notice() -> None:
    """`change_of` is the one mapping the front ends share: what changed, never the values."""
    from indipyclient import events as ev
    from indipyclient.model.changes import change_of
    from indipyclient.model.tree import Model
    from indipycore.protocol import DefNumberVector
    from indipycore.protocol import Number
    from indipycore.protocol import Perm
    from indipycore.protocol import SetNumberVector
    from indipycore.protocol import State

    model = Model()
    defined = model.apply(DefNumberVector("D", "N", State.IDLE, Perm.RW, (
        Number("v", "1", format="%g", min="0", max="0", step="0"),)))
    updated = model.apply(SetNumberVector("D", "N", (Number("v", "2"),)))
    assert defined is not None and updated is not None
    assert change_of(defined) == Change("define", "D", "N")
    assert change_of(updated) == Change("set", "D", "N")
    assert change_of(ev.ConnectionLost("gone")) == Change("connection")
    assert change_of(ev.getProperties(None, None)) is None
