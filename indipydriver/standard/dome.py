"""`Dome`: the dome role (DOME bit), indilib's ``INDI::Dome`` properties.

The user writes a `DomeHardware`: ``move_to(azimuth)`` (returns once there), ``position``,
``abort``, ``move`` (free turning), ``shutter``, ``park``/``unpark``, ``set_park`` and
``set_slaved``. The role defines DOME_SHUTTER, DOME_MOTION, ABS_DOME_POSITION,
DOME_ABORT_MOTION, DOME_AUTOSYNC (only for a dome that slaves itself to its mount, `can_slave`),
DOME_PARK, DOME_PARK_POSITION (only with a `park_azimuth` the role keeps) and
DOME_PARK_OPTION (`can_set_park`), with indilib's names, labels, groups, rules and formats,
and runs indilib's sequences: a slew is ABS_DOME_POSITION Busy (the azimuth sent as it
changes) with DOME_MOTION Busy showing the direction, then both Ok; a slew or free motion
while parked or parking is refused with Alert; the shutter is Busy with the switch asked for
On, then Ok; a park is DOME_PARK Busy with PARK On, then Ok; abort answers Ok and leaves the
moving vectors Idle (an aborted park: DOME_PARK Alert, UNPARK On; an aborted shutter:
DOME_SHUTTER Alert, where it stopped is not known). The azimuth is read every
POLLING_PERIOD while connected (a slaved dome turns by itself).
"""

from __future__ import annotations

import logging
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import SwitchVector
from .groups import MAIN_CONTROL_TAB
from .groups import SITE_TAB
from .groups import SLAVING_TAB
from .positioner import Positioner
from .positioner import TurningHardware
from .positioner import attempt
from .positioner import choose
from .role import Operation
from .role import accept_values
from .role import run_chosen
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import VectorSpec
from .vectortables import abort_spec
from .vectortables import build

__all__ = ["DOME_VECTORS", "Dome", "DomeHardware"]

logger = logging.getLogger(__name__)

#: The dome's vectors, in the order indilib's Dome::updateProperties defines them.
DOME_VECTORS = (
    VectorSpec("DOME_SHUTTER", "Shutter", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("SHUTTER_OPEN", "Open", Param("shutter_open")),
        SwitchSpec("SHUTTER_CLOSE", "Close", Param("shutter_close")),
    ), rule="AtMostOne", state="Ok", timeout=60, when="has_shutter"),
    VectorSpec("DOME_MOTION", "Motion", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("DOME_CW", "Dome CW"),
        SwitchSpec("DOME_CCW", "Dome CCW"),
    ), rule="AtMostOne", state="Ok", timeout=60),
    VectorSpec("ABS_DOME_POSITION", "Absolute Position", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("DOME_ABSOLUTE_POSITION", "Degrees", "%6.2f", 0, 360, 1, Param("azimuth")),
    ), state="Ok", timeout=60),
    abort_spec("DOME_ABORT_MOTION", timeout=60),
    VectorSpec("DOME_AUTOSYNC", "Slaving", SLAVING_TAB, "rw", (
        SwitchSpec("DOME_AUTOSYNC_ENABLE", "Enable"),
        SwitchSpec("DOME_AUTOSYNC_DISABLE", "Disable", "On"),
    ), rule="OneOfMany", state="Ok", timeout=60, when="can_slave"),
    VectorSpec("DOME_PARK", "Parking", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("PARK", "Park(ed)", Param("park")),
        SwitchSpec("UNPARK", "UnPark(ed)", Param("unpark")),
    ), rule="OneOfMany", state="Ok", timeout=60, when="can_park"),
    VectorSpec("DOME_PARK_POSITION", "Park Position", SITE_TAB, "rw", (
        NumberSpec("PARK_AZ", "AZ D:M:S", "%10.6m", 0, 360, 0, Param("park_azimuth")),
    ), timeout=60, when="has_park_position"),
    VectorSpec("DOME_PARK_OPTION", "Park Options", SITE_TAB, "rw", (
        SwitchSpec("PARK_CURRENT", "Current"),
        SwitchSpec("PARK_DEFAULT", "Default", when="has_park_position"),
    ), rule="AtMostOne", timeout=60, when="can_set_park"),
)


class DomeHardware(TurningHardware, Protocol):
    """What the user writes for a dome; azimuths in degrees, 0..360, north 0, east 90.

    ``move_to(azimuth)``, ``position()`` (the azimuth now) and ``abort()`` are the
    `TurningHardware` ones. Each coroutine may raise to say it failed: the vector concerned
    goes Alert with the error as its message."""

    async def move(self, direction: int) -> None:
        """Free turning: +1 clockwise, -1 counter-clockwise, 0 stop (raise if the dome has
        none)."""

    async def shutter(self, open: bool) -> None:
        """Open (or close) the shutter; return once done."""

    async def park(self, azimuth: float | None) -> None:
        """Go to the park position (`azimuth`, DOME_PARK_POSITION's; None when the dome keeps
        its own) and stay; return once parked."""

    async def unpark(self) -> None:
        """Leave the parked state."""

    async def set_park(self, azimuth: float) -> None:
        """`azimuth` is the park position from now on (DOME_PARK_OPTION)."""

    async def set_slaved(self, on: bool) -> None:
        """Follow the mount (or stop following it): for a dome made with `can_slave`."""


def _switched_on(event: ClientVectorEvent[Any], on: str, off: str) -> bool:
    """Whether a two-switch request turns `on` on (or `off` off)."""
    return event.get(on) == "On" or event.get(off) == "Off"


class Dome(Positioner):
    """The dome role::

        dome = Dome(MyDome(), park_azimuth=90.0)
        device = Device("Dome", roles=[dome])

    `azimuth`, `shutter_open` and `parked` are where the dome starts (the role reads the
    azimuth once connected); `has_shutter`, `can_park`, `can_set_park` and `can_slave` leave
    out what the dome has not; `park_azimuth` is DOME_PARK_POSITION's first value, None for a
    dome that keeps its park position itself (no DOME_PARK_POSITION, no PARK_DEFAULT);
    `poll_interval` is how often the azimuth is read (POLLING_PERIOD sets it).
    """

    #: Saved by CONFIG_SAVE (indilib's Dome::saveConfigItems, of what this role has).
    config_names = ("DOME_AUTOSYNC", "DOME_PARK_POSITION")
    #: Nothing of its own is taken from the saved file at start.
    startup_names: tuple[str, ...] = ()

    def __init__(self, hardware: DomeHardware, *, azimuth: float = 0.0,
                 has_shutter: bool = True, shutter_open: bool = False, can_park: bool = True,
                 parked: bool = False, park_azimuth: float | None = 0.0,
                 can_set_park: bool = True, can_slave: bool = False,
                 poll_interval: float = 1.0) -> None:
        parked = parked and can_park
        made = build(
            DOME_VECTORS, has_shutter=has_shutter, shutter_open="On" if shutter_open else "Off",
            shutter_close="Off" if shutter_open else "On", azimuth=azimuth % 360.0,
            can_slave=can_slave, can_park=can_park, park="On" if parked else "Off",
            unpark="Off" if parked else "On",
            has_park_position=can_park and park_azimuth is not None,
            park_azimuth=(park_azimuth or 0.0) % 360.0, can_set_park=can_park and can_set_park)
        super().__init__(hardware, made, "ABS_DOME_POSITION", "DOME_ABSOLUTE_POSITION", "Dome",
                         poll_interval)
        self.position = made.vector("ABS_DOME_POSITION", NumberVector)
        self.dome = hardware
        self.parked = parked
        self.default_park = park_azimuth
        self.shutter = made.optional("DOME_SHUTTER", SwitchVector)
        self._shutting = Operation(self.shutter or self.position, "Shutter")
        self.motion = made.vector("DOME_MOTION", SwitchVector)
        self.abort_motion = made.vector("DOME_ABORT_MOTION", SwitchVector)
        self.autosync = made.optional("DOME_AUTOSYNC", SwitchVector)
        self.park = made.optional("DOME_PARK", SwitchVector)
        self._parking = Operation(self.park or self.position, "Dome park")
        self.park_position = made.optional("DOME_PARK_POSITION", NumberVector)
        self.park_option = made.optional("DOME_PARK_OPTION", SwitchVector)

    # ---------------------------------------------------------------- Role

    @property
    def interface(self) -> Interface:
        return Interface.DOME

    def operations(self) -> list[Operation]:
        return [self._move, self._parking, self._shutting]

    @property
    def shutter_moving(self) -> bool:
        """Whether a shutter request is under way (its end will say where the shutter is)."""
        return self._shutting.running

    async def disconnected(self) -> None:
        await super().disconnected()
        self._show_direction(0)  # stopped: no direction shown when defined again

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        if name == "ABS_DOME_POSITION" and isinstance(event, newNumberVector):
            await self._slew(event.getfloatvalue("DOME_ABSOLUTE_POSITION"))
        elif name == "DOME_MOTION":
            await self._turn(1 if event.get("DOME_CW") == "On" else
                             -1 if event.get("DOME_CCW") == "On" else 0)
        elif name == "DOME_ABORT_MOTION":
            await self._abort()
        elif name == "DOME_SHUTTER":
            await run_chosen(event, {"SHUTTER_OPEN": lambda: self._shutter(True),
                                     "SHUTTER_CLOSE": lambda: self._shutter(False)})
        elif name == "DOME_PARK":
            await run_chosen(event, {"PARK": self._park, "UNPARK": self._unpark})
        elif name == "DOME_PARK_POSITION":
            await accept_values(event)
        elif name == "DOME_PARK_OPTION":
            await self._park_option(event)
        elif name == "DOME_AUTOSYNC":
            await self._slaving(_switched_on(event, "DOME_AUTOSYNC_ENABLE",
                                             "DOME_AUTOSYNC_DISABLE"))

    # ---------------------------------------------------------------- motion

    def _why_not_moving(self) -> str | None:
        if self.parked:
            return "Please unpark the dome before issuing any motion commands"
        if self._parking.running:
            return "The dome is parking: abort the park first"
        return None

    def _show_direction(self, direction: int) -> None:
        self.motion["DOME_CW"] = "On" if direction > 0 else "Off"
        self.motion["DOME_CCW"] = "On" if direction < 0 else "Off"

    async def _slew(self, azimuth: float) -> None:
        if (why := self._why_not_moving()) is not None:
            await self.refuse(self.position, why)
            return
        if not 0.0 <= azimuth <= 360.0:
            await self.refuse(self.position, f"Azimuth {azimuth:.2f} is outside 0..360")
            return
        if self.motion.state == "Busy" and not self._move.running:
            await self.refuse(self.position, "Please stop the dome's motion before a slew")
            return
        turn = (azimuth - self.angle) % 360.0
        self._show_direction(0 if turn == 0 else 1 if turn <= 180.0 else -1)
        await self.motion.send_setVector(state="Busy")
        await self.start_move(azimuth)

    async def moved(self, ok: bool) -> None:
        self._show_direction(0)
        await self.motion.send_setVector(state="Ok" if ok else "Idle")

    async def _turn(self, direction: int) -> None:
        if direction and (why := self._why_not_moving()) is not None:
            await self.refuse(self.motion, why)
            return
        if direction and self._move.running:
            await self.refuse(self.motion, "Please stop the dome before turning it")
            return
        if not await attempt(self.motion, "Dome motion", self.dome.move(direction)):
            return
        self._show_direction(direction)
        await self.motion.send_setVector(state="Busy" if direction else "Idle")
        if direction:
            await self.position.send_setVector(state="Busy")
        elif self.position.state == "Busy":
            await self.position.send_setVector(state="Idle")

    async def _abort(self) -> None:
        moving, parking, shutting = await self.abort_all(self.abort_motion)
        if shutting and self.shutter is not None:
            await self.shutter.send_setVector(
                state="Alert", message="Shutter motion aborted: where it stopped is not known")
        if parking and self.park is not None:
            self.park["UNPARK"] = "On"
            await self.park.send_setVector(state="Alert", message="Parking aborted")
        if moving or parking or self.motion.state == "Busy":
            self._show_direction(0)
            await self.motion.send_setVector(state="Idle")
            await self.position.send_setVector(state="Idle")

    # ---------------------------------------------------------------- shutter

    async def _shutter(self, open: bool) -> None:
        assert self.shutter is not None  # only its own requests come here
        await self._shutting.abort()
        self.shutter["SHUTTER_OPEN" if open else "SHUTTER_CLOSE"] = "On"
        what = "opening" if open else "closing"
        self.logger.info("Shutter is %s", what)
        await self.shutter.send_setVector(state="Busy", message=f"Shutter is {what}...")
        self._shutting.start(self._run_shutter(open))

    async def _run_shutter(self, open: bool) -> None:
        assert self.shutter is not None
        await self.dome.shutter(open)
        await self.shutter.send_setVector(
            state="Ok", message=f"Shutter is {'open' if open else 'closed'}.")

    # ---------------------------------------------------------------- parking

    async def _park(self) -> None:
        assert self.park is not None
        if self.parked:
            await self.park.send_setVector(state="Ok", message="Dome already parked")
            return
        if self._parking.running:
            await self.park.send_setVector(state="Busy")
            return
        await self._move.abort()
        self.park["PARK"] = "On"
        await self.park.send_setVector(state="Busy", message="Dome is parking...")
        await self.position.send_setVector(state="Busy")
        azimuth = None if self.park_position is None \
            else self.park_position.getfloatvalue("PARK_AZ")
        self._parking.start(self._run_park(azimuth))

    async def _run_park(self, azimuth: float | None) -> None:
        assert self.park is not None
        try:
            await self.dome.park(azimuth)
        except Exception:
            self.park["UNPARK"] = "On"
            await self.position.send_setVector(state="Idle")
            raise  # DOME_PARK Alert with the error (Operation)
        self.parked = True
        async with self._lock:
            await self.read()
            await self.position.send_setVector(state="Idle")
        self.logger.info("Dome parked")
        await self.park.send_setVector(state="Ok", message="Dome parked")

    async def _unpark(self) -> None:
        assert self.park is not None
        if self._parking.running:
            await self.refuse(self.park, "The dome is parking: abort the park first")
            return
        if self.parked:
            if not await attempt(self.park, "Unpark", self.dome.unpark()):
                self.park["PARK"] = "On"
                return
            self.parked = False
            self.logger.info("Dome unparked")
        self.park["UNPARK"] = "On"
        await self.park.send_setVector(state="Ok")

    async def _park_option(self, event: ClientVectorEvent[Any]) -> None:
        assert self.park_option is not None
        if event.get("PARK_CURRENT") == "On":
            azimuth = self.angle
        elif event.get("PARK_DEFAULT") == "On" and self.default_park is not None:
            azimuth = self.default_park % 360.0
        else:
            await self.park_option.send_setVector()
            return
        if not await attempt(self.park_option, "Setting the park position",
                             self.dome.set_park(azimuth)):
            return
        if self.park_position is not None:
            self.park_position["PARK_AZ"] = azimuth
            await self.park_position.send_setVector(state="Ok")
        for member in self.park_option:
            self.park_option[member] = "Off"
        await self.park_option.send_setVector(
            state="Ok", message=f"The park position is {azimuth:.2f} degrees azimuth")

    # ---------------------------------------------------------------- slaving

    async def _slaving(self, on: bool) -> None:
        assert self.autosync is not None
        self.logger.info("The dome is to %s the mount", "follow" if on else "stop following")
        await choose(self.autosync, "DOME_AUTOSYNC_ENABLE" if on else "DOME_AUTOSYNC_DISABLE",
                     "Slaving", self.dome.set_slaved(on))
