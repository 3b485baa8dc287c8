"""Sets of one property in a row (a burst) are passed to each client together
(`Router.driver_frames` -> `RoutingTables.to_clients_run` -> `ClientConnection.send_frames` ->
`ClientQueue.put_run`).

What it protects: a read routed at once reaches every client, snooper and the cache exactly as
the same elements routed one by one (order, interests, BLOB modes, messages, deletions, other
drivers' devices); a run is one call per client; and the queue coalesces inside a run exactly
as element-by-element `put`s would.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from serverdoubles import frames
from serverdoubles import ready
from test_router import DEF_X_B
from test_router import DEF_X_P
from test_router import DEF_X_Q
from test_router import DEF_Y_P
from test_router import SET_X_B
from test_router import SET_X_P
from test_router import SET_X_Q
from test_router import SET_Y_P
from test_router import FakeClient
from test_router import FakeDriver

from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.framing import FrameRun
from indipycore.protocol.serialiser import serialise
from indipyserver.clients import fallingbehind
from indipyserver.clients.queue import ClientQueue
from indipyserver.routing.router import Router
from indipyserver.routing.serverelements import RUN_TAGS


def elements(stream: bytes) -> list[bytes]:
    """The elements of `stream` as they were sent, the whitespace between them aside, and the
    server's own messages without the second they were made at: the two routers compared
    run one after the other, and a run that crossed a second boundary between them differed
    in that alone (a fresh-clone run, 2026-11-29)."""
    return [_STAMP.sub(b"", f.data, count=1) if f.data.startswith(b"<message ") else f.data
            for f in Framer().feed(stream) if type(f) is Frame]


_STAMP = re.compile(rb' timestamp="[^"]*"')


class RunClient(FakeClient):
    """A client sink that takes runs, as `ClientConnection` does."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.runs: list[int] = []

    def send_frames(self, run: list[Frame]) -> None:
        self.runs.append(len(run))
        for frame in run:
            self.send_frame(frame)


def x_p(value: int, extra: str = "") -> str:
    return SET_X_P.replace(">2<", f">{value}<").replace('name="P"', f'name="P"{extra}')


#: One driver's read: runs of X.P broken by another property, a message, a set with a message,
#: another device, a deletion, a BLOB, an unowned device and a ping.
MIXED = "".join([
    x_p(1), x_p(2), x_p(3), SET_X_Q, x_p(4), '<message device="X" message="hello"/>', x_p(5),
    x_p(6, ' message="moved"'), x_p(7), SET_Y_P, SET_Y_P.replace(">2<", ">8<"), x_p(9),
    SET_X_B, x_p(10), x_p(11), '<setNumberVector device="Z" name="P"><oneNumber name="a">1'
    "</oneNumber></setNumberVector>", x_p(12), '<pingRequest uid="u1"/>', x_p(13),
    '<delProperty device="X" name="Q"/>', x_p(14), x_p(15),
])

CLIENTS = {  # label: what the client asks for
    "all": "<getProperties/>",
    "xp": '<getProperties device="X" name="P"/>',
    "blobs_too": '<getProperties/><enableBLOB device="X">Also</enableBLOB>',
    "blobs_only": '<getProperties/><enableBLOB device="X">Only</enableBLOB>',
    "y": '<getProperties device="Y"/>',
}


def served(router: Router, client_type: type[FakeClient]) -> tuple[
        FakeDriver, FakeDriver, FakeDriver, dict[str, FakeClient]]:
    x, y, snooper = FakeDriver("x"), FakeDriver("y"), FakeDriver("snooper")
    ready(router, x, y, snooper)
    router.driver_frames(x, frames(DEF_X_P + DEF_X_Q + DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(y, frames(DEF_Y_P))  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    clients = {}
    for label, asks in CLIENTS.items():
        c = client_type(label)
        router.add_client(c)  # type: ignore[arg-type]
        router.client_frames(c, frames(asks))  # type: ignore[arg-type]
        clients[label] = c
    # (A device-less getProperties is answered to clients of named devices too: cleared.)
    for c in clients.values():
        c.got.clear()
    for d in (x, y, snooper):
        d.got.clear()
    return x, y, snooper, clients


def test_a_read_routed_at_once_reaches_everyone_as_routed_element_by_element() -> None:
    at_once, one_by_one = Router(), Router()
    x1, _y1, snooper1, clients1 = served(at_once, RunClient)
    x2, _y2, snooper2, clients2 = served(one_by_one, FakeClient)
    elements = frames(MIXED)
    at_once.driver_frames(x1, elements)  # type: ignore[arg-type]
    for element in elements:
        one_by_one.driver_frames(x2, [element])  # type: ignore[arg-type]
    for label in CLIENTS:
        assert clients1[label].got == clients2[label].got, label
    assert clients1["all"].got  # not vacuous: the clients got the sets
    assert snooper1.got == snooper2.got and snooper1.got  # X's P and device-wide ones
    assert x1.got == x2.got  # the ping's reply
    for device, name in (("X", "P"), ("X", "Q"), ("Y", "P"), ("X", "B")):
        assert at_once.cached(device, name) == one_by_one.cached(device, name)
    # Runs of two or more went in one call each: 1-3, 10-11 and 14-15 (the others alone,
    # through send_frame). Y is y's: its sets from x were refused.
    runs = clients1["all"].runs  # type: ignore[attr-defined]
    assert runs == [3, 2, 2], runs
    assert [bytes(d) for d in clients1["y"].got if b"setNumberVector" in d] == []


def x_q(value: int) -> str:
    return SET_X_Q.replace(">bye<", f">bye {value:03d}<")


def as_driver_reads(xml: str) -> list[Frame]:
    """`xml` framed as the server frames a driver's reads: bursts as `FrameRun`s."""
    out = Framer(known_tags=INDI_TAGS, run_tags=RUN_TAGS).feed(xml.encode())
    assert all(isinstance(f, Frame) for f in out), out
    return [f for f in out if isinstance(f, Frame)]


def test_frame_runs_reach_everyone_as_their_elements_routed_one_by_one() -> None:
    """Bursts framed as FrameRuns (``protocol.runs``): X.P is snooped (its runs go element by
    element), X.Q is not (its runs go whole), Y.P is not the sender's (each of its sets is
    refused), and messages, a ping and a deletion break them. Every client, the snooper and
    the cache end as with the same elements routed one at a time."""
    burst = "".join([
        *(x_p(10 + i) for i in range(30)), *(x_q(i) for i in range(40)),
        '<message device="X" message="hello"/>', *(x_q(100 + i) for i in range(20)),
        *(SET_Y_P.replace(">2<", f">{10 + i}<") for i in range(10)), '<pingRequest uid="u1"/>',
        *(x_p(50 + i) for i in range(5)), '<delProperty device="X" name="Q"/>',
        *(x_q(200 + i) for i in range(10)),
    ])
    at_once, one_by_one = Router(), Router()
    x1, _y1, snooper1, clients1 = served(at_once, RunClient)
    x2, _y2, snooper2, clients2 = served(one_by_one, FakeClient)
    items = as_driver_reads(burst)
    runs = [i for i in items if type(i) is FrameRun]
    assert len(runs) >= 5 and {r.attrs["name"] for r in runs} == {"P", "Q"}  # not vacuous
    at_once.driver_frames(x1, items)  # type: ignore[arg-type]
    for element in frames(burst):
        one_by_one.driver_frames(x2, [element])  # type: ignore[arg-type]
    for label in CLIENTS:
        got = elements(b"".join(clients1[label].got))
        assert got == elements(b"".join(clients2[label].got)), label
    sets = [e for e in elements(b"".join(clients1["all"].got)) if e.startswith(b"<set")]
    assert len(sets) == 30 + 40 + 20 + 5 + 10  # all of X's, none of Y's
    assert snooper1.got == snooper2.got  # X.P, one by one
    assert sum(d.startswith(b"<setNumberVector") for d in snooper1.got) == 35
    assert x1.got == x2.got  # the ping's reply
    for device, name in (("X", "P"), ("X", "Q"), ("Y", "P")):
        assert at_once.cached(device, name) == one_by_one.cached(device, name)
    # X.Q's bursts went to the client whole: one FrameRun's bytes in one item.
    assert any(b"bye 039" in d and b"bye 020" in d for d in clients1["all"].got)


def test_a_client_that_takes_single_frames_only_gets_a_run_one_by_one() -> None:
    router = Router()
    x, _y, _snooper, clients = served(router, FakeClient)
    router.driver_frames(x, frames(x_p(1) + x_p(2) + x_p(3)))  # type: ignore[arg-type]
    assert [bytes(d) for d in clients["xp"].got] == [
        x_p(1).encode(), x_p(2).encode(), x_p(3).encode()]


def _set(key: str, size: int) -> Frame:
    xml = serialise(SetNumberVector("D", key, (Number("v", "1" * size),)))
    (frame,) = Framer().feed(xml)
    assert isinstance(frame, Frame)
    return frame


def _state(q: ClientQueue) -> tuple[object, ...]:
    return (list(q._items), q.nbytes, q.dropped, dict(q._latest))


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.sampled_from("AB"), st.integers(1, 60)), max_size=6),
    st.lists(st.integers(1, 60), min_size=1, max_size=12),
    st.integers(0, 900),
    st.booleans(),
)
def test_put_run_coalesces_as_puts_one_by_one_would(
    before: list[tuple[str, int]], run: list[int], coalesce_from: int, streaming: bool
) -> None:
    """Whatever is queued already and wherever the run passes the threshold: the same items,
    bytes, drops and index as `put(frame, nbytes > coalesce_from)` for each element."""
    queued = [_set(key, size) for key, size in before]
    elements = [_set("A", size) for size in run]
    fast, slow = ClientQueue(), ClientQueue()
    for q in (fast, slow):
        for frame in queued:
            q.put(frame, q.nbytes > coalesce_from)
        if streaming:
            q.open_stream()
    fast.put_run(elements, coalesce_from)
    for frame in elements:
        slow.put(frame, slow.nbytes > coalesce_from)
    assert _state(fast) == _state(slow)


# -- through real client connections --------------------------------------------------------


async def test_a_burst_in_one_read_reaches_real_clients_as_one_element_per_read() -> None:
    from tests.server.clients.test_write_through import Rig
    from tests.server.clients.test_write_through import set_

    burst = [set_(i) for i in range(40)]
    burst[20:20] = [b'<message device="D" message="half way"/>\n', set_(99, message="m")]
    at_once, one_by_one = Rig(), Rig()
    at_once.inbound.data_received(b"".join(burst))
    for element in burst:
        one_by_one.inbound.data_received(element)
    # The same elements, each as the driver wrote it (a run of one shape, framed as one
    # FrameRun, goes on with the newlines the driver put between its elements).
    assert [elements(got) for got in at_once.received()] == [
        elements(got) for got in one_by_one.received()]
    assert at_once.received()[1].count(b"<setNumberVector") == 41
    assert at_once.router.cached("D", "N") == one_by_one.router.cached("D", "N")


async def test_a_slow_client_keeps_only_the_newest_set_of_a_run() -> None:
    from tests.server.clients.test_write_through import Rig
    from tests.server.clients.test_write_through import set_

    rig = Rig()
    slow, _fast = rig.clients
    slow.pause_writing()
    slow.slow = True  # as `clients.fallingbehind` marks it
    rig.inbound.data_received(b"".join(set_(i) for i in range(30)))
    fast_got = b"".join(rig.to_client[1].writes)
    assert all(set_(i).rstrip() in fast_got for i in range(30))
    queued = b"".join(bytes(x) for x in slow._queue._items if x is not None)
    assert queued == set_(29).rstrip()


async def test_a_client_that_does_not_read_is_found_behind_as_element_by_element(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its limits and falling behind are checked once after a run, not after each set: it
    ends in the same stage with the same queue (here congested: it holds the driver up, and
    nothing is dropped), and the other client gets every set. (The time-based rules are set
    out of reach: feeding 3000 reads one by one took over 20 ms on a loaded machine.)"""
    from tests.server.clients.test_write_through import Rig
    from tests.server.clients.test_write_through import set_

    monkeypatch.setattr(fallingbehind, "SLOW_AFTER", 60.0)
    monkeypatch.setattr(fallingbehind, "NEVER_RESUMED_SLOW_AFTER", 60.0)

    burst = [set_(i) for i in range(3000)]
    at_once, one_by_one = Rig(), Rig()
    for rig in (at_once, one_by_one):
        rig.clients[0].soft_bytes = 50_000  # the burst is about 250 KB
        rig.clients[0].pause_writing()
    at_once.inbound.data_received(b"".join(burst))
    for element in burst:
        one_by_one.inbound.data_received(element)
    stages = []
    for rig in (at_once, one_by_one):
        stuck = rig.clients[0]
        queued = b"".join(bytes(x) for x in stuck._queue._items if x is not None)
        stages.append((elements(queued), stuck._queue.dropped, stuck.congested,
                       stuck.slow, stuck._closing))
        assert b"".join(rig.to_client[1].writes).count(b"<setNumberVector") == 3000
    assert stages[0] == stages[1]
    assert stages[0][2:] == (True, False, False)  # congested, not slow, connected
