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
"""

from __future__ import annotations

import argparse
import binascii
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indipydriver.sharedblobs import close_all
from indipydriver.sharedblobs import encode
from indipydriver.sharedblobs import memory_files
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[0.2, 2.6, 13.0])
    parser.add_argument("-r", type=int, default=7, dest="runs")
    args = parser.parse_args()
    for mb in args.mb:
        data = os.urandom(int(mb * 1e6))
        line = "  ".join(f"{name} {best_ms(way, data, args.runs):7.2f} ms"
                         for name, way in WAYS.items())
        print(f"{mb:6.1f} MB  {line}")


if __name__ == "__main__":
    main()
