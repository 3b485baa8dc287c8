"""`AlpacaFace`: the face run beside an INDI server, in its event loop.

It binds its sockets first (`bind`: a port in use is an error at start, not a crash later),
then (`run`) connects its INDI client to the server, serves the Starlette app with uvicorn on
the bound socket and answers discovery, until told to stop. uvicorn's own signal handling is
switched off: the INDI server owns SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import tempfile
from collections.abc import Generator
from pathlib import Path

import uvicorn

import indipyclient
from indipycore.protocol import BLOBEnable

from .app import make_app
from .discovery import start_discovery
from .indiside import IndiSide
from .registry import Registry
from .registry import default_path
from .served import Served
from .sockets import bind_face

logger = logging.getLogger(__name__)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers (the INDI server has its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class AlpacaFace:
    """Serve the devices of the INDI server at `indi_host`:`indi_port` as Alpaca on
    `host`:`port` (0: the system picks; read `port` after `bind`), with discovery on UDP
    `discovery_port` (0: none). `registry` is the file of lasting device numbers (None: the
    user's data folder; ``False``: memory only)."""

    def __init__(self, indi_host: str, indi_port: int, host: str = "127.0.0.1",
                 port: int = 11111, discovery_port: int = 32227,
                 registry: Path | str | None | bool = None, version: str = "0") -> None:
        self.indi_host = indi_host
        self.indi_port = indi_port
        self.host = host
        self.port = port
        self.discovery_port = discovery_port
        path = None if registry is False else default_path() if registry in (None, True) \
            else Path(str(registry))
        self.registry = Registry(path)
        self.version = version
        self._socket: socket.socket | None = None
        self._udp: socket.socket | None = None
        self._stop = asyncio.Event()

    def bind(self) -> None:
        """Bind the HTTP port and the discovery port; OSError if either is taken."""
        self.adopt(*bind_face(self.host, self.port, self.discovery_port))

    def adopt(self, http: socket.socket, udp: socket.socket | None) -> None:
        """Serve on sockets bound already (by `bind`, or by the server for a face in a
        process of its own)."""
        self._socket, self._udp = http, udp
        self.port = http.getsockname()[1]

    def stop(self) -> None:
        self._stop.set()

    def pids(self) -> tuple[int, ...]:
        """The process whose INDI client is this face (the server's door lets it in)."""
        return (os.getpid(),)

    async def run(self) -> None:
        """Serve until `stop()` (or cancelled); binds first if `bind` was not called."""
        if self._socket is None:
            self.bind()
        assert self._socket is not None
        # Camera images arrive as files here: only the BLOBs a served camera asks for
        # (the default is never), each removed when the next one is read, all at the end.
        # (a folder of its own, removed on every way out: a failed start left them behind)
        with tempfile.TemporaryDirectory(prefix="indipyalpaca-") as blobs:
            await self._serve(blobs)

    async def _serve(self, blobs: str) -> None:
        assert self._socket is not None
        client = indipyclient.connect(self.indi_host, self.indi_port, blobs,
                                      connect_timeout=None)
        client.connection.default_blob_mode = BLOBEnable.NEVER
        served = Served(IndiSide(client), self.registry)
        app = make_app(served, self.version)
        config = uvicorn.Config(app, log_level="warning", lifespan="off",
                                timeout_graceful_shutdown=2)
        server = _Uvicorn(config)
        transport = None
        await client.start()
        try:
            if self._udp is not None:
                transport = await start_discovery(self._udp, self.port, _loopback(self.host))
            task = asyncio.create_task(server.serve(sockets=[self._socket]))
            logger.debug("serving Alpaca on %s:%d%s", self.host, self.port,
                        f", discovery on UDP {self.discovery_port}" if transport else "")
            stopping = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                server.should_exit = True
                stopping.cancel()
                await task
        finally:
            if transport is not None:
                transport.close()
            self._socket.close()
            await client.close()


def _loopback(host: str) -> bool:
    """Whether `host` (an address or ``localhost``) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
