"""What a mount driver's author writes and chooses, for the telescope role (``mount``).

`MountHardware` is the part the user writes (JNow coordinates: RA in hours, Dec in degrees),
and `MountGuider` where the mount takes timed guide pulses; `SlewRate` and `MountLimits`
configure the role; `pier_side_for` is the side a German equatorial mount takes for a target; `MountStatus` is what the role says the mount
is doing. The role itself, which drives them, is `mount.Mount`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from indipycore.astro import altitude
from indipycore.astro import hour_angle

__all__ = ["MountGuider", "MountHardware", "MountLimits", "MountStatus", "SlewRate",
           "pier_side_for"]


class MountHardware(Protocol):
    """What the user writes for a mount: coordinates are JNow, RA in hours, Dec in degrees.

    Each coroutine may raise to say it failed: the role sends the vector concerned with state
    Alert and the error as its message. ``goto`` and ``park`` are cancelled when the client
    aborts (or sends another goto); ``abort`` is then called to stop the motors.
    """

    async def goto(self, ra: float, dec: float) -> None:
        """Slew to `ra`, `dec`; return once there (the role reads `position` meanwhile)."""

    async def position(self) -> tuple[float, float]:
        """Where the mount points now: (RA hours, Dec degrees)."""
        ...

    async def abort(self) -> None:
        """Stop every motion now (a goto or park was cancelled, or the client pressed Abort)."""

    async def sync(self, ra: float, dec: float) -> None:
        """The mount points at `ra`, `dec` (a plate solve said so): take them, do not move."""

    async def park(self, hour_angle: float, dec: float) -> None:
        """Slew to the park position (hour angle in hours, Dec) and stop; return when parked."""

    async def unpark(self) -> None:
        """Leave the parked state (nothing needs to move)."""

    async def set_tracking(self, on: bool) -> None:
        """Start or stop sidereal tracking."""

    async def move(self, north_south: int, west_east: int, rate: float) -> None:
        """Manual motion: `north_south` +1 north, -1 south, 0 stop that axis; `west_east` +1
        west, -1 east, 0 stop; `rate` in degrees per second (TELESCOPE_SLEW_RATE)."""


class MountGuider(Protocol):
    """What a mount that takes timed guide pulses adds (the role's ``guider``): the role
    defines TELESCOPE_TIMED_GUIDE_NS/WE and GUIDE_RATE (the GUIDER bit) and calls this."""

    async def pulse(self, direction: str, ms: int, degrees_per_second: float) -> None:
        """Move the pointing `direction` ("N", "S", "E", "W") at `degrees_per_second` (the
        guide rate) for `ms` milliseconds, beside tracking; return once the pulse is over."""


def pier_side_for(ha: float) -> str:
    """TELESCOPE_PIER_SIDE's member a German equatorial mount takes to point at hour angle
    `ha` (hours): east of the meridian (rising) it stands on the west side pointing east,
    "PIER_WEST"; on or west of it, "PIER_EAST" (indilib's telescope simulator, measured)."""
    return "PIER_WEST" if ha < 0 else "PIER_EAST"


class MountStatus(StrEnum):
    """What the mount is doing, as the role tracks it (indilib's TelescopeStatus)."""

    IDLE = "Idle"
    SLEWING = "Slewing"
    TRACKING = "Tracking"
    PARKING = "Parking"
    PARKED = "Parked"


@dataclass(frozen=True)
class SlewRate:
    """One choice of TELESCOPE_SLEW_RATE: member name, label, degrees per second."""

    name: str
    label: str
    degrees_per_second: float


@dataclass(frozen=True)
class MountLimits:
    """Where a goto may go: a minimum altitude (None: no horizon check; it needs the site in
    GEOGRAPHIC_COORD) and a Dec range. A goto outside them is refused with Alert and says why."""

    min_altitude: float | None = 0.0
    min_dec: float = -90.0
    max_dec: float = 90.0

    def refusal(self, ra: float, dec: float, *, lst: float, latitude: float) -> str | None:
        """Why a goto to `ra`, `dec` is refused, or None when it is allowed."""
        if not self.min_dec <= dec <= self.max_dec:
            return (f"Goto refused: DEC {dec:.4f} is outside the mount's limits "
                    f"{self.min_dec:g}..{self.max_dec:g} degrees")
        if self.min_altitude is not None:
            alt = altitude(hour_angle(lst, ra), dec, latitude)
            if alt < self.min_altitude:
                return (f"Goto refused: the target is at altitude {alt:.1f} degrees, below the "
                        f"limit of {self.min_altitude:g} degrees")
        return None
