"""The imager agent's files: indilib's names (``FOLDER/PREFIX_G_NNN.fits``) and a frame
written whole or not at all (`journal.durable.write_whole`)."""

from __future__ import annotations

from pathlib import Path

from ..journal.durable import write_whole

__all__ = ["frame_path", "write_atomically"]


def frame_path(folder: str, prefix: str, group: int, image: int, suffix: str = ".fits"
               ) -> Path:
    """indilib's agent's file name: the group without padding, the image with three digits
    (``IMG_1_001.fits``)."""
    return Path(folder) / f"{prefix}_{group}_{image:03d}{suffix}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a crash, or a power cut) sees the old file
    or the whole new one: the journal's `write_whole` (the folder synced after the rename)."""
    write_whole(path, data)
