"""docs/plan-reference.rst names every key a plan may hold, in the table of its own section
(issue 89 item 12: the guide used ``[devices] guider``, ``[dither] method = "guider"``,
``settle_pixels``, ``settle_timeout`` and ``[guiding] lost_wait``, which the reference lacked).
The keys are the reader's own lists, so a key added to the reader without a row fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from indipyagents.plan import reading
from indipyagents.plan.centresettings import CENTRE_KEYS
from indipyagents.plan.grading import GRADING_KEYS
from indipyagents.plan.notifying import NOTIFY_KEYS
from indipyagents.plan.scheduling import CONSTRAINT_KEYS
from indipyagents.plan.scheduling import SCHEDULE_KEYS

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "plan-reference.rst"
TABLES = {"[devices]", "[dither]", "[guiding]", "[grading]", "[autofocus]", "[flip]", "[end]",
          "[safety]", "[notify]",
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
    ("[grading]", GRADING_KEYS),
    ("[autofocus]", reading.AUTOFOCUS_KEYS),
    ("[flip]", reading.FLIP_KEYS),
    ("[end]", reading.END_KEYS),
    ("[site]", reading.SITE_KEYS),
    ("[safety]", reading.SAFETY_KEYS),
    ("[notify]", NOTIFY_KEYS),
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


GUIDE = REFERENCE.parent / "guides" / "unattended_night.rst"


def guide_plan_keys() -> set[tuple[str, str]]:
    """(section title, key) of every key the guide's literal blocks set in a plan table: a
    line ``[table]``/``[[table]]`` opens one, ``key = value`` under it is its key; a block's
    keys before any table are the plan's top level."""
    found: set[tuple[str, str]] = set()
    title = ""
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("    "):
            if line.strip():
                title = ""  # prose ends a literal block
            continue
        text = line.strip()
        if re.fullmatch(r"\[\[?[a-z_.]+\]\]?", text):
            title = text
        elif title and (key := re.match(r"([a-z_]+) *= ", text)):
            found.add((title, key.group(1)))
    for name in re.findall(r"\.\. literalinclude:: (\S+\.toml)", GUIDE.read_text("utf-8")):
        found |= toml_keys(tomllib.loads((GUIDE.parent / name).read_text(encoding="utf-8")))
    return found


def toml_keys(data: dict[str, Any], prefix: str = "") -> set[tuple[str, str]]:
    """(section title, key) of a plan the guide includes: its tables' keys by the titles
    plan-reference.rst gives them (``[dither]``, ``[[targets]]``, ``[[targets.batches]]``)."""
    found: set[tuple[str, str]] = set()
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            found |= {(f"[{name}]", inner) for inner in value
                      if not isinstance(value[inner], (dict, list))}
            found |= toml_keys({k: v for k, v in value.items() if isinstance(v, (dict, list))},
                               name)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                found |= {(f"[[{name}]]", inner) for inner, v in item.items()
                          if not (isinstance(v, dict)
                                  or (isinstance(v, list) and v and isinstance(v[0], dict)))}
                found |= toml_keys({k: v for k, v in item.items()
                                    if isinstance(v, dict)
                                    or (isinstance(v, list) and v and isinstance(v[0], dict))},
                                   name)
        else:
            found.add(("Top level" if not prefix else f"[{prefix}]", key))
    return found


def test_every_key_the_guide_sets_is_in_the_reference() -> None:
    """The guide's plan examples use no key plan-reference.rst does not list under its table
    (issue 89 item 12: the guide used ``settle_pixels`` and others the reference lacked)."""
    keys = guide_plan_keys()
    # the extraction reads the guide's own blocks and the plans it includes
    assert {("[devices]", "guider"), ("[[targets.batches]]", "count")} <= keys
    table = sections()
    centring = table["Centring by plate solving"]
    # a target's own [targets.dither], [targets.autofocus], [targets.flip] take the keys of
    # the plan's (the reference says so under [[targets]])
    own = {f"[targets.{name}]": f"[{name}]" for name in ("dither", "autofocus", "flip")}
    missing = {(title, key) for title, key in keys
               if key not in table.get(own.get(title, title), set())
               and not (title == "[[targets]]" and key in centring)}
    assert missing == set()
