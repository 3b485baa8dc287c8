"""The old path of ``indipy_agent_imager`` (``python -m indipyagents.imager.main``, and a
console script installed before the assembly moved): the command line is
``indipyagents.imageragent.main``."""

from __future__ import annotations

from ..imageragent.main import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
