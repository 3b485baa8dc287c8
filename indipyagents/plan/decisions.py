"""What the sequencer decides between frames, as pure functions of what it has seen: whether
to dither, whether (and why) to run autofocus, the target's hour angle and whether the mount
must flip. Time, temperature and pier side are passed in, so each rule is tested without a
clock or a mount.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from .model import Autofocus
from .model import Dither
from .model import Flip


def dither_due(frames_since: int, dither: Dither) -> bool:
    """After every `dither.every` light frames (0: never)."""
    return dither.every > 0 and frames_since >= dither.every


def autofocus_due(settings: Autofocus, *, first_of_target: bool, filter_changed: bool,
                  minutes_since: float | None, temperature_moved: float | None) -> str | None:
    """Why autofocus must run before the next light frame, or None.

    `minutes_since`: since the last run, None when none ran yet this night (then
    `every_minutes` asks for one at once). `temperature_moved`: degrees since the last run,
    None when unknown (no run yet, or a focuser without a thermometer).
    """
    if first_of_target and settings.at_start:
        return "at the start of the target"
    if filter_changed and settings.on_filter_change:
        return "the filter changed"
    if settings.every_minutes > 0:
        if minutes_since is None:
            return "no autofocus yet"
        if minutes_since >= settings.every_minutes:
            return f"{minutes_since:.0f} minutes since the last"
    if (settings.temperature_delta > 0 and temperature_moved is not None
            and abs(temperature_moved) >= settings.temperature_delta):
        return f"the temperature moved by {abs(temperature_moved):.1f} degrees"
    return None


def hfr_rise_due(hfrs: Sequence[float], ratio: float | None, sample: int) -> str | None:
    """Why autofocus must run for a median HFR grown (N.I.N.A.'s "HFR increase"), or None:
    `hfrs` the median HFRs of a target's frames in one filter since the last focus run, in
    order; the median of the last `sample` over `ratio` times the median of the first
    `sample` (both whole: at least twice `sample` frames)."""
    if ratio is None or sample < 1 or len(hfrs) < 2 * sample:
        return None
    before = statistics.median(hfrs[:sample])
    now = statistics.median(hfrs[-sample:])
    if before <= 0 or now <= ratio * before:
        return None
    return f"the median HFR grew from {before:.2f} to {now:.2f} (over {ratio:g} x)"


def hour_angle(ra_hours: float, lst_hours: float) -> float:
    """The hour angle in degrees, in (-180, 180], positive west of the meridian."""
    degrees = ((lst_hours - ra_hours) * 15.0) % 360.0
    return degrees - 360.0 if degrees > 180.0 else degrees


def flip_due(ha_deg: float, flip: Flip, pier_side_before: str | None) -> bool:
    """Whether to slew again so the mount changes sides: the target is past the limit west of
    the meridian and the mount is still on the side it took east of it.

    `pier_side_before`: the mount's TELESCOPE_PIER_SIDE ("WEST": on the west of the pier,
    looking east, the side before the flip; "EAST" once flipped; indilib's "PIER_EAST" too),
    or None where the mount does
    not say; then the sequencer passes "EAST" itself once it has flipped for this target.
    """
    side = (pier_side_before or "").upper().removeprefix("PIER_")
    return flip.enabled and ha_deg > flip.hour_angle_limit and side != "EAST"
