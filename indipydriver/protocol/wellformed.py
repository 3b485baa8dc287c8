"""Is one element well-formed XML? A check for what a server passes on as it was received.

A server that forwards a client's ``new*Vector`` byte for byte (rather than parsing and
re-serialising it, as indiserver does) would otherwise hand a duplicate attribute, an
undefined entity or a member closed by the wrong end tag to the driver and to every other
client, whose strict parsers then fail; and an element closed by the wrong end tag runs on to
the next matching one, carrying the client's later elements inside it raw (a version-less
``getProperties`` among them makes a C driver exit). expat checks a request in about 1.5 us in
a loop, 5 us on the server's round trip (measured), which made the round trip 9-11 % slower
(``bench/roundtrip_ab.py``, 10 and 16 pairs); `plain_request` recognises the plain form clients
write with one regular expression, and only what it does not recognise goes to expat.

Bytes are read as Latin-1, so any byte is a character: KStars sends text as Latin-1, which is
not UTF-8, and drivers take it. What is refused is what XML 1.0 forbids whatever the encoding:
malformed markup, undefined or invalid character references, and control characters.
"""

from __future__ import annotations

import re
from xml.parsers import expat

__all__ = ["plain_request", "xml_error"]

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
    path, where expat's parser cost about 5 us a request. False means: ask `xml_error`."""
    return _PLAIN_REQUEST.fullmatch(element) is not None and b"]]>" not in element  # XML 1.0
