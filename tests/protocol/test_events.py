"""Events: immutable, hashable, readable in logs, and vectors behave like small mappings."""

from __future__ import annotations

import dataclasses

import pytest

from indipycore.protocol import BLOB
from indipycore.protocol import DefLightVector
from indipycore.protocol import Light
from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State

VECTOR = SetNumberVector("Mount", "EQ", (Number("RA", "5.5"), Number("DEC", "-5")), state=State.OK)


def test_vector_index_by_member_name_len_and_iteration_over_names() -> None:
    assert VECTOR["DEC"] == Number("DEC", "-5")
    assert len(VECTOR) == 2
    assert list(VECTOR) == ["RA", "DEC"]
    assert "RA" in VECTOR and "XX" not in VECTOR
    assert VECTOR.get("XX") is None
    with pytest.raises(KeyError):
        VECTOR["XX"]


def test_events_are_frozen_and_slotted() -> None:
    with pytest.raises((dataclasses.FrozenInstanceError, TypeError, AttributeError)):
        VECTOR.name = "other"  # type: ignore[misc]
    assert not hasattr(VECTOR, "__dict__")
    assert not hasattr(VECTOR.members[0], "__dict__")


def test_events_are_hashable_and_compare_by_value() -> None:
    same = SetNumberVector(
        "Mount", "EQ", [Number("RA", "5.5"), Number("DEC", "-5")], state=State.OK
    )  # type: ignore[arg-type]
    assert same == VECTOR and hash(same) == hash(VECTOR)


def test_repr_is_readable_leaves_out_none_and_shows_enum_names() -> None:
    text = repr(VECTOR)
    assert text == (
        "SetNumberVector(device='Mount', name='EQ', members=(Number(name='RA', value='5.5'), "
        "Number(name='DEC', value='-5')), state=State.OK)"
    )
    assert (
        repr(DefLightVector("d", "l", State.IDLE, (Light("x", State.BUSY),))).count("State.") == 2
    )


def test_blob_repr_does_not_dump_megabytes() -> None:
    text = repr(BLOB("img", b"x" * 1_000_000, 1_000_000, ".fits"))
    assert "xxxx" not in text and "1000000 bytes" in text


def test_number_float_parses_sexagesimal_wire_text() -> None:
    assert Number("DEC", "-10:30:18").float == pytest.approx(-10.505)
