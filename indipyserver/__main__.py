"""``python -m indipyserver``: the same as the ``indipyserver`` command."""

import sys

from indipyserver.cli import main

if __name__ == "__main__":
    sys.exit(main())
