"""Is one element well-formed XML? A check for what a server passes on as it was received.

A server that forwards a client's ``new*Vector`` byte for byte (rather than parsing and
re-serialising it, as indiserver does) would otherwise hand a duplicate attribute, an
undefined entity or a member closed by the wrong end tag to the driver and to every other
client, whose strict parsers then fail; and an element closed by the wrong end tag runs on to
the next matching one, carrying the client's later elements inside it raw (a version-less
``getProperties`` among them makes a C driver exit). expat on every request made the server's
round trip measurably slower (its caches are cold there); `plain_request` recognises the plain form clients
write with one regular expression, and only what it does not recognise goes to expat.

Bytes are read as Latin-1, so any byte is a character: KStars sends text as Latin-1, which is
not UTF-8, and drivers take it. What is refused is what XML 1.0 forbids whatever the encoding:
malformed markup, undefined or invalid character references, and control characters.
"""

from __future__ import annotations

import re
from xml.parsers import expat

from .shapes import DIGITS_TO_ZERO
from .shapes import ShapeCache

__all__ = ["PlainUpdates", "plain_request", "plain_update", "xml_error"]

# What `plain_request` accepts, all of it plainly well-formed: no character reference (`&`), no
# control character, no `<` (nor `]]>`) in text, the member tags matching, and attributes that
# cannot be repeated (the vector's device, name and an optional timestamp, the members' name).
_WS = rb"[ \t\r\n]"
_NOT = rb"<&\x00-\x08\x0b\x0c\x0e-\x1f"
_VALUE = rb'(?:"[^"' + _NOT + rb']*+"|\'[^\'' + _NOT + rb"]*+')"
_PLAIN_REQUEST = re.compile(
    rb"<new(Number|Switch|Text)Vector" + _WS + rb"++device" + _WS + rb"*+=" + _WS + rb"*+"
    + _VALUE + _WS + rb"++name" + _WS + rb"*+=" + _WS + rb"*+" + _VALUE
    + rb"(?:" + _WS + rb"++timestamp" + _WS + rb"*+=" + _WS + rb"*+" + _VALUE + rb")?"
    + _WS + rb"*+>(?:" + _WS + rb"*+<one\1" + _WS + rb"++name" + _WS + rb"*+=" + _WS + rb"*+"
    + _VALUE + _WS + rb"*+>[^" + _NOT + rb"]*+</one\1" + _WS + rb"*+>)*+" + _WS
    + rb"*+</new\1Vector" + _WS + rb"*+>"
)


# What `plain_update` accepts: a driver's set vector (not BLOB: the framer checks a BLOB
# vector's structure as it streams) or def vector, message or delProperty with its attributes
# in the order indilib and indipydriver write them, each at most once (so none can be
# repeated), text with the five named entities only and no ``]]>``, and every member closed by
# its own tag. One pattern for all of them (the engine picks the branch from the first bytes).
_ENTITY = rb"&(?:amp|lt|gt|quot|apos);"
_NOT_TEXT = _NOT + rb"\]"
# Runs of plain characters between entities (and lone `]`), not one alternative per
# character: several times faster.
_TEXT = (rb"[^" + _NOT_TEXT + rb"]*+(?:(?:" + _ENTITY + rb"|\](?!\]>))[^" + _NOT_TEXT
         + rb"]*+)*+")
_QVALUE = (rb'(?:"[^"' + _NOT + rb"]*+(?:" + _ENTITY + rb'[^"' + _NOT + rb']*+)*+"'
           + rb"|'[^'" + _NOT + rb"]*+(?:" + _ENTITY + rb"[^'" + _NOT + rb"]*+)*+')")


def _attrs(required: str, optional: str) -> bytes:
    """Attributes in this order: each of `required`, then any of `optional`."""
    one = [_WS + rb"++" + name.encode() + _WS + rb"*+=" + _WS + rb"*+" + _QVALUE
           for name in required.split()]
    maybe = [rb"(?:" + _WS + rb"++" + name.encode() + _WS + rb"*+=" + _WS + rb"*+" + _QVALUE
             + rb")?" for name in optional.split()]
    return b"".join(one + maybe)


def _vector(kind: str, kinds: bytes, member: str, vector_attrs: bytes,
            member_attrs: bytes) -> bytes:
    group = kind.encode()  # the kind's own group: (?P=set) closes what (?P<set>...) opened
    same = rb"(?P=" + group + rb")"
    close = rb">" + _TEXT + rb"</" + member.encode() + same + _WS + rb"*+>"
    if kind == "def":
        close = rb"(?:/>|" + close + rb")"
    return (rb"<" + group + rb"(?P<" + group + rb">" + kinds + rb")Vector" + vector_attrs
            + _WS + rb"*+>(?:" + _WS + rb"*+<" + member.encode() + same + member_attrs
            + _WS + rb"*+" + close + rb")*+" + _WS + rb"*+</" + group + same + rb"Vector"
            + _WS + rb"*+>")


_PLAIN_UPDATE = re.compile(b"|".join([
    _vector("set", rb"Number|Switch|Text|Light", "one",
            _attrs("device name", "state timeout timestamp message"),
            _attrs("name", "min max step")),
    _vector("def", rb"Number|Switch|Text|Light|BLOB", "def",
            _attrs("device name", "label group state perm rule timeout timestamp message"),
            _attrs("name", "label format min max step")),
    rb"<message" + _attrs("", "device timestamp message") + _WS + rb"*+(?:/>|></message"
    + _WS + rb"*+>)",
    rb"<delProperty" + _attrs("device", "name timestamp message") + _WS
    + rb"*+(?:/>|></delProperty" + _WS + rb"*+>)",
]))

#: An element longer than this is matched each time, not remembered by shape (`PlainUpdates`).
MAX_SHAPE_BYTES = 4096
#: Shapes one `PlainUpdates` remembers (so at most 16 MiB of them).
MAX_SHAPES = 4096


def xml_error(element: bytes | bytearray | memoryview) -> str | None:
    """Why `element` (one whole element) is not well-formed XML, or None when it is."""
    parser = expat.ParserCreate("ISO-8859-1")
    try:
        parser.Parse(element, True)  # takes a bytearray or memoryview too: no copy of a BLOB
    except expat.ExpatError as exc:
        return str(exc)
    return None


def plain_request(element: bytes) -> bool:
    """True when `element` is a number, switch or text request in the plain form clients write
    (`xml_error` would find nothing): one regular-expression match, for the round trip's hot
    path, where expat's parser costs several times more. False means: ask `xml_error`."""
    return _PLAIN_REQUEST.fullmatch(element) is not None and b"]]>" not in element  # XML 1.0


def plain_update(element: bytes | bytearray) -> bool:
    """True when `element` is a driver's set (not BLOB) or def vector, message or delProperty
    in the plain form indilib and indipydriver write (`xml_error` would find nothing): one
    regular-expression match. False: ask `xml_error`. `PlainUpdates` answers the same,
    remembering the shapes it accepted."""
    return _PLAIN_UPDATE.fullmatch(element) is not None


class PlainUpdates:
    """`plain_update` that remembers the shapes of the elements it accepted (``shapes``: the
    element with every digit made 0); one per server (the router's), none per process.

    The pattern names no element or attribute with a digit and accepts no character
    reference, so all the digits of an element it accepted are in attribute values or text,
    where any digit may stand: an element of the same shape is accepted too. A burst of set
    vectors differing in their numbers and timestamps is then checked by a translate and a
    lookup, a fraction of what the pattern costs (which was a good part of the server's time
    per message)."""

    __slots__ = ("shapes",)

    def __init__(self) -> None:
        self.shapes: ShapeCache[bool] = ShapeCache(MAX_SHAPES)

    def accepts(self, element: bytes | bytearray) -> bool:
        """`plain_update(element)`, by shape for an element of a shape accepted before."""
        if type(element) is not bytes or len(element) > MAX_SHAPE_BYTES:
            return _PLAIN_UPDATE.fullmatch(element) is not None  # too large to remember
        shape = element.translate(DIGITS_TO_ZERO)
        if shape in self.shapes:
            return True
        if _PLAIN_UPDATE.fullmatch(element) is None:
            return False
        self.shapes.learn(shape, True)
        return True
