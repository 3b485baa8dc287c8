"""The guider's states as pure code: where it stands (`AppState`, PHD2's words), where a
calibration stands (`CalPhase`), what moves it (`Move`) and `TABLE`, every move in one place,
as the sequencer's ``control.py``. `GuiderMachine` (``machine.py``) decides which move a
command or a frame is, and follows the table; a move a state has no row for is refused
(`NoMove`): a command says so to its caller (PHD2's error code 1), a frame never meets one.

The enums are ``str`` valued, so PHD2's wire text (``get_app_state``, AppState, the
Calibrating event's ``dir``) is the enum's value unchanged.

Rules the table keeps (tests/agents/guider/test_guider_states.py, with hypothesis):

- STOP stops: every state held has a STOP row to STOPPED.
- A lost star is never guided on blind: STAR_LOST leads to LOST_LOCK, and only STAR_FOUND (a
  frame whose star was measured near the lock) leads back to GUIDING.
- A guide request is taken while not calibrating; a dither only while guiding (or lost).

PAUSED is not a state the machine holds: it is PHD2's name for guiding or looping while the
machine's pause is on (`app_state`).
"""

from __future__ import annotations

import enum

__all__ = ["HELD", "TABLE", "AppState", "CalPhase", "Move", "NoMove", "moved"]


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


class Move(enum.Enum):
    LOOP = "loop"                      # a client's loop
    GUIDE = "guide"                    # a guide request: looping until a star is chosen
    SETTLE = "settle"                  # a guide while guiding: only a new settle
    DITHER = "dither"
    STOP = "stop"
    CALIBRATE = "calibrate"            # a guide star chosen, no calibration kept
    CALIBRATION_FAILED = "calibration failed"
    START_GUIDING = "start guiding"    # a guide star chosen and calibrated
    STAR_LOST = "star lost"            # a guide frame without the star near the lock
    STAR_FOUND = "star found"          # a guide frame with it


#: Every move: state -> move -> next state. A move not in a state's row is refused.
TABLE: dict[AppState, dict[Move, AppState]] = {
    AppState.STOPPED: {Move.LOOP: AppState.LOOPING, Move.GUIDE: AppState.LOOPING,
                       Move.STOP: AppState.STOPPED},
    AppState.LOOPING: {Move.LOOP: AppState.LOOPING, Move.GUIDE: AppState.LOOPING,
                       Move.STOP: AppState.STOPPED, Move.CALIBRATE: AppState.CALIBRATING,
                       Move.START_GUIDING: AppState.GUIDING},
    AppState.CALIBRATING: {Move.LOOP: AppState.CALIBRATING, Move.STOP: AppState.STOPPED,
                           Move.CALIBRATION_FAILED: AppState.LOOPING,
                           Move.START_GUIDING: AppState.GUIDING},
    AppState.GUIDING: {Move.LOOP: AppState.GUIDING, Move.GUIDE: AppState.LOOPING,
                       Move.SETTLE: AppState.GUIDING, Move.DITHER: AppState.GUIDING,
                       Move.STOP: AppState.STOPPED, Move.STAR_LOST: AppState.LOST_LOCK,
                       Move.STAR_FOUND: AppState.GUIDING},
    AppState.LOST_LOCK: {Move.LOOP: AppState.LOST_LOCK, Move.GUIDE: AppState.LOOPING,
                         Move.SETTLE: AppState.LOST_LOCK, Move.DITHER: AppState.LOST_LOCK,
                         Move.STOP: AppState.STOPPED, Move.STAR_LOST: AppState.LOST_LOCK,
                         Move.STAR_FOUND: AppState.GUIDING},
}

#: The states the machine holds (PAUSED is only shown).
HELD = frozenset(TABLE)


class NoMove(Exception):
    """A move the state has no row for."""


def moved(state: AppState, move: Move) -> AppState:
    """The state after `move` (the table's row); `NoMove` when it has none."""
    after = TABLE.get(state, {}).get(move)
    if after is None:
        raise NoMove(f"{move.value} while {state.value}")
    return after
