"""xml_error: what a server refuses to pass on as it was received (and what it must not)."""

from __future__ import annotations

import pytest

from indipydriver.protocol.wellformed import plain_request, xml_error

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


PLAIN = [
    b'<newNumberVector device="Bench" name="NUM"><oneNumber name="v">12</oneNumber></newNumberVector>',
    b"<newSwitchVector device='Telescope Simulator' name='CONNECTION' timestamp='2024-01-01T00:00:00'>"
    b"\n  <oneSwitch name='CONNECT'>\n      On\n  </oneSwitch>\n</newSwitchVector>",
    b'<newTextVector device="a" name="b"><oneText name="t">Z\xfcrich</oneText>'
    b'<oneText name="u"></oneText></newTextVector>',
    b'<newNumberVector device="a" name="b"></newNumberVector>',
]
NOT_PLAIN = [
    b'<newNumberVector device="a" name="x"><oneNumber name="v" name="w">1</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x" timestamp="1" timestamp="2"></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">&undefined;</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">1 &lt; 2</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneText><getProperties/>'
    b"</newNumberVector>",
    b'<newNumberVector device="a" name="x"><oneNumber name="v">\x00</oneNumber></newNumberVector>',
    b'<newNumberVector device="a\x01" name="x"></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneSwitch name="v">On</oneSwitch></newNumberVector>',
    b'<newLightVector device="a" name="x"></newLightVector>',
    b'<newTextVector device="a" name="b"><oneText name="t">]]></oneText></newTextVector>',
]


@pytest.mark.parametrize("element", PLAIN)
def test_plain_requests_are_recognised_and_well_formed(element: bytes) -> None:
    """The round trip's shortcut checks requests with one regular expression (expat cost it
    about 5 us a request): what it accepts must be well-formed."""
    assert plain_request(element)
    assert xml_error(element) is None


@pytest.mark.parametrize("element", NOT_PLAIN)
def test_anything_else_is_left_to_expat(element: bytes) -> None:
    """Repeated attributes, references, control characters, mismatched or foreign members:
    not plain, so expat decides (some are well-formed: a reference, a switch member)."""
    assert not plain_request(element)
