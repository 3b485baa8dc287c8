"""BLOB payloads: base64 as peers send it, .z zlib packing, and the meaning of size (INDI 1.7 p.9)."""

import base64
import logging
import os
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol.blobs import decode_base64
from indipycore.protocol.blobs import encode_base64
from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.blobs import pack_blob
from indipycore.protocol.blobs import unpack_blob


def wrap_like_indilib(encoded: bytes, columns: int = 72) -> bytes:
    """Base64 text as indilib writes it inside oneBLOB: 72-column lines and padding newlines."""
    lines = [encoded[i : i + columns] for i in range(0, len(encoded), columns)]
    return b"\n" + b"\n".join(lines) + b"\n      "


def test_encode_base64_is_one_line_without_newlines() -> None:
    """We write the whole payload as a single base64 line."""
    data = os.urandom(1000)
    encoded = encode_base64(data)
    assert b"\n" not in encoded
    assert encoded == base64.b64encode(data)


def test_decode_base64_reads_72_column_wrapped_text_as_indilib_sends_it() -> None:
    """Line breaks and padding whitespace from indilib are ignored."""
    data = os.urandom(5000)
    wrapped = wrap_like_indilib(base64.b64encode(data))
    assert wrapped.count(b"\n") > 60
    assert decode_base64(wrapped) == data


def test_decode_base64_accepts_str_and_other_whitespace() -> None:
    """Text from the XML parser (str) and CRLF/tab/space breaks decode the same."""
    assert decode_base64("aGVs\r\nbG8g\td29y bGQ=") == b"hello world"


def test_decode_base64_tolerates_missing_padding() -> None:
    """Some writers drop the '=' padding; the data is still unambiguous."""
    assert decode_base64(b"aGVsbG8") == b"hello"
    assert decode_base64(b"aGVsbA") == b"hell"


@pytest.mark.parametrize("empty", [b"", "", b"\n   \n", bytearray()])
def test_decode_base64_of_nothing_is_an_empty_blob(empty: bytes | str) -> None:
    """An empty oneBLOB (size 0) decodes to no bytes rather than an error."""
    assert decode_base64(empty) == b""


@pytest.mark.parametrize(
    "garbage",
    [b"aGVs!G8=", b"aGVsbG8=aGVs", b"a", b"=aGVs", "aGVsbG8é", b"<oneBLOB>", b"aGVs\x00bG8="],
)
def test_decode_base64_refuses_garbage_with_value_error(garbage: bytes | str) -> None:
    """Characters outside the alphabet or impossible lengths raise ValueError, never skip."""
    with pytest.raises(ValueError, match="base64"):
        decode_base64(garbage)


@given(st.binary(max_size=600), st.integers(min_value=4, max_value=100))
def test_base64_round_trips_however_the_text_is_wrapped(data: bytes, columns: int) -> None:
    """decode(wrap(encode(x))) == x for any payload and line width."""
    assert decode_base64(wrap_like_indilib(encode_base64(data), columns)) == data


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (".fits.z", True),
        (".z", True),
        (".stream.z", True),
        (" .fits.z ", True),
        (".fits", False),
        (".fits.fz", False),  # fpack, indilib CCD compression: not zlib
        (".fits.Z", False),  # Unix compress (LZW): not zlib
        (".zip", False),
        ("", False),
    ],
)
def test_is_zlib_format_only_for_a_trailing_dot_z(fmt: str, expected: bool) -> None:
    """Only a format ending in lowercase '.z' means zlib."""
    assert is_zlib_format(fmt) is expected


def test_pack_blob_compresses_z_formats_with_zlib_stream_format() -> None:
    """'.z' payloads are RFC 1950 zlib streams, as indilib's compress2() writes."""
    data = b"SIMPLE  =                    T" * 100
    packed = pack_blob(data, ".fits.z")
    assert len(packed) < len(data)
    assert zlib.decompress(packed) == data


def test_pack_and_unpack_leave_other_formats_untouched() -> None:
    """Formats without .z pass through byte for byte."""
    data = os.urandom(64)
    assert pack_blob(data, ".fits") is data
    assert unpack_blob(data, ".fits.fz") is data


def test_size_is_the_decoded_decompressed_length() -> None:
    """A whole .z BLOB as a peer sends it: size equals len of the unpacked payload."""
    fits = b"SIMPLE  =                    T" * 200
    wire = wrap_like_indilib(encode_base64(pack_blob(fits, ".fits.z")))
    payload = unpack_blob(decode_base64(wire), ".fits.z")
    assert payload == fits
    size = len(payload)
    assert size == 6000 and size != len(decode_base64(wire))


def test_unpack_blob_of_empty_data_is_empty_in_any_format() -> None:
    """size=0 with no content is an empty BLOB even when the format says .z."""
    assert unpack_blob(b"", ".fits.z") == b""
    assert unpack_blob(pack_blob(b"", ".z"), ".z") == b""


@given(st.binary(max_size=2000), st.sampled_from([".fits", ".fits.z", ".z", ".stream.z", ""]))
def test_pack_unpack_round_trip(data: bytes, fmt: str) -> None:
    """unpack_blob(pack_blob(x, f), f) == x for every format."""
    assert unpack_blob(pack_blob(data, fmt), fmt) == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not zlib at all", "not valid zlib"),
        (zlib.compress(b"x" * 1000)[:-6], "truncated"),
    ],
)
def test_unpack_blob_refuses_bad_zlib_data_clearly(data: bytes, reason: str) -> None:
    """Corrupt or cut .z payloads raise ValueError naming the format and the problem."""
    with pytest.raises(ValueError, match=reason) as excinfo:
        unpack_blob(data, ".fits.z")
    assert ".fits.z" in str(excinfo.value)


def test_unpack_blob_bounds_the_decompressed_size() -> None:
    """max_size stops a small message inflating without limit; exactly max_size is fine."""
    bomb = zlib.compress(b"\0" * 1_000_000)
    with pytest.raises(ValueError, match="more than 1000 bytes"):
        unpack_blob(bomb, ".z", max_size=1000)
    assert len(unpack_blob(zlib.compress(b"\0" * 1000), ".z", max_size=1000)) == 1000


def test_unpack_blob_ignores_and_logs_bytes_after_the_zlib_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Trailing bytes after a complete stream do not lose the payload but are logged."""
    with caplog.at_level(logging.WARNING, logger="indipycore.protocol.blobs"):
        assert unpack_blob(zlib.compress(b"image") + b"junk", ".z") == b"image"
    assert "4 bytes after the zlib stream" in caplog.text
