"""docs/guides/command_line.rst counts and names ``examples/exdrivers`` right (issue 58, 4k:
it said "has two" of five)."""

from __future__ import annotations

import re

from peers import REPO

GUIDE = REPO / "docs" / "guides" / "command_line.rst"
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10}


def test_the_guide_names_every_executable_driver_example_and_counts_them() -> None:
    text = " ".join(GUIDE.read_text().split())
    match = re.search(r"``examples/exdrivers`` has (\w+) \(([^)]*)\)", text)
    assert match, "the guide no longer says what examples/exdrivers has"
    named = set(re.findall(r"``(\w+)``", match.group(2)))
    there = {path.name for path in (REPO / "examples" / "exdrivers").iterdir()
             if path.is_file() and not path.name.startswith(".")}
    assert named == there
    assert NUMBERS[match.group(1)] == len(there)
