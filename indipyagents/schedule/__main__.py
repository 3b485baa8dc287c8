"""``python -m indipyagents.schedule``: the command ``indipy-schedule``."""

import sys

from .cli import main

sys.exit(main())
