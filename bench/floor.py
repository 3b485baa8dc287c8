"""A bare asyncio forwarder: the floor under any asyncio INDI server's round trip.

`python bench/floor.py PORT DRIVER` runs DRIVER on pipes and passes bytes between it and every
TCP client on PORT, each read in one write, with no framing, no routing and no INDI at all.
`run.py --servers indiserver,ours,floor -s roundtrip` times it beside the two servers: whatever
it measures is what asyncio's event loop, transports and the kernel cost on this machine, so a
server that frames and routes cannot expect to beat it. Not a server: never use it for anything
else. Standard library only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys


class FromDriver(asyncio.Protocol):
    def __init__(self, clients: set[asyncio.Transport]) -> None:
        self.clients = clients

    def data_received(self, data: bytes) -> None:
        for client in self.clients:
            client.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        asyncio.get_running_loop().stop()


class FromClient(asyncio.Protocol):
    def __init__(self, clients: set[asyncio.Transport], driver: asyncio.WriteTransport) -> None:
        self.clients = clients
        self.driver = driver

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.clients.add(transport)

    def data_received(self, data: bytes) -> None:
        self.driver.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.clients.discard(self.transport)


async def serve(port: int, driver: str) -> None:
    loop = asyncio.get_running_loop()
    to_driver_r, to_driver_w = os.pipe()
    from_driver_r, from_driver_w = os.pipe()
    proc = subprocess.Popen([driver],
                            stdin=to_driver_r, stdout=from_driver_w)
    os.close(to_driver_r)
    os.close(from_driver_w)
    clients: set[asyncio.Transport] = set()
    to_driver, _ = await loop.connect_write_pipe(asyncio.Protocol,
                                                 os.fdopen(to_driver_w, "wb", buffering=0))
    await loop.connect_read_pipe(lambda: FromDriver(clients),
                                 os.fdopen(from_driver_r, "rb", buffering=0))
    server = await loop.create_server(lambda: FromClient(clients, to_driver), "127.0.0.1", port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        proc.terminate()
        proc.wait()


def main() -> None:
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()
