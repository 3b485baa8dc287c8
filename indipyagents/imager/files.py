"""The imager agent's files: indilib's names (``FOLDER/PREFIX_G_NNN.fits``) and a frame
written whole or not at all (a temporary file beside it, flushed, then renamed over)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["frame_path", "write_atomically"]


def frame_path(folder: str, prefix: str, group: int, image: int, suffix: str = ".fits"
               ) -> Path:
    """indilib's agent's file name: the group without padding, the image with three digits
    (``IMG_1_001.fits``)."""
    return Path(folder) / f"{prefix}_{group}_{image:03d}{suffix}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old file or the whole new
    one: a temporary file in the same folder, fsynced, renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
