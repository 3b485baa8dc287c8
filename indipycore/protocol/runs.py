"""A burst of one property's sets framed as one `FrameRun`, not element by element.

A driver streaming a value (a mount's coordinates, an exposure's countdown, the benchmarks'
burst) writes one set vector again and again with only its digits changed. Framed one by one,
each costs the server a start tag read, a closing-tag search, a `Frame`, and a turn of the
router, the cache and every client's queue: most of what it spends on a burst. Here the framer
notices that the element it has just framed is followed by elements *of its shape* -- the same
bytes once every digit is made ``0``, so the same length -- and takes all of them at once,
checked by comparing the read's bytes with the shape repeated (C speed).

Why that is safe: two elements of one shape differ only where both have digits. The first one
was framed by the general rules, and a digit never changes where those find a tag, a quote or a
``>``, so every element of its shape frames the same way. What a digit may change is only
allowed to be a value: an element may begin a run only if it has no digit in its markup (a tag
or attribute name), only double-quoted values, no ``>`` inside one, no character reference,
comment, CDATA or declaration, and is ASCII. The ``device`` and ``name`` values (of the vector
and of its members) route and name what a set says, so where one holds a digit each element
of the run must repeat it exactly. The attributes of every element are then those of the first
with the digits of its own values, which is what its start-tag shape (``starttags``) reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .frames import FrameRun
from .shapes import DIGITS as _DIGITS
from .shapes import DIGITS_TO_ZERO as _DIGITS_TO_ZERO

if TYPE_CHECKING:
    from .starttags import _Shape

__all__ = ["MAX_UNIT", "Runs"]

#: Longest element (with the whitespace before it) that may be part of a run: a set of a few
#: members. Larger ones are few in a read, so framing them one by one costs little.
MAX_UNIT = 4096
_MAX_LAYOUTS = 64

_MARKUP = re.compile(rb"<[^>]*+>")
_VALUE = re.compile(rb"([A-Za-z_][\w.:-]*+)[ \t\r\n]*+=[ \t\r\n]*+\"([^\"]*+)\"")
_NAMING = (b"device", b"name")
_NONE: tuple[tuple[int, int], ...] = ()

#: The places, in an element, of the naming values that hold digits (each element of a run
#: repeats them); None when the element may not begin a run.
Layout = tuple[tuple[int, int], ...] | None


def layout_of(unit: bytes) -> Layout:
    """Whether `unit` (an element with the whitespace before it) may begin a run, and where its
    naming values with digits are (module docstring)."""
    if (not unit.isascii() or b"&" in unit or b"'" in unit or b"<!" in unit
            or b"<?" in unit):
        return None
    fixed: list[tuple[int, int]] = []
    for tag in _MARKUP.finditer(unit):
        start, end = tag.span()
        markup = tag.group()
        if markup.count(b'"') % 2:
            return None  # a `>` inside a value: the tag is not where `_MARKUP` ends it
        for attr in _VALUE.finditer(unit, start, end):
            if not _DIGITS.isdisjoint(attr.group(1)):
                return None
            if attr.group(1) in _NAMING and not _DIGITS.isdisjoint(attr.group(2)):
                fixed.append(attr.span(2))
        if not _DIGITS.isdisjoint(_VALUE.sub(b"", markup)):
            return None  # a digit in a tag name, or an attribute `_VALUE` does not read
    return tuple(fixed) if fixed else _NONE


class Runs:
    """One framer's runs: which tags may run, and what it learnt of the shapes it saw."""

    __slots__ = ("_layouts", "tags")

    def __init__(self, tags: frozenset[str] | set[str] | tuple[str, ...]) -> None:
        self.tags = frozenset(tags)
        self._layouts: dict[bytes, Layout] = {}

    def take(self, data: bytes, start: int, end: int, shape: _Shape, gt: int,
             read: Callable[[bytes], tuple[_Shape, dict[str, str]] | None]) -> FrameRun | None:
        """The element framed at ``data[start:end]`` (its whitespace first; its start tag of
        `shape`, whose ``>`` is `gt` bytes in) and every whole element of its shape right after
        it, as one `FrameRun`; None when none follows (frame it alone). `read` is the framer's
        ``StartTagShapes.read``, for the newest element's attributes."""
        unit = end - start
        more = (len(data) - end) // unit
        if more < 1 or unit > MAX_UNIT:
            return None
        first = data[start:end]
        same = first.translate(_DIGITS_TO_ZERO)
        rest = data[end : end + more * unit].translate(_DIGITS_TO_ZERO)
        if not rest.startswith(same):
            return None
        layouts = self._layouts
        if same in layouts:
            layout = layouts[same]
        else:
            if len(layouts) >= _MAX_LAYOUTS:
                layouts.clear()
            layout = layouts[same] = layout_of(first)
        if layout is None:
            return None
        if rest == same * more:
            k = more
        else:
            k = 1
            while k < more and rest.startswith(same, k * unit):
                k += 1
        if layout:
            matched = 0
            while matched < k:
                at = end + matched * unit
                if any(data[at + a : at + b] != first[a:b] for a, b in layout):
                    break
                matched += 1
            k = matched
            if not k:
                return None
        last = start + k * unit
        seen = read(data[last : last + gt])
        if seen is None:  # (the shapes were forgotten meanwhile: not in one call)
            return None
        lead = shape.lead
        return FrameRun(shape.tag, seen[1], data[start + lead : last + unit], k + 1, unit,
                        lead, shape.template, shape.varying)
