"""The documentation also reads as plain .rst, as a code-hosting site shows it, where
``literalinclude`` shows nothing; and what the pages call is in the API reference (issue 28,
item 7)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import indipydriver
import indipyserver

DOCS = Path(__file__).resolve().parents[2] / "docs"
REPO = DOCS.parent
PAGES = sorted([*DOCS.glob("*.rst"), *DOCS.glob("guides/*.rst")])

INCLUDE = re.compile(r"^\.\. literalinclude:: (\S+)\n((?:   :\S+:.*\n)*)", re.MULTILINE)


def includes(page: Path) -> list[tuple[str, str | None, str]]:
    """(repository path, :pyobject: or None, the paragraph before) of each literalinclude."""
    text = page.read_text()
    found = []
    for match in INCLUDE.finditer(text):
        path = (page.parent / match.group(1)).resolve().relative_to(REPO).as_posix()
        pyobject = re.search(r":pyobject: (\S+)", match.group(2))
        before = text[: match.start()].rstrip().rsplit("\n\n", 1)[-1]
        found.append((path, pyobject.group(1) if pyobject else None, before))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_each_included_piece_of_code_is_named_where_it_lives(page: Path) -> None:
    """The paragraph before a literalinclude names the file (and the function or class) it
    shows, so a reader of the raw page knows where to look. Failed before: the guides had
    bare includes ("The driver", then nothing on a code host)."""
    for path, pyobject, before in includes(page):
        assert f"``{path}``" in before, f"{page.name}: include of {path} after: {before!r}"
        if pyobject is not None:
            assert f"``{pyobject}``" in before or f"``{pyobject}()``" in before, (
                f"{page.name}: include of {pyobject} from {path} after: {before!r}")


def _public_classes() -> list[type]:
    classes = [getattr(indipydriver, name) for name in indipydriver.__all__]
    classes += [getattr(indipyserver, name) for name in indipyserver.__all__]
    return [c for c in classes if inspect.isclass(c)]


def test_every_method_the_pages_call_has_a_docstring_for_the_api_reference() -> None:
    """A method of a public class called in a page (``vector.getfloatvalue(...)``) has a
    docstring, so that autodoc puts it in docs/api.rst's reference. Failed before:
    NumberVector.getfloatvalue, used on the concepts page, had none, and was missing there."""
    called = set()
    for page in PAGES:
        called |= set(re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)\(", page.read_text()))
    # ``super().__init__(...)`` in a page is Python's, documented by the class's docstring.
    called = {name for name in called if not (name.startswith("__") and name.endswith("__"))}
    undocumented = []
    for cls in _public_classes():
        for name in sorted(called):
            member = vars(cls).get(name)
            if inspect.isfunction(member) and not member.__doc__:
                undocumented.append(f"{cls.__name__}.{name}")
    assert undocumented == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_file_a_page_names_exists(page: Path) -> None:
    """A page that says where code lives names a file that is there (modules move: the
    server's were put in folders by concern, and three pages kept the old paths)."""
    named = re.findall(r"``((?:[\w.-]+/)+[\w.-]+\.(?:py|md|rst|toml|cpp))``", page.read_text())
    # Paths in this repository (not, say, indilib's drivers/ccd/ccd_simulator.cpp).
    ours = [path for path in named if path.split("/")[0] in {"indipydriver", "indipyserver",
                                                                "examples", "tests", "docs",
                                                                "bench", "scripts"}]
    missing = sorted({path for path in ours if not (REPO / path).exists()})
    assert missing == [], f"{page.name} names files that are not in the repository"
