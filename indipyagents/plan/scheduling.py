"""The plan file's ``[schedule]`` and ``[targets.constraints]`` tables read (every value
checked, a refusal an `fields.Invalid` naming its key path, so its line) and written back
(`schedule_lines`, `constraints_lines`, for `toml.plan_to_toml`). Pure, standard library only.

A scheduled plan is checked whole by `check_scheduled`: constraints without ``[schedule]``
would be ignored by a plan taken in order, so they are refused, as are targets the scheduler
cannot place (no ra and dec) and waits, which belong to plans taken in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from . import fields
from .constraints import LOWEST_PRIORITY
from .constraints import TWILIGHTS
from .constraints import Constraints
from .constraints import Schedule
from .fields import Invalid
from .fields import Table
from .locate import KeyPath
from .locate import format_path
from .model import Plan
from .model import Target

SCHEDULE_KEYS = ("twilight", "horizon", "min_altitude", "moon_separation", "min_minutes",
                 "frame_overhead", "slew_rate", "settle", "nights")
CONSTRAINT_KEYS = ("min_altitude", "moon_separation", "twilight", "priority", "min_minutes",
                   "after", "before")
MAX_MINUTES = 24 * 60.0
MAX_OVERHEAD = 600.0
MAX_HORIZON_POINTS = 360
#: The fastest slew of sense (degrees a second) and the longest settle (seconds).
MAX_SLEW_RATE = 90.0
MAX_SETTLE = 600.0
#: The most nights a plan is run over (a year: the command's --nights too).
MAX_NIGHTS = 366


def read_schedule(data: Table | None) -> Schedule | None:
    """The top-level ``[schedule]`` table, or None (the plan is taken in order)."""
    if data is None:
        return None
    path: KeyPath = ("schedule",)
    fields.only_known(data, path, SCHEDULE_KEYS)
    default = Schedule()
    return Schedule(
        twilight=fields.choice(data, path, "twilight", default.twilight, TWILIGHTS),
        horizon=_horizon(data.get("horizon", []), path + ("horizon",)),
        min_altitude=fields.number(data, path, "min_altitude", default.min_altitude,
                                   low=0, high=90),
        moon_separation=fields.number(data, path, "moon_separation", default.moon_separation,
                                      low=0, high=180),
        min_minutes=fields.number(data, path, "min_minutes", default.min_minutes,
                                  low=0, high=MAX_MINUTES),
        frame_overhead=fields.number(data, path, "frame_overhead", default.frame_overhead,
                                     low=0, high=MAX_OVERHEAD),
        slew_rate=fields.number(data, path, "slew_rate", default.slew_rate, low=0,
                                cap=MAX_SLEW_RATE, above=True),
        settle=fields.number(data, path, "settle", default.settle, low=0, high=MAX_SETTLE),
        nights=fields.whole(data, path, "nights", default.nights, low=1, high=MAX_NIGHTS))


def _horizon(value: object, path: KeyPath) -> tuple[tuple[float, float], ...]:
    what = "an array of [azimuth, altitude] pairs in degrees, e.g. [[0, 20], [180, 10]]"
    if not isinstance(value, list) or len(value) > MAX_HORIZON_POINTS:
        raise fields.wrong(path, what, value)
    points: list[tuple[float, float]] = []
    for index, pair in enumerate(value):
        here = path + (index,)
        if not isinstance(pair, list) or len(pair) != 2:
            raise fields.wrong(here, "an [azimuth, altitude] pair", pair)
        azimuth, altitude = fields.as_float(pair[0]), fields.as_float(pair[1])
        if azimuth is None or not 0.0 <= azimuth < 360.0:
            raise fields.wrong(here + (0,), "an azimuth from 0 to 360 (east of north)", pair[0])
        if altitude is None or not 0.0 <= altitude <= 90.0:
            raise fields.wrong(here + (1,), "an altitude from 0 to 90", pair[1])
        if any(azimuth == known for known, _ in points):
            raise Invalid(here, f"{format_path(here)} repeats azimuth {azimuth:g}")
        points.append((azimuth, altitude))
    return tuple(points)


def read_constraints(data: Table | None, path: KeyPath) -> Constraints | None:
    """A target's ``[targets.constraints]``, or None (the schedule's for everything)."""
    if data is None:
        return None
    fields.only_known(data, path, CONSTRAINT_KEYS)

    def optional(key: str, high: float) -> float | None:
        return None if key not in data else fields.number(data, path, key, None,
                                                          low=0, high=high)

    twilight = None if "twilight" not in data else \
        fields.choice(data, path, "twilight", "astronomical", TWILIGHTS)
    constraints = Constraints(
        min_altitude=optional("min_altitude", 90), moon_separation=optional("moon_separation", 180),
        twilight=twilight,
        priority=fields.whole(data, path, "priority", Constraints().priority, low=1,
                              high=LOWEST_PRIORITY),
        min_minutes=optional("min_minutes", MAX_MINUTES),
        after=_moment(data, path, "after"), before=_moment(data, path, "before"))
    if constraints.after and constraints.before and constraints.after >= constraints.before:
        raise Invalid(path + ("before",), f"{format_path(path + ('before',))} must come after "
                      f"{format_path(path + ('after',))}")
    return constraints


def _moment(data: Table, path: KeyPath, key: str) -> datetime | None:
    """A TOML date-time with its zone (or its ISO text), as `[safety] night_end`."""
    moment = data.get(key)
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            moment = data[key]
    if moment is None:
        return None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise fields.wrong(path + (key,), "a date and time with its zone, "
                           "e.g. 2026-11-27T22:30:00+01:00", data[key])
    return moment


def check_scheduled(plan: Plan, at: Sequence[int] | None = None) -> None:
    """A plan's constraints make sense with its [schedule]: `Invalid` (an `fields.Invalids`
    when there are several) naming every target that does not, so all are said at once.
    `at`: the file's index of each target (`needs.needs`)."""
    problems = fields.Problems()
    for index, target in zip(range(len(plan.targets)) if at is None else at, plan.targets,
                             strict=True):
        problems.take(lambda index=index, target=target: _scheduled_target(  # type: ignore[misc]
            plan, index, target), None)
    problems.check()


def _scheduled_target(plan: Plan, index: int, target: Target) -> None:
    """`Invalid` when `target` does not fit the plan's [schedule] (or its lack of one)."""
    path: KeyPath = ("targets", index)
    if plan.schedule is None:
        if target.constraints is not None:
            raise Invalid(path + ("constraints",),
                          f"{format_path(path + ('constraints',))} needs a [schedule] "
                          "table: a plan taken in order has no constraints")
        return
    sky_flats = bool(target.batches) and all(
        batch.adu is not None and batch.source != "panel" for batch in target.batches)
    if (target.ra is None or target.dec is None) and not sky_flats:
        raise Invalid(path, f"{format_path(path)} has no ra and dec: a scheduled plan "
                      "places every target in the sky (darks and flats: a plan of "
                      "their own; sky flats, source dusk or dawn, placed at twilight)")
    if target.wait.until is not None or target.wait.altitude is not None:
        raise Invalid(path + ("wait",), f"{format_path(path + ('wait',))} belongs to a "
                      "plan taken in order: a scheduled target's constraints say when "
                      "(after, min_altitude)")


# --- writing -----------------------------------------------------------------------------------

def schedule_pairs(schedule: Schedule) -> dict[str, object]:
    """The ``[schedule]`` table's keys but the horizon (`horizon_line`), every one written."""
    return {"twilight": schedule.twilight, "min_altitude": schedule.min_altitude,
            "moon_separation": schedule.moon_separation, "min_minutes": schedule.min_minutes,
            "frame_overhead": schedule.frame_overhead, "slew_rate": schedule.slew_rate,
            "settle": schedule.settle, "nights": schedule.nights}


def horizon_line(schedule: Schedule) -> str:
    """``horizon = [[az, alt], ...]``, floats to the last bit."""
    return "horizon = [" + ", ".join(f"[{az!r}, {alt!r}]" for az, alt in schedule.horizon) + "]"


def constraints_pairs(constraints: Constraints) -> dict[str, object]:
    """A ``[targets.constraints]`` table's keys; those left to the schedule (None) left out."""
    return {"min_altitude": constraints.min_altitude,
            "moon_separation": constraints.moon_separation,
            "twilight": constraints.twilight, "priority": constraints.priority,
            "min_minutes": constraints.min_minutes, "after": constraints.after,
            "before": constraints.before}
