"""The cache replays what the sets said, whether they came one by one or in runs.

`PropertyCache.update_run` takes a read's worth of one property's sets at once (a burst) and
keeps only what the newest of them does not cover. Whatever the sets leave out (members,
state, timeout, timestamp, limits) and however they are grouped, the replayed definition must
hold every member's latest value, the latest state, timeout and timestamp, and the latest
limits: what a client that had seen every set would know.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.frames import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise
from indipyserver.routing.propertycache import PropertyCache

MEMBERS = ("a", "b", "c")
DEF = serialise(DefNumberVector(
    "X", "P", State.IDLE, Perm.RW,
    tuple(Number(m, "0", format="%g", min="0", max="9", step="1") for m in MEMBERS),
    timeout="0", timestamp="2026-01-01T00:00:00")).decode()


def frame(xml: str) -> Frame:
    (f,) = Framer().feed(xml.encode())
    assert isinstance(f, Frame)
    return f


# One set: which members (with a value, and maybe limits), which vector attributes.
MEMBER = st.tuples(st.integers(1, 99), st.booleans())
SET = st.tuples(
    st.dictionaries(st.sampled_from(MEMBERS), MEMBER, min_size=1),
    st.sampled_from([None, "Ok", "Busy", "Alert"]),
    st.sampled_from([None, "5", "7"]),
    st.one_of(st.none(), st.integers(1, 59)),
    st.booleans(),  # a message too (sets with one reach the cache through another path)
)


def set_xml(i: int, members: dict[str, tuple[int, bool]], state: str | None, timeout: str | None,
            second: int | None, message: bool) -> str:
    numbers = tuple(Number(m, str(v), min=f"-{v}", max=str(v + 100)) if lim else Number(m, str(v))
                    for m, (v, lim) in members.items())
    return serialise(SetNumberVector(
        "X", "P", numbers, state=State(state) if state else None, timeout=timeout,
        timestamp=f"2026-01-01T00:00:{second:02d}" if second else None,
        message=f"set {i}" if message else None)).decode()


def expected(sets: list[Any]) -> dict[str, Any]:
    """What a client that saw the definition and every set knows."""
    know: dict[str, Any] = {"state": "Idle", "timeout": "0", "timestamp": "2026-01-01T00:00:00"}
    for m in MEMBERS:
        know[m] = ("0", "0", "9")
    for members, state, timeout, second, _ in sets:
        for m, (v, lim) in members.items():
            old = know[m]
            know[m] = (str(v), f"-{v}" if lim else old[1], str(v + 100) if lim else old[2])
        if state:
            know["state"] = state
        if timeout:
            know["timeout"] = timeout
        if second:
            know["timestamp"] = f"2026-01-01T00:00:{second:02d}"
    return know


def replayed(cache: PropertyCache) -> dict[str, Any]:
    ((_, _, frames),) = cache.replay("X", "P")
    assert len(frames) == 1, "replayed as one definition with the sets merged in"
    d: Any = parse_element(frames[0].data)
    out: dict[str, Any] = {"state": d.state.value, "timeout": d.timeout, "timestamp": d.timestamp}
    for m in d.members:
        out[m.name] = (m.value, m.min, m.max)
    return out


@settings(max_examples=200)
@given(st.lists(SET, min_size=1, max_size=80), st.lists(st.integers(1, 40), max_size=10))
def test_the_replay_holds_everything_the_sets_said_whatever_their_runs(
        sets: list[Any], cuts: list[int]) -> None:
    """Sets applied one by one and in runs of random lengths (past FOLD_EVERY too) replay the
    same definition, and it is what the sets said."""
    xml = [set_xml(i, *s) for i, s in enumerate(sets)]
    one_by_one, in_runs = PropertyCache(), PropertyCache()
    for cache in (one_by_one, in_runs):
        cache.define("X", "P", frame(DEF))
    for x in xml:
        one_by_one.update("X", "P", frame(x))
    start = 0
    for cut in [*cuts, len(xml)]:
        run = [frame(x) for x in xml[start:start + cut]]
        if run:
            in_runs.update_run("X", "P", run)
        start += cut
    if start < len(xml):
        in_runs.update_run("X", "P", [frame(x) for x in xml[start:]])
    want = expected(sets)
    assert replayed(one_by_one) == want
    assert replayed(in_runs) == want


def test_a_run_for_a_property_never_defined_keeps_its_newest_set() -> None:
    """Before a definition there is nothing to merge into: the newest set is what is kept."""
    cache = PropertyCache()
    run = [frame(set_xml(i, {"a": (i, False)}, None, None, None, False)) for i in range(1, 4)]
    cache.update_run("X", "P", run)
    assert cache.get("X", "P") == (None, run[-1])
