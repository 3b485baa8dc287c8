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

The recipe of a shape also reads, straight from the text, the fields ``Model.update_set``
takes (when nothing else in the element needs the model's checks: numbers are plain decimals
and carry no limits); ``incoming`` applies a burst's elements with it, found by ``at(data,
pos)`` (``last``, the shape used last, tried first). For a shape that names its vector with
constants, the recipe also has ``run``: the loop that applies a run of such elements written out
for the shape (each field a constant or a slice at a fixed offset), the hot path of a burst.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from indipycore.protocol import Event as ProtocolEvent
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetLightVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import parse_element
from indipycore.protocol.shapes import DIGITS_TO_ZERO as _DIGITS_TO_ZERO
from indipycore.protocol.shapes import ShapeCache

from . import events
from .properties import LightVector
from .properties import NumberVector
from .properties import PropertyVector
from .properties import SwitchVector
from .properties import TextVector
from .tree import PLAIN_NUMBER
from .tree import timeout_seconds

__all__ = ["SetShapes"]

_RUNS = re.compile(rb"[0-9]+")
_TOKEN = 0xE000  # private-use characters, valid in XML and never sent by a peer we accept
_TOKENS = re.compile("[\ue000-\ue0ff]")
MAX_RUNS = 64
MAX_SHAPES = 512
MAX_ELEMENT = 2048
_CACHED_TAGS = frozenset({b"<setNumberVector", b"<setTextVector", b"<setSwitchVector",
                          b"<setLightVector"})
_CLASSES = (SetNumberVector, SetTextVector, SetSwitchVector, SetLightVector)
_CLOSINGS = {tag[1:]: b"</" + tag[1:] + b">" for tag in _CACHED_TAGS}
# The element's class -> the model's vector kind it must find, and the client event it makes.
_KINDS: dict[type, tuple[type[PropertyVector], type[events.setVector]]] = {
    SetNumberVector: (NumberVector, events.setNumberVector),
    SetTextVector: (TextVector, events.setTextVector),
    SetSwitchVector: (SwitchVector, events.setSwitchVector),
    SetLightVector: (LightVector, events.setLightVector),
}

# A field of the event: (name, constant) or (name, start, end) -- a slice of the element.
Field = tuple[str, Any] | tuple[str, int, int]


class _Recipe:
    """How to build the event of an element of one shape: ``build(text)`` calls the event's
    constructor with the constants of the shape and slices of ``text`` (one expression,
    compiled once per shape: this is the hot path of a burst)."""

    __slots__ = ("build", "closing", "fields", "kind", "named", "run", "shape", "state",
                 "update")

    def __init__(self, shape: bytes, cls: type, fields_: list[Field],
                 members: list[tuple[type, list[Field]]], fast: bool) -> None:
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

        # The shortcut to the model (`apply`): the fields `Model.update_set` takes, read
        # straight from the text, and the vector kind the element must find.
        self.kind: type[PropertyVector] | None = None
        self.update: type[events.setVector] = events.setVector
        self.state: State | None = None
        self.fields: Any = None
        self.named = False
        self.run: Any = None
        if not fast:
            return
        kind, self.update = _KINDS[cls]
        given = {entry[0]: entry for entry in fields_}

        def expr(entry: Field | None) -> str:
            if entry is None:
                return "None"
            if len(entry) == 2:
                key = f"c{len(constants)}"
                constants[key] = entry[1]
                return key
            return f"t[{entry[1]}:{entry[2]}]"

        state = given["state"]
        assert len(state) == 2  # no digits in a state: always a constant of the shape
        self.state = state[1]
        pairs = []
        for _mcls, mfields in members:
            named = {entry[0]: entry for entry in mfields}
            pairs.append(f"({expr(named['name'])}, {expr(named['value'])}), ")
        # Device and vector names without digits are constants of the shape: every element of
        # it names the same vector (a burst's run of them looks it up once, ``incoming``).
        self.named = len(given["device"]) == 2 and len(given["name"]) == 2
        self.run = _run_of(given, members, self.update) if self.named else None
        self.fields = eval(
            f"lambda t: ({expr(given['device'])}, {expr(given['name'])}, "
            f"{expr(given.get('timeout'))}, {expr(given['timestamp'])}, "
            f"{expr(given['message'])}, ({''.join(pairs)}))", constants)
        self.kind = kind


class SetShapes:
    """The recipes of the set element shapes seen (at most ``MAX_SHAPES``)."""

    def __init__(self) -> None:
        self._recipes: ShapeCache[_Recipe | None] = ShapeCache(MAX_SHAPES)
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
            self._recipes.learn(shape, recipe)
        if recipe is None:
            return parse_element(data)
        self.last = recipe
        self.hits += 1
        event: ProtocolEvent = recipe.build(data.decode("ascii"))
        return event

    def end_of(self, data: bytes, pos: int) -> int:
        """Where the set element at ``data[pos:]`` ends, by its closing tag (-1: not in
        ``data``, or not one of the sets kept by shape)."""
        space = data.find(b" ", pos, pos + 20)
        closing = _CLOSINGS.get(data[pos + 1:space]) if space > 0 else None
        if closing is None:
            return -1
        end = data.find(closing, pos)
        return -1 if end < 0 else end + len(closing)

    def at(self, data: bytes, pos: int) -> _Recipe | None:
        """The recipe of the set element at ``data[pos:]``, if its shape is known (it then
        becomes ``last``). The element is found by its closing tag: bytes of the shape of
        an element the framer framed are framed alike, digits never deciding where a tag or
        an element ends."""
        end = self.end_of(data, pos)
        if end < 0 or end - pos > MAX_ELEMENT:
            return None
        recipe = self._recipes.get(data[pos:end].translate(_DIGITS_TO_ZERO))
        if recipe is not None:
            self.last = recipe
        return recipe

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
        return _Recipe(shape, type(event), vector_fields, members,
                       _fast(event, text, members))


def _run_of(given: dict[str, Field], members: list[tuple[type, list[Field]]],
            event: type[events.setVector]) -> Any:
    """A generator function applying a run of elements of one shape naming one vector
    (``Model.update_run`` calls it): what ``fields`` and ``Model.update_set`` do for each,
    written out for this shape -- every field a constant or a slice at a fixed offset from
    the element's start -- so that the hot loop of a burst builds no tuple of fields and calls
    nothing but the event's class (and the timestamp's reader when its text changes).

    ``run(vector, text, at, stride, count, stamp_of, last, stamp)`` applies the elements at
    ``text[at + i * stride:]`` in turn and yields each one's event as it is applied;
    ``stamp_of(text)`` gives a timestamp text's datetime and the text to compare the next one
    with; ``last`` and ``stamp`` are the model's latest such pair."""
    constants: dict[str, Any] = {"cls": event, "timeout_seconds": timeout_seconds,
                                 "state": given["state"][1]}
    reads: list[str] = []  # the element's slices, read first
    applied: list[str] = []  # the members' values, applied in order

    def value(entry: Field | None, local: str) -> str:
        """Code for a field: a constant, or a local holding its slice of the element."""
        if entry is None or (len(entry) == 2 and entry[1] is None):
            return "None"
        if len(entry) == 2:
            key = f"k{len(constants)}"
            constants[key] = entry[1]
            return key
        reads.append(f"{local} = text[at + {entry[1]}:at + {entry[2]}]")
        return local

    lookups: list[str] = []  # members named by constants: looked up once per run
    stamp = value(given["timestamp"], "ts")
    timeout = value(given.get("timeout"), "tt")
    message = value(given["message"], "msg")
    for i, (_mcls, mfields) in enumerate(members):
        named = {entry[0]: entry for entry in mfields}
        name = value(named["name"], f"n{i}")
        val = value(named["value"], f"v{i}")
        if name.startswith("k"):
            lookups.append(f"m{i} = members.get({name})")
        else:
            applied.append(f"m{i} = members.get({name})")
        applied.append(f"if m{i} is not None: m{i}.value = data[{name}] = {val}")
    timeout_code = "None" if timeout == "None" else f"timeout_seconds({timeout})"
    lines = [
        "def run(vector, text, at, stride, count, stamp_of, last, stamp):",
        "    members = vector.members_",
        *(f"    {line}" for line in lookups),
        "    if state is not None:",
        "        vector.state = state  # a constant of the shape: the same for every element",
        "    end = at + count * stride",
        "    while at < end:",
        *(f"        {line}" for line in reads),
        "        at += stride",
        "        vector.snap = None",
        f"        if {stamp} != last or not {stamp}:",
        f"            stamp, last = stamp_of({stamp})",
        "        vector.timestamp = stamp",
    ]
    if timeout != "None":  # (a shape without a timeout has nothing to set)
        lines += [f"        timeout = {timeout_code}",
                  "        if timeout is not None:",
                  "            vector.timeout = timeout"]
    if message != "None":
        lines += [f"        vector.message = {message}",
                  "        vector.message_timestamp = stamp"]
    lines.append("        data = {}")
    lines += [f"        {line}" for line in applied]
    made = "timeout" if timeout != "None" else "None"
    lines.append(f"        yield cls(vector, data, stamp, state, {message}, {made})")
    namespace = dict(constants)
    exec("\n".join(lines), namespace)  # noqa: S102  # ours: made of the shape's offsets and names
    return namespace["run"]


def _fast(event: Any, text: str, members: list[tuple[type, list[Field]]]) -> bool:
    """Whether elements of this shape may go straight to the model (`Model.update_set`):
    every number a plain decimal (which stays so whatever its digits: `PLAIN_NUMBER` tells
    digits apart no more than the shape does) and no number limits (IUUpdateMinMax), so that
    the model has nothing to check or take but the fields `update_set` takes."""
    if type(event) is not SetNumberVector:
        return True
    for _mcls, mfields in members:
        named = {entry[0]: entry for entry in mfields}
        if any(named[limit] != (limit, None) for limit in ("min", "max", "step")):
            return False
        value = named["value"]
        sample = value[1] if len(value) == 2 else text[value[1]:value[2]]
        if not isinstance(sample, str) or PLAIN_NUMBER(sample) is None:
            return False
    return True


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
