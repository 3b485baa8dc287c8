"""Issue 92 item 10: the unattended-night guide's "Calibration frames" section says what the
code does. Its ``[calibration]`` example is a plan the reader loads as written (the panel's
flats at 30000 ADU within 10 %, 20 a filter, flat-darks, darks from the library), and each
message its "What it says" list quotes is the code's own wording: named one by one beside the
module that says it, whose string literals (an f-string's fields read as ``{}``, literals
split over lines joined, as Python joins them) hold each part of it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.toml import parse_plan

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "guides" / "unattended_night.rst"
PACKAGE = ROOT / "indipyagents"


def section() -> str:
    """The guide's "Calibration frames" section, to the next section's title."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("Calibration frames\n------------------")
    end = text.index("\n---", start + 40)
    return text[start:text.rindex("\n", start, end)]


def example() -> str:
    """The section's first literal block (after ``::``), unindented: its plan."""
    text = section()
    block = text[text.index("::\n\n") + 4:]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def test_the_guides_calibration_example_is_a_plan_the_reader_loads() -> None:
    plan = parse_plan(example(), "unattended_night.rst")
    assert plan.calibration == CalibrationFrames(flats="panel", adu=30000, tolerance=0.1,
                                                 count=20, flat_darks=True, darks="library")
    assert plan.devices.panel == "Light Panel Simulator"
    [target] = plan.targets
    assert [(batch.count, batch.exposure, batch.filter) for batch in target.batches] == [
        (10, 60.0, "Red")]


@cache
def literals(module: str) -> tuple[str, ...]:
    """Each string literal of `module` (below indipyagents), an f-string's fields as
    ``{}``; docstrings (a statement of a string alone) left out: they say, not the code."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if id(node) in prose:
            continue
        if isinstance(node, ast.JoinedStr):
            found.append("".join(part.value if isinstance(part, ast.Constant) else "{}"
                                 for part in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return tuple(found)


#: Each message the section quotes, and the module(s) saying each part of it.
QUOTED = [
    ("the panel does not light: the level does not rise with the exposure",
     {"plan/flatfinder.py": ["the panel does not light: the level does not rise with the "
                             "exposure ({})"]}),
    ("no flat within 10% of 30000 ADU in 5 tries",
     {"plan/flatfinder.py": ["no flat within {}% of {} ADU in {} tries ({})"],
      "sequencer/skyflatwork.py": ["no flat within {}% of {} ADU in {} tries ({})"]}),
    ("done; flats given up: <panel>: ...",
     {"sequencer/report.py": ["done; ", "flats given up: {}"]}),
    ("the sky is too dark for Red: 30000 ADU wants 94 s, outside the camera's 0.01-60 s "
     "(levels)",
     {"plan/skyflats.py": ["the sky is {} for {}: {} ({})", "too dark",
                           "{} ADU wants {} s, outside {}", "the camera's {}-{} s"]}),
    ("too bright",  # at dawn already past: the same message as too dark's
     {"plan/skyflats.py": ["the sky is {} for {}: {} ({})", "too bright"]}),
    ("fewer sky flats than asked: Red 2 of 5",
     {"plan/skyflats.py": ["{} {} of {}", "fewer sky flats than asked: "]}),
    ("done; fewer sky flats than asked: Red 2 of 5 (dusk: the sky is too dark)",
     {"sequencer/report.py": ["done; "], "sequencer/skyflatwork.py": ["{} ({}: {})"]}),
    ("the sky is too bright for H_Alpha yet: ..., waiting 120 s",
     {"plan/skyflats.py": ["the sky is {} for {} yet: {}, waiting {} s", "too bright"]}),
    ("the library has fresh darks for ...",
     {"sequencer/triggers/librarydarks.py": ["the library has fresh {} for {}", "darks"]}),
    ("fresh frames for ... bias at ...",
     {"sequencer/triggers/librarydarks.py": ["frames"], "calframes/library.py": ["bias",
                                                                                "{} at {}"]}),
    ("no flat of Red (bin 2) was kept tonight: no flat-darks for it",
     {"sequencer/flatdarkwork.py": ["no flat of {} (bin {}) was kept tonight: no flat-darks "
                                    "for it"]}),
    ("plan.toml, line 14: targets[0].batches[0].adu (flats by level): adu = 30000 is above "
     "the camera 'Python CCD Simulator''s range (0 to 4095 ADU)",
     {"plan/toml.py": ["{}, line {}"], "plan/needs.py": ["flats by level"],
      "plan/check.py": ["{} ({})", "{}: adu = {} is above the camera {}'s range (0 to {} ADU)"]}),
    ("indipy-calibrate: ... has no darks for: ...",
     {"calibrate/command.py": ["indipy-calibrate: {}", "{} has no darks for: "]}),
]


@pytest.mark.parametrize(("quoted", "said"), QUOTED, ids=[quote[:40] for quote, _ in QUOTED])
def test_each_message_the_guide_quotes_is_the_codes(quoted: str,
                                                    said: dict[str, list[str]]) -> None:
    assert quoted in " ".join(section().split()), quoted
    for module, parts in said.items():
        for part in parts:
            assert any(part in literal for literal in literals(module)), (quoted, module, part)


def test_every_message_the_section_quotes_is_named_here() -> None:
    """The "What it says" list's double-quoted spans, each one of `QUOTED` (or a word of
    the plan's, a key or a value)."""
    text = section()
    listed = " ".join(text[text.index("What it says:"):].split())
    spans = set(re.findall(r"``([^`]+)``", listed))
    keys = {"adu", "[calibration]", "[devices] panel", "[devices] mount", "--library"}
    assert spans - {quote for quote, _ in QUOTED} - keys == set()
