"""Whether a redis bridge keeps up: said once when it falls behind, once when it has caught up.

The figures a reader needs to act are in the line: how old the newest reading was when it
arrived (its driver's timestamp against this clock), how full the bridge's inbound queue is,
and how many writes wait for redis and for how long (docs/bridges.rst, "Falling behind").
"""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime

from indipycore.protocol import Frame
from indipycore.protocol import ProtocolError
from indipycore.protocol.timestamps import parse_timestamp

__all__ = ["LAG_SAMPLE", "LAG_THRESHOLD", "Lag"]

logger = logging.getLogger("indiredis.redisside")  # the bridges' redis log, as before

#: Falling behind (`Lag`): the newest reading older than this when it arrives, or a write
#: waiting for redis this long (s).
LAG_THRESHOLD = 10.0
#: A sample of the readings' age is taken at most this often (s): parsing a timestamp a
#: message would cost more than the rest of the check.
LAG_SAMPLE = 1.0


class Lag:
    """Whether the bridge keeps up, said once when it falls behind and once when it has caught
    up (a warning, then an info line), with the figures: the age of the newest reading when it
    arrived (its driver's timestamp against this machine's clock, so a site's clock that is
    off shows as age), the messages waiting in the bridge's inbound queue against its
    capacity, and the writes waiting for redis and for how long. Behind: the age past
    ``threshold``, the inbound queue half full, or a write waiting past ``threshold``; caught
    up: all of them under half of that again."""

    def __init__(self, label: str, threshold: float = 0.0) -> None:
        self.label = label
        self.threshold = threshold or LAG_THRESHOLD
        self.behind = False
        self.age = 0.0  # of the newest reading sampled, s
        self._next_sample = 0.0

    def sample(self, frames: list[Frame], now: float) -> None:
        """The age of one reading of a read, at most once in ``LAG_SAMPLE`` s."""
        if now < self._next_sample:
            return
        for frame in reversed(frames):
            stamp = frame.attrs.get("timestamp")
            if stamp:
                try:
                    when = parse_timestamp(stamp)
                except (ProtocolError, ValueError):
                    continue
                self.age = datetime.now(UTC).timestamp() - when.replace(tzinfo=UTC).timestamp()
                self._next_sample = now + LAG_SAMPLE
                return

    def check(self, inbound: tuple[int, int], pending: int, waited: float) -> None:
        waiting, capacity = inbound
        limit = self.threshold
        behind = (self.age > limit or waited > limit
                  or (capacity > 0 and waiting >= capacity // 2))
        calm = (self.age < limit / 2 and waited < limit / 2
                and (capacity == 0 or waiting < capacity // 4))
        figures = (f"the newest reading was {self.age:.1f} s old on arrival, {waiting} "
                   f"messages wait in the inbound queue (of {capacity}), {pending} writes wait "
                   f"for redis (the oldest {waited:.1f} s)")
        if behind and not self.behind:
            self.behind = True
            logger.warning("%s is falling behind: %s; threshold %.1f s (spread the sites over "
                           "more processes: docs/bridges.rst)", self.label, figures, limit)
        elif calm and self.behind:
            self.behind = False
            logger.info("%s has caught up: %s", self.label, figures)
