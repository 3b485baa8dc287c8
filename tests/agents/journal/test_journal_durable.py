"""Issue 78 item 5: one durable write. `write_whole` syncs the file's data before it takes its
name and the folder after (a power cut cannot lose the rename), makes a new folder durable in
its parent, and a write that fails leaves the old file whole and no temporary file; the
imager face's own copy (a batch not journalled) is that write; `os.fsync` is called in one
module of indipyagents."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import indipyagents
from indipyagents.imager.files import write_atomically
from indipyagents.journal.durable import NameTaken
from indipyagents.journal.durable import is_partial
from indipyagents.journal.durable import write_whole


def record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fsync from now on, as what it synced: "folder:PATH" or "file:NAME" (the name the
    synced file had then)."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        where = os.readlink(f"/proc/self/fd/{fd}")
        synced.append(f"folder:{where}" if stat.S_ISDIR(mode) else f"file:{Path(where).name}")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return synced


@pytest.mark.parametrize("writer", [write_whole, write_atomically],
                         ids=["write_whole", "imager write_atomically"])
def test_the_data_then_the_folder_are_synced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        writer: Callable[[Path, bytes], object]) -> None:
    """Over an old file and as a new one: the temporary file's data is synced under its
    temporary name, then, after the rename, the folder holding the name; nothing is left
    beside the file."""
    target = tmp_path / "IMG_1_001.fits"
    target.write_bytes(b"old")
    synced = record_fsyncs(monkeypatch)
    writer(target, b"new" * 1000)
    assert len(synced) == 2, synced
    assert synced[0].startswith("file:.IMG_1_001.fits.partial-"), synced
    assert synced[1] == f"folder:{tmp_path}", synced
    assert target.read_bytes() == b"new" * 1000
    assert os.listdir(tmp_path) == [target.name]
    synced.clear()
    writer(tmp_path / "other.fits", b"x")
    assert synced[-1] == f"folder:{tmp_path}", synced


def test_new_folders_are_made_durable_in_their_parents(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path whose folders do not exist yet: each folder made is synced in its parent before
    the file is written, and the file's own folder after its rename."""
    synced = record_fsyncs(monkeypatch)
    write_whole(tmp_path / "a" / "b" / "current.json", b"{}")
    assert synced[:2] == [f"folder:{tmp_path}", f"folder:{tmp_path / 'a'}"], synced
    assert synced[2].startswith("file:.current.json.partial-"), synced
    assert synced[3:] == [f"folder:{tmp_path / 'a' / 'b'}"], synced


def failing(name: str) -> Callable[..., None]:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, f"No space left on device ({name}, a test)")
    return fail


@pytest.mark.parametrize("breaks", ["data", "fsync", "rename"])
def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breaks: str) -> None:
    """The write fails part-way (data that is no bytes, the disk full at the sync, the rename
    refused): the error is raised, the old file is as it was, no temporary file is left."""
    target = tmp_path / "current.json"
    target.write_bytes(b"old, whole")
    data: object = b"new"
    if breaks == "data":
        data = "not bytes"
    elif breaks == "fsync":
        monkeypatch.setattr(os, "fsync", failing("fsync"))
    else:
        monkeypatch.setattr(os, "replace", failing("replace"))
    with pytest.raises((OSError, TypeError)):
        write_whole(target, data)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old, whole"
    assert os.listdir(tmp_path) == [target.name]


def test_without_overwrite_a_taken_name_is_refused(tmp_path: Path) -> None:
    """`overwrite=False` keeps an existing file and leaves no temporary file."""
    target = tmp_path / "a.fits"
    write_whole(target, b"first", overwrite=False)
    with pytest.raises(NameTaken):
        write_whole(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["a.fits"]
    assert not is_partial("a.fits") and is_partial(".a.fits.partial-12-ab")


def test_fsync_is_called_in_one_module_of_indipyagents() -> None:
    """The durable write lives in one place: `journal/durable.py` is the only module of
    indipyagents that calls fsync (os.fsync, os.fdatasync, os.sync)."""
    root = Path(indipyagents.__file__).parent
    calling = sorted(path.relative_to(root).as_posix() for path in root.rglob("*.py")
                     if re.search(r"\b(?:os\.)?f(?:data)?sync\(|\bos\.sync\(", path.read_text()))
    assert calling == ["journal/durable.py"]
