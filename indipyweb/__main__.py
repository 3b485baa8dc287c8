"""``python -m indipyweb``: the same as the ``indipyweb`` command."""

import sys

from .cli import main

sys.exit(main())
