"""Issue 91 item 3, "one pair of hands", guarded: the watchdog and the guider command no
guide port, park or dome vector of their own (they ask the rig: `rig/guideport.py`,
`IndiMount`, `IndiDome`), and stars are measured in one room (`indipyagents/stars/`).

Read from the source with `ast` and `tokenize`: in `indipyagents/watchdog` and
`indipyagents/guider` the vector names TELESCOPE_TIMED_GUIDE_NS/WE, TELESCOPE_PARK,
DOME_PARK and DOME_SHUTTER are in docstrings only (no other string, no comment); in all of
`indipyagents`, sep is imported and called by one module, whose extraction is written once.
Each check is shown to catch what it is for on a small source."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AGENTS = REPO / "indipyagents"
#: The vectors the rig alone commands or reads.
RIG_VECTORS = re.compile(r"TELESCOPE_TIMED_GUIDE|TELESCOPE_PARK(?!_)|DOME_PARK(?!_)"
                         r"|DOME_SHUTTER(?!_)")
#: The one room where stars are measured.
STAR_ROOM = AGENTS / "stars" / "measure.py"


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            found.add(id(node.body[0].value))
    return found


def named_outside_docstrings(source: str) -> list[str]:
    """Each string constant (f-strings' parts too) and comment of `source` that names one of
    `RIG_VECTORS`, docstrings left out: ``line: text``."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    found = [f"{node.lineno}: {node.value!r}" for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and id(node) not in skip and RIG_VECTORS.search(node.value)]
    found += [f"{token.start[0]}: {token.string}"
              for token in tokenize.generate_tokens(io.StringIO(source).readline)
              if token.type == tokenize.COMMENT and RIG_VECTORS.search(token.string)]
    return sorted(found)


def sep_uses(source: str) -> tuple[bool, list[str]]:
    """Whether `source` imports sep, and the sep functions it calls (``sep.extract``...)."""
    tree = ast.parse(source)
    imports = any(isinstance(node, ast.Import) and any(a.name == "sep" for a in node.names)
                  or isinstance(node, ast.ImportFrom) and node.module == "sep"
                  for node in ast.walk(tree))
    calls = [node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "sep"]
    return imports, sorted(calls)


def test_the_watchdog_and_the_guider_name_the_rigs_vectors_in_docstrings_only() -> None:
    found = {}
    for folder in ("watchdog", "guider"):
        for path in sorted((AGENTS / folder).rglob("*.py")):
            named = named_outside_docstrings(path.read_text())
            if named:
                found[str(path.relative_to(REPO))] = named
    assert found == {}
    # and they do name them, in docstrings: the check reads the files it means to
    assert "TELESCOPE_TIMED_GUIDE_NS" in (AGENTS / "guider" / "session.py").read_text()
    assert "DOME_SHUTTER" in (AGENTS / "watchdog" / "shutdown.py").read_text()


def test_the_vector_check_catches_a_name_outside_a_docstring() -> None:
    source = '''"""Parks TELESCOPE_PARK (a docstring)."""
def f(client, mount, ms):
    """DOME_SHUTTER, said."""
    client.get(mount, "TELESCOPE_PARK", "PARK")  # DOME_PARK read here
    return f"TELESCOPE_TIMED_GUIDE_{'NS'}", "TELESCOPE_TIMED_GUIDE_WE", "TELESCOPE_PARK_POSITION"
'''
    assert named_outside_docstrings(source) == [
        "4: # DOME_PARK read here", "4: 'TELESCOPE_PARK'", "5: 'TELESCOPE_TIMED_GUIDE_'",
        "5: 'TELESCOPE_TIMED_GUIDE_WE'"]


def test_stars_are_measured_in_one_room() -> None:
    """sep is imported by the star room alone, which extracts once (one sep.extract, one
    sep.Background); autofocus and the guider import the room, the old rooms are gone."""
    using = {}
    for path in sorted(AGENTS.rglob("*.py")):
        imports, calls = sep_uses(path.read_text())
        if imports or calls:
            using[path] = calls
    assert list(using) == [STAR_ROOM]
    assert using[STAR_ROOM].count("extract") == using[STAR_ROOM].count("Background") == 1
    assert not (AGENTS / "focus" / "hfr.py").exists()
    assert not (AGENTS / "guider" / "stars.py").exists()
    assert "from ..stars.measure import" in (AGENTS / "focus" / "autofocus.py").read_text()
    assert "from ..stars.measure import" in (AGENTS / "guider" / "session.py").read_text()


def test_the_star_check_catches_a_second_measurer() -> None:
    assert sep_uses("import numpy\nimport sep\nsep.extract(a, 5)\nsep.extract(b, 6)\n") == (
        True, ["extract", "extract"])
    assert sep_uses("from sep import extract\n") == (True, [])
    assert sep_uses("import math\n") == (False, [])


def test_one_guide_port_sends_the_pulses() -> None:
    """Outside the rig's guide port, no module of the agents names the pulse vectors but in
    docstrings: the mount's pulse and the guider's go through it."""
    found = {}
    for path in sorted(AGENTS.rglob("*.py")):
        if path == AGENTS / "rig" / "guideport.py":
            continue
        named = [hit for hit in named_outside_docstrings(path.read_text())
                 if "TIMED_GUIDE" in hit]
        if named:
            found[str(path.relative_to(REPO))] = named
    assert found == {}
