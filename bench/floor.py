"""A bare forwarder: the floor under any Python INDI server's round trip.

`python bench/floor.py PORT DRIVER` runs DRIVER on pipes and passes bytes between it and every
TCP client on PORT, each read in one write, with no framing, no routing and no INDI at all.
`run.py --servers indiserver,ours,floor -s roundtrip` times it beside the two servers: whatever
it measures is what asyncio's event loop, transports and the kernel cost on this machine, so a
server that frames and routes cannot expect to beat it.

`python bench/floor.py --raw PORT DRIVER` (`--servers ...,rawfloor`) does the same without
asyncio: one `select.epoll` loop, `os.read` and `os.write`. It is the least a Python process
can do per trip, so it bounds what any Python server could reach, asyncio or not.

Between the two, to tell what in asyncio costs (`--servers ...,readerfloor,inlinefloor`):
`--reader` forwards from `loop.add_reader` callbacks with `os.read`/`os.write`, no transports;
`--inline` does too, but its callbacks are called by the server's selector (`indipyserver.loop.eventloop`) from inside `select`,
so asyncio's handles and ready queue are skipped as well. `--raw --busy-before US` (or
`--busy-after US`; `busybefore`, `busyafter`: 15 us) spins around each forwarding write, to
tell how much work before and after a server's write costs a trip.

`--raw --socket` (`sockfloor`) gives the driver one end of a socketpair for stdin and stdout, as
both servers give every driver (with the 1 MiB send buffer ours gives it), reads it 1 MiB at a
time into one buffer, writes each read to
every client with a blocking `sendall`, and answers the driver's pingRequests: the BLOB
streams' floor (`run.py --servers indiserver,ours,sockfloor -s blob,blobharness`,
`blobspeed.py sockfloor`). It copies each byte twice, as any relay that reads must, and does
nothing else, so no server can stream BLOBs faster on the same machine.

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
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indipyserver.loop.eventloop import inline_selector
from indipyserver.loop.eventloop import run


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
    proc = subprocess.Popen([driver],  # noqa: ASYNC220  # once, before serving
                            stdin=to_driver_r, stdout=from_driver_w)
    os.close(to_driver_r)
    os.close(from_driver_w)
    clients: set[asyncio.Transport] = set()
    to_driver, _ = await loop.connect_write_pipe(asyncio.Protocol,
                                                 os.fdopen(to_driver_w, "wb", buffering=0))
    await loop.connect_read_pipe(lambda: FromDriver(clients),
                                 os.fdopen(from_driver_r, "rb", buffering=0))
    server = await loop.create_server(lambda: FromClient(clients, to_driver), "127.0.0.1", port)
    try:
        await until_stopped(asyncio.Event())
    finally:
        server.close()
        proc.terminate()
        proc.wait()


#: Bytes at the end of each read searched for a pingRequest (`PingAnswerer`).
PING_WINDOW = 256


class PingAnswerer:
    """Answers the pingRequests in a driver's stream, read by read, calling `reply` with each
    pingReply. A driver sends one after a BLOB and then waits for it (indilib >= 1.9.7,
    trafficdriver's ``ping=1``), so a request is at the end of what it wrote: only the last
    bytes of each read are searched, and the end of the last read for one cut in two."""

    def __init__(self, reply: Callable[[bytes], object]) -> None:
        self.reply = reply
        self._tail = b""      # the last bytes read, for a ping cut in two
        self._read = 0        # bytes read so far
        self._answered = -1   # stream offset of the last pingRequest answered

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Look for pingRequests at the end of the next read, `data`."""
        if len(data) < PING_WINDOW:  # the rest of a ping cut in two, or a small element
            start = self._read - len(self._tail)
            window = self._tail + bytes(data)
        else:
            start = self._read + len(data) - PING_WINDOW
            window = bytes(data[-PING_WINDOW:])
        self._read += len(data)
        at = window.find(b"<pingRequest")
        while at >= 0:
            end = window.find(b"/>", at)
            if end < 0:
                break
            if start + at > self._answered:
                self._answered = start + at
                self.reply(window[at:end + 2].replace(b"pingRequest", b"pingReply"))
            at = window.find(b"<pingRequest", end)
        self._tail = window[-PING_WINDOW:]


class Forwarder:
    """The forwarding of the modes without transports: raw fds, `os.read` and `os.write`.

    `busy_before`/`busy_after` (seconds) spin around each forwarding write: work a server
    does before its write delays the peer it wakes; work after it delays it only when that
    peer waits for the same CPU (--busy-before/--busy-after, `busybefore`/`busyafter`).
    """

    def __init__(self, driver: str, busy_before: float = 0.0, busy_after: float = 0.0,
                 sockets: bool = False) -> None:
        if sockets:  # one socketpair for the driver's stdin and stdout, as both servers do
            ours, theirs = socket.socketpair()
            # with the room our server gives it (drivers.stdio.grow_socket)
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            self.proc = subprocess.Popen([driver], stdin=theirs.fileno(), stdout=theirs.fileno())
            theirs.close()
            self._pair = ours
            self.to_driver = self.from_driver = ours.fileno()
            self.read_size = 1 << 20
        else:
            to_driver_r, self.to_driver = os.pipe()
            self.from_driver, from_driver_w = os.pipe()
            self.proc = subprocess.Popen([driver], stdin=to_driver_r, stdout=from_driver_w)
            os.close(to_driver_r)
            os.close(from_driver_w)
            self.read_size = 1 << 16
        self._buffer = bytearray(self.read_size)
        self._view = memoryview(self._buffer)
        self.sockets = sockets
        self.pings = PingAnswerer(self.reply)
        self.clients: dict[int, socket.socket] = {}
        self.busy_before = busy_before
        self.busy_after = busy_after
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen(self, port: int) -> None:
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()

    def accept(self) -> int:
        sock, _ = self.listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.clients[sock.fileno()] = sock
        return sock.fileno()

    def from_driver_ready(self) -> bool:
        """Forward one read of the driver to every client; False once the driver exited."""
        n = os.readv(self.from_driver, [self._buffer])
        if not n:
            return False
        _busy(self.busy_before)
        data = self._view[:n]
        for client in self.clients.values():
            client.sendall(data)
        if self.sockets:
            self.pings.feed(data)
        _busy(self.busy_after)
        return True

    def reply(self, data: bytes) -> None:
        """Write `data` to the driver (a pingReply)."""
        os.write(self.to_driver, data)

    def from_client_ready(self, fd: int) -> bool:
        """Forward one read of a client to the driver; False once the client has gone (then
        unregister `fd` and `drop` it)."""
        data = os.read(fd, 1 << 16)
        if not data:
            return False
        _busy(self.busy_before)
        os.write(self.to_driver, data)
        _busy(self.busy_after)
        return True

    def drop(self, fd: int) -> None:
        self.clients.pop(fd).close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def _busy(seconds: float) -> None:
    if seconds:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass


async def until_stopped(stop: asyncio.Event) -> None:
    """Wait until `stop` is set, as SIGTERM and SIGINT do."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()


def serve_raw(fwd: Forwarder, port: int) -> None:
    """The forwarding with one epoll loop and blocking writes, no asyncio."""
    fwd.listen(port)
    listener = fwd.listener.fileno()
    poller = select.epoll()
    poller.register(listener, select.EPOLLIN)
    poller.register(fwd.from_driver, select.EPOLLIN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == fwd.from_driver:
                    if not fwd.from_driver_ready():
                        return
                elif fd == listener:
                    poller.register(fwd.accept(), select.EPOLLIN)
                elif not fwd.from_client_ready(fd):
                    poller.unregister(fd)
                    fwd.drop(fd)
    finally:
        fwd.stop()


async def serve_reader(fwd: Forwarder, port: int, inline: bool = False) -> None:
    """The forwarding as asyncio callbacks without transports: `loop.add_reader`, or with
    `inline`, called by the server's selector itself (`indipyserver.loop.eventloop`: no handle, no
    ready queue, no `_run_once` turn)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    selector = inline_selector(loop) if inline else None
    add: Callable[..., None] = selector.add_inline if selector is not None else loop.add_reader
    remove = selector.remove_inline if selector is not None else loop.remove_reader

    def from_driver() -> None:
        if not fwd.from_driver_ready():
            remove(fwd.from_driver)
            stop.set()

    def from_client(fd: int) -> None:
        if not fwd.from_client_ready(fd):
            remove(fd)
            fwd.drop(fd)

    def accept() -> None:
        fd = fwd.accept()
        add(fd, partial(from_client, fd))

    fwd.listen(port)
    fwd.listener.setblocking(False)
    loop.add_reader(fwd.listener.fileno(), accept)
    add(fwd.from_driver, from_driver)
    try:
        await until_stopped(stop)
    finally:
        fwd.stop()


USAGE = ("usage: floor.py [--raw|--reader|--inline] [--socket] [--busy-before US] "
         "[--busy-after US] PORT DRIVER")


def main() -> None:
    args = sys.argv[1:]
    mode = args.pop(0) if args and args[0] in ("--raw", "--reader", "--inline") else None
    sockets = bool(args) and args[0] == "--socket"
    if sockets:
        args.pop(0)
        if mode is None:
            raise SystemExit(USAGE + " (--socket without asyncio's transports only)")
    busy = {"--busy-before": 0.0, "--busy-after": 0.0}
    while args and args[0] in busy:
        if mode != "--raw" or len(args) < 2:
            raise SystemExit(USAGE + " (--busy-* with --raw only)")
        option = args.pop(0)
        busy[option] = float(args.pop(0)) * 1e-6
    if len(args) != 2:
        raise SystemExit(USAGE)
    port, driver = int(args[0]), args[1]
    if mode is None:
        asyncio.run(serve(port, driver))
        return
    fwd = Forwarder(driver, busy["--busy-before"], busy["--busy-after"], sockets)
    if mode == "--raw":
        serve_raw(fwd, port)
    elif mode == "--reader":
        asyncio.run(serve_reader(fwd, port))
    else:
        run(serve_reader(fwd, port, inline=True))


if __name__ == "__main__":
    main()
