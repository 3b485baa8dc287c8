"""Which devices a remote INDI server has: the check behind a ``dev@host`` remote's warning.

A remote written ``"CCD Simulatr"@host`` (a typo) asks the remote for that one device only,
and an INDI server says nothing about a device it does not have: the chained server used to
wait forever without a word. When the pinned device has defined nothing a few seconds after
the connection was made, the remote is asked once, on a short connection of its own, for all
its definitions (BLOBs stay off: ``enableBLOB`` is never sent), and its device names are read
from the start tags until it has been quiet for a moment. The caller logs the verdict.
"""

from __future__ import annotations

import asyncio
import logging
from ssl import SSLContext

from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import Framer

__all__ = ["remote_devices"]

logger = logging.getLogger("indipyserver.remote")

_ASK_ALL = b'<getProperties version="1.7"/>\n'
_MAX_BYTES = 16 * 1024 * 1024  # what the look reads at most, whatever the remote sends


async def remote_devices(host: str, port: int, *, quiet: float = 1.0, limit: float = 10.0,
                         ssl: SSLContext | None = None, server_hostname: str | None = None,
                         ) -> set[str]:
    """The device names the INDI server at ``host:port`` defines, read until it has sent
    nothing for ``quiet`` seconds (or ``limit`` seconds in all, or 16 MiB); over TLS with
    `ssl`, as the remote's own connection. Raises ``OSError`` or ``TimeoutError`` when it
    cannot be reached."""
    async with asyncio.timeout(limit):  # (wait_for can lose a cancellation, and the socket)
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ssl, server_hostname=server_hostname if ssl else None)
    devices: set[str] = set()
    framer = Framer()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    received = 0
    try:
        writer.write(_ASK_ALL)
        await writer.drain()
        while received < _MAX_BYTES:
            wait = min(quiet, deadline - loop.time())
            if wait <= 0:
                break
            try:
                async with asyncio.timeout(wait):
                    data = await reader.read(65536)
            except TimeoutError:
                break
            if not data:
                break
            received += len(data)
            for frame in framer.feed(data):
                if isinstance(frame, ProtocolError):
                    continue
                if frame.tag.startswith("def"):
                    device = frame.attrs.get("device")
                    if device:
                        devices.add(device)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return devices
