"""Set vectors read by their shape: the core parser's answer for a repeated element, reused.

A server streams the sets of one property over and over, and they differ only in their digits
(values, timestamps). ``SetShapes.parse(data)`` keeps, per *shape* (the element with every digit
made ``0``), what ``parse_element`` made of it: the first element of a shape is parsed by the
core with each run of digits replaced by a private-use character, so the event shows which
field each run landed in; a later element of that shape gets the same event with its own
digits put back (a slice of the element per field). No second parser: what the core parsed once
is reused where the bytes can only differ in digits.

That is sound because nothing in INDI's grammar tells digits apart: no tag or attribute name
holds a digit, and the fields digits land in are plain strings (values, timestamps, names),
never enumerations. Elements with a character reference (``&#...;``, whose digits do matter),
non-ASCII bytes, BLOBs, or more than ``MAX_RUNS`` digit runs are always parsed whole.
``take(data, pos)`` is the read-level shortcut: the element of the last shape used, if the read
holds one at ``pos`` (a burst), with where it ends.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from indipydriver.protocol import Event as ProtocolEvent
from indipydriver.protocol import (
    ProtocolError,
    SetLightVector,
    SetNumberVector,
    SetSwitchVector,
    SetTextVector,
    parse_element,
)

__all__ = ["SetShapes"]

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_RUNS = re.compile(rb"[0-9]+")
_TOKEN = 0xE000  # private-use characters, valid in XML and never sent by a peer we accept
_TOKENS = re.compile("[\ue000-\ue0ff]")
MAX_RUNS = 64
MAX_SHAPES = 512
MAX_ELEMENT = 2048
_CACHED_TAGS = frozenset({b"<setNumberVector", b"<setTextVector", b"<setSwitchVector",
                          b"<setLightVector"})
_CLASSES = (SetNumberVector, SetTextVector, SetSwitchVector, SetLightVector)

# A field of the event: (name, constant) or (name, start, end) -- a slice of the element.
Field = tuple[str, Any] | tuple[str, int, int]


class _Recipe:
    """How to build the event of an element of one shape: ``build(text)`` calls the event's
    constructor with the constants of the shape and slices of ``text`` (one expression,
    compiled once per shape: this is the hot path of a burst)."""

    __slots__ = ("build", "closing", "shape")

    def __init__(self, shape: bytes, cls: type, fields_: list[Field],
                 members: list[tuple[type, list[Field]]]) -> None:
        self.shape = shape
        self.closing = shape[shape.rindex(b"</"):]
        constants: dict[str, Any] = {}

        def call(target: type, recipe: list[Field], extra: str = "") -> str:
            name = f"c{len(constants)}"
            constants[name] = target
            args = []
            for entry in recipe:
                if len(entry) == 2:
                    key = f"c{len(constants)}"
                    constants[key] = entry[1]
                    args.append(f"{entry[0]}={key}")
                else:
                    args.append(f"{entry[0]}=t[{entry[1]}:{entry[2]}]")
            return f"{name}({', '.join(args)}{extra})"

        parts = [call(mcls, mfields) for mcls, mfields in members]
        body = call(cls, fields_, f", members=({''.join(p + ', ' for p in parts)})")
        self.build: Any = eval(f"lambda t: {body}", constants)


class SetShapes:
    """The recipes of the set element shapes seen (at most ``MAX_SHAPES``)."""

    def __init__(self) -> None:
        self._recipes: dict[bytes, _Recipe | None] = {}
        self.last: _Recipe | None = None
        self.hits = 0

    def parse(self, data: bytes) -> ProtocolEvent | None:
        """``parse_element(data)`` for one whole element (raises ``ProtocolError`` likewise)."""
        if len(data) > MAX_ELEMENT or data[: data.find(b" ")] not in _CACHED_TAGS:
            return parse_element(data)
        shape = data.translate(_DIGITS_TO_ZERO)
        if shape in self._recipes:
            recipe = self._recipes[shape]
        else:
            recipe = self._learn(data, shape)
            if len(self._recipes) >= MAX_SHAPES:
                self._recipes.clear()
            self._recipes[shape] = recipe
        if recipe is None:
            return parse_element(data)
        self.last = recipe
        self.hits += 1
        event: ProtocolEvent = recipe.build(data.decode("ascii"))
        return event

    def take(self, data: bytes, pos: int) -> tuple[ProtocolEvent, int] | None:
        """The element at ``data[pos:]`` if it has the shape used last, and where it ends."""
        recipe = self.last
        if recipe is None:
            return None
        end = pos + len(recipe.shape)
        if data[pos:end].translate(_DIGITS_TO_ZERO) != recipe.shape:
            return None
        self.hits += 1
        event: ProtocolEvent = recipe.build(data[pos:end].decode("ascii"))
        return event, end

    def _learn(self, data: bytes, shape: bytes) -> _Recipe | None:
        if b"&#" in data or not data.isascii():
            return None
        runs = [(m.start(), m.end()) for m in _RUNS.finditer(data)]
        if len(runs) > MAX_RUNS:
            return None
        marked = bytearray()
        last = 0
        for index, (start, end) in enumerate(runs):
            marked += data[last:start]
            marked += chr(_TOKEN + index).encode()
            last = end
        marked += data[last:]
        try:
            event = parse_element(bytes(marked))
        except ProtocolError:
            return None
        if not isinstance(event, _CLASSES):
            return None
        text = data.decode("ascii")

        def recipe_of(obj: Any, skip: tuple[str, ...]) -> list[Field] | None:
            out: list[Field] = []
            for f in fields(obj):
                if f.name in skip:
                    continue
                value = getattr(obj, f.name)
                if not isinstance(value, str) or not _TOKENS.search(value):
                    out.append((f.name, value))
                    continue
                place = _place(value, runs, text)
                if place is None:
                    return None
                out.append((f.name, *place))
            return out

        vector_fields = recipe_of(event, ("members",))
        if vector_fields is None:
            return None
        members = []
        for member in event.members:
            member_fields = recipe_of(member, ())
            if member_fields is None:
                return None
            members.append((type(member), member_fields))
        return _Recipe(shape, type(event), vector_fields, members)


def _place(marked: str, runs: list[tuple[int, int]], text: str) -> tuple[int, int] | None:
    """Where a field whose parsed value is ``marked`` lies in the element ``text``: its value
    with the digits put back must be a plain slice of the element (no entity, no stripping
    inside), found from the first digit run it holds."""
    first = _TOKENS.search(marked)
    assert first is not None
    original = _TOKENS.sub(lambda m: text[slice(*runs[ord(m.group()) - _TOKEN])], marked)
    start = runs[ord(first.group()) - _TOKEN][0] - first.start()
    end = start + len(original)
    if start < 0 or text[start:end] != original:
        return None
    return start, end
