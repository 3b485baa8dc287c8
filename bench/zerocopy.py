#!/usr/bin/env python3
"""The kernel's zero-copy paths against a plain send, for what our server sends a client.

    python bench/zerocopy.py [--mb 3.6] [--count 300] [-r 3]

Issue 45 asks the server to use the kernel's zero-copy paths where the platform offers them.
The bytes a server sends a client are the base64 of an image, made once and sent to every
client that takes it; they could instead be written once into a memfd and handed to the
kernel by reference. This measures, on this machine, a sender moving COUNT such payloads of
MB megabytes to a reading child process (1 MiB ``recv_into``), over loopback TCP (how
clients reach the server, remote ones included) and over a Unix socket (``-u``):

* ``send``: memoryview slices of the bytes in memory, non-blocking ``send`` (the server's
  writer, which uses ``writev`` with the same slices);
* ``sendfile``: ``os.sendfile`` from a memfd holding the payload (the kernel references its
  pages);
* ``splice``: ``os.splice`` of the memfd into a pipe and of the pipe into the socket.

Each prints MB/s and the sender's CPU ms per payload; the methods alternate, medians of the
reps. Linux only, standard library only.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import statistics
import sys
import time
from collections.abc import Callable

PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031


def pair(family: str) -> tuple[socket.socket, socket.socket]:
    """(sender, receiver) connected over `family` ("tcp" loopback or "unix")."""
    if family == "unix":
        return socket.socketpair()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        receiver = socket.create_connection(listener.getsockname())
        sender, _ = listener.accept()
    return sender, receiver


def sender_for(method: str, sock: socket.socket, payload: bytes, memfd: int
               ) -> Callable[[], None]:
    """A function that sends one payload by `method`, waiting while the socket is full."""
    out, size, view = sock.fileno(), len(payload), memoryview(payload)

    def wait() -> None:
        select.select([], [sock], [])

    if method == "send":
        def send_one() -> None:
            done = 0
            while done < size:
                try:
                    done += sock.send(view[done:])
                except BlockingIOError:
                    wait()
        return send_one
    if method == "sendfile":
        def sendfile_one() -> None:
            done = 0
            while done < size:
                try:
                    done += os.sendfile(out, memfd, done, size - done)
                except BlockingIOError:
                    wait()
        return sendfile_one
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        import fcntl

        fcntl.fcntl(w, F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass

    def splice_one() -> None:
        done = 0
        while done < size:
            moved = os.splice(memfd, w, min(PIPE_SIZE, size - done), offset_src=done)
            left = moved
            while left:
                try:
                    left -= os.splice(r, out, left)
                except BlockingIOError:
                    wait()
            done += moved
    return splice_one


def measure(family: str, method: str, payload: bytes, memfd: int, count: int
            ) -> tuple[float, float]:
    """(MB/s, sender CPU ms per payload) of `count` payloads to a child reading them all."""
    sender, receiver = pair(family)
    child = os.fork()
    if child == 0:  # the reader: everything, 1 MiB at a time, until the sender closes
        sender.close()
        buf = bytearray(1 << 20)
        while receiver.recv_into(buf):
            pass
        os._exit(0)
    receiver.close()
    sender.setblocking(False)
    one = sender_for(method, sender, payload, memfd)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        one()
    sender.close()
    os.waitpid(child, 0)  # the last byte read
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(payload) * count / wall / 1e6, cpu / count * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=3.6,
                    help="payload size in MB (3.6: the base64 of the CCD simulator's image)")
    ap.add_argument("--count", type=int, default=300, help="payloads a run")
    ap.add_argument("-r", "--reps", type=int, default=3)
    args = ap.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("zerocopy.py: Linux only (memfd, sendfile to a socket, splice)", file=sys.stderr)
        return 2
    payload = os.urandom(int(args.mb * 1e6))
    memfd = os.memfd_create("zerocopy-bench")
    os.write(memfd, payload)
    methods = ("send", "sendfile", "splice")
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for rep in range(args.reps):
        for family in ("tcp", "unix"):
            for method in methods if rep % 2 == 0 else methods[::-1]:
                rows.setdefault((family, method), []).append(
                    measure(family, method, payload, memfd, args.count))
    print(f"{args.reps} reps, {args.count} payloads of {len(payload):,} bytes; medians "
          f"(min-max); load {os.getloadavg()[0]:.1f}; kernel {os.uname().release}")
    print("| socket | method | MB/s | min-max | sender CPU ms a payload | x send's CPU |")
    print("|---|---|---:|---:|---:|---:|")
    for family in ("tcp", "unix"):
        base = statistics.median(c for _, c in rows[(family, "send")])
        for method in methods:
            speeds = [s for s, _ in rows[(family, method)]]
            cpu = statistics.median(c for _, c in rows[(family, method)])
            print(f"| {family} | {method} | {statistics.median(speeds):,.0f} "
                  f"| {min(speeds):,.0f}-{max(speeds):,.0f} | {cpu:.2f} | {cpu / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
