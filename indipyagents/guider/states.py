"""The guider's states as pure code: where it stands (`AppState`, PHD2's words) and where a
calibration stands (`CalPhase`). The enums are ``str`` valued, so PHD2's wire text
(``get_app_state``, AppState, the Calibrating event's ``dir``) is the enum's value unchanged.

PAUSED is not a state the machine holds: it is PHD2's name for guiding or looping while the
machine's pause is on (`GuiderMachine.app_state`).
"""

from __future__ import annotations

import enum

__all__ = ["AppState", "CalPhase"]


class AppState(enum.StrEnum):
    """PHD2's application states (``get_app_state``)."""

    STOPPED = "Stopped"
    LOOPING = "Looping"
    CALIBRATING = "Calibrating"
    GUIDING = "Guiding"
    LOST_LOCK = "LostLock"
    PAUSED = "Paused"  # shown only (`GuiderMachine.app_state`), never held


class CalPhase(enum.StrEnum):
    """A calibration's legs, in order (PHD2's words in the Calibrating event)."""

    WEST = "West"
    EAST = "East"  # the way back, one pulse as long as the West leg
    BACKLASH = "Backlash"  # North pulses until the star moves (said as North)
    NORTH = "North"
    SOUTH = "South"  # the way back
