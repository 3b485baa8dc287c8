"""How values, states, times and sizes are written on the screen (no textual, no I/O)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import parse_number

__all__ = [
    "STATE_COLOURS",
    "display_number",
    "display_size",
    "display_timestamp",
    "limits_text",
    "message_line",
    "state_colour",
]

# The colours INDI clients (KStars, Ekos, indilib's GUI clients) give the four states.
STATE_COLOURS = {"Idle": "#808080", "Ok": "green", "Busy": "yellow", "Alert": "red"}


def state_colour(state: object) -> str:
    """The colour for a vector state or a light value; an unknown state shows as Idle."""
    return STATE_COLOURS.get(str(state), STATE_COLOURS["Idle"])


def display_number(value: object, fmt: str | None) -> str:
    """A number member's value as its driver asked (printf or INDI ``%<w>.<f>m``), trimmed.

    `value` is the wire text or a float. A value or format that cannot be rendered is shown as
    it came rather than hidden, so the user still sees what the device said.
    """
    try:
        number = value if isinstance(value, float) else parse_number(str(value))
    except ValueError:
        return str(value).strip()
    if fmt:
        try:
            return format_number(number, fmt).strip()
        except ValueError:
            pass
    return repr(number)


def limits_text(minimum: float, maximum: float, step: float, fmt: str | None) -> str:
    """A number's limits as the user reads them, each through the member's format as its
    value is (``0.010000000000000000208`` on the wire with ``%.2f`` reads ``0.01``):
    ``min .. max`` and `` step s`` when the step is not 0; ``""`` when ``min >= max`` (SPEC:
    no range then)."""
    if not minimum < maximum:
        return ""
    text = f"{display_number(minimum, fmt)} .. {display_number(maximum, fmt)}"
    if step > 0:
        text += f" step {display_number(step, fmt)}"
    return text


def display_timestamp(value: object, *, now: datetime | None = None) -> str:
    """An INDI timestamp (UTC) as ``HH:MM:SS`` when it is today (UTC), else with its date.

    Accepts a datetime (naive ones are UTC, as INDI has no local time) or anything else shown
    as text; None is shown as the empty string.
    """
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return str(value)
    stamp = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    if stamp.date() == today:
        return stamp.strftime("%H:%M:%S")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def display_size(size: int) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if size < 1024:
        return f"{size} B"
    amount = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        amount /= 1024
        if amount < 1024 or unit == "TiB":
            break
    return f"{amount:.1f} {unit}"


def message_line(timestamp: object, text: str, device: str | None = None) -> str:
    """One line of the message log: time, the device it came from (if any), the text."""
    when = display_timestamp(timestamp)
    who = f"[{device}] " if device else ""
    return f"{when}  {who}{text}".strip()
