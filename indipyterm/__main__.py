"""``python -m indipyterm``."""

from indipyterm.cli import main

main()
