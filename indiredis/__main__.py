"""``python -m indiredis``: see ``indiredis.cli``."""

import sys

from .cli import main

sys.exit(main())
