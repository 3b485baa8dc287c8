"""Whether a centring is done: pure, no I/O.

INDIGO's CENTER is expose, solve, sync, one slew back, done, with no look at where the mount
then points. Ours repeats expose, solve, sync, slew until a solved frame's centre is within
the tolerance of the target, or the tries are spent (`judge`). `offset` measures the
distance on the sky (RA's part shrunk by cos Dec), J2000 both.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from .wcs import separation

__all__ = ["Offset", "Verdict", "judge", "offset"]


@dataclass(frozen=True, slots=True)
class Offset:
    """Where a solved centre lies from the target, arcseconds: `total` on the sky, `ra`
    (eastwards, on the sky) and `dec` (northwards)."""

    total: float
    ra: float
    dec: float


def offset(target_ra: float, target_dec: float, ra: float, dec: float) -> Offset:
    """(`ra`, `dec`) from the target (RA hours, Dec degrees, J2000)."""
    d_ra = ((ra - target_ra + 12.0) % 24.0 - 12.0) * 15.0 * 3600.0
    return Offset(separation(target_ra, target_dec, ra, dec),
                  d_ra * math.cos(math.radians(target_dec)), (dec - target_dec) * 3600.0)


class Verdict(enum.Enum):
    CENTRED = "centred"
    AGAIN = "again"
    SPENT = "spent"


def judge(off: Offset, tolerance: float, tries: int, max_tries: int) -> Verdict:
    """After try number `tries` (1 the first) found the centre `off` the target: CENTRED
    within `tolerance` arcseconds, SPENT when `max_tries` are used, else AGAIN (sync and
    slew once more)."""
    if off.total <= tolerance:
        return Verdict.CENTRED
    if tries >= max_tries:
        return Verdict.SPENT
    return Verdict.AGAIN
