"""The speeds of an INDI mount's TELESCOPE_SLEW_RATE, where its labels state them.

Alpaca's MoveAxis takes a rate in degrees per second and AxisRates must list the rates a
mount accepts; INDI's TELESCOPE_SLEW_RATE is a switch of named speeds with no unit. Many
indilib mounts label each speed as a multiple of the sidereal rate ("1x", "16x", "x64",
"0.5×", "Centering (16x)"), some in degrees per second ("3°/s"), and those labels are read; a label without one ("Find",
"Max", as indilib's telescope simulator has) gives no rate, and a mount none of whose labels
state one cannot MoveAxis: a guessed speed would be a fake value. Member names are never read
("1x" is the simulator's name for its guide speed, 0.5x).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from indipycore.astro import SIDEREAL_DEG_PER_S

_NUMBER = r"(\d+(?:\.\d+)?)"
_MULTIPLE = re.compile(rf"(?<![\w.])(?:{_NUMBER}\s*[x×]|[x×]\s*{_NUMBER})(?![\w.])",
                       re.IGNORECASE)
_DEGREES = re.compile(rf"(?<![\w.]){_NUMBER}\s*(?:°|deg)\s*/\s*s\b", re.IGNORECASE)


def stated_rate(label: str) -> float | None:
    """Degrees per second a label states, as a multiple of sidereal or in degrees per
    second ("3°/s", "3 deg/s"), or None."""
    if (degrees := _DEGREES.search(label)) is not None:
        rate = float(degrees.group(1))
    elif (multiple := _MULTIPLE.search(label)) is not None:
        rate = float(multiple.group(1) or multiple.group(2)) * SIDEREAL_DEG_PER_S
    else:
        return None
    return rate if rate > 0 else None


def stated_rates(labels: Mapping[str, str]) -> dict[str, float]:
    """Member name -> degrees per second, for the members (name -> label) that state one."""
    rates = {}
    for member, label in labels.items():
        rate = stated_rate(label)
        if rate is not None:
            rates[member] = rate
    return rates


def member_for(rates: Mapping[str, float], wanted: float) -> str | None:
    """The member whose rate is `wanted` degrees per second (to a part in a million)."""
    for member, rate in rates.items():
        if abs(rate - wanted) <= 1e-6 * rate:
            return member
    return None
