"""Write batching, driver-read throttling and the no-copy framing of large elements."""

from __future__ import annotations

import asyncio

from serverkit import Reader

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.clients.queue import ClientQueue
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import LoopFlow
from indipyserver.loop.flowcontrol import flow_for


class Sink:
    def __init__(self, flow: LoopFlow) -> None:
        self.flow = flow
        self.flushes = 0

    def flush_marked(self) -> None:
        self.flushes += 1


async def test_marks_inside_a_batch_flush_when_it_ends_without_a_loop_turn() -> None:
    flow = flow_for()
    sink = Sink(flow)
    flow.begin()
    flow.mark(sink)
    assert sink.flushes == 0
    flow.end()
    assert sink.flushes == 1  # same callback: no call_soon round trip
    await asyncio.sleep(0)
    assert sink.flushes == 1


async def test_a_mark_outside_any_batch_is_flushed_soon() -> None:
    flow = flow_for()
    sink = Sink(flow)
    flow.mark(sink)
    assert sink.flushes == 0
    await asyncio.sleep(0)
    assert sink.flushes == 1


async def test_one_flow_per_loop() -> None:
    assert flow_for() is flow_for(asyncio.get_running_loop())


async def test_congested_clients_pause_every_reader_until_the_last_catches_up() -> None:
    congestion = Congestion()  # one server's
    early, late = Reader(), Reader()
    congestion.add_reader(early)
    a, b = object(), object()
    congestion.congest(a)
    congestion.congest(b)
    assert early.paused and congestion.congested
    congestion.add_reader(late)
    assert late.paused  # a reader started while congested starts paused
    congestion.decongest(a)
    assert early.paused
    congestion.decongest(b)
    assert not early.paused and not late.paused and not congestion.congested
    await asyncio.wait_for(congestion.wait_uncongested(), 1)
    congestion.remove_reader(early)
    congestion.remove_reader(late)


def _blob(n: int) -> bytes:
    return (
        b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="1" format=".f">'
        + b"A" * n
        + b"</oneBLOB></setBLOBVector>"
    )


def test_waiting_bytes_excludes_the_element_being_written() -> None:
    q = ClientQueue()
    big = _blob(1000)
    q.put(Frame("setBLOBVector", {"device": "D", "name": "B"}, big))
    q.put(Frame("message", {}, b"<message/>"))
    assert q.waiting_bytes == q.nbytes == len(big) + len(b"<message/>")
    q.take(100)  # the BLOB is now being written in chunks
    assert q.waiting_bytes == len(b"<message/>")


def test_a_large_element_over_many_reads_is_handed_out_without_a_copy() -> None:
    big = _blob(300_000)
    stream = big + b"<pingRequest uid='1'/>" + big + b"\n" + _blob(10)
    for step in (65536, 1 << 20, 7, 100_003):
        framer = Framer()
        frames: list[Frame] = []
        for i in range(0, len(stream), step):
            for item in framer.feed(stream[i : i + step]):
                assert isinstance(item, Frame), item
                frames.append(item)
        assert [f.tag for f in frames] == [
            "setBLOBVector",
            "pingRequest",
            "setBLOBVector",
            "setBLOBVector",
        ]
        assert bytes(frames[0].data) == big and bytes(frames[2].data) == big
        assert frames[1].attrs == {"uid": "1"}
        assert frames[3].data == _blob(10)
        assert frames[0].attrs == {"device": "D", "name": "B"}
