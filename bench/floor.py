"""A bare forwarder: the floor under any Python INDI server's round trip.

`python bench/floor.py PORT DRIVER` runs DRIVER on pipes and passes bytes between it and every
TCP client on PORT, each read in one write, with no framing, no routing and no INDI at all.
`run.py --servers indiserver,ours,floor -s roundtrip` times it beside the two servers: whatever
it measures is what asyncio's event loop, transports and the kernel cost on this machine, so a
server that frames and routes cannot expect to beat it.

`python bench/floor.py --raw PORT DRIVER` (`--servers ...,rawfloor`) does the same without
asyncio: one `select.epoll` loop, `os.read` and `os.write`. It is the least a Python process
can do per trip, so it bounds what any Python server could reach, asyncio or not.

Not servers: never use them for anything else. Standard library only.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
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


def serve_raw(port: int, driver: str) -> None:
    """The same forwarding with one epoll loop and blocking writes, no asyncio."""
    to_driver_r, to_driver = os.pipe()
    from_driver, from_driver_w = os.pipe()
    proc = subprocess.Popen([driver], stdin=to_driver_r, stdout=from_driver_w)
    os.close(to_driver_r)
    os.close(from_driver_w)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN)
    poller.register(from_driver, select.EPOLLIN)
    clients: dict[int, socket.socket] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == from_driver:
                    data = os.read(from_driver, 1 << 16)
                    if not data:
                        return  # the driver exited
                    for client in clients:
                        os.write(client, data)
                elif fd == listener.fileno():
                    sock, _ = listener.accept()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    clients[sock.fileno()] = sock
                    poller.register(sock.fileno(), select.EPOLLIN)
                else:
                    data = os.read(fd, 1 << 16)
                    if data:
                        os.write(to_driver, data)
                    else:
                        poller.unregister(fd)
                        clients.pop(fd).close()
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    if len(sys.argv) < 3 or (sys.argv[1] == "--raw" and len(sys.argv) < 4):
        raise SystemExit("usage: floor.py [--raw] PORT DRIVER")
    if sys.argv[1] == "--raw":
        serve_raw(int(sys.argv[2]), sys.argv[3])
    else:
        asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()
