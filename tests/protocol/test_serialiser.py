"""serialise: what C peers can read (five entities, no numeric refs, no CDATA), and local errors."""

from __future__ import annotations

import binascii

import pytest

from indipycore.protocol import BLOB
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import LocalProtocolError
from indipycore.protocol import Message
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import Text
from indipycore.protocol import parse_element
from indipycore.protocol import serialise


def test_newlines_and_tabs_are_written_raw_never_as_numeric_references() -> None:
    wire = serialise(SetTextVector("d", "n", (Text("t", "line1\nline2\tx"),), message="a\tb"))
    assert b"&#" not in wire
    assert b"line1\nline2\tx" in wire


def test_non_ascii_is_utf8_not_character_references() -> None:
    wire = serialise(Message("Kamera", message="5° Ω"))
    assert "5° Ω".encode() in wire and b"&#" not in wire


def test_all_five_special_characters_are_escaped_in_attributes_and_content() -> None:
    wire = serialise(SetTextVector("d&<>\"'", "n", (Text("t", "<&>\"'"),)))
    assert b'device="d&amp;&lt;&gt;&quot;&apos;"' in wire
    assert b">&lt;&amp;&gt;&quot;&apos;</oneText>" in wire
    assert b"CDATA" not in wire


def test_blob_is_one_line_of_base64_with_size_and_format_and_no_enclen_unless_set() -> None:
    data = bytes(range(256)) * 100
    wire = serialise(SetBLOBVector("CCD", "CCD1", (BLOB("CCD1", data, len(data), ".fits"),)))
    start = wire.index(b'format=".fits">') + len(b'format=".fits">')
    body = wire[start : wire.index(b"</oneBLOB>")]
    assert b"\n" not in body and binascii.a2b_base64(body) == data
    assert b'size="25600"' in wire and b"enclen" not in wire


def test_blob_with_enclen_is_written_in_72_column_lines_as_enclen_promises() -> None:
    """indilib's XML parser (indiserver, libindiclient 1.9.9) reads an ``enclen`` as promising
    base64 in lines of 72 columns; one line with ``enclen`` made it swallow the closing tags of
    a long value and stall the connection. A member that carries ``enclen`` (as parsed from an
    indilib driver) is therefore written the way indilib writes it, and parses back the same."""
    data = bytes(range(256)) * 100
    blob = BLOB("CCD1", data, len(data), ".fits", enclen=len(binascii.b2a_base64(data)) - 1)
    event = SetBLOBVector("CCD", "CCD1", (blob,))
    wire = serialise(event)
    body = wire[wire.index(b'enclen="34136">') + 15 : wire.index(b"</oneBLOB>")]
    lines = body.split(b"\n")
    assert [len(line) for line in lines[:-1]] == [72] * (34136 // 72)
    assert 0 < len(lines[-1]) <= 72 and len(b"".join(lines)) == 34136
    assert parse_element(wire) == event


def test_missing_required_attribute_is_a_local_error_naming_it() -> None:
    event = DefNumberVector("d", "n", State.OK, Perm.RW, (Number("x", "1"),))  # no format/min/...
    with pytest.raises(LocalProtocolError, match="defNumber.*'format'"):
        serialise(event)


def test_wrong_member_kind_is_a_local_error() -> None:
    event = DefTextVector("d", "n", State.OK, Perm.RW, (Switch("s"),))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="cannot hold member"):
        serialise(event)


def test_control_characters_xml_cannot_carry_are_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="cannot be sent"):
        serialise(Message(message="bell\x07"))


def test_not_an_event_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="not an INDI event"):
        serialise("<message/>")  # type: ignore[arg-type]


def test_members_given_as_a_list_serialise_and_round_trip() -> None:
    event = SetTextVector("d", "n", [Text("a", "1"), Text("b", "2")])  # type: ignore[arg-type]
    assert event.members == (Text("a", "1"), Text("b", "2"))
    assert parse_element(serialise(event)) == event
