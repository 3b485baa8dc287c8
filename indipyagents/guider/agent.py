"""The device "Guider Agent" (INDIGO's name) and its driver: `make_driver` puts the
`GuiderFace` on a standard device (DRIVER_EXEC indipy_agent_guider), and `GuiderDriver` learns
the hosting server's address (`server_listening`), then runs the `Session` and PHD2's event
server (`Phd2Server`, port 4400 unless told; 0 for none) for its life.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from indipyagents import defaults
from indipydriver import Device
from indipydriver import IPyDriver

from ..link import AgentLink
from .face import GuiderFace
from .phd2methods import Phd2Methods
from .phd2server import DEFAULT_PORT
from .phd2server import Phd2Server
from .phd2server import listen_host
from .session import Session

__all__ = ["DEVICE", "DRIVER_EXEC", "GuiderDriver", "make_driver"]

logger = logging.getLogger(__name__)

DEVICE = "Guider Agent"
DRIVER_EXEC = "indipy_agent_guider"
DRIVER_VERSION = "1.0"


class GuiderDriver(IPyDriver):
    """The guider's driver: its device, the link, the session, PHD2's server."""

    def __init__(self, device: Device, *, link: AgentLink, face: GuiderFace, session: Session,
                 phd2: Phd2Server | None, phd2_host: str | None = None) -> None:
        super().__init__(device)
        self.link = link
        self.face = face
        self.session = session
        self.phd2 = phd2
        #: ``--phd2-host``; None: where the INDI server is reached (`listen_host`).
        self.phd2_host = phd2_host

    def server_listening(self, host: str, port: int) -> None:
        self.link.server_listening(host, port)

    async def hardware(self) -> None:
        """PHD2's server opened, the session run until the driver stops."""
        try:
            await self.link.settled()
            if self.phd2 is not None:
                self.phd2.host = listen_host(self.phd2_host, self.link.host)
                try:
                    try:
                        port = await self.phd2.start()
                    except OSError as exc:
                        if self.phd2_host is not None or self.phd2.host == "127.0.0.1":
                            raise
                        # the INDI server is another machine's: this one's loopback, not all
                        logger.warning("PHD2's event server cannot listen on %s, the INDI "
                                       "server's address (%s): on 127.0.0.1 instead "
                                       "(--phd2-host to choose)", self.phd2.host, exc)
                        self.phd2.host = "127.0.0.1"
                        port = await self.phd2.start()
                except OSError as exc:
                    logger.error("PHD2's event server could not listen on port %d: %s",
                                 self.phd2.port, exc)
                    self.phd2 = None
                else:
                    await self.face.show_port(port)
            await self.session.run()
        finally:
            if self.phd2 is not None:
                with contextlib.suppress(Exception):
                    await self.phd2.close()
            await self.link.close()


def make_driver(host: str | None = None, port: int | None = None, *, name: str = DEVICE,
                phd2_port: int = DEFAULT_PORT, phd2_host: str | None = None,
                camera: str = defaults.GUIDE_CAMERA, mount: str = defaults.MOUNT,
                config_dir: str | None = None, state: str | None = None) -> GuiderDriver:
    """The guider (what ``indipyserver indipyagents.guider`` serves), its client on
    `host`:`port` (else ``INDIPY_AGENT_SERVER``, else the hosting server, else
    localhost:7624); PHD2's server on `phd2_port` (0: none; the default 4400, PHD2's); the
    calibration kept in `state` (a folder; None: not kept, calibrated at every start)."""
    link = AgentLink(host, port)
    face = GuiderFace(camera, mount)
    options = {} if config_dir is None else {"config_dir": config_dir}
    device = Device(name, roles=[face], driver_exec=DRIVER_EXEC,
                    driver_version=DRIVER_VERSION, **options)  # type: ignore[arg-type]
    session = Session(link, face, state=None if state is None else Path(state))
    phd2 = None
    if phd2_port:
        phd2 = Phd2Server(Phd2Methods(session), phd2_port, phd2_host or "")
        session.publish = phd2.publish
    face.commands = session
    return GuiderDriver(device, link=link, face=face, session=session, phd2=phd2,
                        phd2_host=phd2_host)
