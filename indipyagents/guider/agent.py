"""The device "Guider Agent" (INDIGO's name) and its driver, assembled (`assembly`):
`make_driver` puts the `GuiderFace` on the agent's device (DRIVER_EXEC indipy_agent_guider),
and `GuiderDriver`, on the one agent driver base, opens PHD2's event server (`Phd2Server`,
port 4400 unless told; 0 for none) and runs the `Session` for its life.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from indipyagents import defaults
from indipydriver import Device

from ..assembly import AgentDriverBase
from ..assembly import Description
from ..assembly import make_device
from ..link import AgentLink
from .face import GuiderFace
from .phd2methods import Phd2Methods
from .phd2server import DEFAULT_PORT
from .phd2server import Phd2Events
from .phd2server import Phd2Server
from .phd2server import listen_host
from .session import Session

__all__ = ["DESCRIPTION", "DEVICE", "DRIVER_EXEC", "GuiderDriver", "make_driver"]

logger = logging.getLogger(__name__)

DEVICE = "Guider Agent"
DRIVER_EXEC = "indipy_agent_guider"
DRIVER_VERSION = "1.0"
DESCRIPTION = Description(DEVICE, DRIVER_EXEC, DRIVER_VERSION)


class GuiderDriver(AgentDriverBase):
    """The guider's driver: its device, the link, the session, PHD2's server."""

    def __init__(self, device: Device, *, link: AgentLink, face: GuiderFace, session: Session,
                 phd2: Phd2Server | None, phd2_host: str | None = None) -> None:
        super().__init__(device, link=link)
        self.face = face
        self.session = session
        self.phd2 = phd2
        #: ``--phd2-host``; None: where the INDI server is reached (`listen_host`).
        self.phd2_host = phd2_host

    async def work(self) -> None:
        """PHD2's server opened, the session run until the driver stops."""
        await self.link.settled()
        if self.phd2 is not None:
            await self._open_phd2(self.phd2)
        await self.session.run()

    async def _open_phd2(self, phd2: Phd2Server) -> None:
        try:
            try:
                port = await phd2.start(listen_host(self.phd2_host, self.link.host))
            except OSError as exc:
                if self.phd2_host is not None or phd2.host == "127.0.0.1":
                    raise
                # the INDI server is another machine's: this one's loopback, not all
                logger.warning("PHD2's event server cannot listen on %s, the INDI "
                               "server's address (%s): on 127.0.0.1 instead "
                               "(--phd2-host to choose)", phd2.host, exc)
                port = await phd2.start("127.0.0.1")
        except OSError as exc:
            logger.error("PHD2's event server could not listen on port %d: %s",
                         phd2.port, exc)
            self.phd2 = None
        else:
            await self.face.show_port(port)

    async def closing(self) -> None:
        if self.phd2 is not None:
            with contextlib.suppress(Exception):
                await self.phd2.close()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                phd2_port: int = DEFAULT_PORT, phd2_host: str | None = None,
                camera: str = defaults.GUIDE_CAMERA, mount: str = defaults.MOUNT,
                config_dir: str | None = None, state: str | None = None) -> GuiderDriver:
    """The guider (what ``indipyserver indipyagents.guider`` serves), its client on
    `host`:`port` (else ``INDIPY_AGENT_SERVER``, else the hosting server, else
    localhost:7624); PHD2's server on `phd2_port` (0: none; the default 4400, PHD2's); the
    calibration kept in `state` (a folder; None: not kept, calibrated at every start)."""
    link = AgentLink(host, port)
    # The face's requests go to the session, made next from the face (it reads its settings).
    face = GuiderFace(camera, mount, commands=lambda: session)
    device = make_device(DESCRIPTION, [face], name=name, config_dir=config_dir)
    events = Phd2Events() if phd2_port else None
    session = Session(link, face, publish=None if events is None else events.publish,
                      state=None if state is None else Path(state))
    phd2 = None if events is None else Phd2Server(Phd2Methods(session), phd2_port,
                                                  phd2_host or "", events=events)
    return GuiderDriver(device, link=link, face=face, session=session, phd2=phd2,
                        phd2_host=phd2_host)
