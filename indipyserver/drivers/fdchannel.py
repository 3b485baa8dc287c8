"""The side channel for BLOB descriptors of an executable driver, and its choice of stdout.

Which stdout a driver gets (``ExDriverConnection(shared_blobs=...)``, ``--shared-blobs``):

* an ELF program (an indilib C/C++ driver; ``auto``, or ``on`` for any program): one end of an
  AF_UNIX stream socketpair, as indiserver gives it. libindi asks ``getsockopt(1, SO_DOMAIN)``
  and only on a Unix socket passes each BLOB's data as a memfd beside its element;
* any other program under ``auto`` (a script: an ``IPyDriver``, a shell script): the same
  socket, PLUS this side channel, a ``socketpair(AF_UNIX, SOCK_SEQPACKET)`` whose child end the
  driver inherits, its number in the environment as `BLOB_FD_ENV`. The driver chooses: one
  that writes on the socket keeps it (a script writing its BLOBs inline as base64: the socket
  costs the server a third to a half less CPU than a pipe, ``bench/blobspeed.py``); one that
  sends, as its first message on the side channel, `STDOUT_PIPE` with the read end of a pipe
  (``indipycore.sharedblobs.pass_pipe``; an ``IPyDriver``'s ``StdioLink`` does) writes its XML
  on that pipe instead, whose round trip costs about 3-4 us (4-5 %) less than the socket's
  (the kernel's work for the driver's write and the server's ``recvmsg``:
  ``bench/RESULTS.md``), and passes its BLOBs' memfds on the side channel. The server reads
  neither until the driver's first word (`DriverStdio.settle`): the first of its stdout or
  the side channel to be readable; the driver asks before it writes anything, so its request
  is always there first;
* ``off``: a pipe and no side channel (every BLOB inline).

The protocol of the side channel, once stdout is a pipe: before a driver writes on stdout a
``<oneBLOB ... attached="true"/>`` member (``len``/``size`` as on the socket, no body), it sends
that BLOB's memfd on the side channel as one SEQPACKET message of one byte whose ancillary data
passes the one descriptor (SCM_RIGHTS), one message per member, in the order the members
come on stdout. The server never watches the side channel: when its reader reaches an
attached member (``blobs.attached``, as for a socket driver), it takes the next descriptor
with one non-blocking ``recvmsg`` (`FdChannel.pop`), already there because the driver sent
it before the element. None there (a broken driver) is what a socket driver's member without
a descriptor is: the element dropped with an error logged (``missing shared buffer``), the
driver kept. The socket's own descriptors and this channel's go through the same conversion
(``blobs.attached``, ``indipycore.sharedblobs``).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat

from indipycore.sharedblobs import BLOB_FD_ENV
from indipycore.sharedblobs import RECV_FDS_SPACE
from indipycore.sharedblobs import RECV_FLAGS
from indipycore.sharedblobs import STDOUT_PIPE
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import received_fds
from indipyserver.blobs.sharedbuffers import SharedBuffers

__all__ = ["BLOB_FD_ENV", "FdChannel", "is_elf"]

logger = logging.getLogger("indipyserver.exdriver")  # the executable drivers' log

ELF_MAGIC = b"\x7fELF"


def is_elf(program: str, path: str | None = None) -> bool:
    """Whether `program` (a name looked up on `path`, or a path) runs an ELF binary, as
    indilib's drivers are. One that cannot be read counts as one: a script must be readable
    to be run at all, a binary need only be executable."""
    found = program if os.sep in program else shutil.which(program, path=path)
    if found is None:
        return True  # not found: the spawn says so, whatever stdout is
    try:
        with open(found, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return True


class FdChannel(SharedBuffers):
    """A pipe driver's side channel: `SharedBuffers` whose `pop` takes the next descriptor
    from the side socket when none is held (module doc). Owns the socket; `child_fd` is the
    driver's end, closed once the driver holds its copy (`close_child`)."""

    def __init__(self) -> None:
        super().__init__()
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.setblocking(False)
        self.child_fd = child.detach()

    def close_child(self) -> None:
        if self.child_fd >= 0:
            os.close(self.child_fd)
            self.child_fd = -1

    def pop(self) -> int | None:
        fd = super().pop()
        return fd if fd is not None else self._receive()

    def _receive(self) -> int | None:
        """The next descriptor the driver sent, or None (nothing there: logged by the
        caller, which has no descriptor for its member)."""
        message = self._message()
        if message is None or not message[1]:
            return None
        fds = message[1]
        self.push(fds[1:])  # one a message is the protocol; more are taken in order
        return fds[0]

    def take_stdout_pipe(self) -> int | None:
        """The read end of the pipe a driver asks for as its stdout (its first message,
        `STDOUT_PIPE`: module doc), or None. A descriptor sent otherwise is held for the
        attached member it was sent for."""
        message = self._message()
        if message is None:
            return None
        data, fds = message
        if data == STDOUT_PIPE and len(fds) == 1 and _is_pipe(fds[0]):
            return fds[0]
        if data == STDOUT_PIPE:
            logger.error("side channel: a request for a pipe without one; ignored")
            close_all(fds)
        else:
            self.push(fds)
        return None

    def _message(self) -> tuple[bytes, list[int]] | None:
        """The next message's byte and descriptors, or None (nothing there, or too many
        descriptors, which are closed)."""
        try:
            data, ancdata, flags, _ = self.sock.recvmsg(1, RECV_FDS_SPACE, RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            logger.debug("side channel: %s", exc)
            return None
        fds = received_fds(ancdata)
        if flags & socket.MSG_CTRUNC:
            logger.error("side channel: too many descriptors in one message; %d closed", len(fds))
            close_all(fds)
            return None
        return data, fds

    def close_all(self) -> None:
        """What is held, and the socket (the kernel closes what the driver sent unclaimed)."""
        super().close_all()
        self.close_child()
        self.sock.close()


def _is_pipe(fd: int) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False
