"""Properties of the plan file's reader and writer (hypothesis): any text gives a plan or a
`PlanError` and nothing else, a wrong value is refused at its own line, and a plan written
out reads back equal (the journal records the plan it ran as TOML)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from planstrategies import plans

from indipyagents.plan.model import Plan
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml


@settings(max_examples=200)
@given(plans())
def test_a_plan_written_as_toml_reads_back_equal(plan: Plan) -> None:
    """parse_plan(plan_to_toml(p)) == p for any valid plan: names with quotes, backslashes
    and control characters, floats to the last bit, time zones, targets' own settings."""
    assert parse_plan(plan_to_toml(plan)) == plan


@given(st.text())
def test_any_text_gives_a_plan_or_a_plan_error(text: str) -> None:
    """Random text never raises anything but PlanError, and its line is in the text."""
    try:
        parse_plan(text)
    except PlanError as error:
        assert error.line is None or 1 <= error.line <= max(1, len(text.splitlines()) + 1)


VALUES = st.one_of(st.integers(-5, 30), st.integers(), st.just(10**400),
                   st.floats(allow_nan=True), st.booleans(),
                   st.text(max_size=8), st.just("05 35 17"), st.just("Light"))
KEYS = st.sampled_from(["name", "folder", "count", "exposure", "filter", "type", "ra", "dec",
                        "slew", "every", "binning", "gain", "altitude", "until", "at_start",
                        "camera", "wheel", "mount", "targets", "batches", "wait", "flip",
                        "dither", "exposre", "colour"])


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


documents = st.recursive(
    VALUES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12)


@given(st.dictionaries(KEYS, documents, max_size=6))
def test_any_toml_document_gives_a_plan_or_a_plan_error(data: dict[str, object]) -> None:
    """Documents of the plan's own keys with values of any type and shape (tables where
    numbers belong, arrays of numbers where tables belong, ...) give a plan or a PlanError."""
    text = "".join(f'"{key}" = {_toml_value(value)}\n' for key, value in data.items())
    try:
        parse_plan(text)
    except PlanError as error:
        assert error.line is not None and 1 <= error.line <= max(1, len(text.splitlines()))
        assert not error.reason.startswith("not TOML"), text


@settings(max_examples=300)
@given(plans(), st.data())
def test_a_wrong_value_is_refused_at_its_own_line(plan: Plan, data: st.DataObject) -> None:
    """Any one value of a written plan replaced by an array (which no key takes) or by an
    integer past every bound (10**400: past float's range, a count that would never end) is
    refused at exactly that line, the reason naming that key."""
    lines = plan_to_toml(plan).split("\n")  # TOML's lines (str.splitlines also cuts at \x85)
    candidates = [i for i, line in enumerate(lines) if " = " in line and not line.startswith("[")]
    index = data.draw(st.sampled_from(candidates))
    key = lines[index].split(" = ", 1)[0]
    lines[index] = f"{key} = {data.draw(st.sampled_from(['[1, 2]', '1' + '0' * 400]))}"
    try:
        parse_plan("\n".join(lines))
    except PlanError as error:
        assert error.line == index + 1, (error, lines[index])
        assert f"{key} must be" in error.reason
    else:
        raise AssertionError(f"accepted {lines[index][:40]}")
