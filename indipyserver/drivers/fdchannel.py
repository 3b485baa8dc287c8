"""The side channel for BLOB descriptors of an executable driver whose stdout is a pipe.

Which stdout a driver gets (``ExDriverConnection(shared_blobs=...)``, ``--shared-blobs``):

* an ELF program (an indilib C/C++ driver; ``auto``, or ``on`` for any program): one end of an
  AF_UNIX stream socketpair, as indiserver gives it. libindi asks ``getsockopt(1, SO_DOMAIN)``
  and only on a Unix socket passes each BLOB's data as a memfd beside its element;
* any other program under ``auto`` (a script: an ``IPyDriver``, a shell script): a pipe, which
  costs a round trip about 3 us less than the socket (driver's write, server's ``recvmsg``:
  ``bench/RESULTS.md``), PLUS this side channel: a ``socketpair(AF_UNIX, SOCK_SEQPACKET)``
  whose child end the driver inherits, its number in the environment as `BLOB_FD_ENV`;
* ``off``: a pipe and no side channel (every BLOB inline).

The protocol of the side channel: before a driver writes on stdout a ``<oneBLOB ...
attached="true"/>`` member (``len``/``size`` as on the socket, no body), it sends that
BLOB's memfd on the side channel as one SEQPACKET message of one byte whose ancillary data
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

from indipycore.sharedblobs import BLOB_FD_ENV
from indipycore.sharedblobs import RECV_FDS_SPACE
from indipycore.sharedblobs import RECV_FLAGS
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
        try:
            _, ancdata, flags, _ = self.sock.recvmsg(1, RECV_FDS_SPACE, RECV_FLAGS)
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
        if not fds:
            return None
        self.push(fds[1:])  # one a message is the protocol; more are taken in order
        return fds[0]

    def close_all(self) -> None:
        """What is held, and the socket (the kernel closes what the driver sent unclaimed)."""
        super().close_all()
        self.close_child()
        self.sock.close()
