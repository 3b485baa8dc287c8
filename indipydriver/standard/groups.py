"""The group (tab) names indilib's base classes put the standard properties in.

KStars' INDI control panel shows one tab per group; drivers that use these names look like
indilib's own. `standard-properties` in the docs lists which property goes where.
"""

from __future__ import annotations

__all__ = [
    "CONNECTION_TAB",
    "FILTER_TAB",
    "GUIDE_CONTROL_TAB",
    "GUIDE_HEAD_TAB",
    "IMAGE_INFO_TAB",
    "IMAGE_SETTINGS_TAB",
    "INFO_TAB",
    "MAIN_CONTROL_TAB",
    "MOTION_TAB",
    "OPTIONS_TAB",
    "PARAMETERS_TAB",
    "SITE_TAB",
    "SLAVING_TAB",
]

MAIN_CONTROL_TAB = "Main Control"
CONNECTION_TAB = "Connection"
INFO_TAB = "General Info"
OPTIONS_TAB = "Options"
MOTION_TAB = "Motion Control"
SITE_TAB = "Site Management"
IMAGE_SETTINGS_TAB = "Image Settings"
IMAGE_INFO_TAB = "Image Info"
GUIDE_HEAD_TAB = "Guider Head"
GUIDE_CONTROL_TAB = "Guider Control"
FILTER_TAB = "Filter Wheel"
#: The weather role's parameters (indilib's Weather puts them in a tab of this name).
PARAMETERS_TAB = "Parameters"
#: The dome role's slaving to its mount (indilib's Dome puts DOME_AUTOSYNC in a tab of this name).
SLAVING_TAB = "Slaving"
