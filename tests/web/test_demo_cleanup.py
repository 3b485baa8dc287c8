"""`indipyweb --demo` removes the BLOB folder it made for itself when it stops (issue 43
item 11): a user trying the demo a few times must not collect temporary folders."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from peers import free_port


def test_demo_blob_folder_is_removed_on_exit(tmp_path: Path) -> None:
    """The folder the demo announces exists while it runs (the thermostat's CSV log is saved
    there) and is gone once the command has stopped on SIGTERM."""
    root = Path(__file__).resolve().parents[2]
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(temp)}
    process = subprocess.Popen([sys.executable, "-m", "indipyweb", "--demo", "--port",
                                str(free_port()), "--dbfolder", str(tmp_path / "db")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    folder: Path | None = None
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"BLOBs are saved in (\S+)", line)
            if found:
                folder = Path(found.group(1))
                break
        assert folder is not None, "the demo did not say where its BLOBs go"
        assert folder.is_dir() and folder.parent == temp
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert not folder.exists(), output
    assert list(temp.iterdir()) == []
