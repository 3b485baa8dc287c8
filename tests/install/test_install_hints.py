"""Every install line the project prints or documents works from the clone (issue 70 item 3).

The toolkit is on no package index, so ``pip install "indipy-toolkit[alpaca]"`` fails for the
user who follows it. The server's errors for ``--alpaca`` and ``alpaca://``, the front ends'
missing-extra lines and the docs said so anyway. These tests read the shipped files for install
lines that name the distribution (rather than the clone, ``.``, or a built wheel), and check
that every extra a hint or a doc names is one ``pyproject.toml`` defines.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from indipycore.commandline import install_hint

REPO = Path(__file__).resolve().parents[2]
EXTRAS = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
             ["optional-dependencies"])

#: An install line naming the distribution as an index would have it (not a wheel file).
BY_NAME = re.compile(r"""pip3? install\b[^\n]*?(?<![./\w-])indipy[-_]toolkit(?![^\s"'\[]*\.whl)""",
                     re.IGNORECASE)
#: An extra named in an install line from the clone: ``".[web]"`` or ``.[redis,mqtt]``.
FROM_CLONE = re.compile(r"""pip3? install[^\n]*?["']?(?:-e\s+)?["']?\.\[([\w,]+)\]""")


def shipped_text_files() -> list[Path]:
    """The tracked files a user reads or runs: code, docs, examples, scripts (the changelog is
    history, and this test's own patterns are not hints)."""
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    keep = (".py", ".rst", ".md", ".txt", ".toml", ".sh", ".html")
    return [REPO / name for name in listed
            if name.endswith(keep) and name not in {"CHANGELOG.md",
                                                    "tests/install/test_install_hints.py"}]


def test_the_pattern_finds_a_hint_by_name_and_passes_the_clones_and_wheels() -> None:
    """The search can fail: a by-name line is caught, the clone's and a wheel's are not."""
    assert BY_NAME.search('pip install "indipy-toolkit[alpaca]"')
    assert BY_NAME.search("pip install indipy_toolkit")
    assert not BY_NAME.search('pip install ".[alpaca]"')
    assert not BY_NAME.search('pip install "./indipy_toolkit-0.1.0-py3-none-any.whl[term]"')
    assert not BY_NAME.search('pip install "indipy_toolkit-VERSION-py3-none-any.whl[web]"')


def test_no_shipped_file_tells_users_to_install_the_toolkit_by_name() -> None:
    """No code, doc or example says ``pip install indipy-toolkit[...]``: that fails for every
    user (the toolkit is on no index)."""
    found = []
    for path in shipped_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if BY_NAME.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_every_extra_a_doc_names_exists() -> None:
    """``pip install ".[name]"`` in a doc names an extra pyproject.toml defines (a typo there is
    an install line that fails)."""
    wrong = []
    for path in shipped_text_files():
        for extras in FROM_CLONE.findall(path.read_text(errors="replace")):
            wrong += [f"{path.relative_to(REPO)}: [{e}]" for e in extras.split(",")
                      if e not in EXTRAS]
    assert not wrong, wrong


def test_the_hint_names_the_clone_and_an_extra_that_exists() -> None:
    """The one hint every missing-extra message uses installs from the clone or a wheel."""
    hint = install_hint("alpaca")
    assert 'pip install ".[alpaca]"' in hint and not BY_NAME.search(hint)
    assert "alpaca" in EXTRAS

