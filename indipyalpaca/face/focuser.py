"""Focuser (IFocuserV4) on INDI's focuser properties.

Absolute focusers move through ABS_FOCUS_POSITION, relative ones through FOCUS_MOTION and
REL_FOCUS_POSITION; IsMoving is either vector Busy. INDI has no temperature compensation in
its base class nor a step size, so TempComp reads False and StepSize is not implemented.
"""

from __future__ import annotations

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Number
from .common import table

ABS = "ABS_FOCUS_POSITION"
REL = "REL_FOCUS_POSITION"


class Focuser(AlpacaDevice):
    device_type = DeviceType.FOCUSER
    MEMBERS = frozenset({"absolute", "halt", "ismoving", "maxincrement", "maxstep", "move",
                         "position", "stepsize", "tempcomp", "tempcompavailable",
                         "temperature"})
    STATE = ("IsMoving", "Position", "Temperature")
    TABLE = table(Temperature=Number("FOCUS_TEMPERATURE", "TEMPERATURE"))

    @property
    def absolute(self) -> bool:
        return self.indi.vector(self.name, ABS) is not None

    async def get_absolute(self, params: Params) -> bool:
        return self.absolute

    async def get_position(self, params: Params) -> int:
        if not self.absolute:
            raise AlpacaError.not_implemented("Position of a relative focuser")
        value = self.indi.number(self.name, ABS, "FOCUS_ABSOLUTE_POSITION")
        if value is None:
            raise AlpacaError.not_implemented("Position (no FOCUS_ABSOLUTE_POSITION)")
        return round(value)

    async def get_maxstep(self, params: Params) -> int:
        return self.max_step()

    def max_step(self) -> int:
        """FOCUS_MAX, else the top of the position's range."""
        value = self.indi.number(self.name, "FOCUS_MAX", "FOCUS_MAX_VALUE")
        if value is None:
            limits = self.indi.limits(self.name, ABS, "FOCUS_ABSOLUTE_POSITION")
            if limits is None:
                limits = self.indi.limits(self.name, REL, "FOCUS_RELATIVE_POSITION")
            if limits is None:
                raise AlpacaError.not_implemented("MaxStep (neither FOCUS_MAX nor a position)")
            value = limits[1]
        return round(value)

    async def get_maxincrement(self, params: Params) -> int:
        return self.max_increment()

    def max_increment(self) -> int:
        """MaxStep for an absolute focuser, else the top of REL_FOCUS_POSITION's range."""
        if self.absolute:
            return self.max_step()
        limits = self.indi.limits(self.name, REL, "FOCUS_RELATIVE_POSITION")
        if limits is None:
            raise AlpacaError.not_implemented("MaxIncrement (no REL_FOCUS_POSITION)")
        return round(limits[1])

    async def get_ismoving(self, params: Params) -> bool:
        moving = False
        for name in (ABS, REL):
            vector = self.indi.vector(self.name, name)
            if vector is None:
                continue
            self.check_not_alert(name)
            moving = moving or vector.state == State.BUSY
        return moving

    async def put_move(self, params: Params) -> None:
        """Returns as soon as the INDI request is out; IsMoving is True from then on."""
        position = params.as_int("Position")
        if self.absolute:
            maxstep = self.max_step()
            if not 0 <= position <= maxstep:
                raise AlpacaError.invalid_value(f"Position {position} is outside 0..{maxstep}")
            await self.indi.send(self.name, ABS, {"FOCUS_ABSOLUTE_POSITION": position})
            return
        self.indi.require(self.name, REL, "Move")
        limit = self.max_increment()
        if abs(position) > limit:
            raise AlpacaError.invalid_value(f"a move of {position} steps is more than "
                                            f"MaxIncrement {limit}")
        if position == 0:
            return
        if self.indi.vector(self.name, "FOCUS_MOTION") is not None:
            inward = "FOCUS_INWARD" if position < 0 else "FOCUS_OUTWARD"
            await self.indi.send(self.name, "FOCUS_MOTION", {inward: "On"})
        await self.indi.send(self.name, REL, {"FOCUS_RELATIVE_POSITION": abs(position)})

    async def put_halt(self, params: Params) -> None:
        self.indi.require(self.name, "FOCUS_ABORT_MOTION", "Halt")
        await self.indi.send(self.name, "FOCUS_ABORT_MOTION", {"ABORT": "On"})

    async def get_tempcompavailable(self, params: Params) -> bool:
        return False

    async def get_tempcomp(self, params: Params) -> bool:
        return False

    async def put_tempcomp(self, params: Params) -> None:
        if params.as_bool("TempComp"):
            raise AlpacaError.not_implemented("TempComp (TempCompAvailable is False)")
