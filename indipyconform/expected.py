"""What indilib's base classes define for each role: the table ``indipy-conform`` checks against.

Written from indilib's base classes (DefaultDevice, CCD, Telescope, FocuserInterface,
FilterInterface, WeatherInterface; see docs/conformance.rst for the sources), independently of
``indipydriver.standard`` (a table shared with our own drivers could not catch their
mistakes). Pure data: a :class:`Spec` per property, and per role the properties a device with
that DRIVER_INTERFACE bit must define once connected (``required``) or may define
(``optional``: checked only when present). ``tolerated`` lists what indilib's own drivers do
differently from the table and clients accept; the checker reports those as WARN.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from indipycore.interface import Interface

__all__ = ["DEVICE_WIDE", "ROLES", "Spec", "Tolerated"]

NUMBER, SWITCH, TEXT, LIGHT, BLOB = ("NumberVector", "SwitchVector", "TextVector",
                                     "LightVector", "BLOBVector")
ONE, ATMOST, ANY = "OneOfMany", "AtMostOne", "AnyOfMany"


@dataclass(frozen=True)
class Tolerated:
    """A difference from the table that indilib's own drivers show and clients accept:
    reported as WARN with ``why``, not FAIL."""

    perms: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    why: str = ""


@dataclass(frozen=True)
class Spec:
    """One standard property: its type (``vectortype``), permission, switch rule and the
    members it must have (``members``) or, for numbered members, their prefix."""

    name: str
    kind: str
    perm: str | None = "rw"
    rule: str | None = None
    members: tuple[str, ...] = ()
    member_prefix: str | None = None
    tolerated: Tolerated = field(default_factory=Tolerated)


@dataclass(frozen=True)
class Role:
    """A role's properties: each ``required`` one must be defined once connected; an
    ``optional`` one is checked when defined; ``one_of`` groups need at least one member."""

    name: str
    required: tuple[Spec, ...]
    optional: tuple[Spec, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()


DEVICE_WIDE = (
    Spec("CONNECTION", SWITCH, "rw", ONE, ("CONNECT", "DISCONNECT")),
    Spec("DRIVER_INFO", TEXT, "ro", None,
         ("DRIVER_NAME", "DRIVER_EXEC", "DRIVER_VERSION", "DRIVER_INTERFACE")),
)

_CAMERA = Role(
    "CCD",
    required=(
        Spec("CCD_EXPOSURE", NUMBER, "rw", None, ("CCD_EXPOSURE_VALUE",)),
        Spec("CCD_FRAME", NUMBER, "rw", None, ("X", "Y", "WIDTH", "HEIGHT")),
        Spec("CCD_BINNING", NUMBER, "rw", None, ("HOR_BIN", "VER_BIN")),
        Spec("CCD_INFO", NUMBER, "ro", None, ("CCD_MAX_X", "CCD_MAX_Y", "CCD_PIXEL_SIZE",
                                              "CCD_PIXEL_SIZE_X", "CCD_PIXEL_SIZE_Y",
                                              "CCD_BITSPERPIXEL")),
        Spec("CCD_FRAME_TYPE", SWITCH, "rw", ONE,
             ("FRAME_LIGHT", "FRAME_BIAS", "FRAME_DARK", "FRAME_FLAT")),
        Spec("CCD1", BLOB, "ro", None, ("CCD1",)),
        Spec("UPLOAD_MODE", SWITCH, "rw", ONE, ("UPLOAD_CLIENT", "UPLOAD_LOCAL", "UPLOAD_BOTH")),
    ),
    optional=(
        Spec("CCD_ABORT_EXPOSURE", SWITCH, "rw", ATMOST, ("ABORT",)),
        # indilib: wo OneOfMany with RESET Off, a button with no switch On, which a OneOfMany
        # may not be (indipydriver warns); AtMostOne is that button by the rules, as indilib's
        # ABORTs are. A wo switch is sent rw by the INDI 1.7 rules (shape._switch_wo_as_rw).
        Spec("CCD_FRAME_RESET", SWITCH, "wo", ATMOST, ("RESET",),
             tolerated=Tolerated(rules=frozenset({ONE}),
                                 why="indilib's base class: OneOfMany with RESET Off; clients "
                                     "only press it")),
        Spec("CCD_COMPRESSION", SWITCH, "rw", ONE, ("INDI_ENABLED", "INDI_DISABLED")),
        Spec("CCD_TEMPERATURE", NUMBER, "rw", None, ("CCD_TEMPERATURE_VALUE",)),
        Spec("CCD_COOLER", SWITCH, "rw", ONE, ("COOLER_ON", "COOLER_OFF"),
             tolerated=Tolerated(perms=frozenset({"wo"}),
                                 why="each driver defines CCD_COOLER; indilib's simulator: wo")),
        Spec("UPLOAD_SETTINGS", TEXT, "rw", None, ("UPLOAD_DIR", "UPLOAD_PREFIX")),
        Spec("CCD_TRANSFER_FORMAT", SWITCH, "rw", ONE),
        Spec("CCD_CAPTURE_FORMAT", SWITCH, "rw", ONE),
    ),
)

_TELESCOPE = Role(
    "TELESCOPE",
    required=(
        Spec("EQUATORIAL_EOD_COORD", NUMBER, "rw", None, ("RA", "DEC")),
        Spec("ON_COORD_SET", SWITCH, "rw", ONE, ("TRACK", "SLEW")),
        Spec("TELESCOPE_ABORT_MOTION", SWITCH, "rw", ATMOST, ("ABORT",)),
    ),
    optional=(
        Spec("TELESCOPE_PARK", SWITCH, "rw", ONE, ("PARK", "UNPARK")),
        Spec("TELESCOPE_TRACK_STATE", SWITCH, "rw", ONE, ("TRACK_ON", "TRACK_OFF")),
        Spec("TELESCOPE_TRACK_MODE", SWITCH, "rw", ONE),
        Spec("TELESCOPE_MOTION_NS", SWITCH, "rw", ATMOST, ("MOTION_NORTH", "MOTION_SOUTH")),
        Spec("TELESCOPE_MOTION_WE", SWITCH, "rw", ATMOST, ("MOTION_WEST", "MOTION_EAST")),
        Spec("TELESCOPE_SLEW_RATE", SWITCH, "rw", ONE),
        Spec("TARGET_EOD_COORD", NUMBER, "ro", None, ("RA", "DEC")),
        Spec("GEOGRAPHIC_COORD", NUMBER, "rw", None, ("LAT", "LONG", "ELEV")),
        Spec("TIME_UTC", TEXT, "rw", None, ("UTC", "OFFSET")),
        Spec("TELESCOPE_PIER_SIDE", SWITCH, "ro", ATMOST, ("PIER_WEST", "PIER_EAST")),
    ),
)

_GUIDER = Role(
    "GUIDER",
    required=(
        Spec("TELESCOPE_TIMED_GUIDE_NS", NUMBER, "rw", None, ("TIMED_GUIDE_N", "TIMED_GUIDE_S")),
        Spec("TELESCOPE_TIMED_GUIDE_WE", NUMBER, "rw", None, ("TIMED_GUIDE_W", "TIMED_GUIDE_E")),
    ),
)

_FOCUSER = Role(
    "FOCUSER",
    required=(
        Spec("FOCUS_MOTION", SWITCH, "rw", ONE, ("FOCUS_INWARD", "FOCUS_OUTWARD")),
    ),
    optional=(
        Spec("ABS_FOCUS_POSITION", NUMBER, "rw", None, ("FOCUS_ABSOLUTE_POSITION",)),
        Spec("REL_FOCUS_POSITION", NUMBER, "rw", None, ("FOCUS_RELATIVE_POSITION",)),
        Spec("FOCUS_MAX", NUMBER, "rw", None, ("FOCUS_MAX_VALUE",)),
        Spec("FOCUS_ABORT_MOTION", SWITCH, "rw", ATMOST, ("ABORT",)),
        Spec("FOCUS_SYNC", NUMBER, "rw", None, ("FOCUS_SYNC_VALUE",)),
        Spec("FOCUS_REVERSE_MOTION", SWITCH, "rw", ONE, ("INDI_ENABLED", "INDI_DISABLED")),
        Spec("FOCUS_SPEED", NUMBER, "rw", None, ("FOCUS_SPEED_VALUE",)),
        Spec("FOCUS_TIMER", NUMBER, "rw", None, ("FOCUS_TIMER_VALUE",)),
    ),
    one_of=(("ABS_FOCUS_POSITION", "REL_FOCUS_POSITION"),),
)

_FILTER = Role(
    "FILTER",
    required=(
        Spec("FILTER_SLOT", NUMBER, "rw", None, ("FILTER_SLOT_VALUE",)),
        Spec("FILTER_NAME", TEXT, "rw", None, member_prefix="FILTER_SLOT_NAME_"),
    ),
)

_WEATHER = Role(
    "WEATHER",
    required=(
        Spec("WEATHER_STATUS", LIGHT, None),
        Spec("WEATHER_PARAMETERS", NUMBER, "ro"),
        Spec("WEATHER_UPDATE", NUMBER, "rw", None, ("PERIOD",)),
    ),
    optional=(
        Spec("WEATHER_REFRESH", SWITCH, "rw", ATMOST, ("REFRESH",)),
        Spec("WEATHER_OVERRIDE", SWITCH, "rw", ANY, ("OVERRIDE",)),
        Spec("GEOGRAPHIC_COORD", NUMBER, "rw", None, ("LAT", "LONG", "ELEV")),
    ),
)

#: The roles checked, by DRIVER_INTERFACE bit; other bits get a WARN "not checked".
ROLES: dict[Interface, Role] = {
    Interface.CCD: _CAMERA,
    Interface.TELESCOPE: _TELESCOPE,
    Interface.GUIDER: _GUIDER,
    Interface.FOCUSER: _FOCUSER,
    Interface.FILTER: _FILTER,
    Interface.WEATHER: _WEATHER,
}
