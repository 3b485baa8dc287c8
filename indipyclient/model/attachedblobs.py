"""BLOBs a server passes as memory files, read back into the element they came with.

On its Unix socket indiserver (and our server) hands a client each BLOB of an indilib C driver
as a memfd, passed with SCM_RIGHTS on the element's bytes, and in the XML only
``<oneBLOB name=.. size=.. format=.. len=N attached="true"/>``: one descriptor per attached
member, in document order. `AttachedBlobs` holds the descriptors received and not yet
claimed (``give``: each read's, before its bytes are framed) and makes of each such element
the ``SetBLOBVector`` it would have been inline: the members
claimed and checked by the driver framework's one reader of attached BLOBs
(``indipycore.sharedblobs``: a descriptor each, no body, a memory file holding ``len``, else
``size`` capped at the file, as indiserver reads it), each one's raw bytes read once, every
descriptor closed whatever happens. The model then takes the event as it takes an inline one
(``.z`` unpacked, the size checked), so programs see the same types either way.

Which descriptors are an element's: both servers pass them with the element's first bytes
(indiserver 1.9.9 with the first write of its one chunk, ours with its ``sendmsg``), and a
``recvmsg`` returns the descriptors of at most one such write. So each descriptor is kept with
the number of the read it came with, and an element takes, in order, only those of the read
its first byte came in (``Incoming`` tells which): a server that sent too few for one element
cannot make it take the next element's, and those it sent too many are closed when a later
element begins (or when nothing is under way: `excess`), with a warning.

No sockets and no asyncio: a test gives it memfds it made itself. Descriptors are read with
``pread``, not mapped: a sender that shrinks its memfd meanwhile gives a short read here (an
error for that element), where a mapping would kill the client with SIGBUS.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque
from collections.abc import Iterable

from indipycore.protocol import ProtocolError
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import parse_element
from indipycore.protocol.blobs import encode_base64
from indipycore.sharedblobs import AttachedMember
from indipycore.sharedblobs import check
from indipycore.sharedblobs import claim
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import glue

__all__ = ["MAX_HELD", "AttachedBlobs", "read_exactly"]

logger = logging.getLogger(__name__)

#: Descriptors held unclaimed at most. Only an element under way across reads holds any for
#: long (its own, from the read it began in: at most 16), so more is a faulty server passing
#: them with the rest of a long element: the newest beyond this are closed at once.
MAX_HELD = 64


def read_exactly(fd: int, n: int) -> bytes:
    """The first `n` bytes of the memory file `fd` (one copy: ``pread`` straight into the
    bytes returned); ValueError if it holds fewer."""
    data = os.pread(fd, n, 0)
    if len(data) == n:
        return data
    parts = [data]
    got = len(data)
    while got < n:  # a read of more than 2 GiB is cut by the kernel
        more = os.pread(fd, n - got, got)
        if not more:
            raise ValueError(f"shared buffer ended at {got} bytes, before len {n}")
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class AttachedBlobs:
    """The descriptors one connection received and not yet claimed, oldest first; owns them
    (see the module docstring). `close` when the connection ends."""

    def __init__(self, max_blob_size: int) -> None:
        self.max_blob_size = max_blob_size
        #: (the number of the read it came with, descriptor), oldest first.
        self.fds: deque[tuple[int, int]] = deque()
        #: Reads so far: the number of the last one given.
        self.read = 0
        #: Members received as memory files so far (tests and logs read it).
        self.received = 0
        self._claiming = 0  # the read whose descriptors `_pop` hands out

    def give(self, fds: Iterable[int]) -> None:
        """The next read's descriptors (none, usually): called for every read, before its
        bytes are framed."""
        self.read += 1
        for fd in fds:
            self.fds.append((self.read, fd))
        if len(self.fds) > MAX_HELD:
            extra = [self.fds.pop()[1] for _ in range(len(self.fds) - MAX_HELD)]
            close_all(extra)
            logger.warning("closed %d descriptors the server passed beyond the %d an element "
                           "under way may hold", len(extra), MAX_HELD)

    def _pop(self) -> int | None:
        fds = self.fds
        if fds and fds[0][0] == self._claiming:
            return fds.popleft()[1]
        return None

    def _begin(self, began: int) -> None:
        """An element whose first byte came in read `began` is read: descriptors of earlier
        reads were nobody's (their elements are done)."""
        fds = self.fds
        stale = []
        while fds and fds[0][0] < began:
            stale.append(fds.popleft()[1])
        if stale:
            count = len(stale)  # (close_all empties the list)
            close_all(stale)
            logger.warning("closed %d descriptors the server passed with no attached BLOB "
                           "member", count)
        self._claiming = began

    def resolve(self, data: bytes, began: int) -> SetBLOBVector | None:
        """The ``setBLOBVector`` `data`, whose first byte came in read `began` (-1: in a read
        whose descriptors are another element's), with its attached members' bytes in it;
        None when it has no attached member (it is read as usual). Raises ProtocolError when
        the element or one of its memory files is wrong (the element is then dropped); the
        element's descriptors are closed in every case."""
        if began >= 0:
            self._begin(began)
        else:
            self._claiming = -1  # none are its (``Incoming._owner``)
        members = claim(data, self._pop)
        if not members:
            return None
        try:
            event = parse_element(data)
            if not isinstance(event, SetBLOBVector):
                raise ProtocolError(f"attached BLOBs in a {type(event).__name__}")
            return self._filled(event, members)
        except (ValueError, OSError) as exc:
            if isinstance(exc, ProtocolError):
                raise
            raise ProtocolError(f"attached BLOB dropped: {exc}") from exc
        finally:
            close_all([m.fd for m in members if m.fd is not None])

    def resolve_one(self, tag: bytes, began: int) -> bytes:
        """One attached member's start `tag` met in an element that streams (the rare vector
        with inline data before it, ``FrameAttached``; its first byte came in read `began`):
        its data inline after it as base64, as the streamed element's receiver reads the
        others; its descriptor closed."""
        self._begin(began)
        members = claim(tag, self._pop)
        if not members:
            return tag
        member = members[0]
        try:
            open_tag = member.end < 0
            if open_tag:
                member.end = len(tag)  # its body (whitespace) follows in the element
            before, after = glue(tag, [member])  # the start tag without attached, enclen
            return before + encode_base64(self._read(member)) + (b"" if open_tag else after)
        except (ValueError, OSError) as exc:
            raise ProtocolError(f"attached BLOB dropped: {exc}") from exc
        finally:
            close_all([m.fd for m in members if m.fd is not None])

    def _filled(self, event: SetBLOBVector, members: list[AttachedMember]) -> SetBLOBVector:
        datas = {}
        for member in members:
            name = member.attrs.get("name", "")
            datas[name] = self._read(member)
            logger.debug("BLOB %s.%s.%s: %d bytes from a memory file (attached, len %d)",
                         event.device, event.name, name, len(datas[name]), member.length)
        blobs = tuple(dataclasses.replace(m, data=datas[m.name]) if m.name in datas else m
                      for m in event.members)
        self.received += len(members)
        return dataclasses.replace(event, members=blobs)

    def _read(self, member: AttachedMember) -> bytes:
        check([member])
        if member.length > self.max_blob_size:
            raise ValueError(f"BLOB {member.attrs.get('name')!r} of {member.length} bytes is "
                             f"over the limit of {self.max_blob_size}")
        assert member.fd is not None
        return read_exactly(member.fd, member.length) if member.length else b""

    def excess(self) -> int:
        """Close the descriptors left when no element is under way (more came than attached
        members); how many."""
        count = len(self.fds)
        self.close()
        return count

    def close(self) -> None:
        """Close every descriptor not claimed (the connection ended)."""
        fds = [fd for _, fd in self.fds]
        self.fds.clear()
        close_all(fds)
