"""Dome (IDomeV3) on ABS_DOME_POSITION, DOME_MOTION, DOME_ABORT_MOTION, DOME_SHUTTER,
DOME_PARK, DOME_PARK_OPTION and DOME_AUTOSYNC (Slaved).

INDI's dome base class has no altitude, no home and no azimuth sync property in common use:
those members are not implemented, with their Can* False and AtHome False.
"""

from __future__ import annotations

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Number
from .common import Offered
from .common import Press
from .common import table

POSITION = "ABS_DOME_POSITION"
SHUTTER = "DOME_SHUTTER"
OPEN, CLOSED, OPENING, CLOSING, ERROR = range(5)


class Dome(AlpacaDevice):
    device_type = DeviceType.DOME
    MEMBERS = frozenset({
        "abortslew", "altitude", "athome", "atpark", "azimuth", "canfindhome", "canpark",
        "cansetaltitude", "cansetazimuth", "cansetpark", "cansetshutter", "canslave",
        "cansyncazimuth", "closeshutter", "findhome", "openshutter", "park", "setpark",
        "shutterstatus", "slaved", "slewing", "slewtoaltitude", "slewtoazimuth",
        "synctoazimuth"})
    STATE = ("Altitude", "AtHome", "AtPark", "Azimuth", "ShutterStatus", "Slewing")
    TABLE = table(Azimuth=Number(POSITION, "DOME_ABSOLUTE_POSITION", lambda v: v % 360.0),
                  CanSetPark=Offered("DOME_PARK_OPTION", "PARK_CURRENT"),
                  SetPark=Press("DOME_PARK_OPTION", "PARK_CURRENT"))

    def _rw(self, vector: str) -> bool:
        found = self.indi.vector(self.name, vector)
        return found is not None and found.perm != "ro"

    async def _false(self, params: Params) -> bool:
        return False

    get_canfindhome = get_cansetaltitude = get_cansyncazimuth = get_athome = _false

    async def get_cansetazimuth(self, params: Params) -> bool:
        return self._rw(POSITION)

    async def put_slewtoazimuth(self, params: Params) -> None:
        azimuth = params.as_float("Azimuth")
        if not 0.0 <= azimuth < 360.0:
            raise AlpacaError.invalid_value(f"Azimuth {azimuth} is outside 0..360")
        if not self._rw(POSITION):
            raise AlpacaError.not_implemented("SlewToAzimuth (no ABS_DOME_POSITION)")
        await self.indi.send(self.name, POSITION, {"DOME_ABSOLUTE_POSITION": azimuth})

    async def get_slewing(self, params: Params) -> bool:
        for name in (POSITION, "DOME_PARK"):
            vector = self.indi.vector(self.name, name)
            if vector is not None and vector.state == State.BUSY:
                return True
        motion = self.indi.vector(self.name, "DOME_MOTION")
        return motion is not None and motion.state == State.BUSY and any(
            str(motion[m]) == "On" for m in motion)

    async def put_abortslew(self, params: Params) -> None:
        self.indi.require(self.name, "DOME_ABORT_MOTION", "AbortSlew")
        await self.indi.send(self.name, "DOME_ABORT_MOTION", {"ABORT": "On"})

    async def get_cansetshutter(self, params: Params) -> bool:
        return self._rw(SHUTTER)

    async def get_shutterstatus(self, params: Params) -> int:
        vector = self.indi.require(self.name, SHUTTER, "ShutterStatus")
        opened = str(vector.get("SHUTTER_OPEN")) == "On"
        if vector.state == State.ALERT:
            return ERROR
        if vector.state == State.BUSY:
            return OPENING if opened else CLOSING
        return OPEN if opened else CLOSED

    async def put_openshutter(self, params: Params) -> None:
        self.indi.require(self.name, SHUTTER, "OpenShutter")
        await self.indi.send(self.name, SHUTTER, {"SHUTTER_OPEN": "On"})

    async def put_closeshutter(self, params: Params) -> None:
        self.indi.require(self.name, SHUTTER, "CloseShutter")
        await self.indi.send(self.name, SHUTTER, {"SHUTTER_CLOSE": "On"})

    async def get_canpark(self, params: Params) -> bool:
        return self._rw("DOME_PARK")

    async def get_atpark(self, params: Params) -> bool:
        return self.at_park()

    def at_park(self) -> bool:
        """DOME_PARK.PARK On and not Busy."""
        park = self.indi.vector(self.name, "DOME_PARK")
        return park is not None and str(park.get("PARK")) == "On" and park.state != State.BUSY

    async def put_park(self, params: Params) -> None:
        self.indi.require(self.name, "DOME_PARK", "Park")
        if self.at_park():
            return
        await self.indi.send(self.name, "DOME_PARK", {"PARK": "On"})

    async def get_canslave(self, params: Params) -> bool:
        return self._rw("DOME_AUTOSYNC")

    async def get_slaved(self, params: Params) -> bool:
        on = self.indi.switch_on(self.name, "DOME_AUTOSYNC", "DOME_AUTOSYNC_ENABLE")
        return bool(on)

    async def put_slaved(self, params: Params) -> None:
        wanted = params.as_bool("Slaved")
        if not self._rw("DOME_AUTOSYNC"):
            if wanted:
                raise AlpacaError.not_implemented("Slaved (no DOME_AUTOSYNC)")
            return
        member = "DOME_AUTOSYNC_ENABLE" if wanted else "DOME_AUTOSYNC_DISABLE"
        await self.indi.send_and_see(self.name, "DOME_AUTOSYNC", {member: "On"})
