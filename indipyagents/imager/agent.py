"""The device "Imager Agent" and its driver: `make_device` composes the agent's parts (each a
`Role`: `ImagerFace`, and the sequencer's face beside it) on one standard device, and
`AgentDriver` learns the hosting server's address (`server_listening`) for the parts' link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard.role import Role

from ..link import AgentLink
from .face import ImagerFace

__all__ = ["DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "AgentDriver", "make_device",
           "make_driver"]

DEVICE = "Imager Agent"
DRIVER_EXEC = "indipy_agent_imager"
#: indilib 1.9.9's agent says 1.2: a client that checks the version finds the same face.
DRIVER_VERSION = "1.2"


def make_device(parts: Iterable[Role], *, name: str = DEVICE, **options: object) -> Device:
    """The agent's device: CONNECTION, DRIVER_INFO (DRIVER_EXEC indipy_agent_imager,
    DRIVER_INTERFACE 0), DEBUG and CONFIG_PROCESS, then each part's vectors; CONNECT and
    DISCONNECT reach every part (`Role.connected`/`disconnected`). `options` go to `Device`
    (``config_dir``...)."""
    return Device(name, roles=list(parts), driver_exec=DRIVER_EXEC,
                  driver_version=DRIVER_VERSION, **options)  # type: ignore[arg-type]


class AgentDriver(IPyDriver):
    """The agent's driver: its devices, and the `link` its parts drive the server through.
    `IPyServer` calls `server_listening` when it listens (the `ServedDriver` protocol of
    ``indipyserver.drivers.served``), so an agent hosted in-process needs no address."""

    def __init__(self, *devices: Device, link: AgentLink) -> None:
        super().__init__(*devices)
        self.link = link

    def server_listening(self, host: str, port: int) -> None:
        self.link.server_listening(host, port)

    async def hardware(self) -> None:
        """Nothing to poll: holds the link for the driver's life and closes it at the end."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.link.close()


def make_driver(host: str | None = None, port: int | None = None) -> AgentDriver:
    """The imager agent alone (what ``indipyserver indipyagents.imager`` serves): it drives
    the server at `host`:`port`, else ``INDIPY_AGENT_SERVER``, else the server hosting it."""
    link = AgentLink(host, port)
    return AgentDriver(make_device([ImagerFace(link)]), link=link)
