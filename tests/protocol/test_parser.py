"""parse_element: lenient where real peers are sloppy, precise errors where the input is wrong."""

from __future__ import annotations

import logging

import pytest

from indipycore.protocol import BLOB
from indipycore.protocol import BLOBEnable
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import EnableBLOB
from indipycore.protocol import GetProperties
from indipycore.protocol import Message
from indipycore.protocol import NewNumberVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import PingRequest
from indipycore.protocol import ProtocolError
from indipycore.protocol import Rule
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol import parse_element
from indipycore.protocol import serialise

INDILIB_PADDED = b"""<defSwitchVector
  device='Telescope Simulator'
  name='CONNECTION'
  label='Connection'
  group='Main Control'
  state='Idle'
  perm='rw'
  rule='OneOfMany'
  timeout='60'
  timestamp='2026-11-22T04:09:51'
>
  <defSwitch
    name='CONNECT'
    label='Connect'>
      Off
  </defSwitch>
  <defSwitch
    name='DISCONNECT'
    label='Disconnect'>
      On
  </defSwitch>
</defSwitchVector>"""


def test_indilib_padded_values_and_single_quotes_are_stripped() -> None:
    assert parse_element(INDILIB_PADDED) == DefSwitchVector(
        "Telescope Simulator",
        "CONNECTION",
        State.IDLE,
        Perm.RW,
        Rule.ONE_OF_MANY,
        (
            Switch("CONNECT", SwitchState.OFF, "Connect"),
            Switch("DISCONNECT", SwitchState.ON, "Disconnect"),
        ),
        label="Connection",
        group="Main Control",
        timeout="60",
        timestamp="2026-11-22T04:09:51",
    )


def test_text_values_are_stripped_too_but_inner_whitespace_kept() -> None:
    event = parse_element(
        b"<setTextVector device='d' name='n'><oneText name='t'>\n   a  b\n  </oneText></setTextVector>"
    )
    assert event == SetTextVector("d", "n", (Text("t", "a  b"),))


def test_attribute_values_are_stripped() -> None:
    assert parse_element(b"<getProperties version=' 1.7 ' device=' d '/>") == GetProperties(
        "1.7", "d"
    )


def test_free_text_attributes_keep_their_spaces_and_round_trip() -> None:
    """Labels, groups and messages are text for people, kept as sent: indilib's drivers send
    labels such as 'Left ' (a sweep of indilib's drivers found them), and the server's cache,
    which parses and re-serialises a definition to merge sets into it, must replay them as
    indiserver does, unchanged. Names stay stripped (see above)."""
    data = (b"<defSwitchVector device=' d ' name='n ' label='Left ' group=' Main' state='Ok' "
            b"perm='rw' rule='OneOfMany' message=' two  spaces '>"
            b"<defSwitch name='s' label=' Right '>On</defSwitch></defSwitchVector>")
    event = parse_element(data)
    assert (event.device, event.name) == ("d", "n")
    assert (event.label, event.group, event.message) == ("Left ", " Main", " two  spaces ")
    assert event.members[0].label == " Right "
    assert parse_element(serialise(event)) == event
    assert parse_element(b"<message device='d' message='done. '/>") == Message("d", None, "done. ")


def test_numbers_keep_the_wire_text_including_sexagesimal_and_percent_20g() -> None:
    event = parse_element(
        b"<newNumberVector device='d' name='n'>"
        b"<oneNumber name='RA'>5:30:00</oneNumber>"
        b"<oneNumber name='X'>\n      1.8826685845851898193e-05\n</oneNumber></newNumberVector>"
    )
    assert event == NewNumberVector(
        "d", "n", (Number("RA", "5:30:00"), Number("X", "1.8826685845851898193e-05"))
    )


def test_blob_base64_wrapped_at_72_columns_decodes_to_the_bytes() -> None:
    payload = bytes(range(256)) * 3
    import base64

    wrapped = base64.encodebytes(payload)  # 76-column lines with newlines, like indilib's 72
    data = (
        b"<setBLOBVector device='CCD' name='CCD1' state='Ok'>\n<oneBLOB name='CCD1' size='768' "
        b"format='.fits' enclen='1024'>\n" + wrapped + b"</oneBLOB>\n</setBLOBVector>"
    )
    event = parse_element(data)
    assert event == SetBLOBVector(
        "CCD", "CCD1", (BLOB("CCD1", payload, 768, ".fits", enclen=1024),), state=State.OK
    )


def test_unknown_top_level_element_returns_none_and_logs_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="indipycore.protocol.parser")
    assert parse_element(b"<switchProtocol version='2.0'/>") is None
    assert "switchProtocol" in caplog.text


def test_unknown_attributes_and_children_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="indipycore.protocol.parser")
    event = parse_element(
        b"<getProperties version='1.7' switch='2.0'/>"  # INDIGO client
    )
    assert event == GetProperties("1.7")
    assert "switch" in caplog.text
    event = parse_element(
        b"<setTextVector device='d' name='n' extra='1'><oneText name='t' x='y'>v</oneText>"
        b"<foo/><defText name='z'>w</defText></setTextVector>"
    )
    assert event == SetTextVector("d", "n", (Text("t", "v"),))


def test_indilib_blob_extras_attached_and_len_are_ignored() -> None:
    event = parse_element(
        b"<setBLOBVector device='d' name='n'><oneBLOB name='b' size='0' format='.fits' "
        b"enclen='0' attached='true' len='5'></oneBLOB></setBLOBVector>"
    )
    assert event == SetBLOBVector("d", "n", (BLOB("b", b"", 0, ".fits", enclen=0),))


def test_raw_latin1_bytes_from_c_drivers_are_accepted() -> None:
    assert parse_element(b"<message device='d' message='20\xb0C'/>") == Message(
        "d", message="20\u00b0C"
    )


def test_numeric_character_references_from_elementtree_peers_are_decoded() -> None:
    assert parse_element(b"<message message='a&#10;b'/>") == Message(message="a\nb")


def test_enable_blob_value_is_stripped_enum() -> None:
    assert parse_element(b"<enableBLOB device='d'>\n Also \n</enableBLOB>") == EnableBLOB(
        "d", BLOBEnable.ALSO
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<setTextVector name='n'/>", ["setTextVector", "'device'", "missing"]),
        (
            b"<defSwitchVector device='d' name='n' state='Idle' perm='rw'/>",
            ["defSwitchVector", "'rule'"],
        ),
        (
            b"<defTextVector device='d' name='n' state='idle' perm='rw'/>",
            ["defTextVector", "device='d'", "name='n'", "state='idle'", "Idle"],
        ),
        (b"<defTextVector device='d' name='n' state='Ok' perm='r'/>", ["perm='r'"]),
        (
            b"<setSwitchVector device='d' name='n'><oneSwitch name='s'>on</oneSwitch></setSwitchVector>",
            ["setSwitchVector", "oneSwitch", "name='s'", "'on'", "On"],
        ),
        (
            b"<setLightVector device='d' name='n'><oneLight name='l'>Red</oneLight></setLightVector>",
            ["oneLight", "'Red'"],
        ),
        (
            b"<setNumberVector device='d' name='n'><oneNumber>1</oneNumber></setNumberVector>",
            ["oneNumber", "'name'"],
        ),
        (
            (
                b"<defNumberVector device='d' name='n' state='Ok' perm='ro'>"
                b"<defNumber name='x' min='0' max='1' step='0'>1</defNumber></defNumberVector>"
            ),
            ["defNumber", "name='x'", "'format'"],
        ),
        (
            b"<setBLOBVector device='d' name='n'><oneBLOB name='b' format='.z'>AA==</oneBLOB></setBLOBVector>",
            ["oneBLOB", "'size'"],
        ),
        (
            b"<setBLOBVector device='d' name='n'><oneBLOB name='b' size='big' format='.z'/></setBLOBVector>",
            ["oneBLOB", "size='big'"],
        ),
        (
            b"<setBLOBVector device='d' name='n'><oneBLOB name='b' size='1' format='.z'>A</oneBLOB></setBLOBVector>",
            ["oneBLOB", "base64"],
        ),
        (b"<enableBLOB device='d'>Sometimes</enableBLOB>", ["enableBLOB", "'Sometimes'", "Never"]),
        (b"<enableBLOB>Also</enableBLOB>", ["enableBLOB", "'device'"]),
        (b"<delProperty/>", ["delProperty", "'device'"]),
        (b"<setTextVector device='d' name='n'>", ["malformed XML"]),
        (b"<a/><b/>", ["malformed XML"]),
        (b"", ["malformed XML"]),
    ],
)
def test_bad_input_raises_protocol_error_naming_element_attribute_and_value(
    data: bytes, words: list[str]
) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_element(data)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE m [<!ENTITY x 'boom'>]><message message='&x;'/>",
        b"<?xml version='1.0'?><!DOCTYPE message SYSTEM 'file:///etc/passwd'><message/>",
    ],
)
def test_doctype_and_entity_declarations_are_refused_never_expanded(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="DOCTYPE"):
        parse_element(data)


def test_an_xml_declaration_before_the_element_is_accepted() -> None:
    """indilib writes `<?xml version='1.0'?>` before each element: the element after it is
    parsed as if it were alone."""
    assert parse_element(b"<?xml version='1.0'?>\n<pingRequest uid='1'/>") == PingRequest(uid="1")


def test_a_big_blob_parses_whole() -> None:
    """An 8 MiB BLOB in 72-column base64 comes out whole. (That the time grows linearly with
    the size is measured in bench/parse_scaling.py, where a loaded machine fails no test.)"""
    size = 8 << 20
    data = bytes(range(256)) * (size // 256)
    wire = serialise(SetBLOBVector("CCD", "CCD1", (BLOB("CCD1", data, size, ".fits",
                                                        enclen=(size + 2) // 3 * 4),)))
    assert wire.count(b"\n") > size // 60  # in lines, as indilib writes it
    event = parse_element(wire)
    assert isinstance(event, SetBLOBVector)
    assert event.members[0].data == data
