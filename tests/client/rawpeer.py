"""A raw asyncio TCP server that plays an INDI peer for the client's tests: each connection
runs a script of the test's, so a peer misbehaves, or answers in a given order, the same way
on every run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(script: Script, port: int = 0) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that runs ``script`` for each connection; yields its port.
    A connection the client closes ends its script quietly; the scripts still running when
    the block ends are cancelled."""
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await server.wait_closed()


async def stay_connected() -> None:
    """Keep the connection open until the test ends (`raw_server` cancels its handlers)."""
    await asyncio.Event().wait()


async def read_until(reader: asyncio.StreamReader, needle: bytes) -> bytes:
    """What the client sent up to and including `needle`; ConnectionError if it goes away."""
    seen = b""
    while needle not in seen:
        chunk = await reader.read(65536)
        if not chunk:
            raise ConnectionError("client went away")
        seen += chunk
    return seen
