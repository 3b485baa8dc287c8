"""`SkyClock`: a rehearsal's sky time as a pure function of the wall clock, so a night's
schedule can be rehearsed in daytime with simulators (issue 82 item 4), and a rehearsal
survives the agent's restart. One setting for the agents and our simulators (issue 89 item
5: a mount on the wall's time put a target past the agent's meridian east of its own), so it
lives here, below both; the server pins it (`pinned`) for every driver it starts: the sky time is ``SKY + RATE * (wall time - WALL)``, and a
restarted agent given the same setting continues the same simulated night.

The setting (``--sky-clock``, ``INDIPY_AGENT_SKY_CLOCK``) is one string,
``SKY[@WALL][xRATE]``: `SKY` the sky time at the wall moment `WALL` (both ISO 8601 with a
zone, ``2026-12-03T19:00Z``); without `WALL`, the moment the agent reads the setting (a
restart then begins the night again: `SkyClock.text` is the whole setting to give it
instead); `RATE` how many sky seconds pass in a wall second (1 unless given). No I/O: the
wall time comes in, the sky time goes out; the agent's thin side sleeps `wall_seconds`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

__all__ = ["ENV_SKY_CLOCK", "SkyClock", "parse_sky_clock", "pinned", "sky_clock_from"]

ENV_SKY_CLOCK = "INDIPY_AGENT_SKY_CLOCK"
#: The fastest sky accepted: a night in about ten wall seconds; faster, a frame's own seconds
#: would swallow a block.
MAX_RATE = 3600.0


@dataclass(frozen=True)
class SkyClock:
    """Sky time `sky` at wall time `wall` (both aware), passing `rate` times as fast."""

    sky: datetime
    wall: datetime
    rate: float = 1.0

    def __post_init__(self) -> None:
        if self.sky.tzinfo is None or self.wall.tzinfo is None:
            raise ValueError("a sky clock's times need a zone (Z or +HH:MM)")
        if not (math.isfinite(self.rate) and 0 < self.rate <= MAX_RATE):
            raise ValueError(f"a sky clock's rate must be above 0 and at most {MAX_RATE:g}, "
                             f"not {self.rate!r}")

    def at(self, wall: datetime) -> datetime:
        """The sky time at the wall time `wall` (aware)."""
        return self.sky + timedelta(seconds=(wall - self.wall).total_seconds() * self.rate)

    def wall_seconds(self, sky_seconds: float) -> float:
        """The wall seconds a sleep of `sky_seconds` lasts (never below 0)."""
        return max(0.0, sky_seconds) / self.rate

    def text(self) -> str:
        """The whole setting (`parse_sky_clock` gives this clock back from it)."""
        rate = "" if self.rate == 1.0 else f"x{self.rate!r}"
        return f"{self.sky.isoformat()}@{self.wall.isoformat()}{rate}"


def _moment(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an ISO 8601 time "
                         "(e.g. 2026-12-03T19:00Z)") from None
    if moment.tzinfo is None:
        raise ValueError(f"{what} {text!r} needs a zone (Z or +HH:MM)")
    return moment


def parse_sky_clock(text: str, now: datetime) -> SkyClock:
    """The clock ``SKY[@WALL][xRATE]`` says, `WALL` being `now` when not given; a
    `ValueError` saying what is wrong otherwise."""
    rest, cross, rate_text = text.strip().rpartition("x")
    if not cross:
        rest, rate_text = rate_text, ""
    rate = 1.0
    if cross:
        try:
            rate = float(rate_text)
        except ValueError:
            raise ValueError(f"the sky clock's rate {rate_text!r} is not a number") from None
    sky_text, at, wall_text = rest.partition("@")
    sky = _moment(sky_text, "the sky clock's time")
    wall = _moment(wall_text, "the sky clock's wall time") if at else now
    if wall.tzinfo is None:
        raise ValueError("the wall time now needs a zone")
    return SkyClock(sky, wall, rate)


def sky_clock_from(environ: Mapping[str, str], now: datetime) -> SkyClock | None:
    """The clock `ENV_SKY_CLOCK` in `environ` says (`now` its wall time when it names none),
    None without one; a `ValueError` naming the variable for a bad one."""
    text = environ.get(ENV_SKY_CLOCK, "").strip()
    if not text:
        return None
    try:
        return parse_sky_clock(text, now)
    except ValueError as exc:
        raise ValueError(f"{ENV_SKY_CLOCK}: {exc}") from None


def pinned(text: str, now: datetime) -> str:
    """The setting `text` with its wall time fixed at `now` when it has none, so every
    process that reads it later (the server's drivers, started one by one) keeps one sky;
    `text` itself when it cannot be read (its reader says why)."""
    try:
        return parse_sky_clock(text, now).text()
    except ValueError:
        return text
