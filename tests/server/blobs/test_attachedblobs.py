"""attachedblobs: attached oneBLOBs inlined from real memfds; every descriptor closed."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from typing import Any

import pytest
from serverkit import LoopTicks
from serverkit import attached_member
from serverkit import fd_closed
from serverkit import memfd as kit_memfd
from waiting import until

from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import empty_element
from indipyserver.blobs.attached import AttachedBlobs
from indipyserver.blobs.attached import SharedBuffers
from indipyserver.blobs.attached import inline_attached
from indipyserver.loop.flowcontrol import Congestion


def memfd(data: bytes, size: int = 1 << 20) -> int:
    """A memfd as indilib makes one: rounded up in size beyond the data."""
    return kit_memfd(data, size)


def pushed(*fds: int) -> SharedBuffers:
    buffers = SharedBuffers()
    buffers.push(fds)
    return buffers


closed = fd_closed


def frame(text: str) -> Frame:
    (f,) = Framer().feed(text.encode())
    assert isinstance(f, Frame)
    return f


def member(name: str, n: int, closed: bool = False) -> str:
    """An attached member of `n` bytes (serverkit.attached_member)."""
    return attached_member(name, n, closed=closed)


#: An attached member of 3011 bytes as indilib's driverio lays it out: single quotes, an
#: attribute a line, whitespace for its value.
INDILIB_MEMBER = ("<oneBLOB\n    name='CCD1'\n    size='3011'\n    format='.fits'\n"
                  "    len='3011'\n    attached='true'>\n  </oneBLOB>")


def vector(*members: str) -> Frame:
    return frame("<setBLOBVector\n  device='CCD Simulator'\n  name='CCD1'\n  state='Ok'\n>\n  "
                 + "\n  ".join(members) + "\n</setBLOBVector>\n")


def blobs(f: Frame) -> list[tuple[dict[str, str], bytes]]:
    """Each oneBLOB of `f`: its attributes and its decoded value (asserting one line)."""
    out = []
    for item in f.data.split(b"<oneBLOB")[1:]:
        head, _, rest = item.partition(b">")
        body = rest.split(b"</oneBLOB>")[0]
        assert b"\n" not in body.strip()
        out.append((frame("<oneBLOB" + head.decode() + "/>").attrs, base64.b64decode(body)))
    return out


def test_one_member_inlined_and_fd_closed() -> None:
    """A member in indilib's own layout is inlined: its start tag and attributes kept, but for
    ``len`` and ``attached``, and the memfd's first ``len`` bytes its value."""
    payload = b"SIMPLE  = T" + os.urandom(3000)
    fd = memfd(payload)
    buffers = SharedBuffers()
    buffers.push([fd])
    f = vector(INDILIB_MEMBER)
    out = inline_attached(f, buffers)
    assert out is not None and out is not f
    assert out.tag == "setBLOBVector" and out.attrs == f.attrs
    assert out.data.startswith(f.data[: f.data.index(b"<oneBLOB")])  # start tag unchanged
    ((attrs, value),) = blobs(out)
    assert attrs == {"name": "CCD1", "size": str(len(payload)), "format": ".fits",
                     "len": str(len(payload))}
    assert value == payload  # len bytes, not the memfd's 1 MiB
    assert b"enclen" not in out.data and b"attached" not in out.data
    assert out.data.endswith(b"</setBLOBVector>")
    assert closed(fd) and len(buffers) == 0


def test_two_members_take_fds_in_order() -> None:
    a, b = b"first" * 100, b"second" * 7
    fds = [memfd(a), memfd(b)]
    buffers = SharedBuffers()
    buffers.push(fds)
    out = inline_attached(vector(member("A", len(a)), member("B", len(b))), buffers)
    assert out is not None
    assert [(x["name"], v) for x, v in blobs(out)] == [("A", a), ("B", b)]
    assert all(closed(fd) for fd in fds)


def test_self_closing_member() -> None:
    fd = memfd(b"xyz")
    buffers = SharedBuffers()
    buffers.push([fd])
    out = inline_attached(vector(member("C", 3, closed=True)), buffers)
    assert out is not None
    assert blobs(out)[0][1] == b"xyz"
    assert closed(fd)


def test_non_attached_untouched() -> None:
    buffers = SharedBuffers()
    fd = memfd(b"spare")
    buffers.push([fd])
    inline = vector("<oneBLOB name='X' size='3' format='.b' enclen='4'>YWJj</oneBLOB>")
    assert inline_attached(inline, buffers) is inline
    other = frame("<setNumberVector device='d' name='n'/>")
    assert inline_attached(other, buffers) is other
    assert len(buffers) == 1 and not closed(fd)  # not claimed
    buffers.close_all()
    assert closed(fd)


def test_mixed_members_only_attached_converted() -> None:
    fd = memfd(b"data")
    buffers = SharedBuffers()
    buffers.push([fd])
    out = inline_attached(
        vector("<oneBLOB name='X' size='3' format='.b'>YWJj</oneBLOB>", member("Y", 4)), buffers
    )
    assert out is not None
    assert [v for _, v in blobs(out)] == [b"abc", b"data"]
    assert closed(fd)


def test_missing_fd_drops_element(caplog: pytest.LogCaptureFixture) -> None:
    fd = memfd(b"one")
    buffers = SharedBuffers()
    buffers.push([fd])  # one descriptor for two members
    before = len(os.listdir("/proc/self/fd"))
    with caplog.at_level(logging.ERROR):
        assert inline_attached(vector(member("A", 3), member("B", 3)), buffers) is None
    assert "missing shared buffer" in caplog.text
    assert closed(fd)
    assert len(os.listdir("/proc/self/fd")) == before - 1


def test_malformed_element_dropped_its_fds_taken_and_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What is put around the data is passed on as the driver wrote it, so it must be
    well-formed XML: a member closed by the wrong tag drops the element with an error. Its
    descriptor is taken and closed all the same, so that the next element gets its own."""
    bad_fd, good_fd = memfd(b"bad"), memfd(b"good")
    buffers = pushed(bad_fd, good_fd)
    bad = vector(member("A", 3).replace("</oneBLOB>", "</oneNumber>"))
    with caplog.at_level(logging.ERROR):
        assert inline_attached(bad, buffers) is None
    assert "malformed XML (mismatched tag" in caplog.text and closed(bad_fd)
    good = inline_attached(vector(member("A", 4)), buffers)
    assert good is not None and blobs(good)[0][1] == b"good" and closed(good_fd)
    got: list[list[Frame]] = []
    wrap_fd = memfd(b"img")
    AttachedBlobs(got.append, pushed(wrap_fd), "drv")([bad, frame("<pingRequest uid='1'/>")])
    assert [[f.tag for f in frames] for frames in got] == [["pingRequest"]] and closed(wrap_fd)


@pytest.mark.parametrize(
    "attrs",
    ["name='A' len='x' size='5' attached='true'", "name='A' len='5' attached='true'",
     "name='A' size='' attached='true'", "name='A' len='5000000' size='5' attached='true'"],
)
def test_bad_len_or_size_drops_element(attrs: str, caplog: pytest.LogCaptureFixture) -> None:
    """A member without a valid ``size``, or with a ``len`` that is not a number or beyond its
    memfd, is dropped with an error logged, and its descriptor closed."""
    fd = memfd(b"12345")  # 1 MiB memfd: len 5000000 is beyond it
    buffers = SharedBuffers()
    buffers.push([fd])
    with caplog.at_level(logging.ERROR):
        assert inline_attached(vector("<oneBLOB " + attrs + "></oneBLOB>"), buffers) is None
    assert "dropped" in caplog.text
    assert closed(fd)


@pytest.mark.parametrize(("size", "sent"), [(5, b"12345"), (3, b"123"), (3 << 20, None)])
def test_member_without_len_sends_size_bytes(size: int, sent: bytes | None) -> None:
    """Without ``len`` (indilib's own integration tests send only ``size``) the first ``size``
    bytes are sent, or the whole memfd when it is smaller, as indiserver 1.9.9 does: it reads
    only ``size``. The element keeps its other attributes; the descriptor is closed."""
    fd = memfd(b"12345")  # 1 MiB
    spelt = "".join(attribute(key, value) for key, value in (
        ("name", "A"), ("size", str(size)), ("format", ".fits"), ("attached", "true")))
    got = inline_attached(vector(empty_element("oneBLOB", spelt, "")), pushed(fd))
    assert got is not None
    ((attrs, value),) = blobs(got)
    assert attrs == {"name": "A", "size": str(size), "format": ".fits"}
    assert value == (sent if sent is not None else b"12345".ljust(1 << 20, b"\0"))
    assert closed(fd)


def test_attached_member_with_body_dropped() -> None:
    fd = memfd(b"abc")
    buffers = SharedBuffers()
    buffers.push([fd])
    text = "<oneBLOB name='A' size='3' len='3' attached='true'>YWJj</oneBLOB>"
    assert inline_attached(vector(text), buffers) is None
    assert closed(fd)


def test_wrapper_keeps_order_and_identity() -> None:
    fd = memfd(b"img")
    buffers = SharedBuffers()
    buffers.push([fd])
    got: list[list[Frame]] = []
    wrap = AttachedBlobs(got.append, buffers, "drv")
    ping = frame("<pingRequest uid='SetBLOB/1' />")
    blob = vector(member("CCD1", 3))
    wrap([blob, ping])
    ((first, second),) = got
    assert first.tag == "setBLOBVector" and blobs(first)[0][1] == b"img"
    assert second is ping
    plain = [frame("<message device='d' message='hi'/>")]
    wrap(plain)
    assert got[1] is plain
    wrap([vector(member("CCD1", 3))])  # no fd: dropped, nothing routed
    assert len(got) == 2


# -- large vectors: converted a step per loop iteration (AttachedBlobs) ------------------------

STEP = 3 * 1024  # small steps here, so that a few KB already take many loop iterations


class Reader:
    """The driver's reader as AttachedBlobs sees it: records hold()."""

    def __init__(self) -> None:
        self.held = False
        self.holds: list[bool] = []

    def hold(self, held: bool) -> None:
        self.held = held
        self.holds.append(held)


class Sink:
    """A BlobForwarder stand-in: records the pieces."""

    def __init__(self) -> None:
        self.items: list[FrameHead | FrameChunk | FrameEnd] = []
        self.aborted: list[bytes | None] = []
        # `begin_attached`: the element as the driver sent it, and the content of each fd
        self.attached: list[tuple[bytes, list[bytes]]] = []

    def handle(self, item: FrameHead | FrameChunk | FrameEnd) -> None:
        self.items.append(item)

    def begin_attached(self, head: FrameHead, element: bytes, fds: list[int]) -> None:
        self.attached.append((element, [os.pread(fd, 1 << 24, 0) for fd in fds]))
        self.handle(head)

    def abort(self, tail: bytes | None) -> None:
        self.aborted.append(tail)

    #: Someone takes the element (a test sets False: nobody does).
    wants_pieces = True
    #: Every receiver streams it (a test sets True); False: as when a late client gets it
    #: whole at its end.
    keeps_order = False

    def element(self) -> bytes:
        return b"".join(bytes(item.data) for item in self.items)


def wrapper(got: list[Frame], buffers: SharedBuffers, **kw: Any) -> tuple[AttachedBlobs, Reader]:
    wrap = AttachedBlobs(got.extend, buffers, "drv", step=STEP, **kw)
    reader = Reader()
    wrap.reader = reader
    return wrap, reader


def one_image(steps: int, size: int = 1 << 20, **kw: Any
              ) -> tuple[bytes, int, list[Frame], AttachedBlobs, Reader]:
    """`steps` steps of random image bytes in one memfd (``size`` bytes at least, as indilib
    rounds it up), pushed for a wrapper made with `kw`: (payload, its fd, what the wrapper
    passes on, the wrapper, its reader)."""
    payload = os.urandom(steps * STEP)
    fd = memfd(payload, size)
    got: list[Frame] = []
    wrap, reader = wrapper(got, pushed(fd), **kw)
    return payload, fd, got, wrap, reader


async def until_idle(wrap: AttachedBlobs, limit: int = 10_000) -> int:
    """Run the loop until `wrap` has finished converting; the iterations it took."""
    n = 0
    while wrap.converting:
        n += 1
        assert n < limit
        await asyncio.sleep(0)
    return n


async def test_large_vector_same_bytes_as_at_once_and_the_loop_keeps_running() -> None:
    a, b = os.urandom(10 * STEP + 1), os.urandom(4 * STEP + 2)
    expected = inline_attached(vector(member("A", len(a)), member("B", len(b))),
                               pushed(memfd(a), memfd(b)))
    assert expected is not None
    fds = [memfd(a), memfd(b)]
    got: list[Frame] = []
    wrap, reader = wrapper(got, pushed(*fds))
    events: list[str] = []
    loop = asyncio.get_running_loop()
    loop.call_soon(events.append, "callback")  # scheduled before the conversion starts
    ticks = LoopTicks()
    ticks.start()
    await asyncio.sleep(0)
    ticks.count = 0
    wrap([vector(member("A", len(a)), member("B", len(b)))])
    assert wrap.converting and reader.held and got == []  # nothing encoded in the read itself
    iterations = await until_idle(wrap)
    events.append("converted")
    ticks.stop()
    # One iteration per step (11 + 5 pieces), and the other task ran in between.
    assert iterations >= 15
    assert ticks.count >= iterations - 1
    assert events == ["callback", "converted"]
    ((frame,),) = [got]
    assert frame == expected and bytes(frame.data) == expected.data
    assert reader.holds == [True, False]
    assert all(closed(fd) for fd in fds)


async def test_frames_after_the_blob_wait_for_it_same_read_and_later_reads() -> None:
    """Routed whole at its end (here assembled; as for a late client), the image keeps
    everything after it waiting, in the same read and in later ones, with the reader held;
    only the driver's ping right behind it goes on at once (the image is the server's)."""
    payload, fd, got, wrap, reader = one_image(5)
    before = frame("<message device='CCD Simulator' message='before'/>")
    ping = frame("<pingRequest uid='SetBLOB/1'/>")
    after = frame("<message device='CCD Simulator' message='after'/>")
    wrap([before, vector(member("CCD1", len(payload))), ping])
    assert got == [before, ping]  # what came before the BLOB, and its ping, go at once
    assert reader.holds == [True]
    await asyncio.sleep(0)
    wrap([after])  # a later read (the real reader is held: queued here all the same)
    small = memfd(b"tiny")
    wrap.buffers.push([small])
    wrap([vector(member("CCD1", 4))])  # small, but behind the large one all the same
    await until_idle(wrap)
    assert [f.tag for f in got] == ["message", "pingRequest", "setBLOBVector", "message",
                                    "setBLOBVector"]
    assert got[1] is ping and got[3] is after
    assert [v for _, v in blobs(got[2])] == [payload] and blobs(got[4])[0][1] == b"tiny"
    assert reader.holds == [True, False] and closed(fd) and closed(small)


async def test_with_every_receiver_streaming_the_driver_goes_on_until_its_next_blob() -> None:
    """Every client taking the image streams it (the sink keeps order: what is routed
    meanwhile waits behind it in their queues): the ping and the exposure's Ok read with it,
    and what the driver sends later, go on while it is encoded, the reader not held (the
    client starting the next exposure is not kept waiting for the base64). Its next
    setBLOBVector, and what follows it, wait with the reader held until the image is done, so
    the driver has at most one more image in flight."""
    sink = Sink()
    sink.keeps_order = True
    payload, fd, got, wrap, reader = one_image(5, sink=sink)
    ping = frame("<pingRequest uid='SetBLOB/1'/>")
    ok = frame("<message device='CCD Simulator' message='exposure done'/>")
    wrap([vector(member("CCD1", len(payload))), ping, ok])
    assert wrap.converting and got == [ping, ok] and not reader.held
    after = frame("<message device='CCD Simulator' message='after'/>")
    wrap([after])
    assert got == [ping, ok, after] and not reader.held
    small = memfd(b"tiny")
    wrap.buffers.push([small])
    later = frame("<message device='CCD Simulator' message='later'/>")
    wrap([vector(member("CCD1", 4)), later])
    assert got == [ping, ok, after] and reader.held
    await until_idle(wrap)
    assert [f.tag for f in got[3:]] == ["setBLOBVector", "message"] and got[4] is later
    assert blobs(got[3])[0][1] == b"tiny"
    assert base64.b64encode(payload) in sink.element()
    assert not reader.held and closed(fd) and closed(small)


async def test_finished_returns_once_the_image_under_way_is_done_or_given_up() -> None:
    """The driver's connection waits on `finished` when its reader sees the end (the reader is
    not always held now): the image is delivered first; `close` (the server stopping) ends
    the wait too."""
    payload, fd, got, wrap, _reader = one_image(5)
    wrap([vector(member("CCD1", len(payload)))])
    waiting = asyncio.ensure_future(wrap.finished())
    await asyncio.sleep(0)
    assert not waiting.done()
    async with asyncio.timeout(10):
        await waiting
    assert not wrap.converting and [f.tag for f in got] == ["setBLOBVector"]
    assert closed(fd)
    await wrap.finished()  # nothing under way: at once

    payload, fd, got, wrap, _reader = one_image(5)
    wrap([vector(member("CCD1", len(payload)))])
    waiting = asyncio.ensure_future(wrap.finished())
    await asyncio.sleep(0)
    wrap.close()
    async with asyncio.timeout(10):
        await waiting
    assert got == [] and closed(fd)


async def test_two_large_vectors_in_one_read_convert_one_after_the_other() -> None:
    p1, p2 = os.urandom(3 * STEP + 5), os.urandom(2 * STEP + 7)
    fds = [memfd(p1), memfd(p2)]
    got: list[Frame] = []
    wrap, reader = wrapper(got, pushed(*fds))
    wrap([vector(member("A", len(p1))), vector(member("B", len(p2)))])
    await until_idle(wrap)
    assert [blobs(f)[0][1] for f in got] == [p1, p2]
    assert False not in reader.holds[:-1] and reader.holds[-1] is False  # released once, at the end
    assert all(closed(fd) for fd in fds)


async def test_pieces_go_to_the_sink_as_encoded() -> None:
    sink = Sink()
    payload, fd, got, wrap, _ = one_image(4, sink=sink)
    wrap([vector(member("CCD1", len(payload)))])
    assert [type(i) for i in sink.items] == [FrameHead]
    head = sink.items[0]
    assert isinstance(head, FrameHead) and head.tag == "setBLOBVector"
    assert head.attrs["device"] == "CCD Simulator" and b'format=".fits"' in bytes(head.data)
    await asyncio.sleep(0)
    assert [type(i) for i in sink.items] == [FrameHead, FrameChunk]
    assert len(sink.items[1].data) == STEP // 3 * 4  # one step of base64
    await until_idle(wrap)
    assert isinstance(sink.items[-1], FrameEnd) and sink.items[-1].complete
    assert got == []  # the sink routes it, not on_frames
    element = frame(sink.element().decode())
    assert [v for _, v in blobs(element)] == [payload]
    assert closed(fd)


async def test_a_memfd_that_shrinks_meanwhile_cuts_the_element_short(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    payload, fd, got, wrap, reader = one_image(6, size=6 * STEP, sink=sink)  # no slack after
    after = frame("<message message='after'/>")
    wrap([vector(member("CCD1", len(payload))), after])
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    os.ftruncate(fd, STEP)  # the driver shrinks it after sending it
    with caplog.at_level(logging.ERROR):
        await until_idle(wrap)
    assert "cut short" in caplog.text
    assert sink.aborted == [b"</oneBLOB>\n</setBLOBVector>\n"]
    assert got == [after]  # what followed still goes, in order
    assert reader.holds == [True, False] and closed(fd)


async def test_a_bad_large_vector_is_dropped_at_once(caplog: pytest.LogCaptureFixture) -> None:
    fd = memfd(b"x" * 10 * STEP)
    got: list[Frame] = []
    wrap, reader = wrapper(got, pushed(fd))
    ping = frame("<pingRequest uid='1'/>")
    with caplog.at_level(logging.ERROR):
        wrap([vector(member("A", 10 * STEP), member("B", 10 * STEP)), ping])  # one fd for two
    assert "missing shared buffer" in caplog.text
    assert got == [ping] and not wrap.converting and reader.holds == [] and closed(fd)


async def test_close_mid_conversion_closes_every_fd_and_ends_the_stream() -> None:
    fds = [memfd(os.urandom(8 * STEP)), memfd(os.urandom(8 * STEP)), memfd(b"next")]
    sink = Sink()
    got: list[Frame] = []
    buffers = pushed(*fds)
    wrap, _ = wrapper(got, buffers, sink=sink)
    wrap([vector(member("A", 8 * STEP), member("B", 8 * STEP)),
          vector(member("C", 4)), frame("<message message='later'/>")])
    await asyncio.sleep(0)
    assert wrap.converting
    wrap.close()
    assert not wrap.converting
    assert sink.aborted == [b"</oneBLOB>\n</setBLOBVector>\n"]
    assert closed(fds[0]) and closed(fds[1])
    buffers.close_all()  # the owner's part: the unclaimed one (exdriver does this)
    assert closed(fds[2])
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [] and len(sink.items) == 2  # nothing more after close


async def test_congestion_pauses_the_steps() -> None:
    congestion = Congestion()
    payload, fd, got, wrap, _ = one_image(6, congestion=congestion)
    client = object()
    wrap([vector(member("CCD1", len(payload)))])
    await asyncio.sleep(0)
    congestion.congest(client)
    for _ in range(20):
        await asyncio.sleep(0)
    assert wrap.converting and got == []
    congestion.decongest(client)
    await until_idle(wrap)
    assert blobs(got[0])[0][1] == payload
    wrap.close()
    assert closed(fd)


def test_step_must_be_a_multiple_of_3() -> None:
    with pytest.raises(ValueError):
        AttachedBlobs(lambda frames: None, SharedBuffers(), "drv", step=1000)


async def test_an_image_nobody_takes_is_not_encoded_and_the_ping_goes_on_at_once() -> None:
    """When no client takes the element (nobody enabled BLOBs for the camera), its memfd is
    closed without a byte of base64, the element ends at once, and the driver's ping behind
    it is passed on in the same read: the driver's next image is not held up by encoding
    for nobody."""
    sink = Sink()
    sink.wants_pieces = False
    payload, fd, got, wrap, reader = one_image(5, sink=sink)
    ping = frame("<pingRequest uid='SetBLOB/1'/>")
    wrap([vector(member("CCD1", len(payload))), ping])
    assert not wrap.converting
    assert [type(i) for i in sink.items] == [FrameHead, FrameEnd]
    end = sink.items[-1]
    assert isinstance(end, FrameEnd) and end.complete
    assert got == [ping]
    assert reader.holds == [] and closed(fd) and len(wrap.buffers) == 0


@pytest.mark.parametrize("wanted", [True, False], ids=["taken", "nobody takes it"])
@pytest.mark.parametrize("keeps_order", [True, False], ids=["streamed", "whole at its end"])
async def test_the_ping_behind_an_image_is_answered_before_anything_is_done_for_the_image(
        wanted: bool, keeps_order: bool) -> None:
    """libindi waits for the reply to the ping it sends in the image's own message before it
    sends the exposure's Ok: the ping goes on as soon as the image is the server's, before its
    head is written to any client and before its memfd is closed (the CCD simulator's cycle
    with four clients, bench/ccdrate.py)."""
    payload, fd, got, wrap, _ = one_image(5, sink=(sink := Sink()))
    sink.wants_pieces = wanted
    sink.keeps_order = keeps_order
    seen: list[tuple[int, bool]] = []  # at each ping: pieces the sink had, the memfd closed

    def passed_on(frames: list[Frame]) -> None:
        seen.extend((len(sink.items), closed(fd)) for f in frames if f.tag == "pingRequest")
        got.extend(frames)

    wrap._on_frames = passed_on
    ping = frame("<pingRequest uid='SetBLOB/1'/>")
    wrap([vector(member("CCD1", len(payload))), ping])
    assert seen == [(0, False)] and got[0] is ping
    await until_idle(wrap)
    assert closed(fd) and isinstance(sink.items[-1], FrameEnd) and sink.items[-1].complete


async def test_a_large_memfd_is_closed_in_a_worker_thread() -> None:
    """Closing a memfd frees its pages (about 40 us per MiB): a large one is closed off the
    loop, but closed all the same."""
    from indipyserver.blobs.sharedbuffers import CLOSE_IN_THREAD

    payload, fd, got, wrap, _ = one_image(3, size=CLOSE_IN_THREAD)
    wrap([vector(member("CCD1", len(payload)))])
    await until_idle(wrap)
    assert blobs(got[0])[0][1] == payload
    await until(lambda: closed(fd), 5, "the memfd closed")


# -- the driver's own inline BLOBs, streamed by its reader (AttachedBlobs.handle) -------------

def own_pieces(payload: bytes, cuts: int = 3) -> list[FrameHead | FrameChunk | FrameEnd]:
    """An inline BLOB of the driver, in libindi's layout, as its reader's framer hands it out
    (`Framer(stream_tags=..., split_attached=True)`), fed in `cuts` reads."""
    from serverkit import blob_set

    data = blob_set("CCD Simulator", "CCD1", "CCD1", payload, enclen=True)
    framer = Framer(stream_tags={"setBLOBVector"}, stream_min=1024, split_attached=True)
    step = len(data) // cuts + 1
    items: list[Any] = []
    for k in range(0, len(data), step):
        items += framer.feed(data[k : k + step])
    assert [type(i) for i in items] == [FrameHead] + [FrameChunk] * (cuts - 2) + [FrameEnd]
    return items


def test_the_drivers_own_inline_blob_goes_to_the_sink_as_it_arrives() -> None:
    """Nothing converting: each piece of an inline BLOB the driver sends goes on at once, the
    same objects (no copy), and the stream is active from its head to its end."""
    sink = Sink()
    got: list[Frame] = []
    wrap, reader = wrapper(got, SharedBuffers(), sink=sink)
    pieces = own_pieces(os.urandom(6000))
    for k, piece in enumerate(pieces):
        assert wrap.active == (k > 0)
        wrap.handle(piece)
        assert sink.items[-1] is piece
    assert not wrap.active and got == [] and reader.holds == []


@pytest.mark.parametrize("keeps_order", [False, True])
async def test_an_inline_blob_begun_while_an_image_converts_waits_and_follows_it(
    keeps_order: bool,
) -> None:
    """The driver's own BLOB starts while its attached image is still being encoded (in
    either mode of the sink): its pieces wait, the reader held, until the image and what
    was read before the BLOB have gone on; then they go on in order and the reader is let
    go, the rest of the BLOB passing on as it comes."""
    sink = Sink()
    sink.keeps_order = keeps_order
    payload, fd, got, wrap, reader = one_image(4, sink=sink)
    ping = frame("<pingRequest uid='SetBLOB/1'/>")
    wrap([vector(member("CCD1", len(payload))), ping])
    image_head = sink.items[0]
    pieces = own_pieces(os.urandom(6000), cuts=4)
    wrap.handle(pieces[0])
    assert reader.held and wrap.active and sink.items == [image_head]
    wrap.handle(pieces[1])  # read with it, before the hold took effect
    assert sink.items == [image_head]
    await until_idle(wrap)
    assert [type(i) for i in sink.items[-3:]] == [FrameEnd, FrameHead, FrameChunk]
    assert sink.items[-2] is pieces[0] and sink.items[-1] is pieces[1]
    assert base64.b64encode(payload) in b"".join(
        bytes(i.data) for i in sink.items[: sink.items.index(pieces[0])])
    assert not reader.held and wrap.active
    for piece in pieces[2:]:
        wrap.handle(piece)
        assert sink.items[-1] is piece
    assert not wrap.active and got == [ping] and closed(fd)


async def test_an_inline_blob_that_ends_while_it_waits_is_routed_whole_in_turn() -> None:
    """Its end read before the hold took effect: the whole element waits behind the image
    with the rest, and is routed whole (not streamed) in its turn."""
    sink = Sink()
    payload, _fd, got, wrap, reader = one_image(3, sink=sink)
    wrap([vector(member("CCD1", len(payload)))])
    raw = os.urandom(3000)
    pieces = own_pieces(raw)
    for piece in pieces:
        wrap.handle(piece)
    assert reader.held and not wrap.active
    await until_idle(wrap)
    ((whole,),) = [got]
    body = bytes(whole.data).split(b">", 2)[2].split(b"</oneBLOB>")[0]
    assert whole.tag == "setBLOBVector" and base64.b64decode(body) == raw  # 72-column lines
    assert bytes(whole.data) == b"".join(bytes(p.data) for p in pieces)
    assert not reader.held and FrameHead not in [type(i) for i in sink.items[1:]]


def test_an_attached_member_met_in_a_streaming_blob_is_inlined_where_it_stands() -> None:
    """A vector that mixes a large inline member and attached ones after it (libindi sends
    each member as it was allocated): each attached member's data is put inline in the
    stream, in document order, its descriptor closed; an open member tag keeps the driver's
    own closing tag."""
    from indipycore.protocol.frames import FrameAttached

    sink = Sink()
    a, b = os.urandom(100), os.urandom(200)
    fds = [memfd(a), memfd(b)]
    wrap, _ = wrapper([], pushed(*fds), sink=sink)
    pieces = own_pieces(os.urandom(6000))
    for piece in pieces[:-1]:
        wrap.handle(piece)
    wrap.handle(FrameAttached(member("A", len(a), closed=True).encode()))
    wrap.handle(FrameAttached(member("B", len(b)).split(">")[0].encode() + b">"))
    wrap.handle(FrameChunk(b"\n  </oneBLOB>"))
    wrap.handle(pieces[-1])
    assert all(closed(fd) for fd in fds) and not wrap.active
    first, second = (bytes(i.data) for i in sink.items[-4:-2])
    assert first.startswith(b"<oneBLOB") and b"attached" not in first
    assert first.endswith(base64.b64encode(a) + b"</oneBLOB>")
    assert second.endswith(b">" + base64.b64encode(b)) and b"attached" not in second


def test_an_attached_member_that_cannot_be_read_cuts_the_stream_short(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No descriptor for it: the element is ended for its receivers at once (the sink's
    abort, with the vector's closing tag) and an error logged; the rest of it is not
    passed on, and the driver's next BLOB streams as before."""
    from indipycore.protocol.frames import FrameAttached

    sink = Sink()
    wrap, _ = wrapper([], SharedBuffers(), sink=sink)
    pieces = own_pieces(os.urandom(6000))
    wrap.handle(pieces[0])
    with caplog.at_level(logging.ERROR):
        wrap.handle(FrameAttached(member("A", 10, closed=True).encode()))
    assert "cut short" in caplog.text and "missing shared buffer" in caplog.text
    assert sink.aborted == [b"</setBLOBVector>\n"] and wrap.active
    for piece in pieces[1:]:
        wrap.handle(piece)
    assert sink.items == [pieces[0]] and not wrap.active
    again = own_pieces(os.urandom(6000))
    for piece in again:
        wrap.handle(piece)
    assert sink.items[1:] == again


async def test_abort_ends_the_streaming_blob_and_drops_a_waiting_one() -> None:
    """The reader gives up the element (the driver stalled or is gone): one streaming is
    ended for its receivers with the reader's tail; one still waiting behind an image is
    dropped, never routed, and the reader let go."""
    sink = Sink()
    wrap, _ = wrapper([], SharedBuffers(), sink=sink)
    wrap.handle(own_pieces(os.urandom(6000))[0])
    wrap.abort(b"</oneBLOB></setBLOBVector>")
    assert sink.aborted == [b"</oneBLOB></setBLOBVector>"] and not wrap.active

    sink = Sink()
    payload, fd, got, wrap, reader = one_image(3, sink=sink)
    wrap([vector(member("CCD1", len(payload)))])
    wrap.handle(own_pieces(os.urandom(6000))[0])
    assert reader.held
    wrap.abort(b"</oneBLOB></setBLOBVector>")
    assert not wrap.active and sink.aborted == []
    await until_idle(wrap)
    assert got == [] and [type(i) for i in sink.items].count(FrameHead) == 1
    assert not reader.held and closed(fd)


def test_close_leaves_the_drivers_own_streaming_blob_for_its_reader_to_end() -> None:
    """The server stops with one of the driver's own BLOBs half passed on: `close` does not
    forget it, so the reader's end (its connection lost, after close) still closes the
    element for its receivers with the framer's tail."""
    sink = Sink()
    wrap, _ = wrapper([], SharedBuffers(), sink=sink)
    wrap.handle(own_pieces(os.urandom(6000))[0])
    wrap.close()
    assert wrap.active
    wrap.abort(b"</oneBLOB></setBLOBVector>")
    assert sink.aborted == [b"</oneBLOB></setBLOBVector>"] and not wrap.active
