"""The time a slew takes between two targets, as the scheduler counts it, so that a block's
frames are never counted into the time the mount spends moving. Pure.

A goto mount moves both axes at once, but its path and acceleration are its own: the angle
between the two places on the sky at the schedule's `slew_rate` (degrees a second) is the
estimate, plus `settle` seconds for the mount (and guiding) to settle. From the park (the
night's first block, or nothing known) the slew starts at the pole of the site's hemisphere,
where an equatorial mount's home position points.
"""

from __future__ import annotations

import math

from indipyagents.plan.constraints import Schedule

__all__ = ["separation", "slew_seconds"]


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """The angle in degrees between two places (right ascension in hours, declination in
    degrees): the haversine form, exact near 0 as near 180."""
    d1, d2 = math.radians(dec1), math.radians(dec2)
    dra = math.radians((ra2 - ra1) * 15.0)
    h = math.sin((d2 - d1) / 2.0) ** 2 + math.cos(d1) * math.cos(d2) * math.sin(dra / 2.0) ** 2
    return math.degrees(2.0 * math.asin(min(1.0, math.sqrt(max(0.0, h)))))


def slew_seconds(settings: Schedule, origin: tuple[float, float] | None,
                 to: tuple[float, float], latitude: float) -> float:
    """Seconds from the end of the last block to the first frame at `to` (ra, dec), from
    `origin` (ra, dec; None: the park, at the pole of the hemisphere of `latitude`)."""
    if origin is None:
        angle = abs((90.0 if latitude >= 0.0 else -90.0) - to[1])
    else:
        angle = separation(origin[0], origin[1], to[0], to[1])
    return angle / settings.slew_rate + settings.settle
