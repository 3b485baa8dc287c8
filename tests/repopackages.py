"""The project's packages, found in the repository rather than listed by hand.

A package is a top-level folder with an ``__init__.py``; the architecture, static-check and
command-line tests all take their package lists from here, so a new package (as
``indipyconform`` was) is checked from the day it appears, not from the day someone remembers
to add it to a list.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def packages(root: Path = REPO) -> list[str]:
    """The names of the top-level folders of `root` that hold an ``__init__.py``, sorted."""
    return sorted(path.parent.name for path in root.glob("*/__init__.py"))
