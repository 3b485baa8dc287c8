"""The pure conversion modules, without any server: key names, INDI events -> redis
operations, and what programs publish on to_indi."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol import BLOBEnable
from indipycore.protocol import events as ev
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indiredis.fromxml import StoreWriter
from indiredis.fromxml import blob_notice
from indiredis.fromxml import log_lengths_with
from indiredis.keys import Keys
from indiredis.keys import join_key
from indiredis.keys import key_part
from indiredis.keys import split_key
from indiredis.keys import unkey_part
from indiredis.ops import Delete
from indiredis.ops import HSet
from indiredis.ops import Log
from indiredis.ops import SetValue
from indiredis.ops import SRem
from indiredis.toindi import ToIndiRequest
from indiredis.toindi import check_to_indi

names = st.text(min_size=1, max_size=12)


@given(names)
def test_a_key_part_gives_its_name_back(name: str) -> None:
    """Encoding a name for a key is reversible, and the part never holds the separator."""
    part = key_part(name)
    assert ":" not in part
    assert unkey_part(part) == name


@given(st.lists(names, min_size=1, max_size=4), st.lists(names, min_size=1, max_size=4))
def test_keys_of_different_names_never_collide(a: list[str], b: list[str]) -> None:
    """Names holding ':' or '%' cannot make two different (device, property, member) keys
    alike: the key is equal only when the names are."""
    assert (join_key(*a) == join_key(*b)) == (a == b)
    assert split_key(join_key(*a)) == a


def test_plain_names_give_indiredis_keys_unchanged() -> None:
    """Names without ':' or '%' give exactly the keys of indiredis 0.7."""
    keys = Keys("indi_")
    assert keys.full(Keys.elementattributes("RA", "EQUATORIAL_EOD_COORD", "Telescope Simulator")
                     ) == "indi_elementattributes:RA:EQUATORIAL_EOD_COORD:Telescope Simulator"
    assert Keys.attributes("a:b", "dev%") == "attributes:a%3Ab:dev%25"
    assert Keys.getproperties("D", "P") == "getProperties:property:P:D"


def _apply(writer: StoreWriter, xml: str) -> list[object]:
    event = parse_element(xml.encode())
    assert event is not None
    return list(writer.apply(event, received="2026-01-01T00:00:00.000000"))


DEF = ('<defNumberVector device="Mount" name="COORD" state="Idle" perm="rw" timestamp="2026-01-01T'
       '00:00:00"><defNumber name="DEC" format="%9.6m" min="-90" max="90" step="0">-5:30:36'
       "</defNumber></defNumberVector>")


def test_sexagesimal_numbers_use_3600_seconds_a_degree() -> None:
    """float_number of '-5:30:36' is -5.51 (indiredis divided seconds by 360: a bug)."""
    writer = StoreWriter()
    ops = _apply(writer, DEF)
    member = next(op for op in ops if isinstance(op, HSet) and "DEC" in op.key)
    assert float(member.mapping["float_number"]) == -5.51
    assert member.mapping["formatted_number"].strip() == "-5:30:36"
    assert member.mapping["float_min"] == "-90.0"


def test_a_deleted_property_says_its_message_under_devicemessages() -> None:
    """delProperty removes the vector's keys and writes its message to devicemessages:<device>
    (indiredis wrote messages:<device>: a bug)."""
    writer = StoreWriter()
    _apply(writer, DEF)
    ops = _apply(writer, '<delProperty device="Mount" name="COORD" message="gone"/>')
    deleted = {key for op in ops if isinstance(op, Delete) for key in op.keys}
    assert {"indi_attributes:COORD:Mount", "indi_elements:COORD:Mount",
            "indi_elementattributes:DEC:COORD:Mount"} <= deleted
    assert SRem("indi_devices", ("Mount",)) in ops
    assert any(isinstance(op, SetValue) and op.key == "indi_devicemessages:Mount"
               and op.value.endswith(" gone") for op in ops)
    assert writer.devices == {}


def test_a_set_for_an_undefined_vector_writes_nothing() -> None:
    """A set* with no def before it (or of another kind) is not stored."""
    writer = StoreWriter()
    assert _apply(writer, '<setNumberVector device="X" name="Y"><oneNumber name="a">1'
                          "</oneNumber></setNumberVector>") == []
    _apply(writer, DEF)
    assert _apply(writer, '<setTextVector device="Mount" name="COORD"/>') == []


def test_log_lengths_are_merged_over_the_defaults_and_at_least_one() -> None:
    """A caller's log_lengths replace only the lengths it names; 0 becomes 1."""
    lengths = log_lengths_with({"numbervector": 0, "textvector": 9})
    assert lengths["numbervector"] == 1 and lengths["textvector"] == 9
    assert lengths["switchvector"] == 5
    writer = StoreWriter(log_lengths={"numbervector": 2})
    ops = _apply(writer, DEF)
    assert any(isinstance(op, Log) and op.maxlen == 2 and "DEC" in op.key for op in ops)


def test_blob_notice_carries_the_path_not_the_bytes() -> None:
    """from_indi gets the file path of a BLOB instead of its base64."""
    event = ev.SetBLOBVector("CCD", "IMG", (ev.BLOB("I", b"x" * 1000, 1000, ".fits"),))
    notice = blob_notice(event, {"I": ("/tmp/a b&.fits", 1000)})
    assert b'filepath="/tmp/a b&amp;.fits"' in notice and b"xxxx" not in notice
    assert parse_element(notice) is not None


@given(st.binary(max_size=300))
def test_any_bytes_on_to_indi_give_a_request_or_a_reason(data: bytes) -> None:
    """Whatever a program publishes, the check returns a request or a reason, never raises."""
    result = check_to_indi(data, lambda device: "indi" if device == "D" else None)
    assert isinstance(result, (ToIndiRequest, str))


@given(st.sampled_from(["getProperties", "enableBLOB", "newNumberVector"]),
       st.text(st.characters(min_codepoint=33, max_codepoint=0xD7FF), min_size=1, max_size=12))
def test_only_known_devices_may_be_commanded(tag: str, device: str) -> None:
    """new vectors and enableBLOB need a device some source defined; getProperties does not."""
    request = {"getProperties": ev.GetProperties(device=device, name="n"),
               "enableBLOB": ev.EnableBLOB(device, BLOBEnable.ALSO, "n"),
               "newNumberVector": ev.NewNumberVector(device, "n", (ev.Number("a", "1"),))}[tag]
    result = check_to_indi(serialise(request), lambda name: None)
    if tag == "getProperties":
        assert isinstance(result, ToIndiRequest)
    else:
        assert isinstance(result, str)


def _logs(ops: list[object]) -> dict[str, dict[str, str]]:
    import json

    return {op.key: json.loads(op.fields["datastring"]) for op in ops if isinstance(op, Log)}


def test_log_streams_get_an_entry_only_when_a_value_changes() -> None:
    """A set repeating the last values (a new timestamp aside) is stored but adds no log
    entry; a changed value or state adds one holding the key's whole content."""
    writer = StoreWriter()
    _apply(writer, DEF)
    member_log = "indi_logdata:elementattributes:DEC:COORD:Mount"
    attr_log = "indi_logdata:attributes:COORD:Mount"
    first = _apply(writer, '<setNumberVector device="Mount" name="COORD" state="Ok" '
                   'timestamp="2026-01-01T00:00:01"><oneNumber name="DEC">1</oneNumber>'
                   "</setNumberVector>")
    logs = _logs(first)
    assert logs[member_log]["value"] == "1" and logs[member_log]["format"] == "%9.6m"
    assert logs[attr_log]["state"] == "Ok" and logs[attr_log]["perm"] == "rw"
    again = _apply(writer, '<setNumberVector device="Mount" name="COORD" state="Ok" '
                   'timestamp="2026-01-01T00:00:02"><oneNumber name="DEC">1</oneNumber>'
                   "</setNumberVector>")
    assert _logs(again) == {}
    assert any(isinstance(op, HSet) and op.key.endswith("DEC:COORD:Mount") for op in again)
    moved = _apply(writer, '<setNumberVector device="Mount" name="COORD" state="Ok">'
                   '<oneNumber name="DEC">2</oneNumber></setNumberVector>')
    assert set(_logs(moved)) == {member_log}
    busy = writer.note_state("Mount", "COORD", "Busy", "2026-01-01T00:00:03")
    assert _logs(busy)[attr_log]["state"] == "Busy"
    assert _logs(writer.note_state("Mount", "COORD", "Busy", "2026-01-01T00:00:04")) == {}


def test_published_messages_are_refused_with_their_reason_on_both_paths() -> None:
    """A message to the INDI side (redis or MQTT's to_indi) and a site's MQTT payload are framed
    the same way (toindi.whole_frames): too large, unfinished and malformed are refused with
    that reason; an empty one is refused by each for what it lacks."""
    from indiredis.toindi import whole_frames
    from indiredis.topics import payload_frames

    known = {"D": "indi"}.get
    new = b'<newNumberVector device="D" name="n"><oneNumber name="a">1</oneNumber></newNumberVector>'
    assert whole_frames(new * 2, 100) == "larger than 100 bytes"
    for check in (lambda data: check_to_indi(data, known), payload_frames):
        assert check(new[:-3]) == "an unfinished element"
        assert str(check(b"</junk>" + new)).startswith("malformed: ")
    assert check_to_indi(b"", known) == "0 elements, not one"
    assert payload_frames(b"  \n") == "no INDI element"
    assert check_to_indi(new * 2, known) == "2 elements, not one"
    assert isinstance(check_to_indi(new, known), ToIndiRequest)
    assert [f.tag for f in payload_frames(new * 2)] == ["newNumberVector"] * 2  # type: ignore[union-attr]


def test_a_blob_in_a_message_is_one_frame_of_the_message_itself_and_checked_as_receivers_do(
        ) -> None:
    """A message holding a BLOB (what mqtttoport receives for every image) is framed without
    copying it: the Frame's data is the message's own bytes. Its body may hold only its
    members, as our server and client frame BLOBs; one unfinished, even filling the whole
    limit, is refused as unfinished."""
    from indiredis.toindi import whole_frames
    from indiredis.topics import payload_frames

    blob = (b'<setBLOBVector device="C" name="CCD1">\n  <oneBLOB name="d" size="3" enclen="4" '
            b'format=".fits">\nAAAA\n  </oneBLOB>\n</setBLOBVector>')
    frames = payload_frames(blob)
    assert isinstance(frames, list) and len(frames) == 1
    assert frames[0].data is blob
    assert frames[0].attrs == {"device": "C", "name": "CCD1"}
    small = b'<delProperty device="C"/>'
    assert [f.tag for f in whole_frames(small + blob + small, 1000)] == [  # type: ignore[union-attr]
        "delProperty", "setBLOBVector", "delProperty"]
    assert str(whole_frames(blob.replace(b"AAAA", b"AA<defNumber/>AA"), 1000)).startswith(
        "malformed: ")
    cut = blob[:blob.index(b"AAAA") + 2]  # ends inside the base64
    for data in (cut, blob[:-4]):
        assert whole_frames(data, len(data)) == "an unfinished element"
        assert whole_frames(data, 1000) == "an unfinished element"
