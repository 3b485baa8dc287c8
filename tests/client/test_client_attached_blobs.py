"""BLOBs a server passes as memory files, read into their elements without sockets
(``indipyclient.model.attachedblobs`` and ``Incoming(attached=...)``).

Protects: an attached member's raw bytes reach the model and the program's event as an inline
member's would (same event, same types, ``.z`` unpacked); every descriptor given is closed
exactly once, whether its element is good, malformed, short of descriptors, given a pipe
instead of a memory file or a ``len`` past the file's end, or more descriptors came than
members (``leftover``); an attached member met in an element that streams is read into it.
Hypothesis mixes good and bad elements and cuts the stream anywhere.
"""

from __future__ import annotations

import base64
import itertools
import os
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyclient import events
from indipyclient.model.attachedblobs import MAX_HELD
from indipyclient.model.attachedblobs import AttachedBlobs
from indipyclient.model.incoming import Incoming
from indipyclient.model.incoming import Item
from indipyclient.model.tree import Model
from indipycore.protocol import ProtocolError
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead

DEF_BLOBS = (b'<defBLOBVector device="Dev" name="IMAGE" state="Idle" perm="ro">'
             b'<defBLOB name="a"/><defBLOB name="b"/></defBLOBVector>\n')


def member(name: str, size: int, fmt: str = ".fits", length: int | None = None,
           closed: bool = True) -> bytes:
    length = size if length is None else length
    attrs = (f'name="{name}" size="{size}" format="{fmt}" len="{length}" '
             f'attached="true"').encode()
    return b"<oneBLOB " + attrs + (b"/>" if closed else b">\n</oneBLOB>")


def attached_set(*members: bytes) -> bytes:
    return (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok">' + b"".join(members)
            + b"</setBLOBVector>\n")


def inline_set(name: str, data: bytes, fmt: str = ".fits", size: int | None = None) -> bytes:
    size = len(data) if size is None else size
    return (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok"><oneBLOB name="' + name.encode()
            + b'" size="' + str(size).encode() + b'" format="' + fmt.encode() + b'">'
            + base64.b64encode(data) + b"</oneBLOB></setBLOBVector>\n")


def memfd(data: bytes) -> int:
    fd = os.memfd_create("test-blob", os.MFD_CLOEXEC)
    os.write(fd, data)
    return fd


@contextmanager
def counted_closes() -> Iterator[dict[int, int]]:
    """os.close counted per descriptor while the block runs (each still really closed)."""
    closes: dict[int, int] = {}
    real = os.close

    def close(fd: int) -> None:
        closes[fd] = closes.get(fd, 0) + 1
        real(fd)

    with mock.patch.object(os, "close", close):
        yield closes


def receiver() -> tuple[Incoming, AttachedBlobs]:
    model = Model()
    attached = AttachedBlobs(model.max_blob_size)
    incoming = Incoming(model, attached=attached)
    list(incoming.feed(DEF_BLOBS))
    return incoming, attached


def blob_events(items: list[Item]) -> list[events.setBLOBVector]:
    return [i for i in items if isinstance(i, events.setBLOBVector)]


def errors(items: list[Item]) -> list[str]:
    return [str(i) for i in items if isinstance(i, ProtocolError)]


def test_an_attached_member_reaches_the_model_as_an_inline_one_would() -> None:
    image = b"SIMPLE  =" + bytes(range(256)) * 40
    incoming, attached = receiver()
    fd = memfd(image)
    with counted_closes() as closes:
        attached.give([fd])
        (event,) = blob_events(list(incoming.feed(attached_set(member("a", len(image))))))
    assert closes == {fd: 1}
    inline_in, _ = receiver()
    (inline,) = blob_events(list(inline_in.feed(inline_set("a", image))))
    assert type(event["a"]) is type(inline["a"]) is bytes
    assert event["a"] == inline["a"] == image
    assert event.sizeformat == inline.sizeformat == {"a": (len(image), ".fits")}
    vector = incoming.model.vector("Dev", "IMAGE")
    assert vector is not None and vector.members_["a"].blobsize == len(image)
    assert attached.received == 1 and not attached.fds


def test_two_members_take_their_descriptors_in_order_and_z_is_unpacked() -> None:
    first, second = b"first" * 1000, b"second" * 500
    packed = zlib.compress(second)
    incoming, attached = receiver()
    fds = [memfd(first), memfd(packed)]
    attached.give(fds)
    element = attached_set(member("a", len(first), closed=False),
                           member("b", len(second), ".fits.z", len(packed)))
    (event,) = blob_events(list(incoming.feed(element)))
    assert event["a"] == first and event["b"] == second
    assert _closed(fds)


def test_without_len_size_counts_up_to_the_file_as_indiserver_reads_it() -> None:
    incoming, attached = receiver()
    attached.give([memfd(b"x" * 100)])
    element = attached_set(b'<oneBLOB name="a" size="40" format=".bin" attached="true"/>')
    (event,) = blob_events(list(incoming.feed(element)))
    assert event["a"] == b"x" * 40


def _closed(fds: list[int]) -> bool:
    for fd in fds:
        try:
            os.fstat(fd)
        except OSError:
            continue
        return False
    return True


def pipe_fd() -> int:
    r, w = os.pipe()
    os.close(w)
    return r


BAD: dict[str, tuple[Callable[[], list[int]], bytes, str]] = {
    "no descriptor left": (list, attached_set(member("a", 10)), "missing shared buffer"),
    "one short of two": (lambda: [memfd(b"y" * 10)],
                         attached_set(member("a", 10), member("b", 10)), "missing shared buffer"),
    "a pipe, not a memory file": (lambda: [pipe_fd()], attached_set(member("a", 10)),
                                  "not a memory file"),
    "len past the file's end": (lambda: [memfd(b"z" * 10)], attached_set(member("a", 10, length=11)),
                                "exceeds the shared buffer"),
    "malformed XML": (lambda: [memfd(b"z" * 10)],
                      attached_set(member("a", 10)).replace(b"</setBLOBVector>", b"</setBLOB>"),
                      ""),
    "a body": (lambda: [memfd(b"z" * 10)],
               attached_set(member("a", 10, closed=False).replace(b"\n", b"QUJD")),
               "has a body"),
    "no size": (lambda: [memfd(b"z" * 10)],
                attached_set(b'<oneBLOB name="a" format=".bin" attached="true"/>'), "size"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_element_is_dropped_with_its_descriptors_closed_and_the_stream_goes_on(
        case: str) -> None:
    make_fds, element, why = BAD[case]
    incoming, attached = receiver()
    fds = make_fds()
    good = memfd(b"good")
    with counted_closes() as closes:
        attached.give(fds)
        items = list(incoming.feed(element))
        leftover = incoming.leftover()
        attached.give([good])
        after = list(incoming.feed(attached_set(member("a", 4))))
    assert blob_events(items) == []
    said = errors(items) + ([str(leftover)] if leftover is not None else [])
    assert said and why in " ".join(said), said
    assert [e["a"] for e in blob_events(after)] == [b"good"]
    assert closes == dict.fromkeys([*fds, good], 1)


def test_descriptors_beyond_the_members_are_closed_once_no_element_is_under_way() -> None:
    incoming, attached = receiver()
    fds = [memfd(b"a" * 3), memfd(b"extra")]
    with counted_closes() as closes:
        attached.give(fds)
        element = attached_set(member("a", 3))
        items = list(incoming.feed(element[:20]))  # the element has begun: nothing to say
        assert incoming.leftover() is None and len(attached.fds) == 2
        attached.give([])
        items += list(incoming.feed(element[20:]))
        error = incoming.leftover()
    assert [e["a"] for e in blob_events(items)] == [b"aaa"]
    assert error is not None and "1 descriptors came with no attached BLOB member" in str(error)
    assert closes == dict.fromkeys(fds, 1)


def test_a_member_attached_after_inline_data_is_read_into_the_streaming_element() -> None:
    """A vector whose first member is inline and large streams (``FrameHead``...); the
    attached member after it comes as a chunk holding its data as base64."""
    big = bytes(range(256)) * 400  # over the streaming threshold once in base64
    incoming, attached = receiver()
    fd = memfd(b"attached!")
    attached.give([fd])
    element = (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok"><oneBLOB name="a" size="'
               + str(len(big)).encode() + b'" format=".bin">' + base64.b64encode(big)
               + b"</oneBLOB>" + member("b", 9) + b"</setBLOBVector>\n")
    cut = element.index(b'<oneBLOB name="b"')  # the first read ends before the attached one
    items = list(incoming.feed(element[:cut]))
    attached.give([])
    items += list(incoming.feed(element[cut:]))
    assert type(items[0]) is FrameHead and type(items[-1]) is FrameEnd
    body = b"".join(bytes(i.data) for i in items if isinstance(i, (FrameHead, FrameChunk,
                                                                      FrameEnd)))
    assert b'<oneBLOB name="b" size="9" format=".fits" len="9">' + base64.b64encode(
        b"attached!") + b"</oneBLOB>" in body
    assert b"attached=" not in body and _closed([fd])


def test_an_element_mixing_inline_and_attached_members_read_whole_gets_both() -> None:
    incoming, attached = receiver()
    attached.give([memfd(b"attached!")])
    element = inline_set("a", b"inline").replace(b"</setBLOBVector>", member("b", 9)
                                                 + b"</setBLOBVector>")
    (event,) = blob_events(list(incoming.feed(element)))
    assert (event["a"], event["b"]) == (b"inline", b"attached!")


def test_a_blob_over_the_models_limit_is_not_read() -> None:
    model = Model(max_blob_size=100)
    attached = AttachedBlobs(model.max_blob_size)
    incoming = Incoming(model, attached=attached)
    list(incoming.feed(DEF_BLOBS))
    fd = memfd(b"q" * 200)
    attached.give([fd])
    items = list(incoming.feed(attached_set(member("a", 200))))
    assert blob_events(items) == [] and "over the limit of 100" in errors(items)[0]
    assert _closed([fd])


# -- any mix, cut anywhere -----------------------------------------------------------------

Kind = str
kinds = st.sampled_from(["good", "two", "short", "extra", "garbage", "number", "pipe", "long"])


def piece(kind: Kind, i: int) -> tuple[bytes, list[int], list[bytes] | None]:
    """An element of `kind`, its descriptors and the data its event must carry (None: no
    event)."""
    data = f"image {i} ".encode() * (i + 1)
    if kind == "good":
        return attached_set(member("a", len(data))), [memfd(data)], [data]
    if kind == "two":
        return (attached_set(member("a", len(data)), member("b", 3, closed=False)),
                [memfd(data), memfd(b"two")], [data, b"two"])
    if kind == "short":
        return attached_set(member("a", 1), member("b", 1)), [memfd(b"s")], None
    if kind == "extra":
        return attached_set(member("a", len(data))), [memfd(data), memfd(b"x")], [data]
    if kind == "garbage":
        return b"<setBLOBVector device='Dev' <<>> attached='true'/>\n", [memfd(b"g")], None
    if kind == "pipe":
        return attached_set(member("a", 4)), [pipe_fd()], None
    if kind == "long":
        return attached_set(member("a", 5, length=50)), [memfd(b"short")], None
    return (b'<setNumberVector device="Dev" name="N" state="Ok"><oneNumber name="n">'
            + str(i).encode() + b"</oneNumber></setNumberVector>\n", [], None)


@settings(max_examples=80, deadline=None)
# A garbage element whose end comes in the read that brings the next element's first byte
# and descriptor: that element began in that read, though the framer said nothing of the
# garbage it dropped (it once took the garbage's read for the element's).
@example([("garbage", 0), ("good", 0)], [30])
@given(st.lists(st.tuples(kinds, st.integers(0, 10_000)), min_size=1, max_size=8),
       st.lists(st.integers(1, 400), max_size=10))
def test_every_descriptor_is_closed_exactly_once_however_the_stream_is_cut(
        plan: list[tuple[Kind, int]], cuts: list[int]) -> None:
    """As the kernel reads a Unix socket: an element's descriptors come with its first
    bytes, and a read ends at or before the end of the write that carried them (so a read
    brings one element's descriptors at most); any other cut anywhere. Every element right
    gets its bytes whatever the elements around it did wrong."""
    incoming, attached = receiver()
    stream = b""
    starts: list[tuple[int, list[int]]] = []
    forced: set[int] = set()
    expected: list[list[bytes]] = []
    given_fds: list[int] = []
    for i, (kind, where) in enumerate(plan):
        element, fds, data = piece(kind, i)
        if fds:
            starts.append((len(stream), fds))
            forced.add(len(stream) + 1 + where % len(element))  # the read ends in it
        given_fds += fds
        stream += element
        if data is not None:
            expected.append(data)  # ("extra": its member is read, the extra closed)
    bounds = sorted({0, len(stream), *forced, *(c % (len(stream) + 1) for c in cuts)})
    got: list[list[bytes]] = []
    with counted_closes() as closes:
        for lo, hi in itertools.pairwise(bounds):
            attached.give([fd for start, fds in starts if lo <= start < hi for fd in fds])
            for item in incoming.feed(stream[lo:hi]):
                if isinstance(item, events.setBLOBVector):
                    got.append([item[m] for m in item.data])
            incoming.leftover()
        attached.close()
    assert got == expected
    assert closes == dict.fromkeys(given_fds, 1)


def test_an_element_short_of_descriptors_cannot_take_the_next_ones() -> None:
    """The first element (two members, one descriptor) ends in the read that brings the
    second's descriptor: it is dropped, and the second still gets its own."""
    incoming, attached = receiver()
    short = attached_set(member("a", 1), member("b", 1))
    good = attached_set(member("a", 4))
    first, second = memfd(b"s"), memfd(b"good")
    attached.give([first])
    items = list(incoming.feed(short[:30]))
    attached.give([second])
    items += list(incoming.feed(short[30:] + good))
    assert [e["a"] for e in blob_events(items)] == [b"good"]
    assert "missing shared buffer" in errors(items)[0]
    assert _closed([first, second]) and not attached.fds


def test_a_read_s_descriptors_go_to_the_last_attached_element_beginning_in_it() -> None:
    """A read ends with the write that passed descriptors, which began with its element: an
    attached element before it in the same read came without its own (a faulty server) and is
    dropped, without taking the other's."""
    incoming, attached = receiver()
    fd = memfd(b"good")
    attached.give([fd])
    items = list(incoming.feed(attached_set(member("a", 9)) + attached_set(member("a", 4))))
    assert [e["a"] for e in blob_events(items)] == [b"good"]
    assert "missing shared buffer" in errors(items)[0]
    assert _closed([fd]) and not attached.fds


def test_descriptors_held_while_an_element_is_under_way_are_bounded() -> None:
    incoming, attached = receiver()
    list(incoming.feed(attached_set(member("a", 4))[:25]))  # an element under way
    fds = [memfd(b"m") for _ in range(MAX_HELD + 10)]
    for start in range(0, len(fds), 16):
        attached.give(fds[start:start + 16])
    assert [fd for _, fd in attached.fds] == fds[:MAX_HELD]
    assert _closed(fds[MAX_HELD:])
    attached.close()
    assert _closed(fds)
