"""One table of (event, bytes) rows drives parse and serialise tests for every INDI element.

Each row protects both directions: `serialise(event)` gives exactly these bytes, and these bytes
parse back to the event, whole, fed to the Framer one byte at a time, and with trailing data.
"""

from __future__ import annotations

import pytest

from indipycore.protocol import BLOB
from indipycore.protocol import BLOBEnable
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefLightVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import DelProperty
from indipycore.protocol import EnableBLOB
from indipycore.protocol import Event
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import GetProperties
from indipycore.protocol import Light
from indipycore.protocol import Message
from indipycore.protocol import NewBLOBVector
from indipycore.protocol import NewNumberVector
from indipycore.protocol import NewSwitchVector
from indipycore.protocol import NewTextVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import PingReply
from indipycore.protocol import PingRequest
from indipycore.protocol import Rule
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetLightVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.elements import ELEMENTS

ON, OFF = SwitchState.ON, SwitchState.OFF

ROWS: list[tuple[Event, bytes]] = [
    (GetProperties(version="1.7"), b'<getProperties version="1.7"/>\n'),
    (GetProperties(), b"<getProperties/>\n"),
    (
        GetProperties(version="1.7", device="Mount", name="EQ"),
        b'<getProperties version="1.7" device="Mount" name="EQ"/>\n',
    ),
    (
        GetProperties(device="GPS", name="TIME_UTC"),
        b'<getProperties device="GPS" name="TIME_UTC"/>\n',
    ),
    (
        DefTextVector(
            "Mount",
            "INFO",
            State.IDLE,
            Perm.RO,
            (Text("NAME", "Sim & Co <1>", "Name"),),
            label="Info",
            group="Main",
            timeout="0",
            timestamp="2026-01-02T03:04:05",
            message="hi",
        ),
        (
            b'<defTextVector device="Mount" name="INFO" label="Info" group="Main" state="Idle" '
            b'perm="ro" timeout="0" timestamp="2026-01-02T03:04:05" message="hi">\n'
            b'<defText name="NAME" label="Name">Sim &amp; Co &lt;1&gt;</defText>\n</defTextVector>\n'
        ),
    ),
    (
        DefNumberVector(
            "Mount",
            "EQ",
            State.OK,
            Perm.RW,
            (
                Number("RA", "5.5", "RA (hh:mm:ss)", "%010.6m", "0", "24", "0"),
                Number("DEC", "-5.5", None, "%g", "-90", "90", "1"),
            ),
        ),
        (
            b'<defNumberVector device="Mount" name="EQ" state="Ok" perm="rw">\n'
            b'<defNumber name="RA" label="RA (hh:mm:ss)" format="%010.6m" min="0" max="24" step="0">'
            b"5.5</defNumber>\n"
            b'<defNumber name="DEC" format="%g" min="-90" max="90" step="1">-5.5</defNumber>\n'
            b"</defNumberVector>\n"
        ),
    ),
    (
        DefSwitchVector(
            "Mount",
            "CONNECTION",
            State.IDLE,
            Perm.RW,
            Rule.ONE_OF_MANY,
            (Switch("CONNECT", OFF, "Connect"), Switch("DISCONNECT", ON)),
            timeout="60",
        ),
        (
            b'<defSwitchVector device="Mount" name="CONNECTION" state="Idle" perm="rw" '
            b'rule="OneOfMany" timeout="60">\n'
            b'<defSwitch name="CONNECT" label="Connect">Off</defSwitch>\n'
            b'<defSwitch name="DISCONNECT">On</defSwitch>\n</defSwitchVector>\n'
        ),
    ),
    (
        DefLightVector(
            "Dome", "STATUS", State.ALERT, (Light("MOTOR", State.BUSY, "Motor"),), group="G"
        ),
        (
            b'<defLightVector device="Dome" name="STATUS" group="G" state="Alert">\n'
            b'<defLight name="MOTOR" label="Motor">Busy</defLight>\n</defLightVector>\n'
        ),
    ),
    (
        DefBLOBVector("CCD", "CCD1", State.IDLE, Perm.RO, (BLOB("CCD1", label="Image"),)),
        (
            b'<defBLOBVector device="CCD" name="CCD1" state="Idle" perm="ro">\n'
            b'<defBLOB name="CCD1" label="Image"/>\n</defBLOBVector>\n'
        ),
    ),
    (
        SetTextVector("Mount", "INFO", (Text("NAME", "a \"q\" 'a'"),), state=State.OK, message="m"),
        (
            b'<setTextVector device="Mount" name="INFO" state="Ok" message="m">\n'
            b'<oneText name="NAME">a &quot;q&quot; &apos;a&apos;</oneText>\n</setTextVector>\n'
        ),
    ),
    (
        SetNumberVector(
            "Mount",
            "EQ",
            (Number("RA", "5.5"), Number("DEC", "-5.5")),
            state=State.BUSY,
            timeout="60",
            timestamp="2026-01-02T03:04:05.123",
        ),
        (
            b'<setNumberVector device="Mount" name="EQ" state="Busy" timeout="60" '
            b'timestamp="2026-01-02T03:04:05.123">\n'
            b'<oneNumber name="RA">5.5</oneNumber>\n<oneNumber name="DEC">-5.5</oneNumber>\n'
            b"</setNumberVector>\n"
        ),
    ),
    (
        # indilib IUUpdateMinMax: limits change inside a set.
        SetNumberVector(
            "CCD", "EXPOSURE", (Number("VALUE", "1", min="0.01", max="3600", step="1"),)
        ),
        (
            b'<setNumberVector device="CCD" name="EXPOSURE">\n'
            b'<oneNumber name="VALUE" min="0.01" max="3600" step="1">1</oneNumber>\n</setNumberVector>\n'
        ),
    ),
    (
        SetNumberVector("CCD", "EXPOSURE", (), state=State.ALERT),
        b'<setNumberVector device="CCD" name="EXPOSURE" state="Alert">\n</setNumberVector>\n',
    ),
    (
        SetSwitchVector("Mount", "CONNECTION", (Switch("CONNECT", ON), Switch("DISCONNECT", OFF))),
        (
            b'<setSwitchVector device="Mount" name="CONNECTION">\n'
            b'<oneSwitch name="CONNECT">On</oneSwitch>\n<oneSwitch name="DISCONNECT">Off</oneSwitch>\n'
            b"</setSwitchVector>\n"
        ),
    ),
    (
        SetLightVector(
            "Dome", "STATUS", (Light("MOTOR", State.OK),), state=State.IDLE, timestamp="t"
        ),
        (
            b'<setLightVector device="Dome" name="STATUS" state="Idle" timestamp="t">\n'
            b'<oneLight name="MOTOR">Ok</oneLight>\n</setLightVector>\n'
        ),
    ),
    (
        SetBLOBVector(
            "CCD", "CCD1", (BLOB("CCD1", b"\x00\xffSIMPLE", 8, ".fits"),), state=State.OK
        ),
        (
            b'<setBLOBVector device="CCD" name="CCD1" state="Ok">\n'
            b'<oneBLOB name="CCD1" size="8" format=".fits">AP9TSU1QTEU=</oneBLOB>\n</setBLOBVector>\n'
        ),
    ),
    (
        # indilib extra: enclen = base64 length; size 0 enclen 0 is a state-only update.
        SetBLOBVector("CCD", "CCD1", (BLOB("CCD1", b"", 0, ".fits", enclen=0),)),
        (
            b'<setBLOBVector device="CCD" name="CCD1">\n'
            b'<oneBLOB name="CCD1" size="0" format=".fits" enclen="0"></oneBLOB>\n</setBLOBVector>\n'
        ),
    ),
    (
        NewTextVector("Mount", "INFO", (Text("NAME", ""),), timestamp="t"),
        (
            b'<newTextVector device="Mount" name="INFO" timestamp="t">\n'
            b'<oneText name="NAME"></oneText>\n</newTextVector>\n'
        ),
    ),
    (
        NewNumberVector("Mount", "EQ", (Number("RA", "5:30:00"), Number("DEC", "-5 30"))),
        (
            b'<newNumberVector device="Mount" name="EQ">\n'
            b'<oneNumber name="RA">5:30:00</oneNumber>\n<oneNumber name="DEC">-5 30</oneNumber>\n'
            b"</newNumberVector>\n"
        ),
    ),
    (
        NewSwitchVector("Mount", "CONNECTION", (Switch("CONNECT", ON),)),
        (
            b'<newSwitchVector device="Mount" name="CONNECTION">\n'
            b'<oneSwitch name="CONNECT">On</oneSwitch>\n</newSwitchVector>\n'
        ),
    ),
    (
        NewBLOBVector("Upload", "FILE", (BLOB("F", b"abc", 3, ".txt"), BLOB("G", b"", 0, ".z"))),
        (
            b'<newBLOBVector device="Upload" name="FILE">\n'
            b'<oneBLOB name="F" size="3" format=".txt">YWJj</oneBLOB>\n'
            b'<oneBLOB name="G" size="0" format=".z"></oneBLOB>\n</newBLOBVector>\n'
        ),
    ),
    (Message(), b"<message/>\n"),
    (
        Message("Mount", "2026-01-02T03:04:05", "Slew complete: 5° > 4°"),
        '<message device="Mount" timestamp="2026-01-02T03:04:05" '
        'message="Slew complete: 5° &gt; 4°"/>\n'.encode(),
    ),
    (DelProperty("Mount"), b'<delProperty device="Mount"/>\n'),
    (
        DelProperty("Mount", "EQ", "t", "gone"),
        b'<delProperty device="Mount" name="EQ" timestamp="t" message="gone"/>\n',
    ),
    (EnableBLOB("CCD", BLOBEnable.ALSO), b'<enableBLOB device="CCD">Also</enableBLOB>\n'),
    (
        EnableBLOB("CCD", BLOBEnable.ONLY, "CCD1"),
        b'<enableBLOB device="CCD" name="CCD1">Only</enableBLOB>\n',
    ),
    (EnableBLOB("CCD", BLOBEnable.NEVER), b'<enableBLOB device="CCD">Never</enableBLOB>\n'),
    (PingRequest("SetBLOB/1"), b'<pingRequest uid="SetBLOB/1"/>\n'),
    (PingRequest(), b"<pingRequest/>\n"),
    (PingReply("SetBLOB/1"), b'<pingReply uid="SetBLOB/1"/>\n'),
]

IDS = [f"{i}-{type(event).__name__}" for i, (event, _) in enumerate(ROWS)]


def test_table_covers_every_element_of_the_element_table() -> None:
    assert {type(e) for e, _ in ROWS} == {spec.cls for spec in ELEMENTS.values()}


@pytest.mark.parametrize(("event", "wire"), ROWS, ids=IDS)
def test_serialise_writes_exactly_the_expected_bytes(event: Event, wire: bytes) -> None:
    assert serialise(event) == wire


@pytest.mark.parametrize(("event", "wire"), ROWS, ids=IDS)
def test_parse_reads_the_bytes_back_to_the_event(event: Event, wire: bytes) -> None:
    assert parse_element(wire) == event


@pytest.mark.parametrize(("event", "wire"), ROWS, ids=IDS)
def test_framer_byte_by_byte_with_trailing_data_then_parse(event: Event, wire: bytes) -> None:
    """The element is framed alone even with the next element and a partial one behind it."""
    trailing = b"<pingReply uid='next'/>\n<setNumberVector device='x' na"
    framer = Framer()
    out = []
    for byte in wire + trailing:
        out += framer.feed(bytes([byte]))
    assert all(isinstance(x, Frame) for x in out)
    assert [x.tag for x in out if isinstance(x, Frame)] == [_tag(event), "pingReply"]
    first = out[0]
    assert isinstance(first, Frame)
    assert first.data == wire.rstrip(b"\n")
    assert parse_element(first.data) == event


@pytest.mark.parametrize(("event", "wire"), ROWS, ids=IDS)
def test_framer_whole_stream_of_all_rows(event: Event, wire: bytes) -> None:
    """Whole-buffer framing of the element plus trailing data gives the same element."""
    out = Framer().feed(wire + b"<pingRequest uid='x'/><defTextVec")
    assert [x.data for x in out if isinstance(x, Frame)] == [
        wire.rstrip(b"\n"),
        b"<pingRequest uid='x'/>",
    ]


def _tag(event: Event) -> str:
    return next(spec.tag for spec in ELEMENTS.values() if spec.cls is type(event))
