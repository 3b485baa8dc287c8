"""The connection state the screens show: connecting, connected, cannot connect (and why),
lost (retrying in N s).

Pure: the app tells it what happened and asks for the sentence at a given monotonic time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ConnectionStatus"]


@dataclass
class ConnectionStatus:
    """``state`` is ``"connecting"``, ``"connected"``, ``"failed"`` (attempts to connect fail,
    ``reason`` says why) or ``"lost"``; ``retry_at`` is when the
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

    def failed(self, reason: str) -> None:
        """An attempt to connect failed: `reason` is the OS's ("Connection refused", "Name or
        service not known", "timed out after 10 s"). After a lost connection the state stays
        "lost" (the line then says why the tries to get it back fail)."""
        if self.state != "lost":
            self.state = "failed"
        self.reason = reason

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
        elif self.state == "failed":
            text = f"cannot connect to {self.server}"
        else:
            text = f"lost {self.server}"
        if self.retry_at is not None:
            seconds = max(0, math.ceil(self.retry_at - now))
            text += f": retrying in {seconds} s" if seconds else ": retrying now"
        elif self.state == "lost":
            text += ": retrying"
        return f"{text} ({self.reason})" if self.reason else text
