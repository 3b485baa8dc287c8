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
from dataclasses import replace

from .hints import Hints
from .wcs import separation

__all__ = ["LONGEST", "CentreOffset", "CentreVerdict", "Rung", "judge", "ladder_exposure", "offset", "rung"]


@dataclass(frozen=True, slots=True)
class CentreOffset:
    """Where a solved centre lies from the target, arcseconds: `total` on the sky, `ra`
    (eastwards, on the sky) and `dec` (northwards)."""

    total: float
    ra: float
    dec: float


def offset(target_ra: float, target_dec: float, ra: float, dec: float) -> CentreOffset:
    """(`ra`, `dec`) from the target (RA hours, Dec degrees, J2000)."""
    d_ra = ((ra - target_ra + 12.0) % 24.0 - 12.0) * 15.0 * 3600.0
    return CentreOffset(separation(target_ra, target_dec, ra, dec),
                  d_ra * math.cos(math.radians(target_dec)), (dec - target_dec) * 3600.0)


class CentreVerdict(enum.Enum):
    CENTRED = "centred"
    AGAIN = "again"
    SPENT = "spent"


def judge(off: CentreOffset, tolerance: float, tries: int, max_tries: int) -> CentreVerdict:
    """After try number `tries` (1 the first) found the centre `off` the target: CENTRED
    within `tolerance` arcseconds, SPENT when `max_tries` are used, else AGAIN (sync and
    slew once more)."""
    if off.total <= tolerance:
        return CentreVerdict.CENTRED
    if tries >= max_tries:
        return CentreVerdict.SPENT
    return CentreVerdict.AGAIN


#: The longest exposure the ladder asks for, seconds (a longer one is a plan's, not a retry's).
LONGEST = 60.0
#: The widest search radius the ladder asks for, degrees.
WIDEST = 30.0


@dataclass(frozen=True, slots=True)
class Rung:
    """One try of a failed solve's ladder: its exposure, hints, and what it says (the
    process's message)."""

    seconds: float
    hints: Hints
    said: str


def rung(number: int, seconds: float, hints: Hints) -> Rung | None:
    """Try `number` (1 the first) of a solve, as observers' tools retry one that found no
    solution: 1 as asked; 2 with twice the exposure (at most `LONGEST`); 3 with that exposure
    and a search four times wider (at least 10 degrees, at most `WIDEST`; blind stays blind,
    the scale range left to solve-field); None past 3: the solve failed."""
    longer = min(max(seconds * 2.0, seconds), LONGEST) if seconds < LONGEST else seconds
    if number <= 1:
        return Rung(seconds, hints, "as asked")
    if number == 2:
        return Rung(longer, hints, f"again with a longer exposure ({longer:g} s)")
    if number == 3:
        radius = hints.radius and min(max(hints.radius * 4.0, 10.0), WIDEST)
        wider = replace(hints, radius=radius, scale=0.0)
        where = f"within {radius:g} deg" if radius else "blind"
        return Rung(longer, wider, f"again with a wider search ({where}, any scale, "
                                   f"{longer:g} s)")
    return None


def ladder_exposure(seconds: float) -> float:
    """The exposure seconds the ladder's tries past the first may add to one solve."""
    return sum(r.seconds for n in (2, 3) if (r := rung(n, seconds, Hints())) is not None)
