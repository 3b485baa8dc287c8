"""Real indilib 1.9.9 traffic (tests/data/corpus, see its README.md) frames and parses completely.

Protects interoperability with C drivers: whitespace padding, single quotes, `<?xml?>` per
message, `%.20g` numbers, 72-column base64 BLOBs with `enclen`, and `pingRequest`.
"""

from __future__ import annotations

import binascii
import collections
import re

import corpus
import pytest

from indipycore.protocol import BLOB
from indipycore.protocol import Event
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import GetProperties
from indipycore.protocol import NewNumberVector
from indipycore.protocol import Number
from indipycore.protocol import PingRequest
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import Vector
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.elements import ELEMENTS


def _read(name: str) -> bytes:
    """A capture from the repository's corpus; a missing one fails the test (no skip)."""
    return corpus.read(name)


def _frame_in_chunks(stream: bytes, size: int) -> list[Frame]:
    framer = Framer()
    out = []
    for i in range(0, len(stream), size):
        out += framer.feed(stream[i : i + size])
    assert all(isinstance(x, Frame) for x in out), [x for x in out if not isinstance(x, Frame)]
    return out  # type: ignore[return-value]


def _top_level_tags(stream: bytes) -> collections.Counter[str]:
    """Independent count: in these captures every top-level element starts a line."""
    return collections.Counter(
        m.decode() for m in re.findall(rb"^<([A-Za-z]+)", stream, re.MULTILINE)
    )


@pytest.fixture(scope="module")
def telescope() -> tuple[bytes, list[Frame], list[Event | None]]:
    stream = _read("telescope-traffic.xml")
    frames = _frame_in_chunks(stream, 4096)
    return stream, frames, [parse_element(f.data) for f in frames]


@pytest.fixture(scope="module")
def ccd() -> tuple[bytes, list[Frame], list[Event | None]]:
    stream = _read("ccd-traffic.xml")
    frames = _frame_in_chunks(stream, 65536)
    return stream, frames, [parse_element(f.data) for f in frames]


@pytest.mark.parametrize("capture", ["telescope", "ccd"])
def test_every_element_is_framed_and_parses_to_an_event(
    capture: str, request: pytest.FixtureRequest
) -> None:
    stream, frames, events = request.getfixturevalue(capture)
    assert collections.Counter(f.tag for f in frames) == _top_level_tags(stream)
    assert None not in events
    assert [type(e) for e in events] == [ELEMENTS[f.tag].cls for f in frames]


@pytest.mark.parametrize("capture", ["telescope", "ccd"])
def test_padded_member_values_are_stripped(capture: str, request: pytest.FixtureRequest) -> None:
    _, _, events = request.getfixturevalue(capture)
    values = [
        str(m.value)
        for e in events
        if isinstance(e, Vector)
        for m in e.members
        if not isinstance(m, BLOB)
    ]
    assert values and all(v == v.strip() for v in values)


@pytest.mark.parametrize("capture", ["telescope", "ccd"])
def test_every_event_survives_serialise_and_parse_again(
    capture: str, request: pytest.FixtureRequest
) -> None:
    _, _, events = request.getfixturevalue(capture)
    for event in events:
        assert event is not None
        assert parse_element(serialise(event)) == event


def test_ccd_blobs_decode_to_size_bytes_of_fits_and_enclen_is_the_base64_length(
    ccd: tuple[bytes, list[Frame], list[Event | None]],
) -> None:
    _stream, _frames, events = ccd
    blobs = [e for e in events if isinstance(e, SetBLOBVector)]
    assert len(blobs) == 2
    for vector in blobs:
        (member,) = vector.members
        assert member.format == ".fits"  # uncompressed: size is the decoded length
        assert member.size == len(member.data) == 2626560
        assert member.enclen == len(binascii.b2a_base64(member.data, newline=False))
        assert member.data.startswith(b"SIMPLE  =")  # a FITS primary header


def test_ccd_ping_requests_follow_each_blob(
    ccd: tuple[bytes, list[Frame], list[Event | None]],
) -> None:
    _, _, events = ccd
    pings = [e for e in events if isinstance(e, PingRequest)]
    assert pings == [PingRequest("SetBLOB/1"), PingRequest("SetBLOB/2")]
    for ping in pings:
        assert isinstance(events[events.index(ping) - 1], SetBLOBVector)


def test_ccd_snoop_requests_carry_version_device_and_name(
    ccd: tuple[bytes, list[Frame], list[Event | None]],
) -> None:
    _, _, events = ccd
    assert GetProperties("1.7", "Telescope Simulator", "EQUATORIAL_EOD_COORD") in events


def test_ccd_framing_is_the_same_in_one_read_and_in_small_reads(
    ccd: tuple[bytes, list[Frame], list[Event | None]],
) -> None:
    stream, frames, _ = ccd
    assert [f.data for f in Framer().feed(stream)] == [f.data for f in frames]


def test_indilib_client_requests_parse_with_comments_skipped() -> None:
    stream = _read("indilib-clients-send.xml")
    events = [parse_element(f.data) for f in _frame_in_chunks(stream, 7)]
    assert GetProperties("1.7") in events
    assert (
        NewNumberVector(
            "Telescope Simulator",
            "EQUATORIAL_EOD_COORD",
            (Number("RA", "5:30:00"), Number("DEC", "-5 30")),
        )
        in events
    )
    assert None not in events
