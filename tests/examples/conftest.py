"""Fixtures for the example tests; the helpers themselves are in example_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"
for folder in (HERE, EXAMPLES):
    # The examples are scripts, not a package: import them from their folder, as a user would.
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
