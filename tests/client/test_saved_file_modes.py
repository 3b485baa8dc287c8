"""Files a client saves get the user's umask, not mkstemp's owner-only 0600 (issue 43 item 8).

A BLOB saved by the library (whole, or streamed into the folder as it arrives) or by the
indi_getprop-style tool used to be readable by its owner alone, so a web server, another
account or a backup job could not read the images. Each writer is driven as it runs for real,
under two umasks, and the saved file's mode must be 0666 less the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from indipyclient.frontends.tools.getpropblobs import save_blob as tool_save_blob
from indipyclient.model.blobfiles import save_blob
from indipyclient.model.blobstream import FileSink
from indipyclient.model.partfiles import create_part_file


@pytest.fixture(params=[0o022, 0o027])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _library(folder: Path) -> Path:
    return save_blob(folder, "CCD", "CCD1", "CCD1", ".fits", b"SIMPLE", datetime.now(UTC))


def _streamed(folder: Path) -> Path:
    sink = FileSink(folder)
    sink.write(b"SIMPLE")
    saved = sink.finish()
    assert saved.length == 6
    return sink.path


def _tool(folder: Path) -> Path:
    path, warning = tool_save_blob(folder, "CCD", "CCD1", "CCD1", ".fits", b"SIMPLE")
    assert warning is None
    return path


@pytest.mark.parametrize("writer", [_library, _streamed, _tool], ids=["library", "stream", "tool"])
def test_saved_blob_files_follow_the_umask(tmp_path: Path, umask: int,
                                           writer: Callable[[Path], Path]) -> None:
    """Whatever writes it, a saved BLOB file is created 0666 & ~umask (0644 under 022)."""
    path = writer(tmp_path)
    assert path.read_bytes() == b"SIMPLE"
    assert _mode(path) == 0o666 & ~umask


def test_part_files_are_new_and_distinct(tmp_path: Path) -> None:
    """Two part files never share a name, and an existing file is never reused or truncated."""
    fd1, first = create_part_file(tmp_path, ".x-")
    fd2, second = create_part_file(tmp_path, ".x-")
    os.close(fd1)
    os.close(fd2)
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(".x-") and first.name.endswith(".part")


def test_part_file_in_a_missing_folder_is_an_oserror(tmp_path: Path) -> None:
    """A folder that cannot be written raises OSError (the callers report it), not a hang."""
    with pytest.raises(OSError):
        create_part_file(tmp_path / "missing", ".x-")
