"""indiredis.indilink.stream_frames with a framer that streams BLOBs (as IndiLink's does): a
large element is read in pieces, views of the reads the ServerStream lends, and handed on as
one Frame joined once; it must arrive byte for byte whatever the reads' boundaries."""

from __future__ import annotations

import asyncio
import base64

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from serverkit import load_bench

from indipyclient.session.serverstream import ServerStream
from indipycore.protocol import BLOB
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import serialise
from indipycore.protocol.escaping import escape
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import start_tag
from indiredis.indilink import BLOB_TAGS
from indiredis.indilink import IndiLink
from indiredis.indilink import stream_frames

LARGE = 48  # the stream's large reads: a read that fills one is lent to the framer
STREAM_MIN = 20  # elements longer than this are read in pieces


def libindi_blob(device: str, raw: bytes) -> bytes:
    """A setBLOBVector as libindi writes it: base64 on 72-column lines, size and enclen (a
    layout the serialiser does not write, built from its pieces)."""
    flat = base64.b64encode(raw)
    lines = b"\n".join(flat[i:i + 72] for i in range(0, len(flat), 72))
    head = start_tag("setBLOBVector", attribute("device", escape(device))
                     + attribute("name", "CCD1") + attribute("state", "Ok"), "\n")
    member = start_tag("oneBLOB", attribute("name", "data") + attribute("size", str(len(raw)))
                       + attribute("enclen", str(len(flat))) + attribute("format", ".fits"),
                       "\n")
    tail = "  " + end_tag("oneBLOB", "\n") + end_tag("setBLOBVector", "")
    return (head + "  " + member).encode() + lines + b"\n" + tail.encode()


def oneline_blob(device: str, raw: bytes) -> bytes:
    """A setBLOBVector as the serialiser writes it: the base64 on one line."""
    return serialise(SetBLOBVector(device, "CCD1", (BLOB("d", raw, len(raw), ".raw"),))).strip()


SMALL = (b'<setNumberVector device="D" name="N"><oneNumber name="n">1</oneNumber>'
         b'</setNumberVector>')
PING = b'<pingRequest uid="u1"/>'


#: bench/hotpath.py's stand-in transport: takes every write at once (and keeps it if asked).
CountingTransport = load_bench("hotpath").CountingTransport


async def _read_in(stream_bytes: bytes, cuts: list[int]) -> tuple[list[list[Frame]],
                                                                   list[ProtocolError], bytes,
                                                                   int]:
    """Feed `stream_bytes` to a ServerStream one read at a time (each read as long as the
    next of `cuts` allows, and no longer than the buffer the stream offers), taking each
    read's frames from `stream_frames` before the next: the frames of each read, the errors,
    what was written back, and how many reads were lent."""
    stream = ServerStream(small_read=64, large_read=LARGE)
    transport = CountingTransport()
    transport.kept = []
    stream.connection_made(transport)
    errors: list[ProtocolError] = []
    framer = Framer(stream_tags=BLOB_TAGS, stream_min=STREAM_MIN)
    frames = stream_frames(stream, framer, errors.append)
    reads: list[list[Frame]] = []
    lent = 0
    pos, k = 0, 0
    while pos < len(stream_bytes):
        buf = stream.get_buffer(-1)
        n = min(len(stream_bytes) - pos, len(buf), cuts[k % len(cuts)] if cuts else len(buf))
        k += 1
        buf[:n] = stream_bytes[pos:pos + n]
        lent += n == len(buf) == LARGE
        del buf
        stream.buffer_updated(n)
        pos += n
        reads.append(await anext(frames))
    stream.eof_received()
    assert [item async for item in frames] == []
    return reads, errors, b"".join(transport.kept), lent


def _whole(stream_bytes: bytes) -> list[Frame]:
    """What an assembling framer makes of the stream in one read, pings left out."""
    return [f for f in Framer().feed(stream_bytes)
            if type(f) is Frame and f.tag != "pingRequest"]


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(min_size=0, max_size=400),
       style=st.sampled_from([libindi_blob, oneline_blob]),
       cuts=st.lists(st.one_of(st.just(LARGE), st.integers(1, LARGE)), min_size=1, max_size=12))
def test_a_blob_split_across_reads_at_any_boundaries_arrives_byte_for_byte(
        raw: bytes, style: object, cuts: list[int]) -> None:
    """Whatever the reads' boundaries (lent whole reads, partial ones, a tag cut anywhere),
    the BLOBs come out as whole Frames equal to what an assembling framer makes of the stream
    in one piece (tag, attributes, bytes), in order with the small elements around them, and
    a ping between them is answered."""
    assert callable(style)
    stream_bytes = (SMALL + b"\n" + style("A", raw) + b"\n" + PING + style("B", raw[::-1])
                    + SMALL)
    reads, errors, written, _ = asyncio.run(_read_in(stream_bytes, cuts))
    got = [frame for read in reads for frame in read]
    assert errors == []
    assert [(f.tag, f.attrs, bytes(f.data)) for f in got] == [
        (f.tag, f.attrs, bytes(f.data)) for f in _whole(stream_bytes)]
    assert written == b'<pingReply uid="u1"/>\n'


def test_whole_reads_in_the_middle_of_a_blob_are_lent_and_the_blob_is_joined_from_them() -> None:
    """Reads that fill the stream's large buffer are lent (no copy into bytes) and the BLOB
    made of them is still whole: the path the bench's 13.5 MB elements take."""
    blob = libindi_blob("A", bytes(range(256)) * 8)
    reads, errors, _, lent = asyncio.run(_read_in(blob + SMALL, [LARGE]))
    assert lent > 10
    assert errors == []
    assert [bytes(f.data) for read in reads for f in read] == [blob, SMALL]


def test_a_blob_cut_short_by_the_next_element_is_dropped_and_that_element_kept() -> None:
    """A BLOB its peer abandoned (a new element starts inside it) is not handed on truncated:
    it is dropped with an error, and the element that cut it arrives."""
    blob = libindi_blob("A", bytes(600))
    cut = blob[:len(blob) // 2] + SMALL + b"\n" + oneline_blob("B", b"xyz" * 40)
    reads, errors, _, _ = asyncio.run(_read_in(cut, [LARGE, 7, LARGE, 30]))
    got = [f for read in reads for f in read]
    assert len(errors) == 1
    assert [(f.tag, f.attrs.get("device")) for f in got] == [("setNumberVector", "D"),
                                                             ("setBLOBVector", "B")]
    assert bytes(got[1].data) == oneline_blob("B", b"xyz" * 40)


async def test_the_indi_link_hands_on_a_blob_of_megabytes_whole() -> None:
    """IndiLink over TCP: a 3 MB libindi-style BLOB written in odd-sized pieces, then a small
    element, reach the bridge as two Frames, the BLOB byte for byte."""
    blob = libindi_blob("CCD", bytes(range(251)) * 9000)
    got: list[Frame] = []
    done = asyncio.Event()

    async def on_frames(frames: list[Frame]) -> None:
        got.extend(frames)
        if any(f.tag == "setNumberVector" for f in frames):
            done.set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"/>\n")
            data = blob + b"\n" + SMALL
            pos, step = 0, 1
            while pos < len(data):
                writer.write(data[pos:pos + step])
                pos += step
                step = step * 7 % 300_007 + 1
                await writer.drain()
            await reader.read()  # until the link goes
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    link = IndiLink("127.0.0.1", server.sockets[0].getsockname()[1], on_frames)
    task = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(done.wait(), 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        await server.wait_closed()
    assert [f.tag for f in got] == ["setBLOBVector", "setNumberVector"]
    assert bytes(got[0].data) == blob
    assert got[0].attrs == {"device": "CCD", "name": "CCD1", "state": "Ok"}
