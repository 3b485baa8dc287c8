"""The device "Astrometry Agent" (INDIGO's name) and its driver, assembled (`assembly`): the
`AstrometryFace` on the agent's device (DRIVER_EXEC indipy_agent_astrometry), and
`AstrometryDriver` on the one agent driver base, its face's tasks stopped when it stops.
"""

from __future__ import annotations

from indipydriver import Device

from ..assembly import AgentDriverBase
from ..assembly import Description
from ..assembly import make_device as make_agent_device
from ..link import AgentLink
from .face import AstrometryFace
from .solver import INDEX_DIR
from .solver import Solver

__all__ = ["DESCRIPTION", "DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "AstrometryDriver",
           "make_device", "make_driver"]

DEVICE = "Astrometry Agent"
DRIVER_EXEC = "indipy_agent_astrometry"
DRIVER_VERSION = "1.0"
DESCRIPTION = Description(DEVICE, DRIVER_EXEC, DRIVER_VERSION)


def make_device(face: AstrometryFace, *, name: str = DEVICE,
                config_dir: str | None = None) -> Device:
    """The agent's device: CONNECTION, DRIVER_INFO, DEBUG, CONFIG_PROCESS, then the face's
    vectors, all defined from the start."""
    return make_agent_device(DESCRIPTION, [face], name=name, config_dir=config_dir)


class AstrometryDriver(AgentDriverBase):
    """The agent's driver: its device and the `link` its processes drive the server
    through, closed when the driver stops."""

    def __init__(self, device: Device, *, link: AgentLink, face: AstrometryFace) -> None:
        super().__init__(device, link=link)
        self.face = face

    async def closing(self) -> None:
        await self.face.tasks.stop()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                config_dir: str | None = None, solver: str = "solve-field",
                index_dir: str = INDEX_DIR, workdir: str | None = None) -> AstrometryDriver:
    """The agent (what ``indipyserver indipyagents.astrometry`` serves), its client on
    `host`:`port`, else ``INDIPY_AGENT_SERVER``, else the server hosting it, else
    localhost:7624; `solver` the program and `index_dir` the index files it uses, its
    temporary folders under `workdir` (None: the system's)."""
    link = AgentLink(host, port)
    face = AstrometryFace(link, Solver(solver, index_dir, workdir))
    return AstrometryDriver(make_device(face, name=name, config_dir=config_dir), link=link,
                            face=face)
