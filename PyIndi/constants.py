"""The numbers pyindi-client programs compare against: switch and property states, permissions,
switch rules, BLOB modes, property types, error codes, pixel formats, axes and directions, and
the INDI version. Values are libindi's (``indiapi.h``, ``indibasetypes.h``, ``basedevice.h``), so
a program that stored or logged one sees the same number under either module.

The driver interface bits live on ``BaseDevice`` (``BaseDevice.CCD_INTERFACE``), where programs
read them; ``INTERFACES`` lists them here for the device class to take.
"""

from __future__ import annotations

# pyindi-client's own names, which ``PyIndi`` re-exports from here. The tables below (wire words
# to numbers, the interface bits) are for the other modules of this package and stay out of it.
__all__ = [
    "AXIS_ALT",
    "AXIS_AZ",
    "AXIS_DE",
    "AXIS_RA",
    "B_ALSO",
    "B_NEVER",
    "B_ONLY",
    "DIRECTION_EAST",
    "DIRECTION_NORTH",
    "DIRECTION_SOUTH",
    "DIRECTION_WEST",
    "INDIV",
    "INDI_BAYER_BGGR",
    "INDI_BAYER_CYYM",
    "INDI_BAYER_GBRG",
    "INDI_BAYER_GRBG",
    "INDI_BAYER_MYYC",
    "INDI_BAYER_RGGB",
    "INDI_BAYER_YCMY",
    "INDI_BAYER_YMCY",
    "INDI_BGR",
    "INDI_BLOB",
    "INDI_DEVICE_NOT_FOUND",
    "INDI_DISPATCH_ERROR",
    "INDI_JPG",
    "INDI_LIGHT",
    "INDI_MONO",
    "INDI_NUMBER",
    "INDI_PROPERTY_DUPLICATED",
    "INDI_PROPERTY_INVALID",
    "INDI_RGB",
    "INDI_SWITCH",
    "INDI_TEXT",
    "INDI_UNKNOWN",
    "INDI_VERSION_MAJOR",
    "INDI_VERSION_MINOR",
    "INDI_VERSION_RELEASE",
    "IPS_ALERT",
    "IPS_BUSY",
    "IPS_IDLE",
    "IPS_OK",
    "IP_RO",
    "IP_RW",
    "IP_WO",
    "ISR_1OFMANY",
    "ISR_ATMOST1",
    "ISR_NOFMANY",
    "ISS_OFF",
    "ISS_ON",
    "MAXINDIBLOBFMT",
    "MAXINDIDEVICE",
    "MAXINDIFORMAT",
    "MAXINDIGROUP",
    "MAXINDILABEL",
    "MAXINDIMESSAGE",
    "MAXINDINAME",
    "MAXINDITSTAMP",
    "MAXRBUF",
]

# The API this module presents: pyindi-client 2.x's (no legacy callbacks on BaseMediator), with
# the version its current release reports (2.1.2). Programs log these, and test
# INDI_VERSION_MAJOR < 2 to pick the 1.x callbacks.
INDI_VERSION_MAJOR = 2
INDI_VERSION_MINOR = 1
INDI_VERSION_RELEASE = 2
INDIV = 1.7  # the protocol version spoken

ISS_OFF, ISS_ON = 0, 1
IPS_IDLE, IPS_OK, IPS_BUSY, IPS_ALERT = 0, 1, 2, 3
IP_RO, IP_WO, IP_RW = 0, 1, 2
ISR_1OFMANY, ISR_ATMOST1, ISR_NOFMANY = 0, 1, 2
B_NEVER, B_ALSO, B_ONLY = 0, 1, 2
INDI_NUMBER, INDI_SWITCH, INDI_TEXT, INDI_LIGHT, INDI_BLOB, INDI_UNKNOWN = 0, 1, 2, 3, 4, 5

INDI_DEVICE_NOT_FOUND = -1
INDI_PROPERTY_INVALID = -2
INDI_PROPERTY_DUPLICATED = -3
INDI_DISPATCH_ERROR = -4

MAXINDINAME = MAXINDILABEL = MAXINDIDEVICE = MAXINDIGROUP = 64
MAXINDIFORMAT = MAXINDIBLOBFMT = MAXINDITSTAMP = 64
MAXINDIMESSAGE = 255
MAXRBUF = 2048

INDI_MONO = 0
INDI_BAYER_RGGB, INDI_BAYER_GRBG, INDI_BAYER_GBRG, INDI_BAYER_BGGR = 8, 9, 10, 11
INDI_BAYER_CYYM, INDI_BAYER_YCMY, INDI_BAYER_YMCY, INDI_BAYER_MYYC = 16, 17, 18, 19
INDI_RGB, INDI_BGR, INDI_JPG = 100, 101, 200

AXIS_RA, AXIS_DE = 0, 1
AXIS_AZ, AXIS_ALT = 0, 1
DIRECTION_NORTH, DIRECTION_SOUTH = 0, 1
DIRECTION_WEST, DIRECTION_EAST = 0, 1

# The wire words <-> these numbers.
STATES = {"Idle": IPS_IDLE, "Ok": IPS_OK, "Busy": IPS_BUSY, "Alert": IPS_ALERT}
PERMS = {"ro": IP_RO, "wo": IP_WO, "rw": IP_RW}
RULES = {"OneOfMany": ISR_1OFMANY, "AtMostOne": ISR_ATMOST1, "AnyOfMany": ISR_NOFMANY}
SWITCH_STATES = {"Off": ISS_OFF, "On": ISS_ON}
BLOB_MODES = {B_NEVER: "Never", B_ALSO: "Also", B_ONLY: "Only"}
VECTOR_TYPES = {"NumberVector": INDI_NUMBER, "SwitchVector": INDI_SWITCH,
                "TextVector": INDI_TEXT, "LightVector": INDI_LIGHT, "BLOBVector": INDI_BLOB}
TYPE_NAMES = {INDI_NUMBER: "INDI_NUMBER", INDI_SWITCH: "INDI_SWITCH", INDI_TEXT: "INDI_TEXT",
              INDI_LIGHT: "INDI_LIGHT", INDI_BLOB: "INDI_BLOB", INDI_UNKNOWN: "INDI_UNKNOWN"}

# The driver interface bits (DRIVER_INFO.DRIVER_INTERFACE), set on BaseDevice by name.
INTERFACES = {
    "GENERAL_INTERFACE": 0,
    "TELESCOPE_INTERFACE": 1 << 0,
    "CCD_INTERFACE": 1 << 1,
    "GUIDER_INTERFACE": 1 << 2,
    "FOCUSER_INTERFACE": 1 << 3,
    "FILTER_INTERFACE": 1 << 4,
    "DOME_INTERFACE": 1 << 5,
    "GPS_INTERFACE": 1 << 6,
    "WEATHER_INTERFACE": 1 << 7,
    "AO_INTERFACE": 1 << 8,
    "DUSTCAP_INTERFACE": 1 << 9,
    "LIGHTBOX_INTERFACE": 1 << 10,
    "DETECTOR_INTERFACE": 1 << 11,
    "ROTATOR_INTERFACE": 1 << 12,
    "SPECTROGRAPH_INTERFACE": 1 << 13,
    "CORRELATOR_INTERFACE": 1 << 14,
    "AUX_INTERFACE": 1 << 15,
    "OUTPUT_INTERFACE": 1 << 16,  # libindi 2.x
    "INPUT_INTERFACE": 1 << 17,  # libindi 2.x
    "POWER_INTERFACE": 1 << 18,  # libindi 2.x
    "SENSOR_INTERFACE": (1 << 13) | (1 << 11) | (1 << 14),
}
