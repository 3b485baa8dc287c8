"""A driver's stdout when BLOB descriptors go with it: a Unix socket, or a pipe and a side channel.

`SocketLink` is stdout as a Unix stream socket (indiserver's socketpair for an ELF driver, or
ours): elements read from it with the descriptors indiserver attaches to snooped BLOBs, and
written with each BLOB's memfd as SCM_RIGHTS on its first bytes, as libindi does.
`SideChannelLink` is stdout as a pipe beside our server's side channel: each memfd goes there,
one message each, before its element goes on stdout. Both write whole elements in order, even
when a writer is cancelled half way (`OrderedWrites`). `links.StdioLink` chooses which.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Coroutine
from collections.abc import Sequence
from typing import Any

from indipycore.sharedblobs import MAX_ATTACHED
from indipycore.sharedblobs import RECV_FDS_SPACE
from indipycore.sharedblobs import RECV_FLAGS
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import duplicates
from indipycore.sharedblobs import pass_fd
from indipycore.sharedblobs import received_fds
from indipycore.sharedblobs import rights

__all__ = ["FLUSH_SECONDS", "READ_SIZE", "OrderedWrites", "SideChannelLink", "SocketLink",
           "write_all"]

logger = logging.getLogger("indipydriver.links")  # the links' log, as before

#: Bytes a read of stdin (or of stdout's socket) asks for.
READ_SIZE = 1 << 16

#: How long closing waits for queued writes to go out (a peer that stopped reading).
FLUSH_SECONDS = 5.0


class OrderedWrites:
    """Writes that go out whole and in order: at once when nothing is queued, else queued
    (`_queue`) under a lock and shielded, so that a writer cancelled half-way (an aborted
    exposure's BLOB) leaves no half element, nor descriptors without theirs."""

    def __init__(self) -> None:
        self._write_lock = asyncio.Lock()
        #: Writes queued (waiting for or holding the lock): while any is, no write goes at once.
        self._queued = 0
        self._last: asyncio.Future[None] | None = None  # the last write queued

    def _queue(self, write: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        """`write` as a task (started now, so queued in call order), shielded from the
        caller's cancellation; counted until it ends."""
        self._queued += 1
        self._last = task = asyncio.ensure_future(write)
        return asyncio.shield(task)

    @property
    def held(self) -> int:
        """How many writes wait behind a peer that is not reading (0: writes go at once)."""
        return self._queued

    async def flush(self, timeout: float = FLUSH_SECONDS) -> None:
        """Wait (at most `timeout` seconds) until the writes queued so far are sent."""
        last = self._last
        if last is not None and not last.done():
            await asyncio.wait([last], timeout=timeout)


class SideChannelLink(OrderedWrites):
    """stdout a pipe (its stream writer) and our server's side channel `side_fd` (owned):
    each BLOB's memfd goes there, one message each, before its element goes on stdout
    (``indipyserver.drivers.fdchannel``). At once when the side channel takes them; when it
    is full (a server far behind), the rest, and every write after it, is queued."""

    def __init__(self, writer: asyncio.StreamWriter, side_fd: int) -> None:
        super().__init__()
        self._writer = writer
        self._side = socket.socket(fileno=side_fd)
        self._side.setblocking(False)

    async def write(self, data: bytes) -> None:
        if self._queued:
            await self._queue(self._write_later(data, []))
            return
        self._writer.write(data)
        await self._writer.drain()

    async def write_attached(self, data: bytes, fds: Sequence[int]) -> None:
        if not self._queued:
            sent = self._pass(fds)
            if sent == len(fds):
                await self.write(data)
                return
            fds = fds[sent:]
        await self._queue(self._write_later(data, duplicates(fds)))

    def _pass(self, fds: Sequence[int]) -> int:
        """How many of `fds` the side channel took at once, in order."""
        for i, fd in enumerate(fds):
            try:
                pass_fd(self._side, fd)
            except (BlockingIOError, InterruptedError):
                return i
        return len(fds)

    async def _write_later(self, data: bytes, fds: list[int]) -> None:
        try:
            async with self._write_lock:
                while fds:
                    sent = self._pass(fds)
                    close_all(fds[:sent])  # the kernel holds them now
                    del fds[:sent]
                    if fds:
                        await _writable(self._side.fileno())
                self._writer.write(data)
                await self._writer.drain()
        finally:
            self._queued -= 1
            close_all(fds)

    def close(self) -> None:
        """The side channel (stdout is the `StdioLink`'s to close)."""
        self._side.close()


class SocketLink(OrderedWrites):
    """A Unix socket: indiserver's single socketpair as stdin and stdout, read with
    ``recvmsg``, or a driver's stdout alone (only written).

    indiserver 1.9.9 passes a BLOB to a snooping driver as a memfd (SCM_RIGHTS) beside an empty
    ``<oneBLOB ... attached='true'/>``; a plain read would drop the descriptor. Writes go out
    whole and in order: at once when nothing is queued and the socket takes them all (the
    common case: a small element, no task, no lock); else queued, under a lock (two tasks
    sending at once must not interleave their bytes), and shielded, so that a writer cancelled
    half-way (an aborted exposure's BLOB) does not leave half an element for the next one to be
    glued to. `write_attached` sends descriptors with the first bytes (``sendmsg``).
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._sock = socket.socket(fileno=fd)
        self._sock.setblocking(False)
        self._fd = fd
        self._fds: list[int] = []
        self._waiting: asyncio.Future[None] | None = None  # a read waiting for data
        self._closed = False

    async def read(self) -> bytes:
        loop = asyncio.get_running_loop()
        sock = self._sock
        while not self._closed:
            try:
                data, ancdata, flags, _ = sock.recvmsg(READ_SIZE, RECV_FDS_SPACE, RECV_FLAGS)
            except (BlockingIOError, InterruptedError):
                self._waiting = ready = loop.create_future()
                loop.add_reader(self._fd, _wake, ready)
                try:
                    await ready
                finally:
                    self._waiting = None
                    loop.remove_reader(self._fd)
                continue
            except (ConnectionError, OSError):
                return b""
            self._fds.extend(received_fds(ancdata))
            if flags & socket.MSG_CTRUNC:
                logger.error("more than %d descriptors in one read: some were lost", MAX_ATTACHED)
            return data
        return b""

    def take_fds(self) -> list[int]:
        fds, self._fds = self._fds, []
        return fds

    async def write(self, data: bytes) -> None:
        sent = 0
        if not self._queued:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                pass
            if sent == len(data):
                return
        # The rest goes before anything written after it.
        await self._queue(self._send_rest(memoryview(data)[sent:]))

    async def write_attached(self, data: bytes, fds: Sequence[int]) -> None:
        """`write`, with `fds` passed on the first bytes: at once if nothing is queued,
        else duplicates of them, queued."""
        if not fds:
            await self.write(data)
            return
        view = memoryview(data)
        if not self._queued:
            try:
                sent = self._sock.sendmsg([view], rights(fds))
            except (BlockingIOError, InterruptedError):
                sent = -1  # nothing went, the descriptors neither
            if sent == len(view):
                return
            if sent >= 0:  # the descriptors went with the first bytes
                await self._queue(self._send_rest(view[sent:]))
                return
        dups = duplicates(fds)  # the caller may close its own before these are sent
        await self._queue(self._send_attached(view, dups))

    async def _send_rest(self, view: memoryview) -> None:
        try:
            async with self._write_lock:
                await asyncio.get_running_loop().sock_sendall(self._sock, view)
        finally:
            self._queued -= 1

    async def _send_attached(self, view: memoryview, fds: list[int]) -> None:
        try:
            async with self._write_lock:
                while True:
                    try:
                        sent = self._sock.sendmsg([view], rights(fds))
                        break
                    except (BlockingIOError, InterruptedError):
                        await _writable(self._fd)
                close_all(fds)  # the kernel holds them now
                if sent < len(view):
                    await asyncio.get_running_loop().sock_sendall(self._sock, view[sent:])
        finally:
            self._queued -= 1
            close_all(fds)

    def close(self) -> None:
        """A read still waiting returns b"" (its reader is removed before the socket closes)."""
        self._closed = True
        waiting = self._waiting
        if waiting is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            _wake(waiting)
        for fd in self.take_fds():
            os.close(fd)
        self._sock.close()


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


async def _writable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_writer(fd, _wake, ready)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
