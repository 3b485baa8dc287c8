"""indiserver's ``-l DIR``: the drivers' messages appended to one log file per day.

Every element a driver sends with a ``message`` attribute (a ``message`` element, or a
``set``/``def``/``delProperty`` carrying one) becomes a line ``TIMESTAMP: DEVICE: MESSAGE`` in
``DIR/YYYY-MM-DD.islog``, the day taken from the element's timestamp (or now, UTC), as
indiserver writes it, so tools that read those files keep working. Messages are rare and short,
so each is written at once; a directory that cannot be written is reported once and the server
goes on.

Compared with indiserver 1.9.9's files (tests/interop/test_message_log.py runs both): the same
lines for what drivers send, including indiserver's dropping of control characters (its XML
parser, lilxml, drops tab, CR, LF and the rest from attribute values, so one message is always
one line). Different on purpose: a timestamp too short to be a date, or holding a ``/``, never
names the file (indiserver opens ``DIR/<its first 10 characters>.islog``, wherever that
points; here the line goes to today's file); and where our lenient
attribute decoding differs from lilxml -- values padded with spaces are stripped, numeric
character references such as ``&#233;`` are decoded, Latin-1 bytes are written as UTF-8 --
the line shows the decoded text, where indiserver copies the bytes.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

__all__ = ["DriverMessageLog"]

logger = logging.getLogger("indipyserver.messagelog")  # the name users' logs know

# What C's iscntrl() is in the "C" locale: lilxml drops these from attribute values.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _lilxml(text: str) -> str:
    """An attribute value as indiserver sees it: without control characters."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


class DriverMessageLog:
    """Appends driver messages to ``directory/<day>.islog``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._failed = False

    def __call__(self, attrs: dict[str, str], device: str) -> None:
        """Record the message in `attrs` (a driver element's attributes), if it has one."""
        message = _lilxml(attrs.get("message", ""))
        if not message:
            return
        stamp = _lilxml(attrs.get("timestamp", "")) or time.strftime(
            "%Y-%m-%dT%H:%M:%S", time.gmtime()
        )
        day = stamp[:10]
        if len(day) != 10 or "/" in day or "\0" in day:  # not a date: never a path
            day = time.strftime("%Y-%m-%d", time.gmtime())
        line = f"{stamp}: {_lilxml(device)}: {message}\n"
        try:
            with open(self.directory / f"{day}.islog", "a", encoding="utf-8") as log:
                log.write(line)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                logger.warning("cannot log driver messages in %s: %s", self.directory, exc)
            return
        if self._failed:
            self._failed = False
            logger.info("logging driver messages in %s again", self.directory)
