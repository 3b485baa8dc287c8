"""An executable driver's stdio, made before it is spawned: its stdin pipe, and its stdout as
a Unix socketpair (BLOBs attached as descriptors) or a pipe, with ``drivers.fdchannel``'s
side channel beside the socket, on which the driver may ask for a pipe instead (`settle`).

It is apart from ``drivers.executable``, which decides which stdout a driver gets and serves
it, because making the descriptors and sizing them is plain OS work: pipes (stdin, and a pipe
stdout) are grown to 1 MiB where the kernel allows, and the driver's end of a socketpair is
given as much room, so a multi-megabyte FITS image written inline crosses in few wake-ups.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket

from indipyserver.drivers.fdchannel import FdChannel

__all__ = ["PIPE_SIZE", "DriverStdio", "grow_pipe", "grow_socket"]

logger = logging.getLogger("indipyserver.exdriver")  # as drivers.executable's: users' logs know it

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux only; the constant is 1031
PIPE_SIZE = 1 << 20


def _pipe_max_size() -> int:
    try:
        with open("/proc/sys/fs/pipe-max-size", encoding="ascii") as f:
            return int(f.read())
    except (OSError, ValueError):
        return PIPE_SIZE


def grow_pipe(fd: int, size: int = PIPE_SIZE) -> int:
    """Ask the kernel for a bigger pipe buffer; returns the size obtained (0 if not supported)."""
    try:
        return fcntl.fcntl(fd, F_SETPIPE_SZ, min(size, _pipe_max_size()))
    except OSError as exc:
        logger.debug("cannot grow pipe buffer: %s", exc)
        return 0


def grow_socket(sock: socket.socket, size: int = PIPE_SIZE) -> None:
    """Give the driver's end of its socketpair the pipe's room (the kernel caps it at
    ``net.core.wmem_max``, twice 208 KiB by default): with the default, a driver writing a
    BLOB blocks every 100 KiB or so, and the server reads it in as many small pieces, each one
    more turn of its loop and one more wake-up of the driver (bench/RESULTS.md)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
    except OSError as exc:
        logger.debug("cannot grow socket buffer: %s", exc)


class DriverStdio:
    """A driver's stdin pipe and stdout: a Unix socketpair when it is to attach BLOBs on it
    (`shared`), else a pipe, with the side channel `side` if given; each with room for 1 MiB,
    and the child's ends until it has them."""

    def __init__(self, shared: bool, side: bool = False) -> None:
        self.side = FdChannel() if side else None
        self.child_in, self.write_fd = os.pipe()
        grow_pipe(self.write_fd)
        self.sock: socket.socket | None = None
        #: A socket offered beside the side channel, the driver's choice not yet seen.
        self.offered = shared and side
        if shared:
            self.sock, child_out = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            grow_socket(child_out)
            self.read_fd, self.child_out = -1, child_out.detach()
        else:
            self.read_fd, self.child_out = os.pipe()
            grow_pipe(self.read_fd)

    @property
    def kind(self) -> str:
        """`ExDriverConnection.stdout_kind`: "socket+fdchannel" until `settle` has seen which
        the driver chose."""
        if self.sock is not None:
            return "socket+fdchannel" if self.offered else "socket"
        return "pipe+fdchannel" if self.side is not None else "pipe"

    async def settle(self) -> None:
        """A socket offered beside the side channel: wait for the driver's first word, the
        first of the two readable, then read stdout on the pipe it asked for if it did
        (``drivers.fdchannel``), else on the socket (the side channel kept: a driver there
        passes descriptors on the socket, so it stays empty). At once for any other stdio."""
        if not self.offered or self.sock is None or self.side is None:
            return
        side = self.side
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        watched = (self.sock.fileno(), side.sock.fileno())
        for fd in watched:
            loop.add_reader(fd, wake)
        try:
            await woken
        finally:
            for fd in watched:
                loop.remove_reader(fd)
        self.offered = False
        pipe = side.take_stdout_pipe()  # sent before the driver's stdout had anything
        if pipe is None:
            return
        self.sock.close()
        self.sock = None
        self.read_fd = pipe
        grow_pipe(pipe)

    def close_childs(self) -> None:
        """The child's ends, once it holds its own copies (or could not be started)."""
        os.close(self.child_in)
        os.close(self.child_out)
        if self.side is not None:
            self.side.close_child()

    def close_ours(self) -> None:
        """Our ends, when the child could not be started."""
        os.close(self.write_fd)
        self.close_read()
        if self.side is not None:
            self.side.close_all()

    def close_read(self) -> None:
        """Our end of stdout, when no reader took it."""
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.read_fd)
