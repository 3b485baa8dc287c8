"""The vectors of indilib 1.9.9's ``indi_imager_agent``, as it defines them (names, labels,
groups, permissions, number formats and limits, switch rules), measured with indi_getprop.

Defined from the start: GROUPS, DEVICES, IMAGE_NAME and GROUP_01..GROUP_nn (one a group);
on CONNECT: STATUS, PROGRESS, BATCH, DOWNLOAD, IMAGE.
"""

from __future__ import annotations

from typing import TypeVar

from indipyagents import defaults
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.vectors import PropertyVector

from ..agentrole import FaceVectors

__all__ = ["MAX_GROUPS", "ImagerVectors", "group_name", "group_vector", "make_vectors"]

MAIN = "Main Control"
OPTIONS = "Options"
DOWNLOADS = "Download images"
#: GROUP_COUNT's maximum, as indilib's.
MAX_GROUPS = 16
DEFAULT_CCD = defaults.CAMERA
DEFAULT_FILTER = defaults.WHEEL
#: Beyond indilib's DEVICES (CCD, FILTER): the focuser autofocus drives and the mount a plan
#: slews, indilib's simulators by default.
DEFAULT_FOCUSER = defaults.FOCUSER
DEFAULT_MOUNT = defaults.MOUNT
#: The plate-solver agent (INDIGO's name) a client finds beside the imager.
DEFAULT_ASTROMETRY = "Astrometry Agent"


_V = TypeVar("_V", bound=PropertyVector)


def _timed(vector: _V) -> _V:
    vector.timeout = "60"
    return vector


def group_name(group: int) -> str:
    """GROUP_01... for group 1...: two digits, as indilib's."""
    return f"GROUP_{group:02d}"


def group_vector(group: int) -> NumberVector:
    """One group's settings: count, binning, filter slot (0: leave the wheel), exposure."""
    vector = NumberVector(
        group_name(group), "Image group settings", f"Image group {group}", "rw", "Idle", [
            NumberMember("IMAGE_COUNT", "Image count", "%3.0f", 1, 100, 1, 1),
            NumberMember("CCD_BINNING", "Binning", "%1.0f", 1, 4, 1, 1),
            NumberMember("FILTER_SLOT", "Filter", "%2.f", 0, 12, 1, 0),
            NumberMember("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", 0, 36000, 0, 1)])
    vector.timeout = "60"
    return vector


class ImagerVectors(FaceVectors):
    """The face's vectors but the groups', each made afresh and typed by what it is, in
    indilib's order."""

    def __init__(self) -> None:
        self.groups = _timed(NumberVector("GROUPS", "Image groups", MAIN, "rw", "Idle", [
            NumberMember("GROUP_COUNT", "Image group count", "%3.0f", 1, MAX_GROUPS, 1, 1)]))
        self.devices = _timed(TextVector("DEVICES", "Controlled devices", MAIN, "rw", "Idle", [
            TextMember("CCD", "CCD", DEFAULT_CCD),
            TextMember("FILTER", "Filter wheel", DEFAULT_FILTER),
            TextMember("FOCUSER", "Focuser", DEFAULT_FOCUSER),
            TextMember("MOUNT", "Mount", DEFAULT_MOUNT),
            TextMember("ASTROMETRY", "Astrometry agent", DEFAULT_ASTROMETRY)]))
        self.image_name = _timed(TextVector("IMAGE_NAME", "Image name", OPTIONS, "rw", "Idle", [
            TextMember("IMAGE_FOLDER", "Image folder", "/tmp"),
            TextMember("IMAGE_PREFIX", "Image prefix", "IMG")]))
        self.status = LightVector("STATUS", "Controlled devices", MAIN, "Idle", [
            LightMember("CCD", DEFAULT_CCD, "Alert"),
            LightMember("FILTER", DEFAULT_FILTER, "Alert")])
        self.progress = _timed(NumberVector(
            "PROGRESS", "Batch execution progress", MAIN, "ro", "Idle", [
                NumberMember("GROUP", "Current group", "%3.0f", 1, MAX_GROUPS, 1, 0),
                NumberMember("IMAGE", "Current image", "%3.0f", 1, 100, 1, 0),
                NumberMember("REMAINING_TIME", "Remaining time", "%5.2f", 0, 36000, 0, 0)]))
        self.batch = _timed(SwitchVector("BATCH", "Batch control", MAIN, "rw", "AnyOfMany",
                                         "Idle", [
            SwitchMember("START", "Start batch", "Off"),
            SwitchMember("ABORT", "Abort batch", "Off")]))
        self.download = _timed(NumberVector("DOWNLOAD", "Download image", DOWNLOADS, "rw",
                                            "Idle", [
            NumberMember("GROUP", "Group", "%3.0f", 1, MAX_GROUPS, 1, 0),
            NumberMember("IMAGE", "Image", "%3.0f", 1, 100, 1, 0)]))
        self.image = _timed(BLOBVector("IMAGE", "Image Data", DOWNLOADS, "ro", "Idle", [
            BLOBMember("IMAGE", "Image")]))


def make_vectors() -> dict[str, PropertyVector]:
    """Every vector but the groups', by name, in indilib's order."""
    return ImagerVectors().by_name()
