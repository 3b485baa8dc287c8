"""Sky flats in a night's schedule: a target whose batches are all sky flats (``source =
"dusk"`` or ``"dawn"``, `plan.skyflats`) is not placed in the dark by the greedy; its dusk
flats take a block before the night's first light frame (the slew to it), from when the Sun
has sunk to `BEGIN` degrees (the sky no longer too bright for a narrowband flat) until it
reaches `END`; its dawn flats a block after the night's last frame, from `END` (or the last
block's end) until the Sun has risen to `BEGIN`. A night with no light frame takes no sky
flats (they are kept for a night that images). Pure: the night's blocks, the site and the
frames left are given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta

from indipyagents.plan.model import Plan

from . import sky
from .sky import Place

#: The Sun's altitude (degrees) sky flats begin at dusk and end at dawn (too bright above).
BEGIN = -2.0
#: The Sun's altitude (degrees) past which the twilight is too dark for a sky flat.
END = -12.0


def sky_flat_targets(plan: Plan) -> dict[int, str]:
    """The targets made of sky flats only, by index: their source ("dusk" or "dawn", the
    first batch's)."""
    found: dict[int, str] = {}
    for index, target in enumerate(plan.targets):
        batches = target.batches
        if batches and all(batch.adu is not None and batch.source != "panel"
                           for batch in batches):
            found[index] = batches[0].source
    return found


def _crossing(place: Place, level: float, start: datetime, end: datetime,
              rising: bool) -> datetime | None:
    """The first moment between `start` and `end` the Sun crosses `level` going up (or down)."""
    if end <= start:
        return None
    for moment, up in sky.crossings(lambda t: sky.sun_altitude(t, place), level, start, end,
                                    step=timedelta(minutes=5)):
        if up == rising:
            return moment
    return None


def flat_spans(place: Place, noon: datetime, first: datetime,
               last: datetime) -> tuple[tuple[datetime, datetime] | None,
                                        tuple[datetime, datetime] | None]:
    """The night's span for dusk flats (the Sun from `BEGIN` down to `END`, ending by
    `first`, the first block's slew) and for dawn flats (from `END` up to `BEGIN`, beginning
    at `last`, the last block's end, or later); None where the night leaves none."""
    day = timedelta(days=1)
    set_at = _crossing(place, BEGIN, noon, noon + day, rising=False)
    dark_at = _crossing(place, END, noon, noon + day, rising=False)
    light_at = _crossing(place, END, noon, noon + day, rising=True)
    rise_at = _crossing(place, BEGIN, noon, noon + day, rising=True)
    dusk = None
    if set_at is not None and set_at < first:
        dusk = (set_at, min(first, dark_at) if dark_at is not None else first)
    dawn = None
    if rise_at is not None and last < rise_at:
        dawn = (max(last, light_at) if light_at is not None else last, rise_at)
    return dusk, dawn


def placed(sources: dict[int, str], left: list[list[int]],
           spans: Sequence[tuple[datetime, datetime] | None]) -> list[tuple[int, int,
                                                                           datetime, datetime]]:
    """The sky flats placed tonight: (target index, frames, start, end) for each target
    whose source has a span (`spans`: dusk's, dawn's), its frames left taken (`left`
    updated)."""
    found = []
    for index, source in sources.items():
        span = spans[0] if source == "dusk" else spans[1]
        frames = sum(left[index])
        if span is None or not frames:
            continue
        left[index] = [0] * len(left[index])
        found.append((index, frames, *span))
    return found
