"""The Guider Agent's vectors, INDIGO's guider agent's names where it has them: ACTIVE_DEVICES
(ACTIVE_CCD, ACTIVE_TELESCOPE: the guide camera and the mount; ACTIVE_GUIDER: the device whose
TELESCOPE_TIMED_GUIDE_NS/WE take the pulses, empty for the mount, a camera's name for its ST4
port: INDIGO's agent picks it from FILTER_GUIDER_LIST, PHD2 calls it "on-camera ST4"),
AGENT_START_PROCESS (CALIBRATION, GUIDING), AGENT_ABORT_PROCESS, AGENT_GUIDER_SETTINGS
(EXPOSURE, STEP, MIN_CALIBRATION_DRIFT, MAX_CALIBRATION_STEPS, MIN_BL_DRIFT, MAX_BL_STEPS,
AGGRESSIVITY_RA/DEC %, I_GAIN_RA/DEC, STACK, MIN_ERROR, MIN_PULSE, MAX_PULSE; and PHD2's
HYSTERESIS %; FLIP_REVERSES_DEC: INDIGO's AGENT_GUIDER_FLIP_REVERSES_DEC as a number),
AGENT_GUIDER_DITHER_SETTINGS (AMOUNT px, RA_ONLY, SETTLE_PIXELS, SETTLE_TIME, SETTLE_TIMEOUT:
PHD2's settle), AGENT_GUIDER_DITHER (DITHER), AGENT_GUIDER_STATS (FRAME,
DRIFT_X, DRIFT_Y, RMSE_RA, RMSE_DEC, RMSE_DITHERING, SNR; pixels of the guide frames; and
PIXEL_SCALE, their arcseconds a pixel at the frames' binning, 0 unknown: PHD2's
get_pixel_scale, so a client turns the pixels into arcseconds), AGENT_GUIDER_STATE (PHD2's
state name), AGENT_GUIDER_PHD2 (PORT, 0 when off) and AGENT_LAST_FRAME (the last guide frame,
as the sequencer's).
"""

from __future__ import annotations

from indipydriver import BLOBVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.members import BLOBMember
from indipydriver.vectors import PropertyVector

from ..agentrole import FaceVectors

__all__ = ["SAVED", "SETTINGS", "GuiderVectors", "make_vectors"]

MAIN = "Main Control"
OPTIONS = "Options"
STATS = "Statistics"

#: AGENT_GUIDER_SETTINGS: (name, label, format, min, max, step, default).
SETTINGS = (
    ("EXPOSURE", "Exposure (s)", "%.2f", 0.01, 60, 0.1, 2.0),
    ("STEP", "Calibration step (s, 0: from the guide rate)", "%.2f", 0, 5, 0.05, 0.0),
    ("MIN_CALIBRATION_DRIFT", "Min calibration drift (px)", "%.1f", 2, 50, 1, 12.0),
    ("MAX_CALIBRATION_STEPS", "Max calibration steps", "%.f", 3, 60, 1, 20.0),
    ("MIN_BL_DRIFT", "Min clear backlash drift (px)", "%.1f", 0, 15, 0.5, 2.0),
    ("MAX_BL_STEPS", "Max clear backlash steps", "%.f", 0, 50, 1, 10.0),
    ("AGGRESSIVITY_RA", "RA aggressivity (%)", "%.f", 0, 200, 5, 70.0),
    ("AGGRESSIVITY_DEC", "Dec aggressivity (%)", "%.f", 0, 200, 5, 70.0),
    ("I_GAIN_RA", "RA integral gain", "%.2f", 0, 10, 0.05, 0.1),
    ("I_GAIN_DEC", "Dec integral gain", "%.2f", 0, 10, 0.05, 0.1),
    ("STACK", "Integral stack (frames)", "%.f", 1, 50, 1, 10.0),
    ("HYSTERESIS", "Hysteresis (%)", "%.f", 0, 90, 5, 10.0),
    ("MIN_ERROR", "Min error (px)", "%.2f", 0, 5, 0.05, 0.15),
    ("MIN_PULSE", "Min pulse (s)", "%.3f", 0, 1, 0.01, 0.02),
    ("MAX_PULSE", "Max pulse (s)", "%.2f", 0.05, 5, 0.05, 1.5),
    ("FLIP_REVERSES_DEC", "A flip reverses Dec too (1) or RA only (0)", "%.f", 0, 1, 1, 1.0),
)

#: What CONFIG_SAVE writes.
SAVED = ("ACTIVE_DEVICES", "AGENT_GUIDER_SETTINGS", "AGENT_GUIDER_DITHER_SETTINGS")


def _numbers(name: str, label: str, group: str, perm: str,
             rows: tuple[tuple[str, str, str, float, float, float, float], ...]) -> NumberVector:
    return NumberVector(name, label, group, perm, "Idle", [
        NumberMember(member, text, fmt, low, high, step, value)
        for member, text, fmt, low, high, step, value in rows])


def _switches(name: str, label: str, rows: tuple[tuple[str, str], ...]) -> SwitchVector:
    """A command switch of the main group: at most one member On, each Off at first."""
    return SwitchVector(name, label, MAIN, "rw", "AtMostOne", "Idle", [
        SwitchMember(member, text, "Off") for member, text in rows])


class GuiderVectors(FaceVectors):
    """One face's vectors, each made afresh and typed by what it is; `camera` and `mount`
    ACTIVE_DEVICES' first names."""

    def __init__(self, camera: str, mount: str) -> None:
        self.active = TextVector("ACTIVE_DEVICES", "Active devices", OPTIONS, "rw", "Idle", [
            TextMember("ACTIVE_CCD", "Guide camera", camera),
            TextMember("ACTIVE_TELESCOPE", "Mount", mount),
            TextMember("ACTIVE_GUIDER", "Guide pulses to (empty: the mount)", "")])
        self.start = _switches("AGENT_START_PROCESS", "Start", (
            ("CALIBRATION", "Calibrate and guide"), ("GUIDING", "Guide")))
        self.abort = _switches("AGENT_ABORT_PROCESS", "Abort", (("ABORT", "Abort"),))
        self.settings = _numbers("AGENT_GUIDER_SETTINGS", "Settings", OPTIONS, "rw", SETTINGS)
        self.dithering = _numbers("AGENT_GUIDER_DITHER_SETTINGS", "Dithering", OPTIONS, "rw", (
            ("AMOUNT", "Amount (px)", "%.1f", 0, 15, 0.5, 3.0),
            ("RA_ONLY", "RA only (1) or both axes (0)", "%.f", 0, 1, 1, 0.0),
            ("SETTLE_PIXELS", "Settle within (px)", "%.2f", 0.1, 10, 0.1, 1.5),
            ("SETTLE_TIME", "Settled for (s)", "%.f", 0, 120, 1, 8.0),
            ("SETTLE_TIMEOUT", "Give up after (s)", "%.f", 1, 600, 1, 40.0)))
        self.dither_now = _switches("AGENT_GUIDER_DITHER", "Dither", (("DITHER", "Dither now"),))
        # the state first: a page shows a group in this order, and the state is what is
        # looked at (a phone's first screen: Guiding or LostLock, then the RMS)
        self.state = TextVector("AGENT_GUIDER_STATE", "State", STATS, "ro", "Idle", [
            TextMember("STATE", "PHD2 state", "Stopped")])
        self.stats = _numbers("AGENT_GUIDER_STATS", "Statistics", STATS, "ro", (
            ("FRAME", "Frame", "%.f", 0, 1e9, 1, 0.0),
            ("DRIFT_X", "Drift X (px)", "%.2f", -1e4, 1e4, 0, 0.0),
            ("DRIFT_Y", "Drift Y (px)", "%.2f", -1e4, 1e4, 0, 0.0),
            ("RMSE_RA", "RMSE RA (px)", "%.3f", 0, 1e4, 0, 0.0),
            ("RMSE_DEC", "RMSE Dec (px)", "%.3f", 0, 1e4, 0, 0.0),
            ("RMSE_DITHERING", "RMSE since dither (px)", "%.3f", 0, 1e4, 0, 0.0),
            ("SNR", "SNR", "%.1f", 0, 1e6, 0, 0.0),
            ("PIXEL_SCALE", "Scale (\"/px)", "%.3f", 0, 3600, 0, 0.0)))
        self.phd2 = _numbers("AGENT_GUIDER_PHD2", "PHD2 server", OPTIONS, "ro", (
            ("PORT", "TCP port (0: off)", "%.f", 0, 65535, 1, 0.0),))
        self.last_frame = BLOBVector("AGENT_LAST_FRAME", "Last guide frame", STATS, "ro", "Idle",
                                     [BLOBMember("FRAME", "Frame")])


def make_vectors(camera: str, mount: str) -> dict[str, PropertyVector]:
    """Every vector by name; `camera` and `mount` ACTIVE_DEVICES' first names."""
    return GuiderVectors(camera, mount).by_name()
