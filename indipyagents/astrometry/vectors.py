"""The Astrometry Agent's vectors: INDIGO's plate-solver agent's names, members and units
(its ``indigo_names.h``: the epoch member of AGENT_PLATESOLVER_HINTS and _WCS is named
``J2000``, 2000 for J2000 and 0 for JNow), then ours beside them.

INDIGO's: AGENT_PLATESOLVER_HINTS (RADIUS degrees, RA hours, DEC degrees, J2000, SCALE
arcsec/pixel, PARITY, DOWNSAMPLE, DEPTH, CPULIMIT seconds), AGENT_PLATESOLVER_WCS (read-only:
STATE, RA, DEC, J2000, ANGLE, WIDTH, HEIGHT, SCALE, PARITY, INDEX),
AGENT_PLATESOLVER_GOTO_SETTINGS (RA hours, DEC degrees, J2000),
AGENT_PLATESOLVER_EXPOSURE_SETTINGS (EXPOSURE), AGENT_PLATESOLVER_IMAGE (a BLOB IMAGE a
client uploads: solved as it arrives), AGENT_START_PROCESS (SOLVE, SYNC, CENTER,
PRECISE_GOTO, CALCULATE_PA_ERROR, RECALCULATE_PA_ERROR), AGENT_ABORT_PROCESS (ABORT),
AGENT_PLATESOLVER_PA_SETTINGS and AGENT_PLATESOLVER_PA_STATE; ACTIVE_DEVICES (ACTIVE_CCD,
ACTIVE_TELESCOPE) as indilib's agents choose their devices.

Ours: AGENT_PLATESOLVER_CENTERING (TOLERANCE arcsec, TRIES: INDIGO's CENTER makes one pass
and checks nothing), AGENT_PLATESOLVER_CENTERING_STATE (read-only: TRY, OFFSET, RA_OFFSET,
DEC_OFFSET arcsec) and AGENT_PLATESOLVER_INDEX_STATE (read-only text: the index files the
camera's field needs, those installed, those missing and their Debian packages).
"""

from __future__ import annotations

from indipyagents import defaults
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.members import BLOBMember
from indipydriver.vectors import BLOBVector
from indipydriver.vectors import PropertyVector

from ..agentrole import FaceVectors

__all__ = ["PROCESSES", "SAVED", "WCS_STATES", "AstrometryVectors", "make_vectors"]

MAIN = "Plate solver"
OPTIONS = "Options"

#: AGENT_START_PROCESS' members, INDIGO's order.
PROCESSES = ("SOLVE", "SYNC", "CENTER", "PRECISE_GOTO", "CALCULATE_PA_ERROR",
             "RECALCULATE_PA_ERROR")
#: AGENT_PLATESOLVER_WCS.STATE's values, by INDIGO's names of them.
WCS_STATES = {"IDLE": 0, "WAITING_FOR_IMAGE": 1, "SOLVING": 2, "SYNCING": 3,
              "CENTERING": 4, "DONE": 5}
#: What CONFIG_SAVE writes and the device takes at start.
SAVED = ("AGENT_PLATESOLVER_HINTS", "AGENT_PLATESOLVER_EXPOSURE_SETTINGS",
         "AGENT_PLATESOLVER_CENTERING", "AGENT_PLATESOLVER_PA_SETTINGS", "ACTIVE_DEVICES")


def _numbers(name: str, label: str, group: str, perm: str,
             members: list[tuple[str, str, str, float, float, float, float]]) -> NumberVector:
    vector = NumberVector(name, label, group, perm, "Idle", [
        NumberMember(member, text, fmt, low, high, step, value)
        for member, text, fmt, low, high, step, value in members])
    vector.timeout = "60"
    return vector


class AstrometryVectors(FaceVectors):
    """One face's vectors, each made afresh and typed by what it is; ACTIVE_DEVICES names
    `ccd` and `telescope` at first."""

    def __init__(self, ccd: str = defaults.CAMERA,
                 telescope: str = defaults.MOUNT) -> None:
        self.hints = _numbers("AGENT_PLATESOLVER_HINTS", "Hints", MAIN, "rw", [
            ("RADIUS", "Search radius (deg, 0 = blind)", "%m", 0, 360, 1, 2.0),
            ("RA", "RA (h)", "%m", 0, 24, 1, 0.0),
            ("DEC", "Dec (deg)", "%m", -90, 90, 1, 0.0),
            ("J2000", "J2000 (2000) or JNow (0)", "%g", 0, 2050, 0, 2000.0),
            ("SCALE", "Pixel scale (arcsec/px, 0 = from the camera)", "%g", 0, 3600, 0.1, 0),
            ("PARITY", "Parity (-1, 0, 1)", "%g", -1, 1, 1, 0),
            ("DOWNSAMPLE", "Downsample", "%g", 0, 16, 1, 0),
            ("DEPTH", "Depth (0 = default)", "%g", 0, 1000, 10, 0),
            ("CPULIMIT", "Time limit (s)", "%g", 1, 3600, 10, 60)])
        self.wcs = _numbers("AGENT_PLATESOLVER_WCS", "WCS solution", MAIN, "ro", [
            ("STATE", "State", "%g", 0, 10, 1, 0),
            ("RA", "Frame centre RA (h)", "%m", 0, 24, 0, 0),
            ("DEC", "Frame centre Dec (deg)", "%m", -90, 90, 0, 0),
            ("J2000", "J2000 (2000) or JNow (0)", "%g", 0, 2050, 0, 2000),
            ("ANGLE", "Rotation (deg E of N)", "%.3f", -360, 360, 0, 0),
            ("WIDTH", "Frame width (deg)", "%.4f", 0, 360, 0, 0),
            ("HEIGHT", "Frame height (deg)", "%.4f", 0, 360, 0, 0),
            ("SCALE", "Pixel scale (arcsec/px)", "%.4f", 0, 3600, 0, 0),
            ("PARITY", "Parity (1 normal, -1 flipped)", "%g", -1, 1, 0, 0),
            ("INDEX", "Index used", "%g", 0, 10000, 0, 0)])
        self.goto = _numbers("AGENT_PLATESOLVER_GOTO_SETTINGS", "Precise goto", MAIN, "rw", [
            ("RA", "RA (h, J2000)", "%m", 0, 24, 1, 0.0),
            ("DEC", "Dec (deg, J2000)", "%m", -90, 90, 1, 0.0)])
        self.exposure = _numbers("AGENT_PLATESOLVER_EXPOSURE_SETTINGS", "Exposure", MAIN,
                                 "rw", [
            ("EXPOSURE", "Exposure (s)", "%g", 0, 3600, 1, 2.0)])
        self.centring = _numbers("AGENT_PLATESOLVER_CENTERING", "Centring", MAIN, "rw", [
            ("TOLERANCE", "Tolerance (arcsec)", "%g", 1, 36000, 5, 30.0),
            ("TRIES", "Tries", "%g", 1, 50, 1, 5)])
        self.centring_state = _numbers("AGENT_PLATESOLVER_CENTERING_STATE", "Centring state",
                                       MAIN, "ro", [
            ("TRY", "Try", "%g", 0, 50, 1, 0),
            ("OFFSET", "Off the target (arcsec)", "%.1f", 0, 1e6, 0, 0),
            ("RA_OFFSET", "RA offset (arcsec)", "%.1f", -1e6, 1e6, 0, 0),
            ("DEC_OFFSET", "Dec offset (arcsec)", "%.1f", -1e6, 1e6, 0, 0)])
        self.image = BLOBVector("AGENT_PLATESOLVER_IMAGE", "Image", MAIN, "rw", "Idle", [
            BLOBMember("IMAGE", "Image")])
        self.start = SwitchVector("AGENT_START_PROCESS", "Start", MAIN, "rw", "AtMostOne",
                                  "Idle", [
            SwitchMember(name, name.replace("_", " ").capitalize(), "Off")
            for name in PROCESSES])
        self.abort = SwitchVector("AGENT_ABORT_PROCESS", "Abort", MAIN, "rw", "AtMostOne",
                                  "Idle", [
            SwitchMember("ABORT", "Abort", "Off")])
        self.pa_settings = _numbers("AGENT_PLATESOLVER_PA_SETTINGS", "Polar alignment settings",
                                    MAIN, "rw", [
            ("EXPOSURE", "Exposure (s)", "%g", 0, 3600, 1, 2.0),
            ("HA_MOVE", "Hour angle move (deg)", "%m", -50, 50, 5, 20.0),
            ("COMPENSATE_REFRACTION", "Compensate refraction (1/0)", "%.0f", 0, 1, 1, 0)])
        self.pa_state = _numbers("AGENT_PLATESOLVER_PA_STATE", "Polar alignment state", MAIN,
                                 "ro", [
            ("STATE", "Polar alignment state", "%g", 0, 10, 0, 0),
            ("DEC_DRIFT_2", "Declination drift at point 2 (deg)", "%m", -45, 45, 0, 0),
            ("DEC_DRIFT_3", "Declination drift at point 3 (deg)", "%m", -45, 45, 0, 0),
            ("TARGET_RA", "Target position RA (h)", "%m", 0, 24, 0, 0),
            ("TARGET_DEC", "Target position DEC (deg)", "%m", -90, 90, 0, 0),
            ("CURRENT_RA", "Current position RA (h)", "%m", 0, 24, 0, 0),
            ("CURRENT_DEC", "Current position DEC (deg)", "%m", -90, 90, 0, 0),
            ("ALT_POLAR_ERROR", "Altitude error (deg)", "%m", -45, 45, 0, 0),
            ("AZ_POLAR_ERROR", "Azimuth error (deg)", "%m", -45, 45, 0, 0),
            ("POLAR_ERROR", "Polar error (deg)", "%m", -45, 45, 0, 0),
            ("ALT_CORRECTION_UP", "Altitude correction (1=Up/0=Down)", "%.0f", 0, 1, 0, 0),
            ("AZ_CORRECTION_CW", "Azimuth correction (1=C.W./0=C.C.W.)", "%.0f", 0, 1, 0, 0)])
        self.index_state = TextVector("AGENT_PLATESOLVER_INDEX_STATE", "Index files", MAIN, "ro",
                                      "Idle", [
            TextMember("NEEDED", "Needed by the field", ""),
            TextMember("INSTALLED", "Installed", ""),
            TextMember("MISSING", "Missing (Debian packages)", "")])
        self.active = TextVector("ACTIVE_DEVICES", "Active devices", OPTIONS, "rw", "Idle", [
            TextMember("ACTIVE_CCD", "Camera", ccd),
            TextMember("ACTIVE_TELESCOPE", "Telescope", telescope)])


def make_vectors(ccd: str = defaults.CAMERA,
                 telescope: str = defaults.MOUNT) -> dict[str, PropertyVector]:
    """Every vector by name; ACTIVE_DEVICES names `ccd` and `telescope` at first."""
    return AstrometryVectors(ccd, telescope).by_name()
