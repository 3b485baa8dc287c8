"""List the functions longer than a limit (lines from ``def`` to the function's last line).

Issue 57 item 6: a long function is shortened where nothing is gained by its length; this
finds the candidates, and ``tests/test_static_checks.py`` fails on any past `LIMIT` that it does
not list on purpose. Usage: ``python scripts/long_functions.py [--over N] [ROOT]`` (`LIMIT`
lines; every package under ROOT, a top-level folder with an ``__init__.py``; default the
current folder).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

#: Lines a function may have, from ``def`` to its last line.
LIMIT = 80


def packages(root: Path) -> list[str]:
    """Every package under `root`: its top-level folders that hold an ``__init__.py``."""
    return sorted(path.parent.name for path in root.glob("*/__init__.py"))


def long_functions(path: Path, over: int) -> Iterator[tuple[str, int]]:
    """(qualified name, lines) of each function in `path` longer than `over` lines."""
    tree = ast.parse(path.read_text(), str(path))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                if lines > over:
                    yield name, lines
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--over", type=int, default=LIMIT)
    args = parser.parse_args()
    found = [(lines, f"{path.relative_to(args.root).as_posix()}", name)
             for package in packages(args.root)
             for path in sorted((args.root / package).rglob("*.py"))
             for name, lines in long_functions(path, args.over)]
    for lines, path, name in sorted(found, key=lambda row: (-row[0], row[1])):
        sys.stdout.write(f"{lines:5d}  {path}  {name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
