"""Which full reads `InboundProtocol` lends to the framer (pieces handed out as views of the
read buffer, no copy) and which it copies out.

A BLOB's first read used to be copied (twice: out of the buffer, then the framer's slices of
that copy) into fresh memory, most of the server's page faults while BLOBs streamed. Reads of
small elements must keep the copy: the framer scans bytes fastest, and nothing of them is
handed out in pieces.
"""

from __future__ import annotations

import asyncio
from typing import Any

from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.protocol.frames import FrameRun
from indipycore.protocol.framing import Frame
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.loop.readsizes import BLOB_READ_SIZE
from indipyserver.loop.readsizes import READ_SIZE

HEAD = (
    b'<setBLOBVector device="Cam" name="IMG" state="Ok">'
    b'<oneBLOB name="a" size="99999999" format=".fits" enclen="99999999">'
)
SMALL = (
    b'<setNumberVector device="Cam" name="T" state="Ok">'
    b'<oneNumber name="t">-10.5</oneNumber></setNumberVector>\n'
)


class _Forwarder:
    """Collects what the protocol hands the cut-through forwarder."""

    active = False

    def __init__(self) -> None:
        self.items: list[Any] = []

    def handle(self, item: Any) -> None:
        self.items.append(item)


class _Transport(asyncio.ReadTransport):
    """Only what the protocol asks of its transport: the read size it sets, pausing."""

    max_size = READ_SIZE

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False


def _protocol() -> tuple[InboundProtocol, list[Frame], _Forwarder]:
    frames: list[Frame] = []
    forwarder = _Forwarder()
    proto = InboundProtocol(frames.extend, "test driver", forwarder)  # type: ignore[arg-type]
    transport = _Transport()
    proto.connection_made(transport)
    proto._read_size = transport.max_size = READ_SIZE  # reading large: pooled, lent buffers
    return proto, frames, forwarder


def _read(proto: InboundProtocol, data: bytes) -> bytearray:
    buf = proto.get_buffer(-1)
    assert len(data) <= len(buf)
    buf[: len(data)] = data
    proto.buffer_updated(len(data))
    return buf


def _read_all(proto: InboundProtocol, data: bytes) -> list[int]:
    """Feed `data` as the reader would: each read fills the buffer it is given. Returns the
    read sizes."""
    sizes = []
    at = 0
    while at < len(data):
        buf = proto.get_buffer(-1)
        n = min(len(buf), len(data) - at)
        buf[:n] = data[at : at + n]
        del buf
        proto.buffer_updated(n)
        sizes.append(n)
        at += n
    return sizes


def _base64(n: int) -> bytes:
    line = b"QUJD" * 18 + b"\n"  # 72 columns and a newline, as libindi wraps
    return (line * (n // len(line) + 1))[:n]


async def test_a_full_read_that_begins_a_blob_hands_its_pieces_out_as_views_of_the_buffer() -> None:
    proto, frames, forwarder = _protocol()
    # A ping-like element, then the BLOB's start: the framer is between elements when the read
    # arrives (not yet streaming), as for every BLOB after the first.
    lead = SMALL + HEAD
    buf = _read(proto, lead + _base64(READ_SIZE - len(lead)))
    assert [f.tag for f in frames] == ["setNumberVector"]
    assert type(frames[0].data) is bytes  # whole small elements are still copied out
    pieces = [i for i in forwarder.items if isinstance(i, FrameHead | FrameChunk)]
    assert pieces and isinstance(pieces[0], FrameHead)
    for piece in pieces:
        assert isinstance(piece.data, memoryview) and piece.data.obj is buf
    assert sum(len(p.data) for p in pieces) == READ_SIZE - len(SMALL)
    # The next read is taken into another buffer: this one is still referenced by the views.
    buf2 = _read(proto, _base64(BLOB_READ_SIZE))
    assert buf2 is not buf


async def test_a_full_read_of_small_elements_is_copied_and_its_buffer_is_free_again() -> None:
    proto, frames, forwarder = _protocol()
    data = (SMALL * (READ_SIZE // len(SMALL) + 1))[:READ_SIZE]
    first = id(_read(proto, data))  # no reference kept here: the pool's view counts
    # (a burst of one shape: most of it comes as one FrameRun)
    assert sum(f.count if type(f) is FrameRun else 1 for f in frames) == READ_SIZE // len(SMALL)
    assert all(type(f.data) is bytes for f in frames)
    assert forwarder.items == []
    assert id(proto.get_buffer(-1)) == first  # nothing refers to it: read into again


async def test_a_blob_begun_in_a_lent_read_arrives_whole_and_in_order() -> None:
    """The bytes handed out across a lent first read and the reads after it are the
    element, unchanged, ending in its closing tag."""
    proto, frames, forwarder = _protocol()
    body = _base64(READ_SIZE * 2)
    element = HEAD + body + b"</oneBLOB></setBLOBVector>\n"
    _read_all(proto, element)
    assert isinstance(forwarder.items[-1], FrameEnd) and forwarder.items[-1].complete
    got = b"".join(bytes(i.data) for i in forwarder.items)
    assert got == element.rstrip(b"\n")
    assert frames == []


async def test_a_buffer_lent_for_a_read_that_never_came_is_read_into_again() -> None:
    """A read that found nothing (EAGAIN after `get_buffer`) leaves its buffer free: the next
    read takes it rather than growing the pool by another buffer."""
    proto, _, _ = _protocol()
    first = id(proto.get_buffer(-1))  # and no buffer_updated: nothing was read
    assert id(proto.get_buffer(-1)) == first
    assert (proto._big.pooled, proto._pool.pooled) == (1, 0)  # not streaming: a large read


async def test_the_partial_read_that_ends_a_blob_is_copied_once_and_lent() -> None:
    """The last read of a BLOB is partial (the driver then waits, or sends small elements):
    its bytes are copied out of the pooled buffer once, and the BLOB's last piece is a view
    of that copy rather than a second copy of it. What follows the BLOB is framed as ever, and
    the pooled buffer is not lent."""
    proto, frames, forwarder = _protocol()
    body = _base64(READ_SIZE + 1000)
    element = HEAD + body + b"</oneBLOB></setBLOBVector>\n"
    _read(proto, element[:READ_SIZE])
    assert proto._framer.streaming
    last = element[READ_SIZE:] + SMALL + HEAD[:40]  # the end, a set, another BLOB's start
    before = len(forwarder.items)
    buf = _read(proto, last)
    (end,) = forwarder.items[before:]
    assert isinstance(end, FrameEnd) and end.complete
    assert isinstance(end.data, memoryview), "the last piece is a view"
    assert type(end.data.obj) is bytearray and len(end.data.obj) == len(last)  # of the copy
    assert b"".join(bytes(i.data) for i in forwarder.items) == element.rstrip(b"\n")
    assert [f.data for f in frames] == [SMALL.rstrip(b"\n")]
    assert end.data.obj is not buf  # the pooled buffer is not lent: free again
    del buf
    # The next BLOB, begun at the end of that read, goes on from where it was cut.
    rest = HEAD[40:] + _base64(100) + b"</oneBLOB></setBLOBVector>\n"
    _read(proto, rest)
    assert frames[-1].tag == "setBLOBVector"  # small enough to arrive whole
    assert bytes(frames[-1].data) == (HEAD[:40] + rest).rstrip(b"\n")


async def test_reads_are_large_while_a_blob_streams_and_otherwise() -> None:
    """While a BLOB streams, each read is BLOB_READ_SIZE, from the pool of buffers that may be
    lent to the clients; other large reads (definitions, bursts; the read that begins a BLOB)
    take READ_SIZE: large reads in either case, few loop turns."""
    proto, frames, forwarder = _protocol()
    smalls = SMALL * (3 * READ_SIZE // len(SMALL))  # whole elements
    assert _read_all(proto, smalls)[:2] == [READ_SIZE, READ_SIZE]
    # every small element framed (most of them in FrameRuns: a burst of one shape)
    assert sum(f.count if type(f) is FrameRun else 1 for f in frames) == 3 * READ_SIZE // len(SMALL)
    element = HEAD + _base64(READ_SIZE * 3) + b"</oneBLOB></setBLOBVector>\n"
    sizes = _read_all(proto, element)
    assert sizes[0] == READ_SIZE  # not yet streaming when it was asked for
    assert set(sizes[1:-1]) == {BLOB_READ_SIZE}
    assert isinstance(forwarder.items[-1], FrameEnd) and forwarder.items[-1].complete
    assert b"".join(bytes(i.data) for i in forwarder.items) == element.rstrip(b"\n")


async def test_the_pooled_buffers_outlive_a_small_read_in_the_middle_of_a_blob(
        monkeypatch: Any) -> None:
    """A driver that writes slower than the server reads leaves small partial reads in the
    middle of its BLOBs (and one after each, waiting for its ping's reply), and reads go back
    to small at each. A client that does not read keeps the last BLOB's pieces and lets the
    one before go as the next ends: the buffers that held it must stay in the pool for the
    next BLOB (their pages in use) rather than be freed at the small read and allocated
    again, a BLOB's worth each time. Only after SHRINK_AFTER without a lent read does the
    pool keep a single free buffer."""
    from indipycore.readbuffers import ReadBufferPool
    from indipyserver.drivers import inbound

    monkeypatch.setattr(inbound, "SHRINK_AFTER", 30.0)
    created = [0]
    get = ReadBufferPool.get

    def counted(pool: ReadBufferPool) -> bytearray:
        alive = {id(b) for b in pool._buffers}  # ids only: a reference would mark them used
        buf = get(pool)
        created[0] += id(buf) not in alive
        return buf

    monkeypatch.setattr(ReadBufferPool, "get", counted)
    proto, _, forwarder = _protocol()
    element = HEAD + _base64(READ_SIZE * 2) + b"</oneBLOB></setBLOBVector>\n"
    middle = len(element) // 2

    def one_blob(superseded: list[Any]) -> list[Any]:
        """A BLOB with a small read half-way through; the older BLOB's pieces let go as
        it ends."""
        forwarder.items = []
        _read_all(proto, element[:middle])
        _read(proto, element[middle:middle + 1000])  # the driver fell behind for a moment
        assert isinstance(proto._transport, _Transport)
        assert proto._transport.max_size < BLOB_READ_SIZE
        _read_all(proto, element[middle + 1000:])
        assert isinstance(forwarder.items[-1], FrameEnd) and forwarder.items[-1].complete
        superseded.clear()
        return forwarder.items

    held = one_blob(one_blob([]))
    for _ in range(3):
        created[0] = 0
        held = one_blob(held)
        assert created[0] == 0  # read into the buffers of the BLOB before last
    pooled = proto._pool.pooled
    held.clear()  # that client goes too
    for _ in range(5):
        await asyncio.sleep(0)  # loop turns, well within SHRINK_AFTER
    assert proto._pool.pooled == pooled
    timer = proto._shrink_timer
    assert timer is not None  # the shrink is scheduled, not done
    timer.cancel()
    proto._shrink_if_idle()  # its callback, early: not yet SHRINK_AFTER since the last lent read
    assert proto._pool.pooled == pooled and proto._shrink_timer is not None  # scheduled again
    proto._shrink_timer.cancel()
    loop = asyncio.get_running_loop()
    idle_since = proto._lent_at
    monkeypatch.setattr(loop, "time", lambda: idle_since + 30.0 + 0.001)
    proto._shrink_if_idle()  # SHRINK_AFTER without a lent read: the free buffers go
    assert proto._pool.pooled == 1  # one free buffer kept
    assert proto._shrink_timer is None
    monkeypatch.undo()
