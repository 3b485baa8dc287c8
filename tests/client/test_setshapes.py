"""Set elements read by their shape give exactly what the core parser gives (hypothesis):
for the element that taught the shape, for later elements of the shape with other digits, and
through the read-level shortcut; elements the shape cannot hold (character references,
non-ASCII, BLOBs) are parsed whole. A burst through the connection's shortcut leaves the same
model as the elements parsed one by one."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyclient.model.setshapes import SetShapes
from indipyclient.model.tree import Model
from indipyclient.session.connection import Connection
from indipycore.protocol import Number
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import parse_element
from indipycore.protocol import serialise

digits = st.text(alphabet="0123456789", min_size=1, max_size=6)
words = st.sampled_from(["Mount", "CCD 2", "a&amp;b", "x&#49;y", "Caf\u00e9", "v1", "T"])
spaces = st.sampled_from(["", " ", "\n  ", "\t"])
tags = st.sampled_from([("setNumberVector", "oneNumber"), ("setTextVector", "oneText"),
                        ("setSwitchVector", "oneSwitch"), ("setLightVector", "oneLight")])


@st.composite
def elements(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An element template with {} where digit runs go, and the runs for two instances."""
    tag, member = draw(tags)
    value = {"oneNumber": "{}.{}", "oneText": "t{}x", "oneSwitch": "On",
             "oneLight": "Busy"}[member]
    attrs = f'device="{draw(words)}" name="P{{}}"'
    if draw(st.booleans()):
        attrs += ' timestamp="2026-11-{}T04:{}:{}.{}"'
    if draw(st.booleans()):
        attrs += ' state="Ok"'
    if draw(st.booleans()) and tag != "setLightVector":
        attrs += ' timeout="{}"'
    if draw(st.booleans()):
        attrs += f' message="{draw(words)} {{}}"'
    count = draw(st.integers(1, 3))
    body = "".join(f'<{member} name="m{i}">{draw(spaces)}{value}{draw(spaces)}</{member}>'
                   for i in range(count))
    return f"<{tag} {attrs}>{body}</{tag}>", []


def fill(template: str, runs: list[str]) -> bytes:
    return template.format(*runs).encode()


def outcome(parse: object, data: bytes) -> object:
    """The event, or the error message: both ways must agree on either."""
    try:
        return parse(data)  # type: ignore[operator]
    except ProtocolError as exc:
        return str(exc)


@settings(max_examples=300)
@given(elements(), st.data())
def test_shapes_give_what_the_core_parser_gives(element: tuple[str, list[str]],
                                               data: st.DataObject) -> None:
    template, _ = element
    n = template.count("{}")
    first = fill(template, data.draw(st.lists(digits, min_size=n, max_size=n)))
    shift = data.draw(st.integers(1, 9))
    shapes = SetShapes()
    assert outcome(shapes.parse, first) == outcome(parse_element, first)
    # Same shape: the same digit positions holding other digits.
    other = bytes(b if not 48 <= b <= 57 else 48 + (b - 48 + shift) % 10 for b in first)
    assert outcome(shapes.parse, other) == outcome(parse_element, other)
    read = b"  " + other + b"\n" + first
    recipe = shapes.at(read, 2)
    if recipe is not None:
        assert recipe.build(other.decode()) == parse_element(other)
        assert shapes.end_of(read, 2) == 2 + len(other) and shapes.last is recipe


def test_what_the_shapes_cannot_hold_is_parsed_whole() -> None:
    shapes = SetShapes()
    for element in (b'<setTextVector device="D" name="V"><oneText name="t">&#49;2</oneText>'
                    b"</setTextVector>",
                    '<setTextVector device="Caf\u00e9" name="V"><oneText name="t">12</oneText>'
                    "</setTextVector>".encode()):
        assert shapes.parse(element) == parse_element(element)
        assert shapes.parse(element) == parse_element(element)
    assert shapes.hits == 0 and shapes.last is None


def test_a_burst_through_the_shortcut_leaves_the_model_the_elements_leave() -> None:
    define = (b'<defNumberVector device="B" name="N" state="Idle" perm="rw"><defNumber '
              b'name="v" format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>')
    sets = [serialise(SetNumberVector("B", "N", (Number("v", str(1000 + i)),), state=State.OK,
                                      timestamp=f"2026-01-01T00:00:{i // 1000 % 60:02d}"
                                                f".{i % 1000:03d}")) for i in range(3000)]
    burst = b"".join(sets)

    async def through_connection() -> tuple[Model, list[object]]:
        model = Model()
        seen: list[object] = []

        async def deliver(event: object) -> None:
            seen.append((type(event).__name__, dict(event) if hasattr(event, "data") else 0))

        connection = Connection("h", 1, model, deliver)
        chunks = [define] + [burst[i:i + 4096] for i in range(0, len(burst), 4096)] + [b""]

        class Reader:
            async def read(self, n: int) -> bytes:
                return chunks.pop(0)

        await connection._serve(Reader())  # type: ignore[arg-type]
        assert connection._incoming is not None and connection._incoming.shortcut > 2800
        return model, seen

    model, seen = asyncio.run(through_connection())
    reference = Model()
    expected = []
    for element in [define, *sets]:
        event = reference.apply(parse_element(element))  # type: ignore[arg-type]
        expected.append((type(event).__name__, dict(event)))  # type: ignore[call-overload]
    assert seen == expected
    vector, reference_vector = model["B"]["N"], reference["B"]["N"]
    assert (dict(vector), vector.state, vector.timestamp) == (
        dict(reference_vector), reference_vector.state, reference_vector.timestamp)
