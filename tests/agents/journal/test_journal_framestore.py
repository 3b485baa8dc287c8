"""`FrameStore`: a frame is written whole or not at all, never twice, and made durable."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from indipyagents.journal import FrameExists
from indipyagents.journal import FrameStore
from indipyagents.journal.framestore import is_partial


def test_save_writes_the_frame_and_leaves_nothing_else(tmp_path: Path) -> None:
    """A saved frame holds exactly its bytes under its name, and no temporary file remains."""
    store = FrameStore(tmp_path / "frames")
    data = os.urandom(300_000)
    path = store.save("M42_Red_Light_007.fits", data)
    assert path == tmp_path / "frames" / "M42_Red_Light_007.fits"
    assert path.read_bytes() == data
    assert store.exists("M42_Red_Light_007.fits")
    assert not store.exists("M42_Red_Light_008.fits")
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["M42_Red_Light_007.fits"]
    assert store.frames() == {"M42_Red_Light_007.fits"}


def test_a_frame_below_a_subfolder(tmp_path: Path) -> None:
    """A name may be a relative path: its folders are made, and `frames` names it so."""
    store = FrameStore(tmp_path)
    store.save("M42/Red/M42_Red_Light_001.fits", b"one")
    assert (tmp_path / "M42" / "Red" / "M42_Red_Light_001.fits").read_bytes() == b"one"
    assert store.frames() == {"M42/Red/M42_Red_Light_001.fits"}


def test_saving_a_frame_twice_is_refused(tmp_path: Path) -> None:
    """A repeated frame is a defect: the second save raises and the first frame is untouched,
    with no partial left; `overwrite` replaces it when asked."""
    store = FrameStore(tmp_path)
    store.save("a.fits", b"first")
    with pytest.raises(FrameExists, match="already saved"):
        store.save("a.fits", b"second")
    assert (tmp_path / "a.fits").read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["a.fits"]
    store.save("a.fits", b"third", overwrite=True)
    assert (tmp_path / "a.fits").read_bytes() == b"third"
    assert os.listdir(tmp_path) == ["a.fits"]


def test_the_refusal_holds_when_the_name_appears_during_the_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The final step refuses an existing name by itself (a hard link), not only the check
    before writing: a frame that appears meanwhile is kept and the new one dropped."""
    store = FrameStore(tmp_path)
    real_fsync = os.fsync

    def fsync_then_race(fd: int) -> None:
        real_fsync(fd)
        if stat.S_ISREG(os.fstat(fd).st_mode) and not (tmp_path / "a.fits").exists():
            (tmp_path / "a.fits").write_bytes(b"other")

    monkeypatch.setattr(os, "fsync", fsync_then_race)
    with pytest.raises(FrameExists):
        store.save("a.fits", b"mine")
    assert (tmp_path / "a.fits").read_bytes() == b"other"
    assert os.listdir(tmp_path) == ["a.fits"]


def test_without_hard_links_the_save_still_lands(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem without hard links (FAT: EPERM) the frame is renamed into place."""
    def no_links(source: object, target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    store = FrameStore(tmp_path)
    store.save("a.fits", b"data")
    assert (tmp_path / "a.fits").read_bytes() == b"data"
    assert os.listdir(tmp_path) == ["a.fits"]


def test_the_folder_is_fsynced_after_the_rename(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The frame's data is fsynced before it takes its name, and the folder holding the name
    after, so the name survives a power cut."""
    calls: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            calls.append("folder" if info.st_ino == (tmp_path / "night").stat().st_ino
                         else "other folder")
        else:
            calls.append("frame" if (tmp_path / "night" / "a.fits").exists() else "partial")
        real_fsync(fd)

    store = FrameStore(tmp_path / "night")
    store.save("x.fits", b"made the folder")
    monkeypatch.setattr(os, "fsync", recording_fsync)
    store.save("a.fits", b"data")
    assert calls == ["partial", "folder"]
    assert (tmp_path / "night" / "a.fits").read_bytes() == b"data"


def test_sweep_removes_partials_only(tmp_path: Path) -> None:
    """After a crash, `sweep` removes the temporary files a killed writer left in the folder,
    and beside the frames it is told of in a subfolder, and nothing else: frames and other
    files stay."""
    store = FrameStore(tmp_path)
    store.save("a.fits", b"a")
    (tmp_path / ".b.fits.partial-4242").write_bytes(b"half")
    (tmp_path / "T").mkdir()
    (tmp_path / "T" / ".c.fits.partial-17").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".hidden").write_text("mine too")
    assert store.sweep(["a.fits", "T/c.fits"]) == [".b.fits.partial-4242",
                                                   "T/.c.fits.partial-17"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        ".hidden", "T", "a.fits", "notes.txt"]
    assert store.frames() == {"a.fits", "notes.txt"}
    assert store.sweep() == []


def test_sweep_never_walks_the_folders_tree(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan's folder may sit in a shared one (``/tmp``): `sweep` reads the folder itself and
    the subfolders of the frames named, never the rest of the tree, whose partial-looking
    files (another program's) stay."""
    store = FrameStore(tmp_path)
    for sub in ("other", "other/deeper", "T"):
        (tmp_path / sub).mkdir()
    (tmp_path / "other" / "deeper" / ".x.fits.partial-1").write_bytes(b"not ours")
    (tmp_path / "T" / ".c.fits.partial-17").write_bytes(b"half")
    read: list[str] = []
    real_scandir = os.scandir

    def recording(path: Any = ".") -> Any:
        read.append(Path(path).relative_to(tmp_path).as_posix())
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording)
    assert store.sweep() == []
    assert store.sweep(["T/c.fits"]) == ["T/.c.fits.partial-17"]
    assert set(read) == {".", "T"}
    assert (tmp_path / "other" / "deeper" / ".x.fits.partial-1").exists()


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../up.fits", "a/../b.fits", ".a.fits",
                                  "M42/.x.fits", "a\\b.fits", " a.fits"])
def test_names_that_leave_the_folder_or_look_partial_are_refused(tmp_path: Path,
                                                                 name: str) -> None:
    """A frame's name stays below the folder and can never be taken for a partial file."""
    with pytest.raises(ValueError, match="name"):
        FrameStore(tmp_path).save(name, b"x")
    assert list(tmp_path.iterdir()) == []


def test_partial_names_are_recognised() -> None:
    """`is_partial` knows save's temporary names and no frame name."""
    assert is_partial(".M42_001.fits.partial-123")
    assert not is_partial("M42_001.fits")
    assert not is_partial("M42.partial-1.fits")
