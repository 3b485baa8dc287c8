"""Right ascension and declination as people write them: decimal, or sexagesimal with spaces,
colons or unit letters ("05 35 17.3", "5:35:17.3", "5h35m17.3s"; "-05 23 28", "-5d23m28s",
"-5°23'28\""). Pure; a value that cannot be read raises `ValueError` (`TypeError` when it
is neither a number nor a string) saying what was expected.
"""

from __future__ import annotations

import math
import re

# Up to three fields, each separated by a unit letter, a colon or spaces; the sign is read
# apart, so "-00 30 00" stays south of the equator.
_SEXAGESIMAL = re.compile(
    r"""\s*(?P<sign>[+-]?)\s*
        (?P<a>\d+(?:\.\d*)?)\s*(?:[hHdD°:]\s*|\s+|$)
        (?:(?P<b>\d+(?:\.\d*)?)\s*(?:[mM'′:]\s*|\s+|$)
        (?:(?P<c>\d+(?:\.\d*)?)\s*(?:[sS"″]|'')?)?)?\s*$""",
    re.VERBOSE,
)


def _sexagesimal(text: str) -> float:
    match = _SEXAGESIMAL.fullmatch(text)
    if match is None:
        raise ValueError("not a number, nor degrees (hours) minutes seconds")
    whole = float(match["a"])
    minutes = float(match["b"] or 0)
    seconds = float(match["c"] or 0)
    if (match["b"] is not None and whole != int(whole)) or (
            match["c"] is not None and minutes != int(minutes)):
        raise ValueError("only the last field may have a fraction")
    if minutes >= 60 or seconds >= 60:
        raise ValueError("minutes and seconds must be below 60")
    value = whole + minutes / 60 + seconds / 3600
    return -value if match["sign"] == "-" else value


def _angle(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("a number or a string")
    try:
        number = _sexagesimal(value) if isinstance(value, str) else float(value)
    except OverflowError:  # an integer past float's range
        raise ValueError("a finite number") from None
    if not math.isfinite(number):
        raise ValueError("a finite number")
    return number


def parse_ra(value: object) -> float:
    """Hours, 0 <= ra < 24, from a number of hours or "05 35 17.3" / "5h35m17.3s"."""
    hours = _angle(value)
    if not 0 <= hours < 24:
        raise ValueError("hours from 0 to 24")
    return hours


def parse_dec(value: object) -> float:
    """Degrees, -90..90, from a number or "-05 23 28" / "-5d23m28s"."""
    degrees = _angle(value)
    if not -90 <= degrees <= 90:
        raise ValueError("degrees from -90 to 90")
    return degrees
