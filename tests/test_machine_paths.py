"""No file of the tree names a path of one particular machine.

A benchmark note, a doc or a test that names the folder it was written in (a checkout under a
build machine's work folder, a developer's home folder) is wrong on every other machine and
tells a reader about somebody's disk. Generic examples stay allowed: ``/home/pi`` (the
Raspberry Pi's default user, in the Pi guide), ``/home/me``, ``/Users/me`` and the like.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Spelt in pieces so that this file does not match itself.
_WORK = "/" + "work/"
_ROOT = "/" + "root/"
# A user's home folder on Linux or macOS, and the user's name in it.
_HOME = re.compile(r"/(?:home|Users)/([A-Za-z0-9_.-]+)")
# Names that stand for "the reader" in examples, not for one machine's user.
GENERIC_USERS = frozenset({"pi", "me", "you", "user", "username", "USER", "USERNAME", "name",
                           "Shared"})
_SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "build", "dist", "__pycache__",
                           ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"})


def _tracked_files() -> list[Path]:
    """The files git tracks; in a tree without git (an unpacked sdist), every file but caches."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                                timeout=60, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [path for path in REPO.rglob("*") if path.is_file()
                and not _SKIPPED_DIRS & set(path.relative_to(REPO).parts)
                and not any(part.endswith(".egg-info") for part in path.parts)]
    return [REPO / name for name in listed.decode().split("\0") if name]


def machine_paths(text: str) -> list[str]:
    """The machine-specific paths `text` names."""
    found = [match.group(0) for match in re.finditer(re.escape(_WORK) + r"\S*", text)]
    found += [match.group(0) for match in re.finditer(re.escape(_ROOT) + r"\S*", text)]
    found += [match.group(0) for match in _HOME.finditer(text)
              if match.group(1) not in GENERIC_USERS]
    return found


def test_the_rule_finds_what_it_must_and_lets_generic_examples_be() -> None:
    """The check itself: a work folder, root's and a named user's home are found; the Pi's
    default user and ``/home/me`` in an example are not, nor ``/tmp`` or a URL path."""
    assert machine_paths("ran from `" + _WORK + "main`") == [_WORK + "main`"]
    assert machine_paths("see /home/alice/src and /Users/bob/x") == ["/home/alice",
                                                                    "/Users/bob"]
    assert machine_paths("cd " + _ROOT + "indi") == [_ROOT + "indi"]
    assert machine_paths("/home/pi/indipy-toolkit, /home/me/blobs, /tmp/x, "
                         "http://host/homework/x") == []


def test_no_tracked_file_names_a_path_of_one_machine() -> None:
    """Every tracked text file (docs, benchmarks' results, code, tests, data) is free of
    machine-specific absolute paths."""
    offenders: list[str] = []
    for path in _tracked_files():
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary data (pictures, FITS) names no path a reader would follow
        for lineno, line in enumerate(text.splitlines(), 1):
            for found in machine_paths(line):
                offenders.append(f"{path.relative_to(REPO)}:{lineno}: {found}")
    assert not offenders, "machine-specific paths:\n" + "\n".join(offenders)
