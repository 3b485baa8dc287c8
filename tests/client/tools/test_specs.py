"""The ``dev.prop.elem`` spec parsers: every input is a spec or a SpecError, and well-formed
specs mean what indilib's tools take them to mean (hypothesis properties and examples)."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyclient.frontends.tools.specs import GetSpec
from indipyclient.frontends.tools.specs import SetSpec
from indipyclient.frontends.tools.specs import SpecError
from indipyclient.frontends.tools.specs import parse_get_spec
from indipyclient.frontends.tools.specs import parse_set_spec

NAME = st.text(st.characters(blacklist_characters=".;=*[]?\x00", blacklist_categories=("Cs",)),
               min_size=1, max_size=12)
VALUE = st.text(st.characters(blacklist_characters=";\x00", blacklist_categories=("Cs",)),
                min_size=1, max_size=12)


@given(st.text(max_size=60))
def test_any_text_is_a_get_spec_or_a_spec_error(text: str) -> None:
    try:
        spec = parse_get_spec(text)
    except SpecError as exc:
        assert str(exc)
    else:
        assert str(spec) == text


@given(st.text(max_size=60), st.sampled_from([None, "text", "number", "switch"]))
def test_any_text_is_a_set_spec_or_a_spec_error(text: str, kind: str | None) -> None:
    try:
        spec = parse_set_spec(text, kind)
    except SpecError as exc:
        assert str(exc)
    else:
        assert spec.values and all(name and value for name, value in spec.values)


@given(NAME, NAME, st.lists(NAME, min_size=1, max_size=3))
def test_a_get_spec_splits_at_the_first_two_dots_and_keeps_dots_in_the_element(
    device: str, prop: str, element_parts: list[str]
) -> None:
    element = ".".join(element_parts)
    assert parse_get_spec(f"{device}.{prop}.{element}") == GetSpec(device, prop, element)


@given(st.lists(NAME, min_size=1, max_size=4), st.text(max_size=8), st.text(max_size=8))
def test_star_is_a_glob_within_a_field(parts: list[str], head: str, tail: str) -> None:
    pattern = "*".join(parts)
    spec = GetSpec(pattern, "*", "*")
    name = pattern.replace("*", tail)
    assert spec.matches_device(name)
    for candidate in (head + name, name + tail, head):
        assert spec.matches_device(candidate) == fnmatch.fnmatchcase(candidate, pattern)


def test_wildcards_keywords_and_exact_names() -> None:
    spec = parse_get_spec("Telescope Simulator.*._STATE")
    assert spec.wildcard and spec.keyword == "state"
    assert spec.matches_vector("Telescope Simulator", "CONNECTION")
    assert not spec.matches_vector("CCD Simulator", "CONNECTION")
    exact = parse_get_spec("Thermostat.TARGET.TARGET")
    assert not exact.wildcard and exact.keyword is None
    assert exact.matches_element("TARGET") and not exact.matches_element("TARGETS")
    assert parse_get_spec("*.*.*").matches_vector("any", "thing")


@pytest.mark.parametrize("text", ["", "a", "a.b", "a..c", ".b.c", "a.b.", ".."])
def test_incomplete_get_specs_are_refused(text: str) -> None:
    with pytest.raises(SpecError):
        parse_get_spec(text)


@given(NAME, NAME, st.lists(st.tuples(NAME, VALUE), min_size=1, max_size=4,
                            unique_by=lambda pair: pair[0]))
def test_names_then_values_form(device: str, prop: str, pairs: list[tuple[str, str]]) -> None:
    """``e1;e2=v1;v2``: values may even contain '=' in this form."""
    names = ";".join(name for name, _ in pairs)
    values = ";".join(value for _, value in pairs)
    spec = parse_set_spec(f"{device}.{prop}.{names}={values}")
    assert spec == SetSpec(device, prop, tuple(pairs))


@given(NAME, NAME, st.lists(st.tuples(NAME, VALUE.filter(lambda v: "=" not in v)), min_size=2,
                            max_size=4, unique_by=lambda pair: pair[0]))
def test_name_value_pairs_form(device: str, prop: str, pairs: list[tuple[str, str]]) -> None:
    text = ";".join(f"{name}={value}" for name, value in pairs)
    assert parse_set_spec(f"{device}.{prop}.{text}", "number") == SetSpec(
        device, prop, tuple(pairs), "number")


def test_set_spec_examples_from_indilib_usage() -> None:
    assert parse_set_spec("Telescope Simulator.CONNECTION.CONNECT=On").values == (
        ("CONNECT", "On"),)
    assert parse_set_spec("d.p.RA;DEC=1.5;-10:30").values == (("RA", "1.5"), ("DEC", "-10:30"))
    assert parse_set_spec("d.p.RA=1.5;DEC=-10:30").values == (("RA", "1.5"), ("DEC", "-10:30"))
    assert parse_set_spec("d.p.NAME=a=b").values == (("NAME", "a=b"),)


@pytest.mark.parametrize(
    "text",
    ["d.p", "d.p.e", "d.p.e=", "d.p.=v", "d.p.a;b=1", "d.p.a=1;b=2;c", "d.p.a;b=1;2;3",
     "d.p.a=1;a=2", ".p.e=1", "d..e=1"],
)
def test_malformed_set_specs_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(SpecError, match=r"."):
        parse_set_spec(text)
