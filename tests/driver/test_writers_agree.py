"""The driver writes every element as the protocol core's writer does.

A driver keeps the pieces of its def and set vectors (`PropertyVector._def_bytes`,
`_set_bytes`: the hot path, a join of strings made by `protocol.serialiser`'s functions), and
writes everything else it sends as events through `wire.write_element`; everything else that
writes INDI goes through `serialise`. Protects, for any text, switch, number, light and BLOB
vector -- names, labels, groups, values and messages with every character XML can carry,
entities included, any state, perm and timeout:

* what the driver writes is byte for byte the table-driven `Serialiser` in the compact layout
  with the driver's escaping, for the event the vector stands for, so the hot path cannot
  drift from the one writer;
* it parses to the same event as what `serialise` writes (the layouts differ in newlines only);
* the bytes a driver sends for each kind of element are those it always sent (pinned below:
  clients and indilib see them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.frames import Frame
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import Serialiser
from indipycore.protocol.serialiser import serialise
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.ports import DriverPort
from indipydriver.snooping import _enable_blob_bytes
from indipydriver.snooping import _get_properties_bytes
from indipydriver.wire import escape

NAMES = st.text(st.characters(min_codepoint=ord("A"), max_codepoint=ord("z"),
                              categories=["Lu", "Ll"]), min_size=1, max_size=8)
#: Any character XML 1.0 carries, the five entities' among them, without outer whitespace (the
#: parser strips it from both sides alike).
TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\ufffe\uffff"),
               max_size=12).map(str.strip)
STATES = st.sampled_from(list(State))
PERMS = st.sampled_from(list(Perm))
TIMEOUTS = st.sampled_from(["0", "5", "60", "1.5"])
STAMP = datetime(2026, 11, 24, 4, 40, 1, 123000)
STAMP_TEXT = "2026-11-24T04:40:01.123"

#: The one writer, as the driver's layout and escaping use it.
compact = Serialiser(escape, COMPACT)


class Recorder:
    """A vector's driver (a `DriverPort`: mypy --strict passes this file) that keeps what it
    is sent."""

    driverdata: dict[str, Any]
    sends_framed = False

    def __init__(self) -> None:
        self.driverdata = {}
        self.sent: list[bytes] = []

    @property
    def stop(self) -> bool:
        return False

    @property
    def attaches_blobs(self) -> bool:
        return False  # BLOBs inline: the writer's base64 is what is compared

    def add_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        coro.close()

    def shutdown(self) -> None:
        pass

    async def _send(self, data: bytes, tag: str | None = None,
                    attrs: dict[str, str] | None = None) -> None:
        self.sent.append(data)

    async def _send_blob(self, data: bytes, fds: Sequence[int] = ()) -> None:
        assert not fds
        self.sent.append(data)


def _attach(device: Device) -> Recorder:
    recorder = Recorder()
    port: DriverPort = recorder
    device.driver = port
    return recorder


def _agree(written: bytes, expected: pe.Event) -> None:
    assert written == compact(expected)
    assert parse_element(written) == parse_element(serialise(expected))


def _timeout(perm: Perm, timeout: str) -> str | None:
    # 3.x convention kept: no timeout on read-only vectors.
    return None if perm is Perm.RO else timeout


@settings(max_examples=200)
@given(device=NAMES, name=NAMES, label=TEXT, group=TEXT, message=TEXT, state=STATES,
       perm=PERMS, timeout=TIMEOUTS, values=st.dictionaries(NAMES, TEXT, min_size=1, max_size=4))
def test_a_text_vector_is_written_alike(device: str, name: str, label: str, group: str,
                                        message: str, state: State, perm: Perm, timeout: str,
                                        values: dict[str, str]) -> None:
    vector = TextVector(name, label, group, perm.value, state.value,
                        [TextMember(n, label=n, membervalue=v) for n, v in values.items()])
    vector.timeout = timeout
    Device(device, [vector])
    members = tuple(pe.Text(n, v) for n, v in values.items())
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetTextVector(device, name, members, state=state,
                            timeout=_timeout(perm, timeout), timestamp=STAMP_TEXT,
                            message=message or None))
    _agree(vector._def_bytes(message, STAMP),
           pe.DefTextVector(device, name, state, perm,
                            tuple(pe.Text(n, v, vector.memberlabel(n)) for n, v in values.items()),
                            label=vector.label, group=vector.group,
                            timeout=_timeout(perm, timeout), timestamp=STAMP_TEXT,
                            message=message or None))


@settings(max_examples=200)
@given(device=NAMES, name=NAMES, message=TEXT, label=TEXT,
       states=st.dictionaries(NAMES, st.booleans(), min_size=1, max_size=4))
def test_a_switch_vector_is_written_alike(device: str, name: str, message: str, label: str,
                                          states: dict[str, bool]) -> None:
    # AnyOfMany: any switches may be On (the other rules put a vector right as it is made).
    rule = Rule.ANY_OF_MANY
    vector = SwitchVector(name, label, "G", "rw", rule.value, "Busy",
                          [SwitchMember(n, label=label, membervalue="On" if on else "Off")
                           for n, on in states.items()])
    Device(device, [vector])
    members = tuple(pe.Switch(n, SwitchState.ON if on else SwitchState.OFF)
                    for n, on in states.items())
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetSwitchVector(device, name, members, state=State.BUSY, timeout="0",
                              timestamp=STAMP_TEXT, message=message or None))
    def_members = tuple(pe.Switch(m.name, m.value, vector.memberlabel(m.name)) for m in members)
    _agree(vector._def_bytes(message, STAMP),
           pe.DefSwitchVector(device, name, State.BUSY, Perm.RW, rule, def_members,
                              label=vector.label, group="G", timeout="0", timestamp=STAMP_TEXT,
                              message=message or None))


NUMBERS = st.one_of(st.integers(-10**6, 10**6), st.sampled_from(["12:30:00", "-5.25", "1e3"]))


@settings(max_examples=200)
@given(device=NAMES, name=NAMES, perm=PERMS, state=STATES, message=TEXT,
       fmt=st.sampled_from(["%g", "%.2f", "%9.6m", "", "%d"]),
       values=st.dictionaries(NAMES, NUMBERS, min_size=1, max_size=4))
def test_a_number_vector_is_written_alike(device: str, name: str, perm: Perm, state: State,
                                          message: str, fmt: str,
                                          values: dict[str, int | str]) -> None:
    vector = NumberVector(name, "L", "G", perm.value, state.value,
                          [NumberMember(n, format=fmt, min=-1, max="1e6", step=0, membervalue=v)
                           for n, v in values.items()])
    Device(device, [vector])
    members = tuple(pe.Number(n, str(v)) for n, v in values.items())
    timeout = _timeout(perm, "0")
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetNumberVector(device, name, members, state=state, timeout=timeout,
                              timestamp=STAMP_TEXT, message=message or None))
    wire_format = {"": "%g", "%d": "%.0f"}.get(fmt, fmt)
    def_members = tuple(pe.Number(m.name, m.value, m.name, wire_format, "-1", "1e6", "0")
                        for m in members)
    _agree(vector._def_bytes(message, STAMP),
           pe.DefNumberVector(device, name, state, perm, def_members, label="L", group="G",
                              timeout=timeout, timestamp=STAMP_TEXT, message=message or None))


@settings(max_examples=100)
@given(device=NAMES, name=NAMES, state=STATES, message=TEXT,
       lights=st.dictionaries(NAMES, STATES, min_size=1, max_size=4))
def test_a_light_vector_is_written_alike(device: str, name: str, state: State, message: str,
                                         lights: dict[str, State]) -> None:
    vector = LightVector(name, "L", "G", state.value,
                         [LightMember(n, membervalue=s.value) for n, s in lights.items()])
    Device(device, [vector])
    members = tuple(pe.Light(n, s) for n, s in lights.items())
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetLightVector(device, name, members, state=state, timestamp=STAMP_TEXT,
                             message=message or None))
    _agree(vector._def_bytes(message, STAMP),
           pe.DefLightVector(device, name, state,
                             tuple(pe.Light(m.name, m.value, m.name) for m in members),
                             label="L", group="G", timestamp=STAMP_TEXT, message=message or None))


@settings(max_examples=100)
@given(device=NAMES, name=NAMES, perm=PERMS, message=TEXT, fmt=st.sampled_from(["", ".fits", ".fits.z"]),
       blobs=st.dictionaries(NAMES, st.binary(max_size=300), min_size=1, max_size=3))
def test_a_blob_vector_is_written_alike(device: str, name: str, perm: Perm, message: str,
                                        fmt: str, blobs: dict[str, bytes]) -> None:
    vector = BLOBVector(name, "L", "G", perm.value, "Ok",
                        [BLOBMember(n, blobformat=fmt, membervalue=data)
                         for n, data in blobs.items()])
    recorder = _attach(Device(device, [vector]))
    asyncio.run(vector.send_setVector(message=message, timestamp=STAMP))
    timeout = _timeout(perm, "0")
    members = tuple(pe.BLOB(n, data, len(data), fmt) for n, data in blobs.items())
    _agree(recorder.sent[0], pe.SetBLOBVector(device, name, members, state=State.OK,
                                              timeout=timeout, timestamp=STAMP_TEXT,
                                              message=message or None))
    _agree(vector._def_bytes("", STAMP),
           pe.DefBLOBVector(device, name, State.OK, perm,
                            tuple(pe.BLOB(n, label=n) for n in blobs), label="L", group="G",
                            timeout=timeout, timestamp=STAMP_TEXT))


def test_a_set_framed_for_an_in_process_server_has_the_attributes_its_bytes_have() -> None:
    """`_set_bytes(attrs=...)` gives the start tag's attributes with the bytes (an in-process
    server takes the set framed): they are what a framer reads from those bytes."""
    from indipycore.protocol.framing import Framer

    vector = NumberVector("N", "L", "G", "rw", "Busy", [NumberMember("x", membervalue=1)])
    Device("D", [vector])
    attrs: dict[str, str] = {}
    data = vector._set_bytes(vector.data.values(), "moving", STAMP, attrs=attrs)
    (frame,) = Framer().feed(data)
    assert isinstance(frame, Frame) and frame.attrs == attrs


# The bytes of each kind of element a driver sends, as it has always sent them (this writer's
# change to one serialiser kept them): clients and indilib read these.
PINNED = {
    "def": b'<defNumberVector device="D&amp;" name="N" label="L&lt;" group="G" state="Busy" '
           b'perm="rw" timeout="0" timestamp="2026-11-24T04:40:01.123" message="m&quot;">'
           b'<defNumber name="x" label="x" format="%g" min="0" max="0" step="0">1</defNumber>'
           b'<defNumber name="y" label="y" format="%.0f" min="-1" max="9" step="1">2</defNumber>'
           b"</defNumberVector>",
    "set": b'<setNumberVector device="D&amp;" name="N" state="Busy" timeout="0" '
           b'timestamp="2026-11-24T04:40:01.123" message="m&quot;">'
           b'<oneNumber name="x">1</oneNumber><oneNumber name="y">2</oneNumber>'
           b"</setNumberVector>",
    "switch": b'<defSwitchVector device="D&amp;" name="S" label="S" group="" state="Idle" '
              b'perm="rw" rule="OneOfMany" timeout="0" timestamp="2026-11-24T04:40:01.123">'
              b'<defSwitch name="on" label="on">On</defSwitch>'
              b'<defSwitch name="off" label="off">Off</defSwitch></defSwitchVector>',
    "light": b'<defLightVector device="D&amp;" name="L" label="L" group="" state="Ok" '
             b'timestamp="2026-11-24T04:40:01.123"><defLight name="l" label="l">Alert</defLight>'
             b"</defLightVector>",
    "blobdef": b'<defBLOBVector device="D&amp;" name="B" label="B" group="" state="Idle" '
               b'perm="ro" timestamp="2026-11-24T04:40:01.123">'
               b'<defBLOB name="b" label="b"/></defBLOBVector>',
    "blob": b'<setBLOBVector device="D&amp;" name="B" state="Idle" '
            b'timestamp="2026-11-24T04:40:01.123"><oneBLOB name="b" size="3" format=".txt">'
            b"YWJj</oneBLOB></setBLOBVector>",
    "message": b'<message device="D&amp;" timestamp="2026-11-24T04:40:01.123" message="a&lt;b"/>',
    "delvector": b'<delProperty device="D&amp;" name="N" timestamp="2026-11-24T04:40:01.123"/>',
    "deldevice": b'<delProperty device="D&amp;" timestamp="2026-11-24T04:40:01.123" '
                 b'message="gone"/>',
}


def test_the_bytes_a_driver_sends_are_those_it_always_sent() -> None:
    number = NumberVector("N", "L<", "G", "rw", "Busy",
                          [NumberMember("x", membervalue=1),
                           NumberMember("y", format="%d", min=-1, max=9, step=1, membervalue=2)])
    switch = SwitchVector("S", None, None, "rw", "OneOfMany", "Idle",
                          [SwitchMember("on", membervalue="On"), SwitchMember("off")])
    light = LightVector("L", None, None, "Ok", [LightMember("l", membervalue="Alert")])
    blob = BLOBVector("B", None, None, "ro", "Idle",
                      [BLOBMember("b", blobformat=".txt", membervalue=b"abc")])
    device = Device("D&", [number, switch, light, blob])
    recorder = _attach(device)
    assert number._def_bytes('m"', STAMP) == PINNED["def"]
    assert number._set_bytes(number.data.values(), 'm"', STAMP) == PINNED["set"]
    assert switch._def_bytes("", STAMP) == PINNED["switch"]
    assert light._def_bytes("", STAMP) == PINNED["light"]
    assert blob._def_bytes("", STAMP) == PINNED["blobdef"]

    async def sends() -> None:
        await blob.send_setVector(timestamp=STAMP)
        await device.send_message("a<b", timestamp=STAMP)
        await number.send_delProperty(timestamp=STAMP)
        await device.send_delProperty("gone", timestamp=STAMP)

    asyncio.run(sends())
    assert recorder.sent == [PINNED[k] for k in ("blob", "message", "delvector", "deldevice")]
    assert _get_properties_bytes("D&", "N") == b'<getProperties version="1.7" device="D&amp;" name="N"/>'
    assert _get_properties_bytes(None, None) == b'<getProperties version="1.7"/>'
    assert _enable_blob_bytes("D&", None, "Also") == b'<enableBLOB device="D&amp;">Also</enableBLOB>'
    assert _enable_blob_bytes("D", "B", "Never") == b'<enableBLOB device="D" name="B">Never</enableBLOB>'
