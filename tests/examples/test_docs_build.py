"""The Sphinx documentation builds with warnings treated as errors.

Needs Sphinx in the test environment (it is deliberately not skipped when missing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.timeout(600)  # sphinx-build's own limit is 300 s; let it report first
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """`sphinx-build -W -b html docs` succeeds: every page, cross-reference, literalinclude of an
    example and autodoc'd public module resolves (a broken one is a warning, hence a failure)."""
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "index.html").is_file()
    api = (tmp_path / "html" / "api.html").read_text()
    # Used on the concepts page: in the reference too (issue 28, item 7).
    for method in ("NumberVector.getfloatvalue", "NumberVector.getformattedvalue"):
        assert f'id="indipydriver.{method}"' in api, method
    # The Alpaca guide is one page with both directions (issue 59, item 7).
    alpaca = (tmp_path / "html" / "alpaca.html").read_text()
    for title in ("Your INDI devices in NINA and other Alpaca programs", "Alpaca devices in Ekos"):
        assert title in alpaca, title
