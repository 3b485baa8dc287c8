"""Issue 93 item 8: the unattended-night guide's "Judging frames, and being told" names every
FITS card a graded frame gets (each card the measure, the guiding trigger and the verdict
write, read off their code), every ``[grading]`` rule and every reason it writes, every
``[notify]`` key and event: one added to the code and not to the guide fails here."""

from __future__ import annotations

import re
from pathlib import Path

from indipyagents.plan import grading
from indipyagents.plan import notifying
from indipyagents.sequencer import gradework
from indipyagents.sequencer.triggers import guiding
from indipyagents.stars import framemeasure

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "unattended_night.rst"
TITLE = "Judging frames, and being told"


def section() -> str:
    """The section, up to the next of its level, its markup and line breaks gone."""
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    start = lines.index(TITLE)
    assert lines[start + 1] == "-" * len(TITLE)
    end = next(at for at in range(start + 2, len(lines) - 1)
               if lines[at + 1] and set(lines[at + 1]) == {"-"}
               and len(lines[at + 1]) == len(lines[at]))
    return re.sub(r"\s+", " ", "\n".join(lines[start:end]).replace("``", ""))


def cards_written() -> set[str]:
    """The keywords of the cards (``("KEY", value, "comment")``) these modules write."""
    found: set[str] = set()
    for module in (framemeasure, guiding, gradework):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        found |= set(re.findall(r"\(\"([A-Z][A-Z0-9_-]{1,7})\", ", source))
    return found


def test_every_card_rule_reason_and_event_is_named() -> None:
    text = section()
    cards = cards_written()
    assert {"HFR", "FWHM", "STARS", "ECCENTR", "SKYLEVEL", "GUIDERMS", "GUIDESCL", "OBJCTALT",
            "REJECTED"} <= cards
    names = [*cards, *grading.GRADING_KEYS, *notifying.NOTIFY_KEYS, *notifying.EVENTS,
             grading.NO_STARS, grading.CLOUDS + ":", grading.GUIDING_LOST, "retakes_spent"]
    missing = [name for name in names if not re.search(rf"(?<![\w-]){re.escape(name)}", text)]
    assert missing == [], f"not named in {GUIDE.name}'s {TITLE!r}: {missing}"
