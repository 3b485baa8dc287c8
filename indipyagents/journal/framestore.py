"""Frames on disk, each written whole or not at all: the one way the sequencer saves a frame.

A frame is written by `durable.write_whole`: a temporary file beside its final name (hidden,
``.NAME.partial-PID-...``, a name no frame can have), fsynced, then its final name in one step
and the folder fsynced, so after a crash or a power cut a frame's name holds the whole frame or
nothing. The leftover partials of a killed writer are removed by `FrameStore.sweep`, which looks
in the frames' own folders only, never through a folder's tree. A frame
is saved once: a second save of one name is a defect of the caller (a frame repeated), refused
unless asked for.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from pathlib import PurePosixPath

from .durable import NameTaken
from .durable import fsync_folder
from .durable import is_partial
from .durable import write_whole

__all__ = ["FrameExists", "FrameStore", "is_partial"]

log = logging.getLogger(__name__)


class FrameExists(FileExistsError):
    """A frame of that name is already saved (the sequencer would be taking it twice)."""


class FrameStore:
    """The frames of one folder, by name: a file name (``M42_Red_Light_007.fits``) or a
    relative path below the folder (``M42/Red_007.fits``); no part may start with a dot."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        """Where the frame `name` lives; a name that would leave the folder or could be taken
        for a temporary file is refused (ValueError)."""
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or "\\" in name:
            raise ValueError(f"a frame's name is a relative path below the folder, not {name!r}")
        for part in parts:
            if part.startswith(".") or part.strip() != part or "\0" in part:
                raise ValueError(f"frame name {name!r}: {part!r} is not a usable name")
        return self.folder.joinpath(*parts)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def save(self, name: str, data: bytes, *, overwrite: bool = False) -> Path:
        """Write `data` as the frame `name` whole or not at all, durable when this returns;
        raises `FrameExists` when it is already saved, unless `overwrite`."""
        final = self.path(name)
        try:
            return write_whole(final, data, overwrite=overwrite)
        except NameTaken:
            raise FrameExists(errno.EEXIST, "frame already saved", str(final)) from None

    def sweep(self, names: Iterable[str] = ()) -> list[str]:
        """Remove the temporary files a killed writer left (call it before saving again, after
        a crash): in the folder itself, and beside each frame of `names` below a subfolder.
        Never a walk of the folder's tree: a plan's folder may sit in a shared one (``/tmp``)
        whose other files are none of its business. Returns their names, relative to the
        folder."""
        folders = {self.folder} | {self.path(name).parent for name in names}
        removed = []
        for folder in sorted(folders):
            swept = False
            for path in _files_in(folder):
                if is_partial(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path.relative_to(self.folder).as_posix())
                    log.info("removed the partly written %s", path)
                    swept = True
            if swept:
                fsync_folder(folder)
        return sorted(removed)

    def frames(self) -> set[str]:
        """The names of the files below the folder whose path has no hidden part (so no
        partial, nor a dotfile beside the frames): a walk of the folder's tree, for a tool or
        a test to list what is there; a resume never calls it (it asks by name)."""
        found = set()
        if self.folder.is_dir():
            for path in self.folder.rglob("*"):
                relative = path.relative_to(self.folder)
                if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                    found.add(relative.as_posix())
        return found


def _files_in(folder: Path) -> list[Path]:
    """The files directly in `folder` (none when it is not there)."""
    try:
        with os.scandir(folder) as entries:
            return [Path(entry.path) for entry in entries if entry.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
