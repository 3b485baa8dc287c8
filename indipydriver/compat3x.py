"""The names indipydriver 3.x drivers use that the framework has under other names.

A thin layer: each name here maps onto the framework's own machinery (`IPyDriver` and `Device`
take these as base classes), so a driver written for bernie-skipole's indipydriver 3.1.2 runs
unchanged. What still differs from 3.x, and why, is in ``docs/migrating.rst``.
"""

from __future__ import annotations

import inspect
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Coroutine
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from .members import getfloat
from .ports import DriverPort

if TYPE_CHECKING:
    from .snooping import SnoopRegistry

__all__ = ["Device3x", "DeviceDict", "Driver3x"]

logger = logging.getLogger(__name__)

_D = TypeVar("_D")


class DeviceDict(dict[str, _D]):
    """A driver's devices by name; called, the list of them (3.x's ``driver.devices()``)."""

    def __call__(self) -> list[_D]:
        return list(self.values())


class Driver3x:
    """3.x names of `IPyDriver`: `stop`, `indi_number_to_float`, `send`, `snoop` and the snoop
    bookkeeping (`snoopall`, `snoopdevices`, `snoopvectors`)."""

    _stop: bool
    devices: Mapping[str, object]  # a DeviceDict of Devices (`IPyDriver.__init__`)
    snoops: SnoopRegistry

    if TYPE_CHECKING:
        async def _send(self, data: bytes, tag: str | None = None,
                        attrs: dict[str, str] | None = None) -> None: ...
        _snoop_wakeup: Any

    @staticmethod
    def indi_number_to_float(value: float | str) -> float:
        """A number given as float, int or INDI text (sexagesimal too) as a float; TypeError
        (which is also a ValueError) when it is not one."""
        return getfloat(value)

    @property
    def stop(self) -> bool:
        """True once `shutdown()` is called or the driver stopped serving: for hardware loops,
        ``while not self.stop:``."""
        return self._stop

    async def send(self, xmldata: ET.Element | bytes | str) -> None:
        """Send one INDI element as it is (an ``xml.etree`` Element, bytes or text); nothing
        is sent once the driver is stopping. The framework's own send methods are preferred:
        they check what they send."""
        if self._stop:
            return
        if isinstance(xmldata, ET.Element):
            data = ET.tostring(xmldata)
        elif isinstance(xmldata, str):
            data = xmldata.encode()
        else:
            data = bytes(xmldata)
        await self._send(data)

    def snoop(self, devicename: str, vectorname: str, timeout: float = 30) -> None:
        """Snoop one vector of another device: its getProperties is sent (now when serving,
        else when served) and repeated whenever the vector is quiet for `timeout` seconds
        (at least 5). A plain call, as in 3.x; ``await self.send_getProperties(...)`` asks once
        with the driver's `snoop_quiet_seconds`."""
        if devicename in self.devices:
            logger.error("cannot snoop on device %r: it belongs to this driver", devicename)
            return
        if timeout < 5:
            logger.error("snoop timeout %r: it must be at least 5 seconds", timeout)
            return
        # Registered as never sent: the driver's snoop timer sends it at once (or `serve`).
        snoop = self.snoops.add(devicename, vectorname, float("-inf"))
        snoop.quiet = float(timeout)
        self._snoop_wakeup.set()

    @property
    def snoopall(self) -> bool:
        """Whether this driver snoops every device (``send_getProperties()`` with no device)."""
        return any(s.devicename is None for s in self.snoops)

    @property
    def snoopdevices(self) -> set[str]:
        """The devices snooped whole."""
        return {s.devicename for s in self.snoops
                if s.devicename is not None and s.vectorname is None}

    @property
    def snoopvectors(self) -> dict[tuple[str, str], list[float]]:
        """(device, vector) snooped -> [seconds of quiet before asking again, when last heard
        from or asked (time.time())], as 3.x kept them."""
        offset = time.time() - time.monotonic()
        vectors = {}
        for snoop in self.snoops:
            if snoop.devicename is not None and snoop.vectorname is not None:
                quiet = snoop.quiet if snoop.quiet is not None else self.snoops.quiet_seconds
                last = max(snoop.last_sent, snoop.last_heard)
                vectors[(snoop.devicename, snoop.vectorname)] = [
                    quiet, last + offset if last > float("-inf") else 0.0]
        return vectors


class Device3x:
    """3.x names of `Device`: `stop`, `shutdown`, `add_background`, `properties` and
    `indi_number_to_float`."""

    _stop: bool
    _background: list[Coroutine[Any, Any, Any]]
    driver: DriverPort | None
    data: dict[str, Any]

    indi_number_to_float = staticmethod(Driver3x.indi_number_to_float)

    @property
    def stop(self) -> bool:
        """True once this device or its driver is shut down: for ``while not self.stop:``
        in `devhardware`."""
        driver = self.driver
        return self._stop or (driver is not None and driver.stop)

    def shutdown(self) -> None:
        """Set `stop` (the driver's `shutdown` does it for each of its devices)."""
        self._stop = True

    def add_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine alongside the driver (its errors are logged, not fatal)."""
        if not inspect.iscoroutine(coro):
            raise TypeError(f"add_background takes a coroutine, not {coro!r:.80}")
        if self.driver is None:
            self._background.append(coro)  # handed to the driver it is given to
        else:
            self.driver.add_background(coro)

    def properties(self) -> list[Any]:
        """The device's vectors, as a list."""
        return list(self.data.values())
