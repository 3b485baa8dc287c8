"""`AlpacaPart`: one Alpaca device as the bridge holds it, the base of each device type's.

A part knows its server's `AlpacaClient`, its path (``focuser/0``) and the INDI `Device` its
type builds from a standard role. The device's connect and disconnect hooks are the part's
(``PUT connected``); `refresh` is what the driver's watch calls at POLLING_PERIOD while the
device is connected, to show changes nobody asked for here (a focuser moved by another
client); `wait_until` is the bounded wait for an Alpaca completion property.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from indipydriver import Device
from indipydriver.standard import RepeatedRead

from .client import AlpacaClient

__all__ = ["DEVICE_TYPES", "PARTS", "AlpacaPart", "TurningPart"]

logger = logging.getLogger(__name__)

#: The Alpaca device types this bridge makes INDI devices of (URL spelling), each with the
#: module and class of its part (`driver.describe` imports it when a device of the type is
#: met, so a type's code is loaded only when used).
PARTS = {
    "focuser": ("focuser", "AlpacaFocuser"),
    "filterwheel": ("filterwheel", "AlpacaFilterWheel"),
    "telescope": ("telescope", "AlpacaTelescope"),
    "camera": ("camera", "AlpacaCamera"),
    "observingconditions": ("weather", "AlpacaWeather"),
    "dome": ("dome", "AlpacaDome"),
    "rotator": ("rotator", "AlpacaRotator"),
    "safetymonitor": ("safetymonitor", "AlpacaSafetyMonitor"),
}
DEVICE_TYPES = tuple(PARTS)

#: DRIVER_EXEC of every device made from Alpaca.
DRIVER_EXEC = "indipyalpaca"


class AlpacaPart:
    """One Alpaca device (`kind`/`number` on `client`'s server) and its INDI `device`."""

    device: Device

    def __init__(self, client: AlpacaClient, kind: str, number: int, name: str) -> None:
        self.client = client
        self.kind = kind
        self.number = number
        self.name = name
        self.path = f"{kind}/{number}"
        self._reading: RepeatedRead | None = None

    def make_device(self, role: Any, *more: Any) -> Device:
        """The INDI device of `role` (a standard role made on this part) and `more` roles
        (a camera's settings, timed guiding), with the part's connect and disconnect hooks."""
        return Device(self.name, roles=[role, *more], connect=self.connect,
                      disconnect=self.disconnect, driver_exec=DRIVER_EXEC)

    @property
    def logger(self) -> logging.Logger:
        return self.device.logger

    @property
    def polling_seconds(self) -> float:
        """The device's POLLING_PERIOD (its role's), 1 s for a role that has none."""
        roles = self.device.standard.pollers if self.device.standard is not None else []
        return float(roles[0].polling_seconds) if roles else 1.0

    @property
    def connected(self) -> bool:
        return self.device.standard is not None and self.device.standard.connected

    async def get(self, member: str, **params: object) -> Any:
        return await self.client.get(self.path, member, **params)

    async def put(self, member: str, **params: object) -> Any:
        return await self.client.put(self.path, member, **params)

    async def connect(self) -> None:
        """The connect hook: the Alpaca device connected (raising refuses the connect)."""
        await self.put("connected", Connected=True)
        try:  # a Platform 7 device may take a moment to say so
            await self.wait_until(self._connected, "connecting", limit=30)
        except TimeoutError:
            raise RuntimeError(f"{self.path} did not connect within 30 s") from None
        await self.connected_now()

    async def _connected(self) -> bool:
        return await self.get("connected") is True

    async def connected_now(self) -> None:
        """Read what the role shows once connected (a type's own start values)."""

    async def disconnect(self) -> None:
        """The disconnect hook."""
        await self.put("connected", Connected=False)

    async def refresh(self) -> None:
        """Show what changed on the Alpaca device since the last look (nothing by default)."""

    async def guarded_refresh(self) -> None:
        """`refresh`, with an Alpaca error logged once (the link's loss propagates)."""
        if self._reading is None:
            self._reading = RepeatedRead(self.logger, f"Reading {self.path}")
        try:
            await self.refresh()
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001  # an error of the device: said once
            self._reading.failed(exc)
        else:
            self._reading.worked()

    async def wait_for_value(self, member: str, value: object, what: str,
                             limit: float = 600.0) -> None:
        """Poll GET `member` until it reads `value` (the end of an asynchronous action:
        ``slewing`` False, ``atpark`` True); TimeoutError after `limit` s."""
        async def reached() -> bool:
            return bool(await self.get(member) == value)
        await self.wait_until(reached, what, limit)

    async def wait_until(self, done: Callable[[], Awaitable[bool]], what: str,
                         limit: float = 600.0, step: float = 0.2) -> None:
        """Poll `done` every `step` s until it says True; TimeoutError after `limit` s."""
        end = time.monotonic() + limit
        while not await done():
            if time.monotonic() > end:
                raise TimeoutError(f"{self.path}: {what} not done after {limit:.0f} s")
            await asyncio.sleep(step)


class TurningPart(AlpacaPart):
    """A part whose Alpaca device turns to an angle in degrees (a dome's azimuth, a rotator's
    position): the dome and rotator roles' ``move_to``, ``position`` and ``abort``, from the
    names of its members."""

    #: The PUT that starts a move and its parameter, the GET that is True while moving, the
    #: GET of the angle, the PUT that stops (a dome's ``slewtoazimuth``...).
    START, TARGET, MOVING, ANGLE, STOP = "", "", "", "", ""

    async def move_to(self, degrees: float) -> None:
        await self.put(self.START, **{self.TARGET: degrees % 360.0})
        await self.wait_for_value(self.MOVING, False, "the move")

    async def position(self) -> float:
        return float(await self.get(self.ANGLE))

    async def abort(self) -> None:
        await self.put(self.STOP)
