"""The access rules file's parser (``--acl``): text in, rules out, errors with line numbers.

A server that misreads its ACL grants what the operator did not mean to, so the grammar is held
both ways: every rule written by `format_rule` reads back as itself, any text either parses or
fails with `AclError` (never another exception), and a malformed line is reported by its own
number whatever surrounds it.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyserver.routing.aclrules import AclError
from indipyserver.routing.aclrules import Rule
from indipyserver.routing.aclrules import compile_glob
from indipyserver.routing.aclrules import format_rule
from indipyserver.routing.aclrules import parse_acl

# Names as INDI sends them: no line breaks (which would end the rule's line), no double quote
# (the one character a rule cannot hold).
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_name_chars = st.characters(blacklist_characters='"' + _BREAKS, blacklist_categories=["Cs"])
names = st.text(_name_chars, min_size=1, max_size=12)
vectors = st.text(st.characters(blacklist_characters='"' + _BREAKS,
                                blacklist_categories=["Cs", "Zs", "Cc"]),
                  min_size=1, max_size=12).filter(lambda v: not any(c.isspace() for c in v))
rules = st.builds(Rule, names, st.booleans(), names, st.none() | vectors)


def test_the_documented_example() -> None:
    """The guide's file: comments, blank lines, a device with spaces, a quoted identity."""
    text = """
# who may see and set what
operator    write *          # everything
*           read  Weather Station
"Jane Doe"  read  CCD Simulator.CCD_TEMPERATURE
public      read  "iOptron v3.0".*
"""
    assert parse_acl(text, "acl.txt") == [
        Rule("operator", True, "*"),
        Rule("*", False, "Weather Station"),
        Rule("Jane Doe", False, "CCD Simulator", "CCD_TEMPERATURE"),
        Rule("public", False, "iOptron v3.0", "*"),
    ]
    assert [r.line for r in parse_acl(text)] == [3, 4, 5, 6]


@given(st.lists(rules, max_size=6))
@settings(max_examples=300)
def test_formatted_rules_read_back(written: list[Rule]) -> None:
    """Whatever a rule names (spaces, dots, globs, a ``#``), its formatted line is read back
    as the same rule, on the line it was written on."""
    text = "\n".join(format_rule(rule) for rule in written)
    parsed = parse_acl(text)
    assert parsed == written
    assert [r.line for r in parsed] == list(range(1, len(written) + 1))


@given(st.text(max_size=80))
@settings(max_examples=500)
def test_any_text_parses_or_says_where(text: str) -> None:
    """Arbitrary text is rules or an AclError naming the file and a line that exists: the
    server never dies on another exception at start or on SIGHUP."""
    try:
        parse_acl(text, "f.acl")
    except AclError as exc:
        assert 1 <= exc.line <= max(1, len(text.splitlines()))
        assert str(exc).startswith(f"f.acl, line {exc.line}: ")


_BAD_LINES = {
    "observer": "expected 'read' or 'write'",
    "observer rw *": "not 'rw'",
    "observer read": "expected DEVICE[.VECTOR]",
    "observer write Mount.": "the vector after the '.' is empty",
    '"observer read *': "not closed",
    'observer read "Mount"X': "expected '.VECTOR' or nothing",
    'observer read "Mount': "not closed",
    "observer read Mount.A B": "holds no space",
    'observer read Mo"unt': "double quote",
    '"" read *': "identity is empty",
}


@pytest.mark.parametrize("bad", sorted(_BAD_LINES))
@given(before=st.lists(rules, max_size=4), after=st.lists(rules, max_size=3),
       blanks=st.lists(st.sampled_from(["", "   ", "# a comment", "\t# x"]), max_size=3))
@settings(max_examples=25)
def test_a_malformed_line_is_named(bad: str, before: list[Rule], after: list[Rule],
                                   blanks: list[str]) -> None:
    """A malformed line among good ones, comments and blank lines: the error names its line
    number and the reason, and nothing after it is needed to find it."""
    lines = blanks + [format_rule(r) for r in before] + [bad] + [format_rule(r) for r in after]
    with pytest.raises(AclError) as caught:
        parse_acl("\n".join(lines), "site.acl")
    number = len(blanks) + len(before) + 1
    assert caught.value.line == number
    assert _BAD_LINES[bad] in caught.value.reason
    assert str(caught.value).startswith(f"site.acl, line {number}: ")


_literal_chars = st.characters(blacklist_characters='"*?' + _BREAKS, blacklist_categories=["Cs"])


@given(st.text(_literal_chars, max_size=8), st.text(_literal_chars, max_size=8))
def test_globs_are_star_and_question_mark_only(prefix: str, suffix: str) -> None:
    """``*`` is any run, ``?`` one character, and everything else (``[``, ``.``, ``\\``) is
    itself: an INDI name with brackets is not read as a character class."""
    assert compile_glob(prefix + "*" + suffix)(prefix + "anything at all" + suffix)
    assert compile_glob(prefix + "?" + suffix)(prefix + "x" + suffix)
    assert not compile_glob(prefix + "?" + suffix)(prefix + suffix)
    literal = prefix + "[ab]"
    assert compile_glob(literal)(literal)
    assert not compile_glob(literal)(literal[:-4] + "a")


def test_write_grants_read_and_a_device_rule_covers_its_vectors() -> None:
    """``write`` is stored as such (the matcher grants read with it); a rule without a vector
    names every vector of the device and the device itself."""
    rule = parse_acl("op write Tele*")[0]
    assert rule.write and rule.vector is None
    assert rule.covers("Telescope Simulator", "EQUATORIAL_EOD_COORD")
    assert rule.covers("Telescope Simulator", None)
    assert not rule.covers("CCD Simulator", None)
    narrow = parse_acl("public read Weather.TEMP")[0]
    assert narrow.covers("Weather", "TEMP") and narrow.covers("Weather", None)
    assert not narrow.covers("Weather", "HUMIDITY")
