"""Byte-compile the repository once before the suite runs, instead of in every process.

``scripts/run-tests`` runs this before pytest. Without it, each of the eight pytest-xdist
workers compiles every module it imports and rewrites the asserts of every test module it
collects (pytest's assertion rewriting; measured: a worker's collection takes 15.6 s of CPU
cold, 4.9 s after this), all eight at once on two cores; and every Python process a test
starts (our server, the agents, the simulators, ``gsc`` for indilib's CCD simulator) compiles
the sources it imports, since the project is installed editable, so pip compiled none. Where
``PYTHONDONTWRITEBYTECODE`` is set (this environment sets it), nothing compiled is ever kept,
so every run pays all of it again.

Here, with ``PYTHONDONTWRITEBYTECODE`` left out: ``compileall`` writes the ``.pyc`` of the
packages and of the helper, bench, example and script modules (up-to-date files are only
checked), then ``pytest --collect-only`` on those of the test files the run will collect
whose rewritten ``.pyc`` is missing or not of the file as it is (none: no pytest started), in
two processes at once (one a core), writes pytest's rewritten ``.pyc`` of each test module
and conftest. Python and pytest read a ``.pyc`` whatever ``PYTHONDONTWRITEBYTECODE`` says, so the
workers and every process after them import compiled code. Nothing here can fail the run: a
module that does not compile or collect is reported by the run itself.

    python scripts/warm_bytecode.py [pytest args...]   # the paths among them, else tests/
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The folders of modules imported as they are (not rewritten by pytest), besides the packages.
PLAIN = ("tests", "bench", "examples", "scripts")
#: pytest's test files (its default python_files) and conftests: rewritten when collected.
TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
#: How many collecting processes (the machines of this project have two cores).
PROCESSES = 2
#: Seconds a collecting process may take (cold, about 30 s on a loaded two-core machine).
COLLECT_TIMEOUT = 300


def packages(root: Path = REPO) -> list[Path]:
    """The top-level folders of `root` that hold an ``__init__.py``."""
    return sorted(path.parent for path in root.glob("*/__init__.py"))


def compile_plain() -> None:
    """The ``.pyc`` of every module that is imported without rewriting."""
    for folder in [*packages(), *(REPO / name for name in PLAIN)]:
        if folder.is_dir():
            compileall.compile_dir(folder, quiet=2, rx=TEST_FILE if folder.name == "tests"
                                   else None, workers=1)


def test_files(args: list[str]) -> list[Path]:
    """The test files under the paths among `args` that lie in tests/ (a node id counts by
    its file; an option's value that names some other folder is not a test path), or under
    tests/ when none is given."""
    tests = REPO / "tests"
    given = [(REPO / arg.split("::", 1)[0]).resolve() for arg in args if not arg.startswith("-")]
    roots = [path for path in given if path.exists()
             and (path == tests or path.is_relative_to(tests))] or [tests]
    found: set[Path] = set()
    for root in roots:
        candidates = [root] if root.is_file() else root.rglob("*.py")
        found.update(path.resolve() for path in candidates
                     if TEST_FILE.search(path.as_posix()) and path.name != "conftest.py")
    return sorted(found)


def rewritten(path: Path) -> Path:
    """Where pytest keeps `path`'s rewritten ``.pyc`` (its name as pytest 8 and 9 give it;
    should that change, every file looks stale and is collected: slower, never wrong)."""
    tag = f"{sys.implementation.cache_tag}-pytest-{version('pytest')}"
    return path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc"


def current(path: Path) -> bool:
    """Whether pytest's rewritten ``.pyc`` of `path` is there and of its source as it is: the
    source's hash in its header (pytest 9), or its mtime and size (before)."""
    try:
        header = rewritten(path).read_bytes()[:16]
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if header[4:8] == b"\x03\x00\x00\x00":
        return header[8:16] == importlib.util.source_hash(path.read_bytes())[:8]
    stat = path.stat()
    return header[8:16] == (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + \
        (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")


def stale(files: list[Path]) -> list[Path]:
    """Those of `files` whose rewritten ``.pyc``, or a conftest's above them, is not
    `current`."""
    folders = {folder for path in files for folder in path.parents}
    conftests = {folder for folder in folders
                 if (folder / "conftest.py").exists() and not current(folder / "conftest.py")}
    return [path for path in files
            if not current(path) or any(folder in conftests for folder in path.parents)]


def split(files: list[Path], parts: int) -> list[list[Path]]:
    """`files` in `parts` groups of about the same size in bytes (what rewriting costs)."""
    groups: list[list[Path]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(path)
        sizes[smallest] += path.stat().st_size
    return [sorted(group) for group in groups if group]


def rewrite_tests(files: list[Path]) -> None:
    """pytest's rewritten ``.pyc`` of `files` and their conftests, by collecting them."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    collecting = [subprocess.Popen(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *map(str, group)], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for group in split(files, PROCESSES)]
    for process in collecting:
        try:
            process.wait(timeout=COLLECT_TIMEOUT)
        except subprocess.TimeoutExpired:  # the run itself will say what hangs
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    compile_plain()
    files = stale(test_files(argv))
    if files:
        rewrite_tests(files)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
