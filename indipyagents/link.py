"""`AgentLink`: an agent's hands' connection, as an INDI client, to the server it sits in.

indilib's agents always connect to localhost:7624. Ours connect where they are told: the
address given (``--indi-host``/``--indi-port``, or ``INDIPY_AGENT_SERVER=host:port``), else
the address of the server that hosts the agent in-process, which `IPyServer` hands its drivers
when it listens (`server_listening`: port 0 included), else localhost:7624. The connection is
opened when the agent first needs it and kept up by indipyclient's retry policy.
"""

from __future__ import annotations

import asyncio
import logging
import os

import indipyclient
from indipyclient import Client
from indipydriver import Device
from indipydriver import IPyDriver

__all__ = ["DEFAULT_SERVER", "ENV_SERVER", "AgentLink", "LinkedDriver", "parse_address"]

logger = logging.getLogger(__name__)

ENV_SERVER = "INDIPY_AGENT_SERVER"
DEFAULT_SERVER = ("localhost", 7624)


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:7624``, or a bare ``host``: port 7624) as (host, port);
    ValueError saying what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or "]" in port:
        host, port = text.strip(), "7624"
    host = host.strip("[]")
    if not host:
        raise ValueError(f"{text!r}: no host (write host:port, e.g. localhost:7624)")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r}: the port {port!r} is not a number") from None
    if not 0 < number < 65536:
        raise ValueError(f"{text!r}: the port must be 1..65535")
    return host, number


class AgentLink:
    """Where the agent's client connects and, once opened, that client.

    `host`/`port` given (or the environment's ``INDIPY_AGENT_SERVER``) are kept; otherwise
    the hosting server's address (`server_listening`) replaces the default localhost:7624."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        self.fixed = host is not None or port is not None
        if not self.fixed and os.environ.get(ENV_SERVER):
            host, port = parse_address(os.environ[ENV_SERVER])
            self.fixed = True
        self.host = host or DEFAULT_SERVER[0]
        self.port = port or DEFAULT_SERVER[1]
        #: Whether the address is final: given, or told by the hosting server.
        self.known = self.fixed
        self._client: Client | None = None
        # One opening at a time: two parts of the agent asking at once would each open a
        # client, and the one not kept would stay connected past `close`.
        self._opening = asyncio.Lock()

    def server_listening(self, host: str, port: int) -> None:
        """The hosting server listens on `host`:`port`: the address unless one was given."""
        if self.fixed:
            return
        self.host, self.port = host, port
        self.known = True
        logger.debug("agent link: the hosting server listens on %s:%d", host, port)

    async def settled(self, wait: float = 5.0) -> None:
        """Return once the address is final: at once when given; in-process, once the
        hosting server listens; an executable under a server is never told, so after `wait`
        seconds the default stands (what the agent does at start, resuming a night)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + wait
        while not self.known and loop.time() < until:
            await asyncio.sleep(0.05)

    @property
    def address(self) -> str:
        """``host:port`` as `parse_address` reads it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("localhost:") \
            else self.host
        return f"{host}:{self.port}"

    async def client(self) -> Client:
        """The connected client, opened at the first call (`ConnectionError` saying why when
        the server cannot be reached within indipyclient's connect timeout)."""
        async with self._opening:
            client = self._client
            if client is not None and (client.host, client.port) != (self.host, self.port):
                await self.close()
                client = None
            if client is None:
                client = indipyclient.connect(self.host, self.port, max_events=1000)
                await client.start()
                self._client = client
            return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class LinkedDriver(IPyDriver):
    """An agent's driver: its devices and the `link` its parts drive the server through.
    `IPyServer` calls `server_listening` when it listens (the `ServedDriver` protocol of
    ``indipyserver.drivers.served``), so an agent hosted in-process needs no address."""

    def __init__(self, *devices: Device, link: AgentLink) -> None:
        super().__init__(*devices)
        self.link = link

    def server_listening(self, host: str, port: int) -> None:
        self.link.server_listening(host, port)
