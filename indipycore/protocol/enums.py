"""The INDI 1.7 enumerations (SPEC p.5). Each value is the exact, case-sensitive wire string."""

from enum import StrEnum


class State(StrEnum):
    """A property's state; also the value of a Light."""

    IDLE = "Idle"
    OK = "Ok"
    BUSY = "Busy"
    ALERT = "Alert"


class Perm(StrEnum):
    """Client permission on a property; a hint only, devices must still reject writes to ro."""

    RO = "ro"
    WO = "wo"
    RW = "rw"


class Rule(StrEnum):
    """Switch vector rule; INDI leaves enforcement to the device (SPEC p.6), so we enforce it."""

    ONE_OF_MANY = "OneOfMany"
    AT_MOST_ONE = "AtMostOne"
    ANY_OF_MANY = "AnyOfMany"


class SwitchState(StrEnum):
    OFF = "Off"
    ON = "On"


class BLOBEnable(StrEnum):
    """Per-connection BLOB policy a client asks of a server; the default is Never."""

    NEVER = "Never"
    ALSO = "Also"
    ONLY = "Only"
