"""A plan as a TOML file: `parse_plan`/`load_plan` read one (`tomllib`, standard library) and
refuse a bad one with its line and the reason (`PlanError`); `plan_to_toml` writes a `Plan`
back, so the journal records the plan it ran and ``parse_plan(plan_to_toml(p)) == p``.

The layout, and every key's type, default and meaning: docs/plan-reference.rst.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from .calibration import CalibrationFrames
from .calibration import calibration_pairs
from .centresettings import centre_pairs
from .fields import Invalid
from .grading import grading_pairs
from .locate import KeyPath
from .locate import key_lines
from .locate import line_of
from .model import Autofocus
from .model import Batch
from .model import Dither
from .model import Flip
from .model import Plan
from .model import Target
from .notifying import NotifySettings
from .notifying import notify_pairs
from .reading import read_plan
from .scheduling import constraints_pairs
from .scheduling import horizon_line
from .scheduling import schedule_pairs

_TOML_PLACE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class PlanError(ValueError):
    """A plan refused: `source` (the file), `line` (1-based; None where no text is known, as
    for a plan built in Python) and `reason`; str() is "night.toml, line 12: <reason>".

    `problems` is every error found, each a PlanError of its own (just this one, unless made
    by `every`)."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason
        self.problems: tuple[PlanError, ...] = (self,)

    @classmethod
    def every(cls, problems: Sequence[PlanError]) -> PlanError:
        """One refusal listing every one of `problems` (at least one), in order: str() is
        "night.toml: 2 errors: line 12: <reason>; line 20: <reason>" (one alone is said as
        it is), the first's source, line and reason its own."""
        if not problems:
            raise ValueError("no problems to refuse a plan for")
        if len(problems) == 1:
            return problems[0]
        first = problems[0]
        combined = cls(first.source, first.line, first.reason)
        combined.problems = tuple(problems)
        every = "; ".join(problem.reason if problem.line is None
                          else f"line {problem.line}: {problem.reason}"
                          for problem in problems)
        combined.args = (f"{first.source}: {len(problems)} errors: {every}",)
        return combined

    def named(self, source: str) -> PlanError:
        """The same refusal said of `source` (the plan's file as the user knows it)."""
        if source == self.source:
            return self
        return PlanError.every([PlanError(source, problem.line, problem.reason)
                                for problem in self.problems])


def located(source: str, text: str | None, path: KeyPath, reason: str) -> PlanError:
    """A refusal about the value at `path`, at its line in `text` (if known)."""
    return PlanError(source, None if text is None else line_of(key_lines(text), path), reason)


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """The plan a TOML text describes; `PlanError` (only) when it is not TOML or not a plan,
    listing every error found (`PlanError.problems`), each at its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(source, text, str(exc)) from None
    except RecursionError:
        raise PlanError(source, None, "not TOML: nested too deeply") from None
    try:
        return read_plan(data)
    except Invalid as exc:
        found = [located(source, text, one.path, one.reason) for one in exc.every]
        found.sort(key=lambda problem: problem.line or 0)  # as the file reads (stable)
        raise PlanError.every(found) from None


def load_plan(path: str | Path) -> Plan:
    """The plan in a TOML file (UTF-8); every refusal, an unreadable file's too, is a
    `PlanError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(path.name, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise PlanError(str(path), None, f"cannot read it: {exc.strerror or exc}") from None
    return parse_plan(text, path.name)


def _syntax_error(source: str, text: str, message: str) -> PlanError:
    """tomllib's "Invalid value (at line 3, column 5)" as a PlanError at line 3."""
    place = _TOML_PLACE.search(message)
    if place is None:
        return PlanError(source, None, f"not TOML: {message}")
    reason = message[:place.start()]
    if place.group(1) is None:  # at the end of the document
        return PlanError(source, max(1, text.count("\n") + (not text.endswith("\n"))),
                         f"not TOML: {reason} (at the end)")
    return PlanError(source, int(place.group(1)),
                     f"not TOML: {reason} (column {place.group(2)})")


# --- writing -----------------------------------------------------------------------------------

def _string(value: str) -> str:
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out) + '"'


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(one) for one in value) + "]"
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None or offset % timedelta(minutes=1):
            value = value.astimezone(UTC)  # TOML offsets are whole minutes
        return value.isoformat()
    return str(value)


def _keys(pairs: dict[str, object]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in pairs.items() if value is not None]


def _dither(value: Dither) -> dict[str, object]:
    return {"every": value.every, "pixels": value.pixels, "method": value.method,
            "settle": value.settle, "settle_pixels": value.settle_pixels,
            "settle_timeout": value.settle_timeout}


def _autofocus(value: Autofocus) -> dict[str, object]:
    return {"at_start": value.at_start, "on_filter_change": value.on_filter_change,
            "every_minutes": value.every_minutes, "temperature_delta": value.temperature_delta,
            "exposure": value.exposure, "step": value.step, "points": value.points,
            "binning": value.binning,
            "filter": False if value.filter is None else value.filter}


def _flip(value: Flip) -> dict[str, object]:
    return {"enabled": value.enabled, "hour_angle_limit": value.hour_angle_limit,
            "settle": value.settle}


def _batch(value: Batch) -> dict[str, object]:
    level = {} if value.adu is None else {"adu": value.adu, "tolerance": value.tolerance,
                                          **({} if value.source == "panel"
                                             else {"source": value.source})}
    return {"type": value.frame_type, "count": value.count, "exposure": value.exposure,
            "filter": value.filter, "binning": value.binning, "gain": value.gain,
            "offset": value.offset, **level}


def _target(target: Target) -> list[str]:
    lines = ["", "[[targets]]", *_keys({"name": target.name, "ra": target.ra, "dec": target.dec,
                                          "slew": target.slew}),
             *_keys(centre_pairs(target.centre))]
    if target.wait.until is not None or target.wait.altitude is not None:
        lines += ["[targets.wait]",
                  *_keys({"until": target.wait.until, "altitude": target.wait.altitude})]
    if target.dither is not None:
        lines += ["[targets.dither]", *_keys(_dither(target.dither))]
    if target.autofocus is not None:
        lines += ["[targets.autofocus]", *_keys(_autofocus(target.autofocus))]
    if target.flip is not None:
        lines += ["[targets.flip]", *_keys(_flip(target.flip))]
    if target.constraints is not None:
        lines += ["[targets.constraints]", *_keys(constraints_pairs(target.constraints))]
    for batch in target.batches:
        lines += ["[[targets.batches]]", *_keys(_batch(batch))]
    return lines


def plan_to_toml(plan: Plan) -> str:
    """The plan as a TOML text `parse_plan` reads back equal (every setting written out)."""
    devices = plan.devices
    lines = [*_keys({"name": plan.name, "folder": plan.folder}), "",
             "[devices]", *_keys({"camera": devices.camera, "wheel": devices.wheel,
                                  "focuser": devices.focuser, "mount": devices.mount,
                                  "dome": devices.dome,
                                  "guider": devices.guider, "panel": devices.panel}),
             "[dither]", *_keys(_dither(plan.dither)),
             "[autofocus]", *_keys(_autofocus(plan.autofocus)),
             "[flip]", *_keys(_flip(plan.flip)),
             "[end]", *_keys({"park": plan.end.park, "warm": plan.end.warm,
                              "close_dome": plan.end.close_dome})]
    if plan.site is not None:
        lines += ["[site]", *_keys({"latitude": plan.site.latitude,
                                    "longitude": plan.site.longitude,
                                    "elevation": plan.site.elevation})]
    lines += ["[safety]", *_keys({"sky_free_while_unsafe": plan.safety.sky_free_while_unsafe,
                                  "night_end": plan.safety.night_end})]
    lines += ["[guiding]", *_keys({"lost_wait": plan.guiding.lost_wait})]
    if plan.grading is not None:
        lines += ["[grading]", *_keys(grading_pairs(plan.grading))]
    if plan.calibration != CalibrationFrames():
        lines += ["[calibration]", *_keys(calibration_pairs(plan.calibration))]
    if plan.notify != NotifySettings():
        lines += ["[notify]", *_keys(notify_pairs(plan.notify))]
    if plan.schedule is not None:
        lines += ["[schedule]", *_keys(schedule_pairs(plan.schedule)),
                  horizon_line(plan.schedule)]
    for target in plan.targets:
        lines += _target(target)
    return "\n".join(lines) + "\n"
