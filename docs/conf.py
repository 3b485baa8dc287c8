"""Sphinx configuration for the indipy toolkit documentation.

Build with ``sphinx-build -W -b html docs docs/_build`` (warnings are errors; the test
``tests/examples/test_docs_build.py`` runs exactly that into a temporary directory).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Build from a source checkout without installing: the packages live one level up.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "indipy toolkit"
author = "the indipy toolkit authors"
copyright = "2025, the indipy toolkit authors"
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Autodoc: document what a user imports; keep signatures readable.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
# gpiozero is an optional extra used only by an example; never needed to build the docs.
autodoc_mock_imports = ["gpiozero"]
# Type hints name private or forward-referenced classes that autodoc cannot resolve; such a
# reference is not a documentation error for this project.
nitpicky = False

html_theme = "alabaster"
html_theme_options = {
    "description": "INDI drivers and servers in pure Python",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []
