"""What the round trip's shortcut (``fastpath.shortcut``) reads off a read before it writes it on.

A read the shortcut may take is one whole vector alone: its tag, device, name, other
attributes and the element, and whether it is in the plain well-formed form (``wellformed``)
that needs no parser. Two regular expressions find that out, and on the round trip they were
most of the time between reading a request and writing it on: the server wakes with cold
caches, where the patterns cost several times what they do in a loop.

Reads of one property differ mostly in their digits (values, timestamps). So the answer is kept
by the read's shape -- the read with every digit made 0 -- as the places of its parts, which
are the same in every read of that shape: then a read of a known shape costs a translate, a
lookup and a few slices. That holds because nothing the answer depends on tells digits apart:
the patterns (``tagpatterns._ALONE``, ``wellformed``) name no element or attribute with a digit,
accept no character reference, and every character class in them holds all ten digits or none;
the other checks look for tags, quotes, spaces and ``>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from indipycore.protocol import tagpatterns
from indipycore.protocol.shapes import DIGITS_TO_ZERO
from indipycore.protocol.shapes import ShapeCache
from indipycore.protocol.wellformed import plain_request
from indipycore.protocol.wellformed import plain_update

__all__ = ["Alone", "Learnt", "ReadClassifier", "learnt", "places"]

# Bound by assignment, not imported by name: see `tagpatterns` (a method call per match).
_ALONE = tagpatterns._ALONE
_XML_SPACE = b" \t\r\n"
_NEW = ord("n")
# A `device` or `name` attribute again among the others: the framer keeps the last one, so the
# router would route by it (a value holding ` name=` is left to the general path too).
_AGAIN = re.compile(rb"[ \t\r\n](?:device|name)[ \t\r\n]*+=")

#: (tag, device start, device end, name start, name end, rest start, rest end, element end,
#: plain) of a read, or None when the shortcut cannot take it.
Places = tuple[bytes, int, int, int, int, int, int, int, bool]

MAX_SHAPES = 1024
MAX_SHAPE_BYTES = 2048  # so the shapes hold at most 2 MiB


def _strip(data: bytes, start: int, end: int) -> tuple[int, int]:
    """`start`, `end` moved past the XML spaces at both ends of data[start:end]."""
    while start < end and data[start] in _XML_SPACE:
        start += 1
    while end > start and data[end - 1] in _XML_SPACE:
        end -= 1
    return start, end


def places(data: bytes) -> Places | None:
    """Where the parts of `data` lie, when it is one whole number, switch, text or light
    vector, new or set, alone (a newline may follow it); else None. No cache."""
    m = _ALONE.match(data)
    if m is None:
        return None
    tag = m.group(1)
    if not (m.group(2).isascii() and m.group(3).isascii()):
        return None
    rest = m.group(4)
    if rest and (b"name" in rest or b"device" in rest) and _AGAIN.search(rest):
        return None
    close = b"</" + tag
    i = data.find(close, m.end())
    if i < 0:
        return None
    end = i + len(close) + 1
    n = len(data)
    if data[end - 1 : end] != b">":
        return None
    if end < n and not (end + 1 == n and data[end] == 0x0A):
        return None
    d0, d1 = _strip(data, *m.span(2))
    n0, n1 = _strip(data, *m.span(3))
    if d0 == d1 or n0 == n1:  # the router reads an empty name as none (no cache, wider echo)
        return None
    element = data if end == n else data[:end]
    plain = plain_request(element) if tag[0] == _NEW else plain_update(element)
    r0, r1 = m.span(4)
    return tag, d0, d1, n0, n1, r0, r1, end, plain


#: What a shape's reads have in common: their tag (decoded), their device and name decoded
#: when those hold no digit (then every read of the shape has the same ones; None: decoded
#: per read), and the places of their parts.
Learnt = tuple[str, str | None, str | None, Places]

_DIGITS = frozenset(b"0123456789")


def learnt(data: bytes, where: Places | None) -> Learnt | None:
    """What every read of the shape of `data` shares, from its places."""
    if where is None:
        return None
    tag, d0, d1, n0, n1 = where[:5]
    device, name = data[d0:d1], data[n0:n1]
    return (tag.decode("ascii"),
            None if _DIGITS.intersection(device) else device.decode("ascii"),
            None if _DIGITS.intersection(name) else name.decode("ascii"), where)


#: What the reader of one kind keeps of the last shape it met: tag, device and name (None:
#: decoded per read), the places of device and name, of the other attributes and the element's
#: end, whether the element is the whole read, and whether it is in the plain form; None when
#: the shape's reads are not for the shortcut or not of its kind.
_Digest = tuple[str, str | None, str | None, int, int, int, int, int, int, int, bool, bool]

#: (tag, device, name, other attributes, element, plain): `ReadClassifier.alone`'s answer.
Alone = tuple[str, str, str, bytes, bytes, bool]


def _digest(found: Learnt | None, kind: str, size: int) -> _Digest | None:
    """What the reader of `kind` keeps of a shape of `size` bytes (`_Digest`)."""
    if found is None:
        return None
    tag, device, name, where = found
    if tag[0] != kind:
        return None
    _, d0, d1, n0, n1, r0, r1, end, plain = where
    return tag, device, name, d0, d1, n0, n1, r0, r1, end, end == size, plain


class ReadClassifier:
    """`alone`, with what it learnt kept by the read's shape (``protocol.shapes``); one per
    shortcut (per server), none per process. `alone_new` and `alone_set` are `alone` for one
    kind each (what the shortcut calls: no kind to compare, the last shape of their kind kept
    in their closure, where a read of the same shape as the one before finds it with one
    comparison and no attribute lookup)."""

    __slots__ = ("alone_new", "alone_set", "shapes")

    def __init__(self) -> None:
        self.shapes: ShapeCache[Learnt | None] = ShapeCache(MAX_SHAPES)
        self.alone_new: Callable[[bytes], Alone | None] = self._reader("n")
        self.alone_set: Callable[[bytes], Alone | None] = self._reader("s")

    def alone(self, data: bytes, kind: str) -> Alone | None:
        """(tag, device, name, other attributes, element, plain) when `data` is one whole
        vector of the `kind` (``"n"`` new, ``"s"`` set) the shortcut takes, else
        None. The element is `data` without the newline that may follow it, as the framer
        would hand it out; plain: it is in the plain form (`plain_request` for a new vector,
        `plain_update` for a set)."""
        return self.alone_set(data) if kind == "s" else self.alone_new(data)

    def _reader(self, kind: str) -> Callable[[bytes], Alone | None]:
        shapes = self.shapes
        # A round trip's reads repeat their shape, and comparing two shapes is cheaper than
        # hashing one for the dict. (An empty read's shape is b"", and it is nothing.)
        last_shape = b""
        last: _Digest | None = None

        def alone(data: bytes) -> Alone | None:
            nonlocal last_shape, last
            if len(data) > MAX_SHAPE_BYTES:
                got = _digest(learnt(data, places(data)), kind, len(data))
            else:
                shape = data.translate(DIGITS_TO_ZERO)
                if shape == last_shape:
                    got = last
                else:
                    try:
                        found = shapes[shape]
                    except KeyError:
                        found = learnt(data, places(data))
                        shapes.learn(shape, found)
                    got = last = _digest(found, kind, len(data))
                    last_shape = shape
            if got is None:
                return None
            tag, device, name, d0, d1, n0, n1, r0, r1, end, whole, plain = got
            if device is None:
                device = data[d0:d1].decode("ascii")
            if name is None:
                name = data[n0:n1].decode("ascii")
            return tag, device, name, data[r0:r1], data if whole else data[:end], plain

        return alone
