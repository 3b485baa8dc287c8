"""INDI timestamps (timeValue): read leniently, write one strict form.

INDI 1.7 p.5: UTC ``YYYY-MM-DDTHH:MM:SS[.S...]`` with no zone suffix, fraction optional and of
any precision. The SPEC's own examples use a space instead of ``T``, and some software appends
``Z``, so input accepts both; output is always ``YYYY-MM-DDTHH:MM:SS.sss`` (milliseconds, no
zone), which every peer we know of reads.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

__all__ = ["format_timestamp", "now_timestamp", "parse_timestamp"]

_TIME_VALUE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:T|t| +)"
    r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]*))?"
    r"[zZ]?",
    re.ASCII,
)


def parse_timestamp(text: str) -> datetime:
    """Read an INDI timeValue as an aware UTC ``datetime``.

    Accepts ``T``, ``t`` or spaces between date and time, a fraction of any length (digits past
    microseconds are truncated, never rounded, so a value never moves into the next second), an
    optional trailing ``Z`` and surrounding whitespace. A leap second (``:60``) is read as the
    last microsecond of that minute, since ``datetime`` cannot hold it. Anything else, including
    other zone offsets, raises ``ValueError`` quoting the text.
    """
    match = _TIME_VALUE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an INDI timestamp (YYYY-MM-DDTHH:MM:SS[.f]): {text!r}")
    second = int(match.group("second"))
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    microsecond = int(fraction)
    if second == 60:
        second, microsecond = 59, 999999
    try:
        return datetime(
            int(match.group("year")),
            int(match.group("month")),
            int(match.group("day")),
            int(match.group("hour")),
            int(match.group("minute")),
            second,
            microsecond,
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise ValueError(f"invalid INDI timestamp {text!r}: {exc}") from None


def format_timestamp(dt: datetime) -> str:
    """Write ``dt`` as an INDI timeValue in UTC with milliseconds, e.g. ``2026-11-22T04:15:03.123``.

    An aware datetime is converted to UTC; a naive one is taken to be UTC already (INDI has no
    local time). Sub-millisecond digits are truncated so the text never rounds into the next
    second.
    """
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    # Fields by hand: strftime("%Y") does not zero-pad years below 1000 on glibc.
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond // 1000:03d}"
    )


def now_timestamp() -> str:
    """The current time as an INDI timeValue, for the ``timestamp`` attribute of outgoing messages."""
    return format_timestamp(datetime.now(UTC))
