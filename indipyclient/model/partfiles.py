"""The hidden temporary file a received BLOB is written into before it gets its name.

``tempfile.mkstemp`` creates files readable by their owner only (0600), whatever the user's
umask, so every saved image ended up unreadable by the web server, a second account or a
backup job. Here the file is created with 0666 and the kernel takes the process's umask off
it, as for any file a program creates (typically 0644). The name is random and the file is
created exclusively, so two writers never share one. Standard library ``os`` only: the
command-line tools import this at their first BLOB, and every import is start-up time.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["create_part_file"]

_ATTEMPTS = 100


def create_part_file(folder: Path, prefix: str) -> tuple[int, Path]:
    """Create ``folder/<prefix><random>.part`` exclusively, open for writing, with the mode
    the umask allows; return its descriptor and path. Raises ``OSError`` when the folder
    cannot be written (``FileExistsError`` only after many random names were all taken)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | os.O_CLOEXEC
    for _ in range(_ATTEMPTS):
        path = folder / f"{prefix}{os.urandom(6).hex()}.part"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")
