"""What indiredis publishes and sends parses back to the events it meant (issue 41 item 6).

Every element the bridges write goes through the protocol's serialiser (names with ``&``, ``<``,
quotes and any character XML carries); these properties hold the round trip with the core's
parser, the way a peer reads them.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol import BLOBEnable
from indipycore.protocol import SwitchState
from indipycore.protocol import events as ev
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.frames import Frame
from indipycore.protocol.numbers import number_to_wire
from indiredis.fromxml import blob_notice
from indiredis.indilink import GET_PROPERTIES
from indiredis.indilink import ping_reply
from indiredis.toxml import enable_blob_xml
from indiredis.toxml import get_properties_xml
from indiredis.toxml import new_vector_xml

# Any character XML 1.0 carries but whitespace at the ends (INDI peers pad values, and the
# parser strips them, as indilib's do); markup characters included on purpose.
CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xD7FF) | st.sampled_from("&<>\"'")
names = st.text(CHARS, min_size=1, max_size=12).filter(lambda s: s == s.strip() and s != "")
texts = st.text(CHARS | st.sampled_from("\t\n"), max_size=30).filter(lambda s: s == s.strip())
members = st.lists(names, min_size=1, max_size=4, unique=True)
# Attribute values: XML turns a tab or newline in them into a space (attribute-value
# normalisation), so those carry none.
attribute_texts = st.text(CHARS, max_size=30).filter(lambda s: s == s.strip())


@given(names, names, members, st.data())
def test_new_vectors_parse_back_to_the_values_given(device: str, name: str, member_names: list[str],
                                                    data: st.DataObject) -> None:
    """newText/Number/Switch/BLOBVector from the publishers' builder: the same device, vector,
    members in order and values (numbers as the float given, plain decimals)."""
    text_values = {m: data.draw(texts) for m in member_names}
    parsed = parse_element(new_vector_xml("TextVector", device, name, text_values))
    assert parsed == ev.NewTextVector(device, name, tuple(ev.Text(m, v) for m, v in
                                                          text_values.items()))
    numbers = {m: data.draw(st.floats(allow_nan=False, allow_infinity=False)) for m in member_names}
    parsed = parse_element(new_vector_xml("NumberVector", device, name, numbers))
    assert isinstance(parsed, ev.NewNumberVector)
    assert [(m.name, m.float) for m in parsed.members] == list(numbers.items())
    assert [m.value for m in parsed.members] == [number_to_wire(v) for v in numbers.values()]
    states = {m: data.draw(st.sampled_from(["On", "Off"])) for m in member_names}
    parsed = parse_element(new_vector_xml("SwitchVector", device, name, states))
    assert parsed == ev.NewSwitchVector(device, name, tuple(
        ev.Switch(m, SwitchState(v)) for m, v in states.items()))
    blobs = {m: (data.draw(st.binary(max_size=40)), data.draw(st.sampled_from([".fits", ".bin"])))
             for m in member_names}
    parsed = parse_element(new_vector_xml("BLOBVector", device, name, blobs))
    assert isinstance(parsed, ev.NewBLOBVector)
    assert [(m.name, m.data, m.size, m.format) for m in parsed.members] == [
        (m, raw, len(raw), fmt) for m, (raw, fmt) in blobs.items()]


@given(names, names, st.sampled_from(list(BLOBEnable)))
def test_requests_parse_back(device: str, name: str, value: BLOBEnable) -> None:
    """getProperties (all, a device, a vector) and enableBLOB, as the publishers write them;
    the bridges' first request is the serialiser's too."""
    assert parse_element(get_properties_xml()) == ev.GetProperties(version="1.7")
    assert parse_element(GET_PROPERTIES) == ev.GetProperties(version="1.7")
    assert parse_element(get_properties_xml(device)) == ev.GetProperties(version="1.7",
                                                                         device=device)
    assert parse_element(get_properties_xml(device, name)) == ev.GetProperties(
        version="1.7", device=device, name=name)
    assert parse_element(enable_blob_xml(device, value.value, name)) == ev.EnableBLOB(
        device, value, name)


@given(st.none() | names)
def test_a_ping_is_answered_with_its_uid(uid: str | None) -> None:
    """The bridges' pingReply carries the pingRequest's uid, whatever it holds."""
    request = serialise(ev.PingRequest(uid))
    frame = Frame("pingRequest", {} if uid is None else {"uid": uid}, request)
    assert parse_element(ping_reply(frame)) == ev.PingReply(uid)


@given(names, names, members, st.sampled_from(["Ok", "Busy", "Alert", "Idle"]), attribute_texts,
       st.data())
def test_a_blob_notice_parses_back_to_the_vector_with_its_files(
        device: str, name: str, member_names: list[str], state: str, message: str,
        data: st.DataObject) -> None:
    """from_indi's setBLOBVector notice: the vector's attributes as received, each member's
    format and decompressed size, and the file path in ``filepath`` instead of the bytes."""
    event = ev.SetBLOBVector(device, name, tuple(ev.BLOB(m, b"x", 1, ".fits") for m in member_names),
                             state=state, timestamp="2026-11-25T03:00:00", message=message or None)
    files = {m: (data.draw(attribute_texts), data.draw(st.integers(0, 10**9)))
             for m in member_names}
    notice = blob_notice(event, files)
    parsed = parse_element(notice)
    assert isinstance(parsed, ev.SetBLOBVector)
    assert (parsed.device, parsed.name, parsed.state, parsed.timestamp, parsed.message) == (
        device, name, event.state, event.timestamp, event.message)
    assert [(m.name, m.size, m.format, m.data) for m in parsed.members] == [
        (m, files[m][1], ".fits", b"") for m in member_names]
    for path, _ in files.values():
        attribute = serialise(ev.DelProperty("d", message=path)).split(b'message="')[1]
        assert b'filepath="' + attribute.split(b'"')[0] + b'"' in notice
