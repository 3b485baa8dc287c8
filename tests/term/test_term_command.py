"""The ``indipyterm`` command line: bernie-skipole's options and what they become."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indipyterm.cli import parse_args


def test_defaults_are_localhost_7624_and_no_blob_folder() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.blobfolder) == ("localhost", 7624, None)


def test_blob_folder_is_created_and_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = parse_args(["--host", "pi.local", "--port", "7625", "--blobfolder", "images/today"])
    assert (args.host, args.port) == ("pi.local", 7625)
    assert args.blobfolder == (tmp_path / "images" / "today").resolve()
    assert args.blobfolder.is_dir()


def test_a_port_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--port", "99999"])
    assert stopped.value.code == 2
    assert "--port must be 1..65535" in capsys.readouterr().err


def test_python_dash_m_prints_the_version() -> None:
    done = subprocess.run([sys.executable, "-m", "indipyterm", "--version"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("indipyterm "), done
