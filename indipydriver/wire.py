"""How a driver writes INDI: its escaping, cached timestamps, and `write_element`.

A driver's elements are written by the protocol core's writer (`protocol.serialiser`) in the
compact layout, with the driver's own escaping (`escape`: what XML cannot carry is replaced,
never raised). Its vectors keep the pieces of their `def*`/`set*` elements made by the writer's
functions (see `propertyvector.py`): a driver that streams readings sends the same element
shape thousands of times a second, and a set is then a join of ready strings. Everything else
it sends (messages, delProperty, snoop requests, pings, BLOBs) is an event given to
`write_element` (or `write_attached`, a BLOB whose data goes as memory files).
tests/driver/test_writers_agree.py holds the two to the same bytes.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from datetime import datetime

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import short
from indipycore.protocol.escaping import escape_replacing
from indipycore.protocol.events import Event
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import Serialiser

__all__ = ["escape", "now_timestamp", "timestamp_text", "write_attached", "write_element"]

logger = logging.getLogger("indipydriver.driver")
_replaced_warnings = WarningBudget()


def escape(text: str) -> str:
    """`text` for an attribute value or element content: the five named entities only (lilxml
    knows no others, indi-notes 1.6). A character XML 1.0 cannot carry (a control character)
    is sent as U+FFFD, with a warning: sent as it is, it would break every client's parser, and
    numeric references are shown literally by C peers."""
    escaped, replaced = escape_replacing(text)
    if replaced and (note := _replaced_warnings.take()) is not None:
        logger.warning("%d control character(s) in %s sent as U+FFFD: XML cannot carry them%s",
                       replaced, short(text), note)
    return escaped


_write = Serialiser(escape, COMPACT)


def write_element(event: Event) -> bytes:
    """`event` as a driver writes it: the compact layout, its text escaped by `escape`."""
    return _write(event)


def write_attached(event: SetBLOBVector) -> bytes:
    """`event` as `write_element` writes it, but with its members' data passed aside as
    memory files (`Serialiser.attached`)."""
    return _write.attached(event)


_cached_second = -1
_cached_prefix = ""
_cached_milli = -1
_cached_text = ""
_MILLIS = tuple(f".{m:03d}" for m in range(1000))


def now_timestamp() -> str:
    """The current UTC time as an INDI timeValue with milliseconds.

    The text is made once per millisecond and its `YYYY-MM-DDTHH:MM:SS` part once per second: a
    driver sending in a tight loop (dozens of sets a millisecond) pays for one `time.time()`
    and a comparison per message, not for formatting a time.
    """
    global _cached_second, _cached_prefix, _cached_milli, _cached_text
    milli = int(time.time() * 1000)
    if milli == _cached_milli:
        return _cached_text
    second, millis = divmod(milli, 1000)
    if second != _cached_second:
        _cached_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _cached_second = second
    _cached_milli = milli
    _cached_text = text = _cached_prefix + _MILLIS[millis]
    return text


def timestamp_text(timestamp: datetime | None) -> str:
    """A user's timestamp (None = now) as an INDI timeValue; aware datetimes become UTC.

    Naive datetimes are taken to be UTC already, as indipydriver 3.x did.
    """
    if timestamp is None:
        return now_timestamp()
    if not isinstance(timestamp, datetime):
        raise TypeError(f"timestamp must be a datetime.datetime or None, not {timestamp!r}")
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(UTC).replace(tzinfo=None)
    text = timestamp.isoformat(sep="T", timespec="milliseconds")
    return text
