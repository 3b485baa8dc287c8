"""The driver's own writer and the protocol's `serialise` write the same elements.

A driver builds its def and set vectors with prebuilt strings (`PropertyVector._def_bytes`,
`_set_bytes`: the in-process hot path), while everything else that writes INDI goes through
`serialise`. Protects: for any text, switch and number vector -- names, labels, groups,
values and messages with every character XML can carry, entities included -- what the driver
writes parses to the same event as what `serialise` writes for the event the vector stands
for, so the two writers cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from indipydriver import (
    Device,
    NumberMember,
    NumberVector,
    SwitchMember,
    SwitchVector,
    TextMember,
    TextVector,
)
from indipydriver.protocol import events as pe
from indipydriver.protocol.enums import Perm, State, SwitchState
from indipydriver.protocol.parser import parse_element
from indipydriver.protocol.serialiser import serialise

NAMES = st.text(st.characters(min_codepoint=ord("A"), max_codepoint=ord("z"),
                              categories=["Lu", "Ll"]), min_size=1, max_size=8)
#: Any character XML 1.0 carries, the five entities' among them, without outer whitespace (the
#: parser strips it from both sides alike).
TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\ufffe\uffff"),
               max_size=12).map(str.strip)
STAMP = datetime(2026, 11, 24, 4, 40, 1, 123000)


def _agree(written: bytes, expected: pe.Event) -> None:
    assert parse_element(written) == parse_element(serialise(expected))


@settings(max_examples=200, deadline=None)
@given(device=NAMES, name=NAMES, label=TEXT, group=TEXT, message=TEXT,
       values=st.dictionaries(NAMES, TEXT, min_size=1, max_size=4))
def test_a_text_vector_is_written_alike(device: str, name: str, label: str, group: str,
                                        message: str, values: dict[str, str]) -> None:
    vector = TextVector(name, label, group, "rw", "Ok",
                        [TextMember(n, label=n, membervalue=v) for n, v in values.items()])
    Device(device, [vector])
    members = tuple(pe.Text(n, v) for n, v in values.items())
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetTextVector(device, name, members, state=State.OK, timeout="0",
                            timestamp="2026-11-24T04:40:01.123", message=message or None))
    _agree(vector._def_bytes(message, STAMP),
           pe.DefTextVector(device, name, State.OK, Perm.RW,
                            tuple(pe.Text(n, v, vector.memberlabel(n)) for n, v in values.items()),
                            label=vector.label, group=vector.group, timeout="0",
                            timestamp="2026-11-24T04:40:01.123", message=message or None))


@settings(max_examples=200, deadline=None)
@given(device=NAMES, name=NAMES, message=TEXT,
       states=st.dictionaries(NAMES, st.booleans(), min_size=1, max_size=4))
def test_a_switch_vector_is_written_alike(device: str, name: str, message: str,
                                          states: dict[str, bool]) -> None:
    vector = SwitchVector(name, "L", "G", "rw", "AnyOfMany", "Busy",
                          [SwitchMember(n, membervalue="On" if on else "Off")
                           for n, on in states.items()])
    Device(device, [vector])
    members = tuple(pe.Switch(n, SwitchState.ON if on else SwitchState.OFF)
                    for n, on in states.items())
    _agree(vector._set_bytes(vector.data.values(), message, STAMP),
           pe.SetSwitchVector(device, name, members, state=State.BUSY, timeout="0",
                              timestamp="2026-11-24T04:40:01.123", message=message or None))


@settings(max_examples=200, deadline=None)
@given(device=NAMES, name=NAMES,
       values=st.dictionaries(NAMES, st.integers(-10**6, 10**6), min_size=1, max_size=4))
def test_a_number_vector_is_written_alike(device: str, name: str, values: dict[str, int]) -> None:
    vector = NumberVector(name, "L", "G", "ro", "Ok",
                          [NumberMember(n, format="%g", min=0, max=0, step=0, membervalue=v)
                           for n, v in values.items()])
    Device(device, [vector])
    members = tuple(pe.Number(n, str(v)) for n, v in values.items())
    _agree(vector._set_bytes(vector.data.values(), "", STAMP),
           pe.SetNumberVector(device, name, members, state=State.OK,
                              timestamp="2026-11-24T04:40:01.123"))
