"""The sky where a test needs it at a known place whatever the hour it runs: a target's hour
angle is set by the site's longitude, not by the time of day (a mount simulator picks its
pier side, and our camera simulator its field's orientation, by the hour angle)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from indipycore.astro import local_sidereal_time


def longitude_for(hour_angle: float, ra: float) -> float:
    """The site's longitude (degrees east, 0 to 360 as GEOGRAPHIC_COORD takes it) at which
    `ra` (hours) stands at `hour_angle` (hours) now."""
    lst0 = local_sidereal_time(datetime.now(UTC), 0.0)
    return ((ra + hour_angle - lst0) * 15.0) % 360.0
