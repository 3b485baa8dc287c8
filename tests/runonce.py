"""What a run makes once for all its pytest-xdist workers (issue 90 item 6): a module- or
session-scoped fixture is made again on every worker that runs one of its tests, so a build
(the sdist and the wheel, a venv, a compiled probe) was made up to once a worker."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def once_a_run(tmp_path_factory: pytest.TempPathFactory, name: str,
               make: Callable[[Path], object]) -> Path:
    """The folder `name` made by `make` once for the whole run: in the folder the run's
    workers share (their base temps' parent; this process's base temp without xdist), under
    a lock, so a worker that comes second waits and takes what the first made. A `make` that
    failed (raised) leaves nothing behind and is tried again by the next caller."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"once-{name}"
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder
