"""The shared rule for new values (`protocol.acceptance.judge`), on its own: any input gets a
verdict, never an exception, and the verdicts follow the documented rules (docs/acceptance.rst).
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol.acceptance import MemberShape
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import judge
from indipycore.protocol.acceptance import parse_limit
from indipycore.protocol.acceptance import text_refusal
from indipycore.protocol.acceptance import vector_shape
from indipycore.protocol.acceptance import within_limits
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.numbers import parse_number

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def number_vector(low: float, high: float, perm: str = "rw") -> VectorShape:
    return VectorShape("D", "V", "Number", perm, None, {"X": MemberShape("X", low, high)})


@given(finite, finite, finite)
def test_a_number_is_accepted_exactly_when_within_its_limits(value: float, low: float,
                                                             high: float) -> None:
    """Accepted iff min <= value <= max, or min >= max (no range); the refusal names both."""
    verdict = judge(number_vector(low, high), {"X": repr(value)})
    assert bool(verdict) == (low >= high or low <= value <= high) == within_limits(value, low,
                                                                                   high)
    if verdict:
        assert verdict.values == {"X": value}
    else:
        assert verdict.member == "X" and verdict.message.startswith("D.V.X: ")
        assert "is outside min" in verdict.reason


@given(st.text(max_size=30) | st.integers() | st.floats() | st.booleans() | st.none())
def test_any_value_for_a_number_gets_a_verdict(value: object) -> None:
    """Text, ints, floats (NaN and inf included), bools, None: a verdict, never an exception;
    accepted only as a finite number that parse_number (or float) reads."""
    verdict = judge(number_vector(0, 0), {"X": value})
    if verdict:
        number = verdict.values["X"]
        assert isinstance(number, float) and math.isfinite(number)
        if isinstance(value, str):
            assert number == parse_number(value)
        else:
            assert not isinstance(value, bool) and number == float(value)  # type: ignore[arg-type]
    else:
        assert verdict.message.startswith("D.V.X: ") and verdict.reason


@given(st.text(max_size=40))
def test_a_text_is_refused_exactly_when_xml_cannot_carry_a_character(text: str) -> None:
    forbidden = any((ord(c) < 0x20 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF
                    or ord(c) in (0xFFFE, 0xFFFF) for c in text)
    shape = VectorShape("D", "T", "Text", "rw", None, {"X": MemberShape("X")})
    verdict = judge(shape, {"X": text})
    assert bool(verdict) is not forbidden
    assert (text_refusal(text) is None) is not forbidden


@given(st.sampled_from(["OneOfMany", "AtMostOne", "AnyOfMany"]),
       st.dictionaries(st.sampled_from(["A", "B", "C"]), st.sampled_from(["On", "Off"]),
                       min_size=1))
def test_switch_rules_judge_the_request(rule: str, values: dict[str, str]) -> None:
    """OneOfMany: exactly one On in the request; AtMostOne: at most one; AnyOfMany: any. What
    the vector holds now does not matter (indilib's IUUpdateSwitch resets a OneOfMany): a shape
    carries no current value."""
    members = {n: MemberShape(n) for n in "ABC"}
    verdict = judge(VectorShape("D", "S", "Switch", "rw", rule, members), values)
    on = sum(1 for v in values.values() if v == "On")
    expected = {"OneOfMany": on == 1, "AtMostOne": on <= 1, "AnyOfMany": True}[rule]
    assert bool(verdict) == expected, verdict
    if verdict:
        assert verdict.values == {n: SwitchState(v) for n, v in values.items()}


def test_read_only_unknown_members_and_nothing_given_are_refused_for_any_kind() -> None:
    for kind in ("Number", "Text", "Switch", "BLOB"):
        shape = VectorShape("D", "V", kind, "ro", None, {"X": MemberShape("X")})
        assert judge(shape, {"X": "1"}).message == f"D.V: the {kind}Vector is read-only"
        writable = VectorShape("D", "V", kind, "rw", None, {"X": MemberShape("X")})
        assert judge(writable, {}).message == "D.V: no member values given"
        assert judge(writable, {"Y": "1"}).message == "D.V.Y: unknown member"
    light = VectorShape("D", "L", "Light", "ro", None, {"X": MemberShape("X")})
    assert judge(light, {"X": "Ok"}).message == "D.L: the LightVector is read-only"


def test_one_limit_parser_reads_text_and_numbers_alike() -> None:
    """Wire text (sexagesimal too) and numbers give the same float; what is not a finite
    number imposes nothing (0.0), as a limit a device sent wrong must not refuse every value."""
    assert parse_limit("-1:30") == parse_limit(-1.5) == -1.5
    assert parse_limit(" 100 ") == parse_limit(100) == 100.0
    for nothing in ("", "nan", "abc", None, float("inf"), math.nan, True, 10**400):
        assert parse_limit(nothing) == 0.0, nothing


def test_one_shape_builder_reads_any_face_description_alike() -> None:
    """`vector_shape` takes a face's own spelling (``NumberVector`` or ``Number``, enums or
    text, limits as text or floats) and gives equal shapes; a light is read-only, a rule is
    kept for switches only, a blank perm is ``ro``."""
    as_text = vector_shape("D", "V", "NumberVector", "rw", None, ["X", "Y"],
                           {"X": ("0", "1:30", "0.5"), "Y": ("0", "0", "0")})
    as_floats = vector_shape("D", "V", "Number", Perm.RW, "OneOfMany", ("X", "Y"),
                             {"X": (0.0, 1.5, 0.5), "Y": (0, 0, 0)})
    assert as_text == as_floats
    assert as_text.members["X"] == MemberShape("X", 0.0, 1.5, 0.5)
    switch = vector_shape("D", "S", "SwitchVector", Perm.RW, Rule.ONE_OF_MANY, ["A"])
    assert switch.rule == "OneOfMany" and type(switch.rule) is str
    assert vector_shape("D", "L", "LightVector", "rw", None, ["A"]).perm == "ro"
    assert vector_shape("D", "T", "Text", "", None, ["A"]).perm == "ro"
    assert vector_shape("D", "T", "Text", "rw", None, ["A"], {"A": ("5", "1", "0")}) \
        .members["A"] == MemberShape("A")  # limits only for numbers
