"""The device "Astrometry Agent" (INDIGO's name) and its driver: `make_device` puts the
`AstrometryFace` on a standard device (DRIVER_EXEC indipy_agent_astrometry), and
`AstrometryDriver` learns the hosting server's address (`server_listening`) for its link.
"""

from __future__ import annotations

import asyncio

from indipydriver import Device

from ..link import AgentLink
from ..link import LinkedDriver
from .face import AstrometryFace
from .solver import INDEX_DIR
from .solver import Solver

__all__ = ["DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "AstrometryDriver", "make_device",
           "make_driver"]

DEVICE = "Astrometry Agent"
DRIVER_EXEC = "indipy_agent_astrometry"
DRIVER_VERSION = "1.0"


def make_device(face: AstrometryFace, *, name: str = DEVICE, **options: object) -> Device:
    """The agent's device: CONNECTION, DRIVER_INFO, DEBUG, CONFIG_PROCESS, then the face's
    vectors, all defined from the start."""
    return Device(name, roles=[face], driver_exec=DRIVER_EXEC,
                  driver_version=DRIVER_VERSION, **options)  # type: ignore[arg-type]


class AstrometryDriver(LinkedDriver):
    """The agent's driver: its device and the `link` its processes drive the server
    through, closed when the driver stops."""

    def __init__(self, device: Device, *, link: AgentLink, face: AstrometryFace) -> None:
        super().__init__(device, link=link)
        self.face = face

    async def hardware(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await self.face.tasks.stop()
            await self.link.close()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                config_dir: str | None = None, solver: str = "solve-field",
                index_dir: str = INDEX_DIR, workdir: str | None = None) -> AstrometryDriver:
    """The agent (what ``indipyserver indipyagents.astrometry`` serves), its client on
    `host`:`port`, else ``INDIPY_AGENT_SERVER``, else the server hosting it, else
    localhost:7624; `solver` the program and `index_dir` the index files it uses, its
    temporary folders under `workdir` (None: the system's)."""
    link = AgentLink(host, port)
    face = AstrometryFace(link, Solver(solver, index_dir, workdir))
    options = {} if config_dir is None else {"config_dir": config_dir}
    device = make_device(face, name=name, **options)
    return AstrometryDriver(device, link=link, face=face)
