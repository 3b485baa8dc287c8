"""Alpaca discovery: answer ``alpacadiscovery1`` on UDP with ``{"AlpacaPort": PORT}``.

Bound to 0.0.0.0 with SO_REUSEADDR (and SO_REUSEPORT where the system has it) so several
Alpaca servers on one machine share the port (32227 by default), and a client on the same
host finds us through the loopback broadcast. The reply goes back to the sender's address and
port; anything else that arrives is ignored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import typing

logger = logging.getLogger(__name__)

DEFAULT_PORT = 32227
PROBE = b"alpacadiscovery1"  # bytes 16..63 are reserved: a longer datagram is still a probe


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, alpaca_port: int, local_only: bool) -> None:
        self.reply = json.dumps({"AlpacaPort": alpaca_port}).encode()
        self.local_only = local_only
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not data.startswith(PROBE) or self.transport is None:
            return
        if self.local_only and not ipaddress.ip_address(str(addr[0])).is_loopback:
            return  # the API listens on loopback only: another machine could not reach it
        logger.debug("Alpaca discovery probe from %s:%s", addr[0], addr[1])
        self.transport.sendto(self.reply, addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("Alpaca discovery: %s", exc)


def bind_discovery(port: int) -> socket.socket:
    """The UDP socket discovery listens on (bound now, so a failure is known at start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("0.0.0.0", port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


async def start_discovery(sock: socket.socket, alpaca_port: int,
                          local_only: bool = False) -> asyncio.DatagramTransport:
    """Answer probes on `sock` until the returned transport is closed; `local_only` (the API
    listens on a loopback address): only probes from this machine."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Responder(alpaca_port, local_only), sock=sock)
    return transport
