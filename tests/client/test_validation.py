"""Outgoing values are checked before anything is sent: each refusal is an ``InvalidValue``
naming device, vector and member; accepted values become the newXXXVector a driver reads
alike whatever its language (plain decimals, only the members given)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from indipyclient import InvalidValue
from indipyclient.model.outgoing import new_vector
from indipyclient.model.tree import Model
from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState

ON, OFF = SwitchState.ON, SwitchState.OFF


@pytest.fixture
def model() -> Model:
    m = Model()
    for event in (
        pe.DefNumberVector("Mount", "COORD", State.IDLE, Perm.RW, [
            pe.Number("RA", "0", format="%010.6m", min="0", max="24", step="0"),
            pe.Number("FREE", "0", format="%g", min="0", max="0", step="0")]),
        pe.DefNumberVector("Mount", "SENSOR", State.OK, Perm.RO, [
            pe.Number("T", "1", format="%g", min="0", max="1", step="0")]),
        pe.DefTextVector("Mount", "SITE", State.OK, Perm.RW, [pe.Text("NAME", "x")]),
        pe.DefSwitchVector("Mount", "MODE", State.OK, Perm.RW, Rule.ONE_OF_MANY,
                        [pe.Switch("A", ON), pe.Switch("B", OFF), pe.Switch("C", OFF)]),
        pe.DefSwitchVector("Mount", "OPTS", State.OK, Perm.RW, Rule.AT_MOST_ONE,
                        [pe.Switch("X", OFF), pe.Switch("Y", OFF)]),
        pe.DefSwitchVector("Mount", "ANY", State.OK, Perm.RW, Rule.ANY_OF_MANY,
                        [pe.Switch("P", OFF), pe.Switch("Q", OFF)]),
        pe.DefLightVector("Mount", "LAMP", State.OK, [pe.Light("L", State.OK)]),
        pe.DefBLOBVector("Mount", "UPLOAD", State.IDLE, Perm.WO, [pe.BLOB("FILE")]),
    ):
        m.apply(event)
    return m


def refused(model: Model, vector: str, values: dict[str, object]) -> InvalidValue:
    with pytest.raises(InvalidValue) as info:
        new_vector(model["Mount"][vector], values)
    return info.value


@pytest.mark.parametrize(("vector", "values", "member", "words"), [
    ("SENSOR", {"T": 1}, None, "read-only"),
    ("LAMP", {"L": "Ok"}, None, "read-only"),
    ("COORD", {}, None, "no member values"),
    ("COORD", {"DEC": 1}, "DEC", "unknown member"),
    ("COORD", {"RA": "12h"}, "RA", "not a number"),
    ("COORD", {"RA": "nan"}, "RA", "not a number"),
    ("COORD", {"RA": float("inf")}, "RA", "not a finite"),
    ("COORD", {"RA": True}, "RA", "must be an int"),
    ("COORD", {"RA": 25}, "RA", "outside min 0 .. max 24"),
    ("COORD", {"RA": "-0:30"}, "RA", "outside"),
    ("SITE", {"NAME": 5}, "NAME", "must be a str"),
    ("MODE", {"B": "on"}, "B", "On or Off, not 'on'"),
    ("MODE", {"B": ON, "C": ON}, "C", "allows one switch On"),
    ("MODE", {"A": OFF}, None, "needs one switch On"),  # as IUUpdateSwitch
    ("OPTS", {"X": ON, "Y": "On"}, "Y", "allows one switch On"),
    ("UPLOAD", {"FILE": 42}, "FILE", "bytes or a path"),
    ("UPLOAD", {"FILE": (b"x", -1, ".bin")}, "FILE", "whole number"),
    ("UPLOAD", {"FILE": "/no/such/file.fits"}, "FILE", "cannot read"),
])
def test_refusals_name_device_vector_and_member(model: Model, vector: str,
                                                values: dict[str, object], member: str | None,
                                                words: str) -> None:
    error = refused(model, vector, values)
    assert (error.device, error.vector, error.member) == ("Mount", vector, member)
    assert words in str(error)
    assert str(error).startswith(f"Mount.{vector}" + (f".{member}" if member else ""))


def test_numbers_are_sent_as_plain_decimals_and_only_the_members_given(model: Model) -> None:
    event = new_vector(model["Mount"]["COORD"], {"RA": "12:30:00"})
    assert isinstance(event, pe.NewNumberVector)
    assert [(m.name, m.value) for m in event.members] == [("RA", "12.5")]
    free = new_vector(model["Mount"]["COORD"], {"FREE": -1e9})  # min == max: no limits
    assert free.members[0].value == "-1000000000.0"


def test_switch_rules_accept_what_drivers_expect(model: Model) -> None:
    assert new_vector(model["Mount"]["MODE"], {"B": "On"}).members == (pe.Switch("B", ON),)
    assert new_vector(model["Mount"]["OPTS"], {"X": True}).members == (pe.Switch("X", ON),)
    assert len(new_vector(model["Mount"]["ANY"], {"P": ON, "Q": ON}).members) == 2
    assert new_vector(model["Mount"]["OPTS"], {"X": False}).members == (pe.Switch("X", OFF),)


def test_blobs_from_bytes_or_files_with_z_compressed_and_size_uncompressed(
        model: Model, tmp_path: Path) -> None:
    path = tmp_path / "frame.fits"
    path.write_bytes(b"SIMPLE" * 100)
    (blob,) = new_vector(model["Mount"]["UPLOAD"], {"FILE": path}).members
    assert (blob.format, blob.size, blob.data) == (".fits", 600, b"SIMPLE" * 100)
    (packed,) = new_vector(model["Mount"]["UPLOAD"], {"FILE": (b"a" * 1000, 0, ".csv.z")}).members
    assert packed.size == 1000 and zlib.decompress(packed.data) == b"a" * 1000
