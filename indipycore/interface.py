"""`Interface`: the roles a device declares in DRIVER_INFO.DRIVER_INTERFACE (indilib's bits).

Pure (no asyncio, nothing else of the package): a client reads the decimal text of
DRIVER_INTERFACE back with ``Interface(int(text))``. The values are indilib's
``BaseDevice::DRIVER_INTERFACE``; a device with no standard role reports `AUX`, not `GENERAL`
(0 means "general device", which Ekos offers in no module).
"""

from __future__ import annotations

from enum import IntFlag

__all__ = ["Interface"]


class Interface(IntFlag):
    """indilib's DRIVER_INTERFACE bits; a device reports the OR of its roles' bits."""

    GENERAL = 0
    TELESCOPE = 1 << 0
    CCD = 1 << 1
    GUIDER = 1 << 2
    FOCUSER = 1 << 3
    FILTER = 1 << 4
    DOME = 1 << 5
    GPS = 1 << 6
    WEATHER = 1 << 7
    AO = 1 << 8
    DUSTCAP = 1 << 9
    LIGHTBOX = 1 << 10
    DETECTOR = 1 << 11
    ROTATOR = 1 << 12
    SPECTROGRAPH = 1 << 13
    CORRELATOR = 1 << 14
    AUX = 1 << 15
    OUTPUT = 1 << 16
    INPUT = 1 << 17
    POWER = 1 << 18
    IMU = 1 << 19
    SENSOR = SPECTROGRAPH | DETECTOR | CORRELATOR

    def to_text(self) -> str:
        """The DRIVER_INTERFACE member's value: the decimal number, as indilib sends it."""
        return str(int(self))

    @classmethod
    def from_text(cls, text: str) -> Interface:
        """A DRIVER_INTERFACE value read back (unknown bits are kept); ValueError if it is
        not a non-negative decimal integer."""
        value = int(text.strip())
        if value < 0:
            raise ValueError(f"DRIVER_INTERFACE {text!r} is negative")
        return cls(value)
