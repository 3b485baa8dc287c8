"""``python -m indipyclient.frontends.conform``: the ``indipy-conform`` command."""

import sys

from .cli import main

sys.exit(main())
