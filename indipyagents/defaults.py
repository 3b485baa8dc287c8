"""The one table of every agent's default device names, by role: indilib's simulators'
names, as indilib's indi_imager_agent (ACTIVE_CCD "CCD Simulator", ACTIVE_FILTER "Filter
Simulator") and indi_watchdog (ACTIVE_TELESCOPE "Telescope Simulator", ACTIVE_DOME "Dome
Simulator", ACTIVE_WEATHER "Weather Simulator") default to, so a client or script written for
them finds the same names in ours. Our own simulators (``Python Mount``...) are named
explicitly where they are used."""

from __future__ import annotations

from typing import Final

__all__ = ["CAMERA", "DEFAULTS", "DOME", "FOCUSER", "GUIDE_CAMERA", "MOUNT", "WEATHER",
           "WHEEL"]

CAMERA: Final = "CCD Simulator"
WHEEL: Final = "Filter Simulator"
FOCUSER: Final = "Focuser Simulator"
MOUNT: Final = "Telescope Simulator"
DOME: Final = "Dome Simulator"
WEATHER: Final = "Weather Simulator"
#: indilib's ``indi_simulator_guide``.
GUIDE_CAMERA: Final = "Guide Simulator"

#: Role -> default device name: what the agents' ACTIVE_DEVICES and a plan's [devices] start
#: from.
DEFAULTS: Final[dict[str, str]] = {
    "camera": CAMERA, "wheel": WHEEL, "focuser": FOCUSER, "mount": MOUNT, "dome": DOME,
    "weather": WEATHER, "guide camera": GUIDE_CAMERA}
