"""One check's result and how the report is printed: a line each, or JSON.

PASS, FAIL or WARN, the device, the property, and a detail saying what was expected and what
was found. FAIL makes ``indipy-conform`` exit 1; WARN is a difference clients tolerate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Check", "Level", "as_json", "as_lines", "failed"]


class Level(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One check: ``level``, ``device``, ``prop`` (the property, or a step's name; "property"
    in the JSON) and ``detail``."""

    level: Level
    device: str
    prop: str
    detail: str

    @property
    def ok(self) -> bool:
        """False only for FAIL (a WARN is a tolerated difference)."""
        return self.level is not Level.FAIL


def failed(checks: Iterable[Check]) -> bool:
    """True when any check failed."""
    return any(not check.ok for check in checks)


def as_lines(checks: Iterable[Check]) -> str:
    """One line per check: ``PASS  device  PROPERTY  detail``."""
    return "".join(f"{c.level.value:<4}  {c.device}  {c.prop}  {c.detail}\n" for c in checks)


def as_json(checks: Iterable[Check]) -> str:
    """``{"checks": [{"device", "property", "ok", "level", "detail"}, ...]}``."""
    return json.dumps({"checks": [{"device": c.device, "property": c.prop, "ok": c.ok,
                                   "level": c.level.value, "detail": c.detail}
                                  for c in checks]}, indent=1)
