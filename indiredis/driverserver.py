"""Executable drivers for ``driverstoredis`` / ``driverstomqtt``: our server, privately.

Rather than a second copy of the executable-driver handling, the bridge runs ``IPyServer``
in its own event loop on a loopback port the system picks, with each driver added by
``add_exdriver`` (restart with backoff, pings, per-connection BLOB modes, snooping between the
drivers, bounded queues are all the server's), and connects to it as any client would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Sequence

from indipyserver import IPyServer

from .indilink import stop_task

__all__ = ["private_server"]


@contextlib.asynccontextmanager
async def private_server(drivers: Sequence[str],
                         remote_port: int | None = None) -> AsyncIterator[IPyServer]:
    """Our server with ``drivers`` (program names or paths, with arguments split by spaces)
    listening on 127.0.0.1 at ``server.port`` for the life of the block; with
    ``remote_port`` it also chains 127.0.0.1:remote_port as a remote server (the site's
    snooping link: what the drivers snoop of other sites comes in there)."""
    if isinstance(drivers, str):
        drivers = [drivers]
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    for driver in drivers:
        program, *args = driver.split()
        server.add_exdriver(program, *args)
    if remote_port is not None:
        server.add_remote("127.0.0.1", remote_port)
    task = asyncio.create_task(server.asyncrun(), name="indiredis private server")
    try:
        started = asyncio.create_task(server.started())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            started.cancel()
            task.result()
        yield server
    finally:
        server.shutdown()
        await asyncio.wait({task}, timeout=10)
        if not task.done():
            await stop_task(task)
