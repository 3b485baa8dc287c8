r"""The telescope role's vectors, as indilib 1.9.9's telescope simulator defines them.

Names, labels, groups, rules, formats and timeouts in one table (`MOUNT_VECTORS`, built by
``vectortables``); what a mount's options change in it are its `Param`\ s. The role that
serves them is ``mount``.
"""

from __future__ import annotations

from .groups import MAIN_CONTROL_TAB
from .groups import MOTION_TAB
from .groups import OPTIONS_TAB
from .groups import SITE_TAB
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import TextSpec
from .vectortables import VectorSpec

__all__ = ["MOUNT_VECTORS"]

#: RA and Dec, as EQUATORIAL_EOD_COORD and TARGET_EOD_COORD have them.
_RADEC = (NumberSpec("RA", "RA (hh:mm:ss)", "%010.6m", 0, 24, 0, 0),
          NumberSpec("DEC", "DEC (dd:mm:ss)", "%010.6m", -90, 90, 0, 0))

#: The mount's vectors, in the order they are defined (indilib 1.9.9's telescope simulator).
MOUNT_VECTORS = (
    VectorSpec("ON_COORD_SET", "On Set", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("TRACK", "Track", "On"),
        SwitchSpec("SLEW", "Slew"),
        SwitchSpec("SYNC", "Sync", when="can_sync"),
    ), rule="OneOfMany", timeout=60),
    VectorSpec("EQUATORIAL_EOD_COORD", "Eq. Coordinates", MAIN_CONTROL_TAB, "rw", _RADEC,
               timeout=60),
    VectorSpec("TELESCOPE_ABORT_MOTION", "Abort Motion", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("ABORT", "Abort"),
    ), rule="AtMostOne", timeout=60),
    VectorSpec("TELESCOPE_TRACK_STATE", "Tracking", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("TRACK_ON", "On"),
        SwitchSpec("TRACK_OFF", "Off", "On"),
    ), rule="OneOfMany"),
    VectorSpec("TELESCOPE_MOTION_NS", "Motion N/S", MOTION_TAB, "rw", (
        SwitchSpec("MOTION_NORTH", "North"),
        SwitchSpec("MOTION_SOUTH", "South"),
    ), rule="AtMostOne", timeout=60),
    VectorSpec("TELESCOPE_MOTION_WE", "Motion W/E", MOTION_TAB, "rw", (
        SwitchSpec("MOTION_WEST", "West"),
        SwitchSpec("MOTION_EAST", "East"),
    ), rule="AtMostOne", timeout=60),
    VectorSpec("TELESCOPE_SLEW_RATE", "Slew Rate", MOTION_TAB, "rw", Param("slew_rates"),
               rule="OneOfMany"),
    VectorSpec("TARGET_EOD_COORD", "Slew Target", MOTION_TAB, "ro", _RADEC, timeout=60),
    VectorSpec("TIME_UTC", "UTC", SITE_TAB, "rw", (
        TextSpec("UTC", "UTC Time", Param("utc")),
        TextSpec("OFFSET", "UTC Offset", "0.00"),
    ), timeout=60),
    VectorSpec("GEOGRAPHIC_COORD", "Scope Location", SITE_TAB, "rw", (
        NumberSpec("LAT", "Lat (dd:mm:ss.s)", "%012.8m", -90, 90, 0, Param("latitude")),
        NumberSpec("LONG", "Lon (dd:mm:ss.s)", "%012.8m", 0, 360, 0, Param("longitude")),
        NumberSpec("ELEV", "Elevation (m)", "%g", -200, 10000, 0, Param("elevation")),
    ), timeout=60),
    VectorSpec("TELESCOPE_PARK", "Parking", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("PARK", "Park(ed)", Param("park")),
        SwitchSpec("UNPARK", "UnPark(ed)", Param("unpark")),
    ), rule="OneOfMany", state=Param("park_state"), timeout=60),
    VectorSpec("TELESCOPE_PARK_POSITION", "Park Position", SITE_TAB, "rw", (
        NumberSpec("PARK_HA", "HA (hh:mm:ss)", "%010.6m", -12, 12, 0, Param("park_ha")),
        NumberSpec("PARK_DEC", "DEC (dd:mm:ss)", "%010.6m", -90, 90, 0, Param("park_dec")),
    ), timeout=60),
    VectorSpec("TELESCOPE_PIER_SIDE", "Pier Side", MAIN_CONTROL_TAB, "ro", (
        SwitchSpec("PIER_WEST", "West (pointing east)"),
        SwitchSpec("PIER_EAST", "East (pointing west)"),
    ), rule="AtMostOne", timeout=60),
    VectorSpec("TELESCOPE_INFO", "Scope Properties", OPTIONS_TAB, "rw", (
        NumberSpec("TELESCOPE_APERTURE", "Aperture (mm)", "%g", 10, 5000, 0, Param("aperture")),
        NumberSpec("TELESCOPE_FOCAL_LENGTH", "Focal Length (mm)", "%g", 10, 10000, 0,
                   Param("focal_length")),
        NumberSpec("GUIDER_APERTURE", "Guider Aperture (mm)", "%g", 10, 5000, 0,
                   Param("aperture")),
        NumberSpec("GUIDER_FOCAL_LENGTH", "Guider Focal Length (mm)", "%g", 10, 10000, 0,
                   Param("focal_length")),
    ), state="Ok", timeout=60),
    # A mount that takes timed guide pulses (its TELESCOPE_TIMED_GUIDE_NS/WE are `guide`'s):
    # their speed, a fraction of the sidereal rate.
    VectorSpec("GUIDE_RATE", "Guiding Rate", MOTION_TAB, "rw", (
        NumberSpec("GUIDE_RATE_WE", "W/E Rate", "%g", 0, 1, 0.1, Param("guide_rate")),
        NumberSpec("GUIDE_RATE_NS", "N/S Rate", "%g", 0, 1, 0.1, Param("guide_rate")),
    ), when="can_guide"),
)
