"""Calibration frames a night's lights are calibrated with (issue 92 items 4 and 5): what a
frame is, read from its FITS header (`facts`); which darks, flats and bias go with which
lights (`matching`, written beside the night as ``calibration.json`` by `sheet`); and the
library of darks kept across nights (`library`), which says what tonight's lights lack.
"""

from __future__ import annotations

from .facts import FrameFacts
from .facts import Setting
from .library import DarkLibrary
from .library import DarkNeed

__all__ = ["DarkLibrary", "DarkNeed", "FrameFacts", "Setting"]
