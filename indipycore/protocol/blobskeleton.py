"""A large BLOB vector parsed without handing its base64 to expat.

Parsing a large ``setBLOBVector`` with ``ElementTree`` spends about half its time in expat
turning the base64 into one ``str`` that is then decoded again. The base64 is the
only large part and needs no XML parsing when it is nothing but base64 and whitespace: then
the element with its BLOB bodies cut out (the *skeleton*) is parsed instead, and the bodies,
still bytes, go to the base64 decoder.

The cut is only taken when it cannot change the outcome; otherwise `cut_blob_bodies` returns
None and the element is parsed whole, as any other. So: a body must hold only the base64
alphabet and XML whitespace (no entity, CDATA section or comment: none of them can hide in
it), the element holds no ``<!`` or ``<?`` outside them, and every ``oneBLOB`` has an end tag. What
is left is well-formed exactly when the whole element is, as base64 and whitespace are valid
character data; the parser checks that the skeleton's members are the bodies cut, in order.
"""

from __future__ import annotations

__all__ = ["BLOB_VECTOR_TAGS", "MIN_CUT_SIZE", "cut_blob_bodies"]

#: Elements whose members carry base64 bodies (``oneBLOB``).
BLOB_VECTOR_TAGS = (b"<setBLOBVector", b"<newBLOBVector")

#: Elements smaller than this are parsed whole: the cut would save little on them.
MIN_CUT_SIZE = 1 << 16

_BASE64_AND_SPACE = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" + b" \t\r\n"
)


def cut_blob_bodies(data: bytes) -> tuple[bytes, list[bytes]] | None:
    """(the element with every ``oneBLOB`` body removed, the bodies in order), or None when
    the element is not a large BLOB vector whose bodies are plain base64."""
    if (
        len(data) < MIN_CUT_SIZE
        or type(data) not in (bytes, bytearray)  # a view: parsed whole, as it always was
        or not data.startswith(BLOB_VECTOR_TAGS)
    ):
        return None
    pieces: list[bytes] = []
    bodies: list[bytes] = []
    kept = 0  # data[:kept] is in the skeleton
    find = data.find
    at = find(b"<oneBLOB", 1)
    while at >= 0:
        end = find(b"</oneBLOB", at)
        if end < 0:
            return None
        head_end = data.rfind(b">", at, end)
        # The last ">" before the end tag must close the start tag at `at`: no other markup
        # between (a self-closing member's would be another member's start tag; a ">" in
        # the body is caught by the parser, which finds the member's text not empty).
        if head_end < 0 or find(b"<", at + 1, head_end) >= 0:
            return None
        body = bytes(memoryview(data)[head_end + 1 : end])  # one copy, bytearray or not
        if body.translate(None, _BASE64_AND_SPACE):
            return None
        pieces.append(data[kept : head_end + 1])
        bodies.append(body)
        kept = end
        at = find(b"<oneBLOB", end)
    if not bodies:
        return None
    pieces.append(data[kept:])
    skeleton = b"".join(pieces)
    # A declaration, comment, CDATA section or processing instruction anywhere (a body holds no
    # "<", so any of them is in the skeleton): parsed whole. Searched here, in the skeleton,
    # as searching 14 MB for a two-byte needle costs more than all the rest of the cut.
    if b"<!" in skeleton or b"<?" in skeleton:
        return None
    return skeleton, bodies
