"""A BLOB received in pieces is decoded exactly as the protocol core decodes it whole
(hypothesis): whatever the line breaks (72 columns as indilib, one line, CRLF, spaces), however
the element is cut into reads, with or without padding; a body that is not base64 (a stray
character, data after the padding) is refused, never handed on as other bytes; ``.z`` is
inflated."""

from __future__ import annotations

import base64
import sys
import zlib

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyclient.model.blobstream import BLOBReceiver
from indipyclient.model.blobstream import MemorySink
from indipycore.protocol import BLOB
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipycore.protocol.blobs import decode_base64


def wrap(text: bytes, style: str) -> bytes:
    if style == "oneline":
        return text
    width, sep = {"libindi": (72, b"\n"), "crlf": (64, b"\r\n"), "spaces": (17, b" \t ")}[style]
    return sep.join(text[i:i + width] for i in range(0, len(text), width)) + sep


def blob_parts(size: int, fmt: str = ".bin") -> tuple[bytes, bytes]:
    """The serialiser's setBLOBVector of one member of `size` bytes, cut where the member's
    body goes: what comes before it and what comes after it."""
    wire = serialise(SetBLOBVector("D", "V", (BLOB("b", b"", size, fmt),), state=State.OK))
    head, tail = wire.split(b"</oneBLOB>")
    return head, b"</oneBLOB>" + tail


def blob_element(size: int, body: bytes, fmt: str = ".bin") -> bytes:
    """A setBLOBVector of one member of `size` bytes whose body (base64, laid out as a peer
    may lay it out) is `body`."""
    head, tail = blob_parts(size, fmt)
    return head + body + tail


#: How the connection hands a piece over: bytes, a view of a whole read it lent (the buffer
#: is searched in place), or a view of part of a lent read (copied).
FORMS = ["bytes", "lent", "part"]


def as_form(piece: bytes, form: str) -> bytes | memoryview:
    if form == "lent":
        return memoryview(bytearray(piece))
    if form == "part":
        return memoryview(bytearray(b"<" + piece + b">"))[1:-1]
    return piece


def receive(element: bytes, cuts: list[int], form: str = "bytes") -> dict[str, bytes]:
    points = sorted({c % (len(element) + 1) for c in cuts})
    pieces = [element[a:b] for a, b in zip([0, *points], [*points, len(element)], strict=True)]
    receiver = BLOBReceiver(pieces[0], MemorySink, 1 << 30, "D.V")
    for piece in pieces[1:-1]:
        receiver.feed(as_form(piece, form))
    receiver.end(as_form(pieces[-1], form) if len(pieces) > 1 else b"", True)
    return receiver.received()


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=3000), st.sampled_from(["libindi", "oneline", "crlf",
                                                              "spaces"]),
       st.booleans(), st.lists(st.integers(0, 6000), max_size=8), st.booleans(),
       st.sampled_from(FORMS))
def test_pieces_decode_as_the_whole_body_does(data: bytes, style: str, padded: bool,
                                              cuts: list[int], compressed: bool,
                                              form: str) -> None:
    payload = zlib.compress(data) if compressed else data
    text = base64.b64encode(payload)
    if not padded:
        text = text.rstrip(b"=")
    fmt = ".bin.z" if compressed else ".bin"
    body = wrap(text, style)
    element = blob_element(len(data), body, fmt)
    assert decode_base64(body) == payload
    assert receive(element, cuts, form) == {"b": data}


@settings(max_examples=200)
@given(st.binary(min_size=3, max_size=600), st.sampled_from([b"!", b"=", b"==", b"\xff", b"-"]),
       st.integers(0, 10_000), st.lists(st.integers(0, 2000), max_size=5))
# A pad mid-body, a read boundary after it ("AA==" then "AAAAAAAAAA"): was decoded on as 8 bytes.
@example(b"\x00" * 9, b"==", 4527, [88])
def test_a_body_that_is_not_base64_is_refused(data: bytes, bad: bytes, where: int,
                                              cuts: list[int]) -> None:
    text = wrap(base64.b64encode(data), "libindi")
    at = where % (len(text) - 8)
    body = text[:at] + bad + text[at:]
    element = blob_element(len(data), body)
    try:
        whole = decode_base64(body)
    except ValueError:
        assert receive(element, cuts) == {}
    else:
        # What the core's whole decoding tolerates (a pad where none is due, at the end) may
        # be refused in pieces, but never decoded into other bytes.
        assert receive(element, cuts) in ({}, {"b": whole})


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=3000), st.integers(1, 90), st.integers(1, 90),
       st.sampled_from(["insert", "replace", "rewrap", "none"]), st.integers(0, 10_000),
       st.lists(st.integers(0, 6000), max_size=8), st.sampled_from(FORMS))
@example(b"\x01" * 600, 72, 72, "insert", 500, [300], "bytes")
@example(b"\x02" * 600, 72, 76, "rewrap", 333, [], "lent")
def test_line_breaks_off_their_places_decode_as_the_whole_body_does(
        data: bytes, width: int, other: int, change: str, where: int, cuts: list[int],
        form: str) -> None:
    """Line breaks are read off the places one width puts them (``_line_breaks``); a break
    anywhere else -- an extra one, one in place of a character, lines of another width further
    on -- must not change what is decoded: the same bytes as the core's whole decoding, or
    (where that refuses the body) nothing."""
    text = base64.b64encode(data)
    lines = b"\n".join(text[i:i + width] for i in range(0, len(text), width)) + b"\n"
    at = where % len(lines)
    if change == "insert":
        lines = lines[:at] + b"\n" + lines[at:]
    elif change == "replace":
        lines = lines[:at] + b"\n" + lines[at + 1:]
    elif change == "rewrap":
        rest = lines[at:].replace(b"\n", b"")
        lines = lines[:at] + b"\n".join(rest[i:i + other] for i in range(0, len(rest), other))
    element = blob_element(len(data), lines)
    try:
        whole = decode_base64(lines)
    except ValueError:
        assert receive(element, cuts, form) == {}
    else:
        assert receive(element, cuts, form) == {"b": whole}


def test_a_lent_read_is_not_held_after_its_piece() -> None:
    """The connection reads into a lent buffer again once nothing refers to it
    (``indipycore.readbuffers``): the receiver, which searches a whole lent read in place,
    must keep no reference to it -- not in the group a piece leaves unfinished either."""
    text = wrap(base64.b64encode(bytes(range(256)) * 40), "libindi")
    head, tail = blob_parts(10240)
    receiver = BLOBReceiver(head, MemorySink, 1 << 30, "D.V")
    for start in range(0, len(text), 1001):  # 1001: most pieces end in a group left unfinished
        buf = bytearray(text[start:start + 1001])
        alone = sys.getrefcount(buf)
        view = memoryview(buf)
        receiver.feed(view)
        view.release()
        assert sys.getrefcount(buf) == alone
    receiver.end(tail, True)
    assert receiver.received() == {"b": bytes(range(256)) * 40}
