"""xml_error: what a server refuses to pass on as it was received (and what it must not)."""

from __future__ import annotations

import pytest

from indipydriver.protocol.wellformed import xml_error

NEW = ('<newTextVector device="Dev" name="T"><oneText name="t">{}</oneText>'
       "</newTextVector>")


@pytest.mark.parametrize("text", [
    "plain", "a &lt; b &amp; c &#233; &#x3A9;", "caf\u00e9 \u03a9", " \t\r\n ", "",
])
def test_well_formed_elements_pass(text: str) -> None:
    assert xml_error(NEW.format(text).encode()) is None


def test_latin1_bytes_pass_as_kstars_sends_them() -> None:
    """KStars sends text as Latin-1 (not UTF-8); drivers take it, so it must not be refused."""
    assert xml_error(NEW.format("Z\xfcrich").encode("latin-1")) is None
    assert xml_error(NEW.encode().replace(b"{}", b"\xff\xfe")) is None


@pytest.mark.parametrize(("element", "why"), [
    (b'<newNumberVector device="a" device="b" name="x"/>', "duplicate attribute"),
    (NEW.format("&undefined;").encode(), "undefined entity"),
    (NEW.format("&#0;").encode(), "invalid character"),
    (NEW.format("&#xFFFFFFFF;").encode(), "invalid character"),
    (NEW.format("a & b").encode(), "not well-formed"),
    (NEW.format("nul \x00").encode(), "not well-formed"),
    (NEW.format("bell \x07").encode(), "not well-formed"),
    (b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneText>'
     b'<getProperties/></newNumberVector>', "mismatched tag"),
    (b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneNumber>', "no element found"),
])
def test_malformed_elements_say_why(element: bytes, why: str) -> None:
    error = xml_error(element)
    assert error is not None and why in error
