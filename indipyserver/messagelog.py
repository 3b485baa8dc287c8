"""indiserver's ``-l DIR``: the drivers' messages appended to one log file per day.

Every element a driver sends with a ``message`` attribute (a ``message`` element, or a
``set``/``def`` carrying one) becomes a line ``TIMESTAMP: DEVICE: MESSAGE`` in
``DIR/YYYY-MM-DD.islog``, the day taken from the element's timestamp (or now, UTC), as indiserver
writes it, so tools that read those files keep working. Messages are rare and short, so each is
written at once; a directory that cannot be written is reported once and the server goes on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

__all__ = ["DriverMessageLog"]

logger = logging.getLogger(__name__)


class DriverMessageLog:
    """Appends driver messages to ``directory/<day>.islog``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._failed = False

    def __call__(self, attrs: dict[str, str], device: str) -> None:
        """Record the message in `attrs` (a driver element's attributes), if it has one."""
        message = attrs.get("message")
        if not message:
            return
        stamp = attrs.get("timestamp") or time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        day = stamp[:10]
        if len(day) != 10 or "/" in day or "\0" in day:  # not a date: never a path
            day = time.strftime("%Y-%m-%d", time.gmtime())
        line = f"{stamp}: {device}: {message}\n"
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
