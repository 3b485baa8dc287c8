"""Durability on POSIX, in one place: the only module of ``indipyagents`` that calls fsync.

A file is written whole (`write_whole`) as POSIX allows it: the data goes to a temporary file
beside its final name (hidden, ``.NAME.partial-PID-XXXXXXXX``), is fsynced, takes its final name
in one step (a rename, or a hard link where an existing name must be refused), and then the
folder is fsynced, since the file's own fsync does not cover the name pointing at it (without
it a power cut can lose the rename). A folder made on the way is made durable in its parent.
A failed write leaves the old file as it was and no temporary file. The journal's appended
lines are synced by `sync`, a name created or changed by hand made durable by `replace` or
`fsync_folder`.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

__all__ = ["PARTIAL", "NameTaken", "fsync_folder", "is_partial", "make_folder", "replace",
           "sync", "write_whole"]

#: What marks a temporary file of `write_whole`: ``.NAME.partial-...``.
PARTIAL = ".partial-"

#: Errors of os.link on a filesystem without hard links (FAT on a USB stick).
_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS,
             errno.EMLINK)


class NameTaken(FileExistsError):
    """`write_whole` without `overwrite` found its name taken (at its final step too)."""


def is_partial(name: str) -> bool:
    """Whether a file's name is one of `write_whole`'s temporary files (a killed writer's)."""
    return name.startswith(".") and PARTIAL in name


def sync(fd: int) -> None:
    """The open file `fd`'s data on disk (the journal's line, once written)."""
    os.fsync(fd)


def fsync_folder(folder: Path) -> None:
    """Make a folder's entries (a file created, renamed or removed) durable: POSIX says the
    file's own fsync does not cover the name pointing at it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: Path) -> None:
    """Create `folder` and any missing parents, each made durable in its own parent."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_folder(new.parent)


def replace(partial: Path, final: Path) -> None:
    """`partial` renamed over `final` in one step, the name durable when this returns."""
    os.replace(partial, final)
    fsync_folder(final.parent)


def write_whole(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    """Write `data` to `path` so that a reader, a SIGKILL or a power cut sees the old file
    or the whole new one; durable (data and name) when this returns. Without `overwrite`, an
    existing `path` raises `NameTaken`, also one that appears during the write (a hard link
    refuses it atomically; a filesystem without hard links has only the check before)."""
    final = Path(path)
    if not overwrite and final.exists():
        raise NameTaken(errno.EEXIST, "already exists", str(final))
    make_folder(final.parent)
    partial = final.with_name(f".{final.name}{PARTIAL}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data).cast("B")
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        _commit(partial, final, overwrite)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_folder(final.parent)
    return final


def _commit(partial: Path, final: Path, overwrite: bool) -> None:
    """Give the written file its final name in one step; without `overwrite` a hard link,
    which refuses an existing name, where the filesystem has them."""
    if overwrite:
        os.replace(partial, final)
        return
    try:
        os.link(partial, final)
    except FileExistsError:
        raise NameTaken(errno.EEXIST, "already exists", str(final)) from None
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        os.replace(partial, final)
        return
    partial.unlink()
