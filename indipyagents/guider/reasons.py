"""Every reason the guider gives for not guiding, in one table (`Reason`): its text, said in
PHD2's CalibrationFailed/StarLost/Alert, AGENT_START_PROCESS's message and the log, and what
to do about it. The guide's "When it cannot guide" lists them all (a test reads both), so a
user meeting one finds it there.

A reason's `text` is fixed (the docs quote it); `said` appends a detail (numbers, a device)
and what to do.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Reason", "said"]


class Reason(Enum):
    """(text, what to do) for each reason the guider can give."""

    NO_FRAME = ("the frame could not be read",
                "check the guide camera's connection and driver")
    NO_STAR = ("no star in the frame",
               "clouds, a cap, or a guide exposure too short: lengthen EXPOSURE")
    AT_EDGE = ("every star is too near the edge of the frame",
               "move the mount a few arcminutes")
    SATURATED = ("every star saturates", "shorten EXPOSURE")
    FAINT = ("no star bright enough (SNR under 8)", "lengthen EXPOSURE")
    SLEWED = ("the mount slewed", "guide again once the mount is still")
    SLEWED_CALIBRATING = ("the mount slewed during calibration",
                          "calibrate again once the mount is still")
    LOST_CALIBRATING = ("the star was lost during calibration",
                        "calibrating again on the next best star")
    LOST_NO_OTHER = ("the star was lost during calibration and no other star remains",
                     "clouds, or stars near the edge: point a few arcminutes away, "
                     "lengthen EXPOSURE, or lower MIN_CALIBRATION_DRIFT")
    RA_DID_NOT_MOVE = ("RA calibration failed: the star did not move enough",
                       "does the mount take pulses? check ACTIVE_DEVICES and the ST4 cable")
    DEC_DID_NOT_MOVE = ("Dec calibration failed: the star did not move enough",
                        "raise STEP or MAX_CALIBRATION_STEPS; check the Dec clutch holds")
    PULSE_REFUSED = ("refused a guide pulse",
                     "see the mount's own message; a parked mount is unparked first")
    PARKED = ("is parked: guiding stopped", "unpark the mount and guide again")
    STAR_LOST = ("the guide star is not within",
                 "clouds or a slew: the guider looks for it again near where it was")

    @property
    def text(self) -> str:
        return self.value[0]

    @property
    def todo(self) -> str:
        return self.value[1]


def said(reason: Reason, detail: str = "", before: str = "") -> str:
    """`reason`'s text, `before` and `detail` around it, then what to do (in parentheses)."""
    return f"{before}{reason.text}{detail} ({reason.todo})"
