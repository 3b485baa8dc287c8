#!/usr/bin/env python3
"""What an in-process driver's BLOB costs the server process for a TCP client, both ways.

    python bench/inprocblobs.py [--mb 0.2 2.6 13] [-r 7]

An in-process ``IPyDriver`` attaches its BLOBs (a memfd each) only while a client on the
server's Unix socket wants them (``InProcessDriverConnection.attaches_blobs``). This is the
measurement behind that choice: for a TCP client the image must become base64 in the server's
process either way, and

* ``direct``: the driver encodes the bytes it holds (``binascii.b2a_base64``, inline base64);
* ``memfd+encode``: the driver writes them into a memfd (``sharedblobs.memory_files``) and the
  server reads it back and encodes it a step at a time (``sharedblobs.encode``, ``STEP``
  bytes, as ``blobs.attached`` does);
* ``memfd``: the memfd alone, what the image costs when only Unix-socket clients take it.

Prints the best of R runs per size, in milliseconds. Linux only (memfd_create).

    python bench/inprocblobs.py --served [--count 10] [--size 10000000] [-r 2]

``--served``: the whole way, in one process: an ``IPyServer`` running the Gadget test driver
in-process and one client reading COUNT BLOBs of SIZE bytes (``recvmsg``; a memfd is read with
``pread``, inline base64 decoded, each checked), on the Unix socket or on TCP, with the
driver's ``shared_blobs`` on (it attaches while the Unix client takes BLOBs) or off (inline):
wall and process CPU milliseconds per BLOB, the client's work included.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import encode
from indipycore.sharedblobs import memory_files
from indipyserver.blobs.attached import STEP


def direct(data: bytes) -> list[bytes]:
    return [binascii.b2a_base64(data, newline=False)]


def attached(data: bytes) -> list[bytes]:
    """The pieces, as the server queues them to a client (never joined)."""
    fds = memory_files([data])
    try:
        buf = bytearray(STEP)
        return [encode(fds[0], offset, min(STEP, len(data) - offset), buf)
                for offset in range(0, len(data), STEP)]
    finally:
        close_all(fds)


def memfd_only(data: bytes) -> list[bytes]:
    close_all(memory_files([data]))
    return []


WAYS: dict[str, Callable[[bytes], list[bytes]]] = {
    "direct": direct, "memfd+encode": attached, "memfd": memfd_only}


def best_ms(way: Callable[[bytes], list[bytes]], data: bytes, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        way(data)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


_BODY = re.compile(rb"<oneBLOB[^>]*>([^<]*)</oneBLOB>")


async def served(unix: bool, shared: bool, count: int, size: int) -> tuple[float, float]:
    """(wall, CPU) ms per BLOB, driver to client through an in-process server."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from serverkit import make_gadget
    from serverkit import recv_with_fds
    from serverkit import running
    from serverkit import server

    from indipycore.protocol.framing import Frame
    from indipycore.protocol.framing import Framer

    path = f"/tmp/indipy-bench-{uuid.uuid4().hex}"
    driver = make_gadget()
    driver.shared_blobs = shared
    srv = server(driver, max_client_queue_mb=1024)
    srv.listen_unix(path)
    async with running(srv):
        if unix:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect("\0" + path)
        else:
            sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_sendall(
            sock, b'<getProperties version="1.7"/><enableBLOB device="Gadget">Also</enableBLOB>')
        framer = Framer()
        fds: list[int] = []
        frames: list[Frame] = []

        async def next_frame(tag: str) -> Frame:
            while True:
                while frames:
                    frame = frames.pop(0)
                    if frame.tag == tag:
                        return frame
                data, got = await recv_with_fds(sock)
                fds.extend(got)
                frames.extend(f for f in framer.feed(data) if isinstance(f, Frame))

        await next_frame("defBLOBVector")
        payload = os.urandom(size)
        vector = driver["Gadget"]["IMAGE"]

        async def send() -> None:
            for _ in range(count):
                vector["I"] = payload
                await vector.send_setVector()

        wall, cpu = time.perf_counter(), time.process_time()
        sending = asyncio.create_task(send())
        for _ in range(count):
            frame = await next_frame("setBLOBVector")
            if fds:
                fd = fds.pop(0)
                data = os.pread(fd, size + 1, 0)
                os.close(fd)
            else:
                m = _BODY.search(frame.data)
                assert m is not None
                data = base64.b64decode(m.group(1))
            assert data == payload
        await sending
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sock.close()
    return wall / count * 1e3, cpu / count * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[0.2, 2.6, 13.0])
    parser.add_argument("-r", type=int, default=None, dest="runs")
    parser.add_argument("--served", action="store_true")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--size", type=int, default=10_000_000)
    args = parser.parse_args()
    if args.served:
        for rep in range(args.runs or 2):
            for unix in (True, False):
                for shared in (True, False):
                    w, c = asyncio.run(served(unix, shared, args.count, args.size))
                    print(f"rep {rep} {'unix' if unix else 'tcp '} shared_blobs={shared!s:5} "
                          f"wall {w:6.2f} ms/BLOB  cpu {c:6.2f} ms/BLOB", flush=True)
        return
    for mb in args.mb:
        data = os.urandom(int(mb * 1e6))
        line = "  ".join(f"{name} {best_ms(way, data, args.runs or 7):7.2f} ms"
                         for name, way in WAYS.items())
        print(f"{mb:6.1f} MB  {line}")


if __name__ == "__main__":
    main()
