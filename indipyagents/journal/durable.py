"""Durability on POSIX: what makes a new name survive a power cut."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Make a folder's entries (a file created, renamed or removed) durable: POSIX says the
    file's own fsync does not cover the name pointing at it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
