"""The guider tests' rig: our server with our mount and guide camera simulators and the Guider
Agent in-process, the mount connected, and a client of it: the setting every end-to-end
guider test starts from, written once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.guider import make_driver
from indipyserver import IPyServer
from indipysimulators import guidecamera
from indipysimulators import telescope

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE


@asynccontextmanager
async def guided_sky(*more: object, phd2_port: int = 0
                     ) -> AsyncIterator[tuple[IPyServer, indipyclient.Client]]:
    """The rig above (the mount slewing at 50 deg/s), with `more` drivers beside it; the
    agent's PHD2 event server on `phd2_port` of 127.0.0.1 (0: none)."""
    guider = make_driver(phd2_port=phd2_port, phd2_host="127.0.0.1")
    async with running(server(telescope.make_driver(50.0), guidecamera.make_driver(), guider,
                              *more)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        yield ours, client
