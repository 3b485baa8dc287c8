"""The protocol's serialiser is the one writer of INDI XML in the project (issue 41 item 6).

XML spelt with an f-string, ``%``-formatting or ``str.format`` is where escaping gets forgotten:
indiredis wrote seven elements that way with its own escaper. This scan reads every Python file
of the project (the packages, PyIndi, the examples, the benchmarks, the scripts, the tests and
the docs' conf.py) and fails on any formatted string that spells an INDI element, or an element
whose tag is (or holds) a placeholder, outside `indipycore/protocol/serialiser.py`. XML built
from values is the serialiser's output; XML a test spells by hand on purpose (malformed input,
an odd but legal spelling a peer sends) is a literal constant. (Byte patterns and byte
splicing, ``+`` of constant pieces around bytes that came from a peer or from the serialiser,
are how the framer, the server and the BLOB readers work on what is already XML; they are not
scanned.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from indipycore.protocol.elements import SPEC_BY_CLASS

ROOT = Path(__file__).resolve().parent.parent
#: Folders that hold no source of ours (caches, virtual environments, build output).
SKIPPED = {"__pycache__", "build", "dist", "_build", "out", "node_modules"}

#: The one writer, and what else may spell XML by hand: (file, start of the text) -> why.
ALLOWED = {
    ("indipycore/protocol/serialiser.py", ""): "the serialiser itself",
    ("tests/protocol/test_framing_shapes.py", "<{}{}"): (
        "random start tags, with attributes no element has and a raw `>`, `&` or `'` in their"
        " values, to fuzz the framer: markup the serialiser cannot write"),
    ("tests/client/test_setshapes.py", "<{} "): (
        "templates of set elements with {} where digit runs go, spacing around values and"
        " character references the serialiser never writes, to fuzz the shape reader"),
}


def _tags() -> set[str]:
    tags = set()
    for spec in SPEC_BY_CLASS.values():
        tags.add(spec.tag)
        if spec.member is not None:
            tags.add(spec.member.tag)
    return tags


TAGS = _tags()
# A tag name: an INDI element's, or one that is or holds a placeholder (`{}`, `new{}Vector`).
_NAME = r"(?:(?:" + "|".join(sorted(TAGS)) + r")\b|[\w.:-]*\{\}[\w.:{}-]*)"
# An element, as opposed to a message or a repr that mentions one (`<Client {}:{}>`,
# `<setNumberVector> for device`): a start tag with an attribute or closing itself, an end
# tag closing the string, a start tag alone, or a start tag with its end tag.
SPELT = re.compile(
    rf"<{_NAME}\s+[\w.:{{}}-]+\s*=\s*['\"]"
    rf"|<{_NAME}(?:\s[^<>]*)?/>"
    rf"|</{_NAME}>\s*(?:\{{\}})*\s*$"
    rf"|^\s*(?:\{{\}})*<{_NAME}>\s*$"
    rf"|<({_NAME})(?:\s[^<>]*)?>.*</\1>",
    re.DOTALL,
)
# A `%` conversion and a `str.format` field, each read as a placeholder.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsab]")
_FIELD = re.compile(r"\{[^{}]*\}")


def _literal(node: ast.AST) -> str | None:
    """The text a string-building expression spells, placeholders as ``{}``; None if none."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                       else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        text = _literal(node.left)
        return None if text is None else _PERCENT.sub("{}", text)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        text = _literal(node.func.value)
        return None if text is None else _FIELD.sub("{}", text)
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
            if text is not None and SPELT.search(text):
                found.append((getattr(node, "lineno", 0), text))
    return found


def project_files() -> Iterator[Path]:
    """Every Python file of the project, not those of caches, venvs or build output."""
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts[:-1]
        if any(p.startswith(".") or p in SKIPPED or p.endswith(".egg-info") for p in parts):
            continue
        yield path


def _allowed(relative: str, text: str) -> bool:
    return any(relative == file and text.startswith(start) for file, start in ALLOWED)


def test_the_scan_finds_each_way_of_spelling_an_element_by_hand() -> None:
    """The scan itself: f-strings, % and .format around an element (its tag known, a
    placeholder, or holding one) are found; messages and reprs that merely start with ``<`` or
    name an element are not."""
    spelt = [
        "f'<delProperty device=\"{d}\"/>'",
        "'<enableBLOB device=\"%s\">Also</enableBLOB>' % d",
        "b\"<enableBLOB device='%s'>Also</enableBLOB>\" % d",
        "'<pingReply uid=\"{}\"/>'.format(u)",
        "'<pingReply uid=\"{uid}\"/>'.format(uid=u)",
        "'<oneNumber name=\"%(n)s\">%(v).3f</oneNumber>' % values",
        "f'<{tag} name=\"{n}\"/>'",
        "f'</{tag}>'",
        "f\"<new{kind}Vector device='{d}' name='{n}'>\"",
        "f\"  <one{kind} name='{m}'>\"",
        "f'  </one{kind}>'",
        "f'</new{kind}Vector>\\n'",
        "f'<{tag}>{body}</{tag}>'",
        "f'<oneText name=\"t\">{v}</oneText>'",
        "f'<setNumberVector device=\"D\" name=\"N\"{extra}>{members}</setNumberVector>'",
        "f'>{v}</oneNumber>'",
    ]
    for text in spelt:
        assert hand_written_xml(text), text
    for text in ["f'<Client {host}:{port}>'", "f'<{frame.tag}> is not an element a client sends'",
                 "f'unexpected </{tag}> in {where}'",
                 "'<getProperties version=\"1.7\"/>'", "f'<{len(v)} bytes>'",
                 "f'client {c} sent <setNumberVector> for device {d!r}: dropped'",
                 "f'unterminated setBLOBVector: <message> started inside it (at byte {n})'",
                 "f'<{type(self).__name__} name={self.name!r}>'",
                 "'<%s at %#x>' % (name, id(self))"]:
        assert not hand_written_xml(text), text


def test_the_scan_reads_every_python_file_of_the_project() -> None:
    """Not only the packages: PyIndi, the examples, the benchmarks, the tests and the docs'
    conf.py are read too, and no cache or virtual environment is."""
    files = {path.relative_to(ROOT).as_posix() for path in project_files()}
    for expected in ("indiredis/toindi.py", "PyIndi/properties.py", "examples/thermostat.py",
                     "indipydriver/standard/configfile.py", "tests/test_xml_writers.py"):
        assert expected in files, expected
    assert not any("/." in f"/{f}" or "__pycache__" in f for f in files)


def test_nothing_outside_the_serialiser_spells_xml_by_hand() -> None:
    """Every INDI element the project writes is written by protocol/serialiser.py (its
    `serialise`, `Serialiser` or spelling functions), or is a literal constant; the allowed
    exceptions say why."""
    found = []
    for path in project_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, text in hand_written_xml(path.read_text(encoding="utf-8")):
            if not _allowed(relative, text):
                found.append(f"{relative}:{line}: {text[:80]!r}")
    assert found == [], "\n".join(found)
