"""Framer stream mode: large BLOB vectors handed out in pieces (cut-through forwarding)."""

from __future__ import annotations

import base64
import os
import random

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import BLOB
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameChunk
from indipycore.protocol.framing import FrameEnd
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import Framer

#: An empty member as indilib spells one: closing itself, in single quotes.
EMPTY_MEMBER = b"<oneBLOB name='b' size='0' format='.fits' enclen='0'/>\n"


def blob_element(
    nbytes: int, *, wrap: bool = False, device: str = "CCD", name: str = "IMG"
) -> bytes:
    """A setBLOBVector of `nbytes` random bytes as the serialiser writes it (one line of
    base64, or with `wrap` lines of 72 columns and `enclen`, as indilib's drivers), followed
    by `EMPTY_MEMBER`."""
    raw = os.urandom(nbytes)
    enclen = len(base64.b64encode(raw)) if wrap else None
    wire = serialise(SetBLOBVector(device, name, (BLOB("a", raw, nbytes, ".fits", enclen=enclen),),
                                   state=State.OK))
    end = wire.rindex(b"</setBLOBVector>")
    return wire[:end] + EMPTY_MEMBER + wire[end:]


NUM = (
    b'<setNumberVector device="CCD" name="T"><oneNumber name="t">1</oneNumber></setNumberVector>\n'
)
PING = b'<pingRequest uid="SetBLOB/1"/>\n'


def run(framer: Framer, chunks: list[bytes]) -> list:
    out: list = []
    for c in chunks:
        out.extend(framer.feed(c))
    return out


def assemble(items: list) -> list:
    """Streams joined back into (tag, attrs, data, complete); frames as (tag, attrs, data, True)."""
    result: list = []
    current: list | None = None
    for item in items:
        if isinstance(item, Frame):
            assert current is None, "a frame inside a stream"
            result.append((item.tag, item.attrs, bytes(item.data), True))
        elif isinstance(item, FrameHead):
            assert current is None
            current = [item.tag, item.attrs, [item.data]]
        elif isinstance(item, FrameChunk):
            assert current is not None
            current[2].append(item.data)
        elif isinstance(item, FrameEnd):
            assert current is not None
            current[2].append(item.data)
            result.append((current[0], current[1], b"".join(current[2]), item.complete))
            current = None
        else:
            assert isinstance(item, ProtocolError)
            result.append(("error", str(item)))
    assert current is None
    return result


def splits(data: bytes, rng: random.Random, pieces: int) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), pieces))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@pytest.mark.parametrize("wrap", [False, True])
def test_stream_equals_whole_elements_split_anywhere(wrap: bool) -> None:
    stream = NUM + blob_element(300_000, wrap=wrap) + PING + blob_element(10) + NUM
    expected = assemble(Framer().feed(stream))
    rng = random.Random(7)
    for trial in range(60):
        chunks = splits(stream, rng, 1 + trial % 40)
        items = run(Framer(stream_tags={"setBLOBVector"}, stream_min=4096), chunks)
        assert assemble(items) == expected
        assert any(isinstance(i, FrameHead) for i in items) or len(chunks) < 3


def test_every_split_of_the_markup_around_the_closing_tags() -> None:
    element = blob_element(6000)
    stream = element + PING
    expected = assemble(Framer().feed(stream))
    tail_start = len(element) - 60
    for cut in range(tail_start, len(stream)):
        for first in (100, 5000):
            chunks = [stream[:first], stream[first:cut], stream[cut:]]
            items = run(
                Framer(stream_tags={"setBLOBVector"}, stream_min=64), [c for c in chunks if c]
            )
            assert assemble(items) == expected, cut


def test_large_element_streams_without_being_kept() -> None:
    element = blob_element(3_000_000)
    framer = Framer(stream_tags={"setBLOBVector"})
    chunk = 1 << 20
    kinds = []
    for i in range(0, len(element), chunk):
        for item in framer.feed(element[i : i + chunk]):
            kinds.append(type(item).__name__)
        assert framer.buffered < 100  # only a possibly unfinished tag is held
    assert kinds[0] == "FrameHead" and kinds[-1] == "FrameEnd"
    assert set(kinds[1:-1]) <= {"FrameChunk"}


def test_a_read_is_handed_on_without_copy() -> None:
    element = blob_element(500_000)
    framer = Framer(stream_tags={"setBLOBVector"})
    framer.feed(element[:100_000])
    middle = element[100_000:400_000]
    (item,) = framer.feed(middle)
    assert isinstance(item, FrameChunk) and item.data is middle


def test_small_and_complete_elements_stay_frames() -> None:
    stream = blob_element(1000) + NUM
    items = Framer(stream_tags={"setBLOBVector"}).feed(stream)
    assert [type(i) for i in items] == [Frame, Frame]


def test_unterminated_blob_followed_by_a_good_element() -> None:
    element = blob_element(200_000)
    cut = element[: len(element) // 2]  # stops inside the base64 of the first member
    framer = Framer(stream_tags={"setBLOBVector"}, stream_min=4096)
    items = run(framer, [cut[:50_000], cut[50_000:], NUM + PING])
    got = assemble(items)
    errors = [g for g in got if g[0] == "error"]
    assert len(errors) == 1 and "unterminated setBLOBVector" in errors[0][1]
    blob = got[0]
    assert blob[0] == "setBLOBVector" and blob[3] is False
    # The receivers' copy is well-formed: the member and the element are closed.
    assert blob[2].endswith(b"</oneBLOB>\n</setBLOBVector>\n")
    assert blob[2].startswith(cut)
    from xml.etree import ElementTree

    ElementTree.fromstring(blob[2])
    assert [g[0] for g in got if g[0] != "error"][1:] == ["setNumberVector", "pingRequest"]


def test_unterminated_between_members_and_before_streaming() -> None:
    element = blob_element(200_000)
    between = element.index(b"</oneBLOB>") + len(b"</oneBLOB>\n")
    framer = Framer(stream_tags={"setBLOBVector"}, stream_min=4096)
    got = assemble(run(framer, [element[:between], element[between:between] + NUM]))
    assert got[0][2].endswith(b"</oneBLOB>\n</setBLOBVector>\n") and got[0][3] is False
    assert got[2][0] == "setNumberVector"
    # Not yet streamed: the broken element is just dropped, the next one is kept.
    small = blob_element(100)[:150]
    got = assemble(Framer(stream_tags={"setBLOBVector"}).feed(small + NUM))
    assert [g[0] for g in got] == ["error", "setNumberVector"]


def test_malformed_closing_tag_inside_is_an_error_and_resyncs() -> None:
    element = blob_element(100_000)
    bad = element.replace(b"</oneBLOB>", b"</oneBLOBX>", 1)
    framer = Framer(stream_tags={"setBLOBVector"}, stream_min=4096)
    got = assemble(run(framer, [bad[:60_000], bad[60_000:] + NUM]))
    assert got[0][3] is False
    assert any(g[0] == "error" for g in got)
    assert got[-1][0] == "setNumberVector"


def test_stream_tail_for_a_peer_that_goes_away() -> None:
    element = blob_element(100_000)
    framer = Framer(stream_tags={"setBLOBVector"}, stream_min=4096)
    assert framer.stream_tail() is None
    framer.feed(element[:50_000])
    assert framer.stream_tail() == b"</oneBLOB>\n</setBLOBVector>\n"


def test_oversized_streamed_element_is_closed_and_skipped() -> None:
    element = blob_element(200_000)
    framer = Framer(100_000, stream_tags={"setBLOBVector"}, stream_min=4096)
    got = assemble(
        run(framer, [element[i : i + 30_000] for i in range(0, len(element), 30_000)] + [NUM])
    )
    assert got[0][3] is False and got[0][0] == "setBLOBVector"
    assert "larger than" in got[1][1]
    assert got[-1][0] == "setNumberVector" and len(got) == 3


def test_only_blob_vectors_stream() -> None:
    with pytest.raises(ValueError):
        Framer(stream_tags={"setNumberVector"})


def _detached(items: list) -> list:
    """The items with their bytes copied out (as a receiver that wrote them on would)."""
    out: list = []
    for item in items:
        if isinstance(item, FrameHead):
            out.append(FrameHead(item.tag, item.attrs, bytes(item.data)))
        elif isinstance(item, FrameChunk):
            out.append(FrameChunk(bytes(item.data)))
        elif isinstance(item, FrameEnd):
            out.append(FrameEnd(bytes(item.data), item.complete))
        else:
            if isinstance(item, Frame):
                assert type(item.data) is bytes  # whole elements never borrow the buffer
            out.append(item)
    return out


def _views_of(buf: bytearray, items: list) -> int:
    """How many items hold a view (all of them of `buf`)."""
    views = [i.data for i in items if isinstance(getattr(i, "data", None), memoryview)]
    assert all(v.obj is buf for v in views)
    return len(views)


@pytest.mark.parametrize("wrap", [False, True])
def test_a_lent_buffer_is_referenced_only_by_the_pieces_handed_out(wrap: bool) -> None:
    """feed_lent: BLOB pieces are views of the caller's buffer (no copy), and nothing else
    keeps it: once the pieces are dropped the reader may read into it again (readbuffers
    relies on this), and overwriting it changes nothing already framed or still to come."""
    import sys

    stream = NUM + blob_element(300_000, wrap=wrap) + PING + blob_element(10) + NUM
    stream += blob_element(200_000, wrap=wrap) + NUM
    expected = assemble(Framer().feed(stream))
    rng = random.Random(11)
    views = 0
    for trial in range(40):
        framer = Framer(stream_tags={"setBLOBVector"}, stream_min=4096)
        got: list = []
        for chunk in splits(stream, rng, 1 + trial % 30):
            buf = bytearray(chunk)
            items = framer.feed_lent(buf)
            views += _views_of(buf, items)
            got.extend(_detached(items))
            del items
            assert sys.getrefcount(buf) == 2  # `buf` and the call's argument: nobody else
            buf[:] = b"\xff" * len(buf)  # read into again
        assert assemble(got) == expected
    assert views > 100


def test_an_abandoned_stream_drops_its_rest_but_not_what_follows_it() -> None:
    """A stream given up (its peer stalled: `Framer.abandon_stream`) hands nothing more of
    itself out, whether its rest comes or not: if its end comes, what follows is framed; if
    the peer sends other elements instead, they are framed too (the abandoned element is
    ended by them, with an error), and a whole next BLOB streams again."""
    blob = blob_element(300_000)
    half = len(blob) // 2
    for rest in (blob[half:], b""):
        framer = Framer(stream_tags={"setBLOBVector"})
        first = framer.feed(blob[:half])
        assert isinstance(first[0], FrameHead)
        assert framer.abandon_stream() == b"</oneBLOB>\n</setBLOBVector>\n"
        items = framer.feed(rest + b'<message device="CCD" message="hi"/>\n' + NUM + blob + NUM)
        got = assemble([i for i in items if not isinstance(i, ProtocolError)])
        assert [(tag, complete) for tag, _a, _d, complete in got] == [
            ("message", True), ("setNumberVector", True), ("setBLOBVector", True),
            ("setNumberVector", True)]
        assert got[2][2] == blob.rstrip(b"\n") or got[2][2] == blob
        errors = [str(i) for i in items if isinstance(i, ProtocolError)]
        assert errors == ([] if rest else [
            "unterminated setBLOBVector: <message> started inside it (at byte "
            f"{half} of the stream)"])


# -- split_attached: a C driver's socket, whose members may say attached='true' ------------

ATTACHED_MEMBER = (b"<oneBLOB\n    name='x'\n    size='10'\n    format='.fits'\n    len='10'\n"
                   b"    attached='true'/>\n")


def mixed(nbytes: int, attached_first: bool) -> bytes:
    """`blob_element` with an attached member before its inline one, or after it."""
    element = blob_element(nbytes, wrap=True)
    if attached_first:
        at = element.index(b"<oneBLOB")
    else:
        at = element.rindex(b"</setBLOBVector>")
    return element[:at] + ATTACHED_MEMBER + element[at:]


def split_attached_items(stream: bytes, chunks: list[bytes]) -> list:
    items = run(Framer(stream_tags={"setBLOBVector"}, stream_min=4096, split_attached=True),
                chunks)
    whole = b"".join(bytes(f.data) for f in Framer().feed(stream))  # without the whitespace
    assert b"".join(bytes(i.data) for i in items if not isinstance(i, ProtocolError)) == whole
    return items


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_split_attached_any_split(data: st.DataObject) -> None:
    """However the reads fall, with ``split_attached`` an element whose attached member comes
    before it streams is one Frame (assembled, to be inlined whole), and one met while it
    streams is a `FrameAttached` piece of exactly its tag; the pieces join to the stream."""
    from indipycore.protocol.framing import FrameAttached

    first = data.draw(st.booleans(), "attached first")
    nbytes = data.draw(st.integers(10, 20_000), "bytes")
    stream = NUM + mixed(nbytes, first) + PING + blob_element(9000) + NUM
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=12), "cuts"))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    items = split_attached_items(stream, chunks)
    tags = [i for i in items if isinstance(i, FrameAttached)]
    blob_frames = [i for i in items if isinstance(i, Frame) and i.tag == "setBLOBVector"]
    heads = [i for i in items if isinstance(i, FrameHead)]
    mixed_item = next(i for i in items if isinstance(i, (Frame, FrameHead))
                      and i.tag == "setBLOBVector")
    if first or isinstance(mixed_item, Frame):
        # Assembled: always when its tag comes first (streaming it would hand out the tag
        # before the data it needs), and when a read held the tag before it streamed.
        assert isinstance(mixed_item, Frame) and not tags
        assert ATTACHED_MEMBER.strip() in bytes(mixed_item.data)
    else:  # streamed: the tag alone, where it stands
        assert [bytes(t.data) for t in tags] == [ATTACHED_MEMBER.strip()]
        assert all(b"attached" not in bytes(i.data) for i in items if type(i) is not
                   FrameAttached and not isinstance(i, (Frame, ProtocolError)))
    assert len(heads) + len(blob_frames) == 2
    assert not any(isinstance(i, ProtocolError) for i in items)


def test_split_attached_oversized_element_is_refused() -> None:
    """Assembled because of its attached member, an element over ``max_element_size`` is
    refused with an error (it cannot stream) and what follows it is framed."""
    element = mixed(200_000, attached_first=True)
    framer = Framer(100_000, stream_tags={"setBLOBVector"}, stream_min=4096, split_attached=True)
    got = assemble(run(framer, [element[i : i + 30_000] for i in range(0, len(element), 30_000)]
                       + [NUM]))
    assert got[0][0] == "error" and "larger than" in got[0][1]
    assert [g[0] for g in got[1:]] == ["setNumberVector"]


def test_without_split_attached_an_attached_member_streams_as_any_other() -> None:
    """A pipe driver's framer: nothing attached is special (the router refuses it)."""
    stream = mixed(20_000, attached_first=True)
    items = run(Framer(stream_tags={"setBLOBVector"}, stream_min=4096),
                [stream[:5000], stream[5000:]])
    assert [type(i) for i in items] == [FrameHead, FrameEnd]
