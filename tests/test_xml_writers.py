"""The protocol's serialiser is the one writer of INDI XML in the packages (issue 41 item 6).

XML spelt with an f-string, ``%``-formatting or ``str.format`` is where escaping gets forgotten:
indiredis wrote seven elements that way with its own escaper. This scan reads every module of
the packages and fails on any formatted string that spells an INDI element or XML attributes,
outside `indipydriver/protocol/serialiser.py`. (Byte patterns and byte splicing, ``+`` of
constant pieces around bytes that came from a peer or from the serialiser, are how the framer,
the server and the BLOB readers work on what is already XML; they are not scanned.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from indipydriver.protocol.elements import SPEC_BY_CLASS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indipydriver", "indipyserver", "indipyclient", "indipyterm", "indipyweb",
            "indiredis", "indimqttredis")

# The one writer.
ALLOWED = {"indipydriver/protocol/serialiser.py": "the serialiser itself"}


def _tags() -> set[str]:
    tags = set()
    for spec in SPEC_BY_CLASS.values():
        tags.add(spec.tag)
        if spec.member is not None:
            tags.add(spec.member.tag)
    return tags


TAGS = _tags()
# `<tag` or `</tag` of an INDI element anywhere; an element whose tag is a placeholder when the
# string starts with it and goes on with an attribute, `/>`, or ends with its `>`.
KNOWN = re.compile(r"</?(?:" + "|".join(sorted(TAGS)) + r")\b")
DYNAMIC = re.compile(r"^(?:\{\})*</?\{\}(?:[^>]*=\"|[^>]*/>|>$)")


def _literal(node: ast.AST) -> str | None:
    """The text a string-building expression spells, placeholders as ``{}``; None if none."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                       else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal(node.left)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return _literal(node.func.value)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
    return None


def _formatted(node: ast.AST) -> bool:
    """Whether `node` builds a string from parts at run time (not a plain literal)."""
    return (isinstance(node, ast.JoinedStr)
            or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod))
            or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"))


def hand_written_xml(source: str) -> list[tuple[int, str]]:
    """(line, text) of each formatted string in `source` that spells XML."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if _formatted(node):
            text = _literal(node)
            if text is not None and (KNOWN.search(text) or DYNAMIC.search(text)):
                found.append((getattr(node, "lineno", 0), text))
    return found


def test_the_scan_finds_each_way_of_spelling_an_element_by_hand() -> None:
    """The scan itself: f-strings, % and .format around an element are found; messages and
    reprs that merely start with ``<`` are not."""
    spelt = [
        "f'<delProperty device=\"{d}\"/>'",
        "'<enableBLOB device=\"%s\">Also</enableBLOB>' % d",
        "'<pingReply uid=\"{}\"/>'.format(u)",
        "f'<{tag} name=\"{n}\"/>'",
        "f'</{tag}>'",
    ]
    for text in spelt:
        assert hand_written_xml(text), text
    for text in ["f'<Client {host}:{port}>'", "f'<{frame.tag}> is not an element a client sends'",
                 "f'unexpected </{tag}> in {where}'",
                 "'<getProperties version=\"1.7\"/>'", "f'<{len(v)} bytes>'"]:
        assert not hand_written_xml(text), text


def test_no_module_outside_the_serialiser_spells_xml_by_hand() -> None:
    """Every INDI element the packages send is written by protocol/serialiser.py (its
    `serialise`, `Serialiser` or spelling functions); the allowed exceptions say why."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED:
                continue
            for line, text in hand_written_xml(path.read_text(encoding="utf-8")):
                found.append(f"{relative}:{line}: {text[:80]!r}")
    assert found == [], "\n".join(found)
