"""Rotator (IRotatorV4) on ABS_ROTATOR_ANGLE, ROTATOR_ABORT_MOTION and ROTATOR_REVERSE.

ABS_ROTATOR_ANGLE is the mechanical angle; Alpaca's Sync sets an offset held here (Position =
mechanical + offset), not INDI's SYNC_ROTATOR_ANGLE, which drivers apply differently (indilib's
simulator accepts it and reports the same angle): the offset is this bridge's, from its start
(0 before any Sync). INDI gives no step size: StepSize is not implemented.
"""

from __future__ import annotations

from typing import Any

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Toggle
from .common import table

ANGLE = "ABS_ROTATOR_ANGLE"


class Rotator(AlpacaDevice):
    device_type = DeviceType.ROTATOR
    MEMBERS = frozenset({"canreverse", "halt", "ismoving", "mechanicalposition", "move",
                         "moveabsolute", "movemechanical", "position", "reverse", "stepsize",
                         "sync", "targetposition"})
    STATE = ("IsMoving", "MechanicalPosition", "Position")
    TABLE = table(Reverse=Toggle("ROTATOR_REVERSE", "INDI_ENABLED", "INDI_DISABLED"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offset = 0.0
        self.target: float | None = None

    def _mechanical(self) -> float:
        value = self.indi.number(self.name, ANGLE, "ANGLE")
        if value is None:
            raise AlpacaError.not_implemented("Position (no ABS_ROTATOR_ANGLE)")
        return value % 360.0

    def _angle(self) -> float:
        return (self._mechanical() + self.offset) % 360.0

    async def _go(self, sky: float) -> None:
        self.indi.require(self.name, ANGLE, "moving")
        self.target = sky % 360.0
        mechanical = (self.target - self.offset) % 360.0
        await self.indi.send(self.name, ANGLE, {"ANGLE": mechanical})

    @staticmethod
    def _degrees(value: float, key: str) -> float:
        if not 0.0 <= value < 360.0:
            raise AlpacaError.invalid_value(f"{key} {value} is outside 0..360")
        return value

    async def get_position(self, params: Params) -> float:
        return self._angle()

    async def get_mechanicalposition(self, params: Params) -> float:
        return self._mechanical()

    async def get_targetposition(self, params: Params) -> float:
        return self.target if self.target is not None else self._angle()

    async def get_ismoving(self, params: Params) -> bool:
        vector = self.indi.require(self.name, ANGLE, "IsMoving")
        self.check_not_alert(ANGLE)
        return bool(vector.state == State.BUSY)

    async def put_moveabsolute(self, params: Params) -> None:
        await self._go(self._degrees(params.as_float("Position"), "Position"))

    async def put_move(self, params: Params) -> None:
        await self._go(self._angle() + params.as_float("Position"))

    async def put_movemechanical(self, params: Params) -> None:
        await self._go(self._degrees(params.as_float("Position"), "Position") + self.offset)

    async def put_halt(self, params: Params) -> None:
        self.indi.require(self.name, "ROTATOR_ABORT_MOTION", "Halt")
        await self.indi.send(self.name, "ROTATOR_ABORT_MOTION", {"ABORT": "On"})

    async def put_sync(self, params: Params) -> None:
        sky = self._degrees(params.as_float("Position"), "Position")
        self.offset = (sky - self._mechanical()) % 360.0
        self.target = sky

    async def get_canreverse(self, params: Params) -> bool:
        return self.indi.vector(self.name, "ROTATOR_REVERSE") is not None
