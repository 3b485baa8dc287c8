"""The connection state the screens show: connecting, connected, lost (retrying in N s).

Pure: the app tells it what happened and asks for the sentence at a given monotonic time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ConnectionStatus"]


@dataclass
class ConnectionStatus:
    """``state`` is ``"connecting"``, ``"connected"`` or ``"lost"``; ``retry_at`` is when the
    next connection attempt is due (monotonic seconds), once the client library has said."""

    server: str
    state: str = "connecting"
    reason: str = ""
    retry_at: float | None = None

    def connected(self) -> None:
        self.state, self.reason, self.retry_at = "connected", "", None

    def lost(self, reason: str) -> None:
        """The link went down. ``retry_at`` is left alone: the client's backoff may have set
        it before this event was read."""
        self.state, self.reason = "lost", reason

    def retrying(self, retry_at: float) -> None:
        """The next attempt is due at `retry_at`. Kept even while the state still says
        connected: the client picks the delay before the app has read its ConnectionLost."""
        self.retry_at = retry_at

    def describe(self, now: float) -> str:
        """The status line, e.g. ``lost localhost:7624: retrying in 3 s (closed by the server)``."""
        if self.state == "connected":
            return f"connected to {self.server}"
        if self.state == "connecting":
            text = f"connecting to {self.server}"
        else:
            text = f"lost {self.server}"
        if self.retry_at is not None:
            seconds = max(0, math.ceil(self.retry_at - now))
            text += f": retrying in {seconds} s" if seconds else ": retrying now"
        elif self.state == "lost":
            text += ": retrying"
        return f"{text} ({self.reason})" if self.reason else text
