"""The one exception the tools turn into a one-line message and an exit status."""

from __future__ import annotations

__all__ = ["ToolError"]


class ToolError(Exception):
    """Something the user must hear about in one line; ``status`` is the exit status.

    indilib's tools exit 1 when something asked for is missing or invalid and 2 for "real
    trouble" (bad usage, no server, a closed connection); ours keep those meanings.
    """

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
