"""Tonight's dark library (`NightLibrary`), and the plan's darks (the pure
`plan.darknight`: `with_library_darks`, `tonight_plan`, `LIBRARY_TARGET`, `LIBRARY_COUNT`,
named here too for the agent's rooms that read them beside the library)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..plan.darknight import LIBRARY_COUNT
from ..plan.darknight import LIBRARY_TARGET
from ..plan.darknight import tonight_plan
from ..plan.darknight import with_library_darks
from .library import DarkLibrary

__all__ = ["LIBRARY_COUNT", "LIBRARY_TARGET", "NightLibrary", "tonight_plan",
           "with_library_darks"]


@dataclass(frozen=True)
class NightLibrary:
    """The night's dark library and the folder its frames are saved in (where the lights'
    temperatures are read, and the darks taken are kept from)."""

    library: DarkLibrary
    folder: Path
