"""``python -m indipyconform``: the ``indipy-conform`` command."""

import sys

from .cli import main

sys.exit(main())
