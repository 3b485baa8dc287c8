"""The byte patterns of INDI markup that the framer matches: start tags (strict, whole, the
round trip's vector alone in a read), closing tags, resynchronisation points, and the byte
classes of XML names and whitespace.

All are compiled once here. `framing` and `scanner` bind the ones they use to globals of their
own by assignment (`_ALONE = tagpatterns._ALONE`), not with `from .tagpatterns import ...`:
CPython 3.11 compiles `_ALONE.match(data)` as a method call (LOAD_METHOD, no bound method made
per call) only when no import statement binds the name in the calling module (compile.c,
is_import_originated). Imported by name, `_ALONE.match` cost the hot path a bound method per
read.
"""

from __future__ import annotations

import re

# Possessive quantifiers keep this linear even when the tag is incomplete and the match fails.
# `<` is excluded from attribute values (XML forbids it there) so a broken tag cannot swallow
# the elements after it.
_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*+)((?:[^<>\"']++|\"[^<\"]*+\"|'[^<']*+')*+)(>?)")
# The start tag as the _START state reads it: only `name="value"` pairs after whitespace. A tag
# that is not XML, such as `<not xml>` (an attribute without a value), stops matching early, so
# it is reported and skipped instead of opening an element that buffers the stream behind it
# while waiting for `</not`. One pass, whatever way the stream is split.
_STRICT_START_TAG = re.compile(
    rb"<([A-Za-z_][\w.:-]*+)"
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+"
    rb"[ \t\r\n]*+/?)(>?)"
)
# A whole start tag, after optional whitespace, for the fast path in `Framer.feed`: the strict form
# with its `>` present.
_WHOLE_START_TAG = re.compile(
    rb"[ \t\r\n]*+<([A-Za-z_][\w.:-]*+)"
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+"
    rb"[ \t\r\n]*+/?)>"
)
# The round trip's element alone in a read: a new/set vector (not a BLOB) whose start tag
# begins `device="..." name="..."`, as every INDI library writes it. The rest of the tag is
# checked as `_WHOLE_START_TAG` checks it; device and name come out of the same match, so they
# are not decoded again. An entity (`&`), a `/>` or leading text falls to the general path.
_ALONE = re.compile(
    rb"<((?:new|set)(?:Number|Switch|Text|Light)Vector)"
    rb"[ \t\r\n]++device=\"([^\"<&]*+)\"[ \t\r\n]++name=\"([^\"<&]*+)\""
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+)"
    rb"[ \t\r\n]*+>"
)
# The name of the element a read may begin in (`Framer._finish_pending`), after optional
# whitespace: only its name is read, to tell whether it is one handed out in pieces.
_TAG_START = re.compile(rb"[ \t\r\n]*+<([A-Za-z_][\w.:-]*+)")
_SPACES = re.compile(rb"[ \t\r\n\x0b\x0c]*+")  # what bytes.strip() removes
_RESYNC_POINT = re.compile(rb"<[A-Za-z_?]")
_CLOSE_TAIL = re.compile(rb"[ \t\r\n]*+>")
_WHITESPACE = frozenset(b" \t\r\n")
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHAR = _NAME_START | frozenset(b"0123456789.:-")
_END_TAG = re.compile(rb"</([A-Za-z_][\w.:-]*+)[ \t\r\n]*+(>?)")
