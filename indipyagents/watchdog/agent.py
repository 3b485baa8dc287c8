"""The device "WatchDog" and its driver, assembled (`assembly`): the `WatchdogFace` on the
agent's device (DRIVER_EXEC indipy_agent_watchdog, DRIVER_INTERFACE 32768 as indi_watchdog's),
and `WatchdogDriver` on the one agent driver base, which tells the face the hosting server's
address too (`server_listening`, the `ServedDriver` protocol) and runs the `Guard` for its
life.
"""

from __future__ import annotations

import logging

from indipycore.retrypolicy import Retry
from indipydriver import Device

from ..assembly import AgentDriverBase
from ..assembly import Description
from ..assembly import make_device as make_agent_device
from ..link import AgentLink
from .face import WatchdogFace
from .guard import REPARK_AFTER
from .guard import Guard
from .shutdown import STEP_RETRY
from .shutdown import Shutdown

__all__ = ["DESCRIPTION", "DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "WatchdogDriver",
           "make_device", "make_driver"]

logger = logging.getLogger(__name__)

DEVICE = "WatchDog"
DRIVER_EXEC = "indipy_agent_watchdog"
#: indilib 1.9.9's says 0.3; ours is its face and more.
DRIVER_VERSION = "1.0"
DESCRIPTION = Description(DEVICE, DRIVER_EXEC, DRIVER_VERSION)


def make_device(face: WatchdogFace, *, name: str = DEVICE,
                config_dir: str | None = None) -> Device:
    """The watchdog's device: CONNECTION, DRIVER_INFO, DEBUG, CONFIG_PROCESS, then the
    face's vectors, all defined from the start; CONFIG_SAVE writes to `config_dir`."""
    return make_agent_device(DESCRIPTION, [face], name=name, config_dir=config_dir)


class WatchdogDriver(AgentDriverBase):
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

    async def work(self) -> None:
        """The guard, until the driver stops."""
        await self.link.settled()
        await self.guard.run()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                config_dir: str | None = None, retry: Retry = STEP_RETRY,
                bounds: dict[str, float] | None = None,
                repark_after: float = REPARK_AFTER) -> WatchdogDriver:
    """The watchdog (what ``indipyserver indipyagents.watchdog`` serves), its client on
    `host`:`port`, else ``INDIPY_AGENT_SERVER``, else WATCHDOG_SETTINGS' saved address, else
    the server hosting it, else localhost:7624; `name` the device's (``WatchDog``); `retry`,
    `bounds` (seconds per step) and `repark_after` the shutdown's policy."""
    link = AgentLink(host, port)
    # The face tells the guard, made next from it, what its clients change.
    face = WatchdogFace(link, watcher=lambda: guard)
    device = make_device(face, name=name, config_dir=config_dir)
    shutdown = Shutdown(link.client, face.show_step, device.logger, retry=retry,
                        bounds=bounds)
    guard = Guard(face, shutdown, repark_after=repark_after)
    return WatchdogDriver(device, link=link, face=face, guard=guard)
