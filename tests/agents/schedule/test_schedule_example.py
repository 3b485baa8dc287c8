"""The guide's "Many targets, many nights" (issue 82, item 8): its five-target plan reads as
it says, and the output the guide shows is the command's real output, run again here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from indipyagents.plan.toml import load_plan
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

REPO = Path(__file__).resolve().parents[3]
PLAN = REPO / "examples" / "five_targets.toml"
OUTPUT = REPO / "examples" / "five_targets_schedule.txt"
GUIDE = REPO / "docs" / "guides" / "unattended_night.rst"


def test_the_five_targets_plan_is_a_scheduled_plan() -> None:
    plan = load_plan(PLAN)
    assert [t.name for t in plan.targets] == ["M42", "M31", "M81", "M51", "M13"]
    assert plan.schedule is not None and len(plan.schedule.horizon) == 4
    assert [t.constraints.priority for t in plan.targets if t.constraints] == [1, 2, 3, 4, 5]
    assert parse_plan(plan_to_toml(plan)) == plan


def test_the_guide_shows_the_commands_real_output() -> None:
    done = subprocess.run([sys.executable, "-m", "indipyagents.schedule", str(PLAN),
                           "--night", "2026-12-03", "--nights", "3"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout == OUTPUT.read_text(encoding="utf-8")
    guide = GUIDE.read_text(encoding="utf-8")
    assert "Many targets, many nights\n-------------------------" in guide
    assert ".. literalinclude:: ../../examples/five_targets.toml" in guide
    assert ".. literalinclude:: ../../examples/five_targets_schedule.txt" in guide
    assert "$ indipy-schedule examples/five_targets.toml --night 2026-12-03 --nights 3" in guide
