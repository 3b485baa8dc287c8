"""The sequencer tests' doubles (seqdoubles.py) keep their journals and frames in each test's
`tmp_path`, so pytest cleans them up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import seqdoubles


@pytest.fixture(autouse=True)
def _doubles_folder(tmp_path: Path) -> Iterator[Path]:
    """`seqdoubles.FOLDER` is this test's `tmp_path` while it runs, and unset after."""
    seqdoubles.FOLDER = tmp_path
    try:
        yield tmp_path
    finally:
        seqdoubles.FOLDER = None
