"""Start tags read before, remembered by shape, so that a burst is framed without re-reading them.

A driver's burst repeats one start tag with only its numbers changed (the timestamp, a counter in
a name): ``<setNumberVector device="Bench" name="NUM" state="Ok" timestamp="...42.123">``. The
framer's start-tag pattern and `decode_attrs` cost more of each such element than everything
else the server does with it. The *shape* of a start tag is its bytes with every
digit made ``0`` (one C-speed ``translate``). Two tags of one shape differ only in digits, and
only where the remembered one had digits; so, provided that no digit may stand anywhere but in
an attribute value, the second has the same tag name, the same attributes in the same places,
and the same values wherever the first had no digit. `StartTagShapes.read` then builds its
attributes from the first's, re-decoding only the values that held digits.

Only start tags with nothing that makes that reasoning harder are remembered: ASCII, no
character reference (``&``), double quotes only, no digit in the tag or attribute names, no
repeated attribute, no ``>`` inside a value (the head is cut at the first ``>``, so a tag cut
there never has a remembered shape: it ends inside a quote, a remembered one does not), and at
most `MAX_HEAD` bytes. Each framer has its own, at most `MAX_SHAPES`, forgotten all at once when
full, so a peer that never repeats itself costs one failed lookup per element and bounded memory.
"""

from __future__ import annotations

import re

from .frames import _XML_SPACE
from .shapes import DIGITS
from .shapes import DIGITS_TO_ZERO
from .shapes import ShapeCache

__all__ = ["MAX_HEAD", "MAX_SHAPES", "StartTagShapes"]

MAX_HEAD = 512  # bytes of a remembered head (whitespace before the tag, `<`, name, attributes)
MAX_SHAPES = 64

# The shapes' tables, one for every shortcut (``shapes``); ``runs`` takes them from here too.
_DIGITS_TO_ZERO = DIGITS_TO_ZERO
_DIGITS = DIGITS
_XML_SPACE_BYTES = _XML_SPACE.encode("ascii")
# An attribute of a start tag already matched by the framer's strict pattern, double-quoted.
_ATTR = re.compile(rb"([A-Za-z_][\w.:-]*+)[ \t\r\n]*+=[ \t\r\n]*+\"([^\"]*+)\"")


class _Shape:
    """What a remembered start tag says about every tag of its shape."""

    __slots__ = ("close", "empty", "lead", "tag", "template", "varying")

    def __init__(self, lead: int, tag: str, empty: bool, template: dict[str, str],
                 varying: tuple[tuple[str, int, int], ...]) -> None:
        self.lead = lead  # whitespace before the `<`
        self.tag = tag
        self.close = b"</" + tag.encode("ascii")
        self.empty = empty  # `<x .../>`: the element ends with its start tag
        self.template = template  # the attributes of the remembered tag
        self.varying = varying  # (name, start, end) in the head of values that held digits


class StartTagShapes:
    """The start tags one framer has read, by shape (module docstring)."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: ShapeCache[_Shape] = ShapeCache(MAX_SHAPES)

    def read(self, head: bytes) -> tuple[_Shape, dict[str, str]] | None:
        """The shape of `head` (a stream's bytes from the end of the last element up to, not
        including, the next ``>``) and its attributes as `decode_attrs` would give them, if a
        tag of that shape was learnt. One call, not two: this runs once per element."""
        shape = self._known.get(head.translate(_DIGITS_TO_ZERO))
        if shape is None:
            return None
        attrs = shape.template.copy()
        for key, start, end in shape.varying:
            attrs[key] = head[start:end].decode("ascii")
        return shape, attrs

    def learn(self, head: bytes, lead: int, tag: bytes, attrs: dict[str, str]) -> None:
        """Remember a start tag the strict pattern matched: `head` as for `read`, ending where
        its ``>`` is; the whitespace before its ``<`` is `lead` bytes, `tag` its name and
        `attrs` its attributes decoded. Ignored if it is not of the kind that may be
        remembered (module docstring)."""
        if (len(head) > MAX_HEAD or not head.isascii() or b"&" in head or b"'" in head
                or not _DIGITS.isdisjoint(tag)):
            return
        empty = head.endswith(b"/")
        varying = []
        names = set()
        for m in _ATTR.finditer(head, lead + 1 + len(tag)):
            key = m.group(1)
            if not _DIGITS.isdisjoint(key) or key in names:
                return
            names.add(key)
            start, end = m.span(2)
            value = m.group(2)
            if not _DIGITS.isdisjoint(value):
                # the span of the value as stripped (whitespace stays where it is in a shape)
                start += len(value) - len(value.lstrip(_XML_SPACE_BYTES))
                end -= len(value) - len(value.rstrip(_XML_SPACE_BYTES))
                varying.append((key.decode("ascii"), start, end))
        if len(names) != len(attrs):
            return  # not the attributes decode_attrs found: leave it to the pattern
        self._known.learn(head.translate(_DIGITS_TO_ZERO), _Shape(
            lead, tag.decode("ascii"), empty, attrs.copy(), tuple(varying)))
