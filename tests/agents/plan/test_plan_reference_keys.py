"""docs/plan-reference.rst names every key a plan may hold, in the table of its own section
(issue 89 item 12: the guide used ``[devices] guider``, ``[dither] method = "guider"``,
``settle_pixels``, ``settle_timeout`` and ``[guiding] lost_wait``, which the reference lacked).
The keys are the reader's own lists, so a key added to the reader without a row fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indipyagents.plan import reading
from indipyagents.plan.centring import CENTRE_KEYS
from indipyagents.plan.scheduling import CONSTRAINT_KEYS
from indipyagents.plan.scheduling import SCHEDULE_KEYS

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "plan-reference.rst"
TABLES = {"[devices]", "[dither]", "[guiding]", "[autofocus]", "[flip]", "[end]", "[safety]",
          "[site]", "[schedule]", "[targets.constraints]", "[targets.wait]",
          "[[targets.batches]]"}


def sections() -> dict[str, set[str]]:
    """Each section's title -> the first words of its table rows (the keys)."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    found: dict[str, set[str]] = {}
    title = ""
    borders = 0  # a table's three ===== lines: top, under its header, bottom
    for line, under in zip(lines, [*lines[1:], ""]):
        if re.fullmatch(r"=+( +=+)+", line):
            borders += 1
        elif under and set(under) <= set("~^-") and len(under) >= len(line) > 0:
            title = line.strip()
            found.setdefault(title, set())
        elif title and borders % 3 == 2 and (row := re.match(r"([a-z_]+) +\S", line)):
            found[title].add(row.group(1))
    return found


@pytest.mark.parametrize(("title", "keys"), [
    ("Top level", ("name", "folder")),
    ("[devices]", reading.DEVICE_KEYS),
    ("[dither]", reading.DITHER_KEYS),
    ("[guiding]", reading.GUIDING_KEYS),
    ("[autofocus]", reading.AUTOFOCUS_KEYS),
    ("[flip]", reading.FLIP_KEYS),
    ("[end]", reading.END_KEYS),
    ("[site]", reading.SITE_KEYS),
    ("[safety]", reading.SAFETY_KEYS),
    ("[schedule]", SCHEDULE_KEYS),
    ("[targets.constraints]", CONSTRAINT_KEYS),
    ("[targets.wait]", reading.WAIT_KEYS),
    ("[[targets.batches]]", reading.BATCH_KEYS),
    ("Centring by plate solving", CENTRE_KEYS),
    ("[[targets]]", tuple(key for key in reading.TARGET_KEYS if key not in CENTRE_KEYS
                          and f"[targets.{key}]" not in TABLES
                          and f"[[targets.{key}]]" not in TABLES
                          and f"[{key}]" not in TABLES)),
])
def test_every_key_of_a_table_has_its_row_in_the_reference(title: str,
                                                           keys: tuple[str, ...]) -> None:
    """Each key the reader knows for a table is a row of that table's section."""
    assert set(keys) - sections()[title] == set()


def test_every_table_of_a_plan_has_its_section() -> None:
    """Each table the reader knows at the top of a plan has a section of its own."""
    tables = {f"[{key}]" for key in reading.PLAN_KEYS if key not in ("name", "folder", "targets")}
    assert tables - set(sections()) == set()
