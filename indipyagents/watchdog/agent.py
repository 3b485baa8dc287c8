"""The device "WatchDog" and its driver: `make_device` puts the `WatchdogFace` on a standard
device (DRIVER_EXEC indipy_agent_watchdog, DRIVER_INTERFACE 32768 as indi_watchdog's), and
`WatchdogDriver` learns the hosting server's address (`server_listening`, the `ServedDriver`
protocol) and runs the `Guard` for its life.
"""

from __future__ import annotations

import asyncio
import logging

from indipycore.retrypolicy import Retry
from indipydriver import Device

from ..link import AgentLink
from ..link import LinkedDriver
from .face import WatchdogFace
from .guard import REPARK_AFTER
from .guard import Guard
from .shutdown import STEP_RETRY
from .shutdown import Shutdown

__all__ = ["DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "WatchdogDriver", "make_device",
           "make_driver"]

logger = logging.getLogger(__name__)

DEVICE = "WatchDog"
DRIVER_EXEC = "indipy_agent_watchdog"
#: indilib 1.9.9's says 0.3; ours is its face and more.
DRIVER_VERSION = "1.0"


def make_device(face: WatchdogFace, *, name: str = DEVICE, **options: object) -> Device:
    """The watchdog's device: CONNECTION, DRIVER_INFO, DEBUG, CONFIG_PROCESS, then the
    face's vectors, all defined from the start. `options` go to `Device` (``config_dir``)."""
    return Device(name, roles=[face], driver_exec=DRIVER_EXEC,
                  driver_version=DRIVER_VERSION, **options)  # type: ignore[arg-type]


class WatchdogDriver(LinkedDriver):
    """The watchdog's driver: its device, the `link` its guard reads the server through,
    and the `guard` run for the driver's life."""

    def __init__(self, device: Device, *, link: AgentLink, face: WatchdogFace,
                 guard: Guard) -> None:
        super().__init__(device, link=link)
        self.face = face
        self.guard = guard

    def server_listening(self, host: str, port: int) -> None:
        super().server_listening(host, port)
        self.face.server_listening(host, port)

    async def hardware(self) -> None:
        """The guard, until the driver stops; the link closed at the end."""
        try:
            await self.link.settled()
            await self.guard.run()
            await asyncio.Event().wait()
        finally:
            await self.link.close()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                config_dir: str | None = None, retry: Retry = STEP_RETRY,
                bounds: dict[str, float] | None = None,
                repark_after: float = REPARK_AFTER) -> WatchdogDriver:
    """The watchdog (what ``indipyserver indipyagents.watchdog`` serves), its client on
    `host`:`port`, else ``INDIPY_AGENT_SERVER``, else WATCHDOG_SETTINGS' saved address, else
    the server hosting it, else localhost:7624; `name` the device's (``WatchDog``); `retry`,
    `bounds` (seconds per step) and `repark_after` the shutdown's policy."""
    link = AgentLink(host, port)
    face = WatchdogFace(link)
    options = {} if config_dir is None else {"config_dir": config_dir}
    device = make_device(face, name=name, **options)
    shutdown = Shutdown(link.client, face.show_step, device.logger, retry=retry,
                        bounds=bounds)
    guard = Guard(face, shutdown, repark_after=repark_after)
    return WatchdogDriver(device, link=link, face=face, guard=guard)
