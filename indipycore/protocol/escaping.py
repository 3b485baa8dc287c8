"""XML escaping for INDI: the five named entities only, both ways.

Output uses only `&amp; &lt; &gt; &quot; &apos;` because indilib's lilxml decodes nothing else
(`lilxml.cpp` decodeEntity) and shows numeric references such as `&#10;` literally (indi-notes
1.6). Input is lenient: numeric references are decoded too, since Python peers using ElementTree
send them.
"""

from __future__ import annotations

import re

from .errors import LocalProtocolError

__all__ = ["escape", "escape_entities", "escape_replacing", "unescape"]

# One search answers "is there anything to do?" for the common, clean string.
_NEEDS_WORK = re.compile(r"[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_SPECIAL = frozenset("&<>\"'")


def _entities(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def escape(text: str) -> str:
    """Escape `text` for an attribute value or element content (double-quoted attributes).

    Raises LocalProtocolError for characters XML 1.0 cannot carry at all (control characters
    other than tab, newline and carriage return): they cannot be escaped without numeric
    references, which C peers do not decode.
    """
    if _NEEDS_WORK.search(text) is None:
        return text
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise LocalProtocolError(
            f"character {bad.group()!r} at index {bad.start()} of {text[:40]!r} "
            "cannot be sent in XML 1.0"
        )
    return _entities(text)


def escape_entities(text: str) -> str:
    """Replace the five special characters by their entities; check nothing else.

    The lenient form of `escape`, for text that must go out as it is rather than raise: names a
    peer sent (lenient input decoding may have made control characters of them) forwarded by
    the server, and the driver's send path (indipydriver 3.x sent such text unchanged).
    """
    # The common case (names, numbers) has nothing to escape: skip the replace calls.
    if _SPECIAL.isdisjoint(text):
        return text
    return _entities(text)


def escape_replacing(text: str) -> tuple[str, int]:
    """`text` escaped, with each character XML 1.0 cannot carry replaced by U+FFFD, and how many
    were replaced: for a driver's own text, which must never break its clients' parsers
    (a control character from an instrument's reply in a message, say)."""
    if _NEEDS_WORK.search(text) is None:
        return text, 0
    text, count = _FORBIDDEN.subn("\ufffd", text)
    return _entities(text), count


def _replace(match: re.Match[str]) -> str:
    ref = match.group(1)
    named = _NAMED.get(ref)
    if named is not None:
        return named
    try:
        code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])  # noqa: FURB166
        return chr(code)
    except (ValueError, OverflowError):
        return match.group()  # not a character: leave the text as it was


def unescape(text: str) -> str:
    """Decode entity references (the five named ones, and numeric ones leniently)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(_replace, text)
