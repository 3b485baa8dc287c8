"""``python -m indipyclient.conform``: the ``indipy-conform`` command."""

import sys

from .cli import main

sys.exit(main())
