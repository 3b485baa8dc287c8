"""BLOB payloads: base64 on the wire, optional zlib inside (INDI 1.7 p.9).

A ``oneBLOB`` carries base64 text (RFC 2045), which indilib wraps at 72 columns, so decoding
ignores whitespace. Its ``format`` is a file suffix such as ``.fits``; a trailing ``.z`` means the
bytes are a zlib stream (RFC 1950, what indilib's ``compress2()`` writes).

The ``size`` attribute is always the length of the payload **after** base64 decoding **and**
after zlib decompression: for ``.fits.z`` it is the size of the FITS file, not of the compressed
bytes. Use ``len(unpack_blob(...))`` when checking it and ``len(data)`` of the raw payload when
writing it. ``size="0"`` with no content is a valid empty BLOB (indilib uses it for a state-only
update).
"""

from __future__ import annotations

import binascii
import logging
import zlib

__all__ = ["decode_base64", "encode_base64", "is_zlib_format", "pack_blob", "unpack_blob"]

logger = logging.getLogger(__name__)

_WHITESPACE = b" \t\r\n\v\f"


def encode_base64(data: bytes) -> bytes:
    """Encode a payload as one line of base64 with no newlines (every peer accepts that)."""
    return binascii.b2a_base64(data, newline=False)


def decode_base64(data: bytes | bytearray | memoryview | str) -> bytes:
    """Decode BLOB content, ignoring whitespace and line breaks anywhere in it.

    Missing ``=`` padding is tolerated. Any other character outside the base64 alphabet, or a
    length no padding can fix, raises ``ValueError`` saying why: silently skipping garbage (as
    ``binascii`` does by default) would hand a corrupt image to the user.
    """
    if isinstance(data, str):
        try:
            raw = data.encode("ascii")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"BLOB data is not base64: non-ASCII character {data[exc.start]!r} "
                f"at position {exc.start}"
            ) from None
    else:
        raw = bytes(data)
    compact = raw.translate(None, _WHITESPACE)
    missing_padding = -len(compact) % 4
    if missing_padding:
        compact += b"=" * missing_padding
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(
            f"BLOB data is not valid base64 ({exc}): {len(raw)} bytes starting {raw[:24]!r}"
        ) from None


def is_zlib_format(fmt: str) -> bool:
    """True when a BLOB ``format`` says the payload is zlib-compressed (ends in ``.z``).

    Case matters: ``.Z`` is the unrelated Unix ``compress`` format, and ``.fz`` (fpack, which
    indilib's CCD compression uses) is not zlib either; both are passed through untouched.
    """
    return fmt.strip().endswith(".z")


def pack_blob(data: bytes, fmt: str) -> bytes:
    """The bytes to base64-encode for ``data`` in format ``fmt``: zlib-compressed if ``.z``."""
    if is_zlib_format(fmt):
        return zlib.compress(data)
    return data


def unpack_blob(data: bytes, fmt: str, max_size: int | None = None) -> bytes:
    """The payload of decoded BLOB bytes: zlib-decompressed if ``fmt`` ends in ``.z``.

    Empty data stays empty whatever the format (an empty BLOB). ``max_size`` bounds the
    decompressed size so a small message cannot inflate into gigabytes. Raises ``ValueError``
    for data that is not a complete zlib stream or that would exceed ``max_size``.
    """
    if not is_zlib_format(fmt) or not data:
        return data
    decompressor = zlib.decompressobj()
    try:
        payload = decompressor.decompress(data, max_size + 1 if max_size is not None else 0)
    except zlib.error as exc:
        raise ValueError(f"BLOB in format {fmt!r} is not valid zlib data: {exc}") from None
    if max_size is not None and len(payload) > max_size:
        raise ValueError(f"BLOB in format {fmt!r} decompresses to more than {max_size} bytes")
    if not decompressor.eof:
        raise ValueError(f"BLOB in format {fmt!r} is a truncated zlib stream")
    if decompressor.unused_data:
        logger.warning(
            "ignoring %d bytes after the zlib stream of a BLOB in format %r",
            len(decompressor.unused_data),
            fmt,
        )
    return payload
