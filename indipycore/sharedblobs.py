"""A C program's BLOBs passed as shared memory (``attached='true'``), turned back into base64.

indilib's C drivers on a Unix socket send each BLOB's data as a memfd passed with SCM_RIGHTS,
and in the XML only ``<oneBLOB ... size='N' len='N' attached='true'/>`` with no body; indiserver
1.9.9 passes snooped BLOBs to a driver on its socketpair the same way (later indiservers send
base64, indilib issue #1822). The descriptors arrive in order beside the bytes; each attached
member, in document order, takes the next one. This is the one place that reads them back:
`claim` the members' descriptors, `check` that each can be read (a ``size``, ``len`` if given,
a memory file holding that much: indiserver's rule, ``len`` else ``size`` capped at the memfd),
then `inline` (or `glue` and `encode` piece by piece, as the server's ``blobs.attached`` does
for a large one) gives each member its data as one line of base64 without ``enclen``.
`inline_attached` is the whole of it for a snooping driver. Every reader of such a socket takes
the descriptors out of ``recvmsg`` the same way: `RECV_FDS_SPACE`, `RECV_FLAGS`,
`received_fds`.

The other way, a driver whose stdout is a Unix socket puts each of its own BLOBs' data in a
fresh memory file (`memory_files`) and sends the element with the descriptors
(``links.AttachingLink``), as libindi's drivers do with ``IDSharedBlobAlloc``; `attachable`
says when a vector's BLOBs can go so. Under our server a driver that is not an ELF program is
offered a side channel beside its stdout socket (`BLOB_FD_ENV`; its protocol:
``indipyserver.drivers.fdchannel``): one that asks for a pipe instead (`pass_pipe`, as an
``IPyDriver`` does) writes its XML there and passes its memfds on the side channel, each with
`pass_fd`.
"""

from __future__ import annotations

import array
import binascii
import os
import re
import socket
import stat
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence

from .protocol.frames import decode_attrs
from .protocol.wellformed import xml_error

__all__ = ["BLOB_FD_ENV", "CAN_ATTACH", "MAX_ATTACHED", "RECV_FDS_SPACE", "RECV_FLAGS", "STDOUT_PIPE",
           "AttachedMember",
           "attachable", "check", "check_xml", "claim", "close_all", "duplicates", "encode",
           "glue", "inline", "inline_attached", "memory_files", "one_member", "pass_fd",
           "pass_pipe", "received_fds", "rights"]

#: Whether this system has memory files to pass (``memfd_create``: Linux); else BLOBs go inline.
CAN_ATTACH = hasattr(os, "memfd_create")
#: At most this many descriptors in one element: what indiserver (``MAXFD_PER_MESSAGE``) and our
#: server read with one message; a vector with more BLOBs holding data goes inline.
MAX_ATTACHED = 16
#: What each reader of passed descriptors (the client's Unix socket, the server's driver
#: sockets, a driver's own socket) gives ``recvmsg``: room for one element's descriptors, and
#: close-on-exec where the system has it.
RECV_FDS_SPACE = (socket.CMSG_SPACE(MAX_ATTACHED * array.array("i").itemsize)
                  if hasattr(socket, "CMSG_SPACE") else 0)
RECV_FLAGS: int = getattr(socket, "MSG_CMSG_CLOEXEC", 0)
#: Names, in an executable driver's environment under our server, its end of the side channel
#: for BLOB descriptors (a SOCK_SEQPACKET Unix socket), offered beside its stdout socket.
BLOB_FD_ENV = "INDIPY_BLOB_FD"
#: The byte of a driver's first message on the side channel when it asks for its stdout on a
#: pipe: the message passes the pipe's read end (`pass_pipe`); a BLOB's message has ``\0``.
STDOUT_PIPE = b"p"

_ATTRS = rb"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)"""
#: A oneBLOB start tag (attributes in group 1, "/" in group 2 if self-closing).
_ONE_BLOB = re.compile(rb"<oneBLOB" + _ATTRS + rb"\s*(/?)>")
_EMPTY_END = re.compile(rb"\s*</oneBLOB\s*>")
#: The attributes a client must not see: the data is inline now, and not line-wrapped.
_DROPPED = re.compile(rb"""\s+(?:attached|enclen)\s*=\s*(?:"[^"]*"|'[^']*')""")


class AttachedMember:
    """One attached oneBLOB of an element, and the descriptor it took."""

    __slots__ = ("attrs", "end", "fd", "length", "raw", "size", "start")

    def __init__(
        self, start: int, end: int, raw: bytes, attrs: dict[str, str], fd: int | None
    ) -> None:
        self.start = start  # offset of its "<oneBLOB"
        self.end = end  # offset just after it; -1 when it has a body (not allowed)
        self.raw = raw  # its attribute text
        self.attrs = attrs
        self.fd = fd  # None: no descriptor was left for it
        self.length = 0  # its len, once checked
        self.size = 0  # the memfd's size, once checked


def claim(data: bytes, pop: Callable[[], int | None]) -> list[AttachedMember]:
    """The attached members of the element `data`, each given the next descriptor `pop`
    returns (None when there is none left)."""
    members = []
    pos = 0
    for m in _ONE_BLOB.finditer(data):
        if m.start() < pos:
            continue
        raw = m.group(1)
        attrs = decode_attrs(raw)
        if attrs.get("attached") != "true":
            continue
        end = m.end()
        if not m.group(2):
            tail = _EMPTY_END.match(data, end)
            end = tail.end() if tail is not None else -1
        members.append(AttachedMember(m.start(), end, raw, attrs, pop()))
        pos = max(end, m.end())
    return members


def check_xml(data: bytes) -> None:
    """The element as the driver wrote it (small: the data is aside) must be well-formed XML:
    what is put around the data is passed on as it is. Its descriptors were taken (`claim`),
    so that the next element does not get them."""
    error = xml_error(data)
    if error is not None:
        raise ValueError(f"malformed XML ({error})")


def _length(attrs: dict[str, str], key: str) -> int:
    value = attrs.get(key)
    if value is None or not value.isdigit():
        raise ValueError(f"attached BLOB with bad or missing {key}={value!r}")
    return int(value)


def check(members: list[AttachedMember]) -> int:
    """Raise ValueError or OSError unless every member can be read; their total ``len``.

    Checked before anything is sent: a descriptor for each, no body, a valid ``size`` (and
    ``len`` if given), and a memory file (a regular file to fstat, as a memfd is) holding
    ``len`` bytes. Without ``len`` the first ``size`` bytes are sent, or the whole memfd if it
    is smaller, as indiserver 1.9.9 does (it reads only ``size``; libindi's drivers send both).
    """
    total = 0
    for member in members:
        name = member.attrs.get("name")
        if member.fd is None:
            raise ValueError(f"no shared buffer for BLOB {name!r} (missing shared buffer: fewer "
                             "descriptors came than attached members)")
        if member.end < 0:
            raise ValueError(f"attached BLOB {name!r} has a body")
        size = _length(member.attrs, "size")
        given = member.attrs.get("len")
        length = _length(member.attrs, "len") if given is not None else size
        if length:
            info = os.fstat(member.fd)
            member.size = info.st_size
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"shared buffer of BLOB {name!r} is not a memory file")
            if given is None:
                length = min(length, info.st_size)  # as indiserver, which reads only size
            elif info.st_size < length:
                raise ValueError(f"len {length} exceeds the shared buffer's {info.st_size} bytes")
        member.length = length
        total += length
    return total


def glue(data: bytes, members: list[AttachedMember]) -> list[bytes]:
    """The element's bytes around the values: before the first, between each two, after the
    last. The attached members' start tags lose ``attached`` and ``enclen``."""
    out = []
    pos = 0
    close = b""
    for member in members:
        out.append(
            close + data[pos : member.start] + b"<oneBLOB" + _DROPPED.sub(b"", member.raw) + b">"
        )
        close = b"</oneBLOB>"
        pos = member.end
    out.append(close + data[pos:])
    return out


def encode(fd: int, offset: int, n: int, buf: bytearray | None = None) -> bytes:
    """The base64 (one line) of `n` bytes of `fd` from `offset`; read into `buf` if given.

    ``pread`` rather than ``mmap``: a memfd the driver shrinks meanwhile gives a short read (an
    error here), where a mapping would kill the server with SIGBUS.
    """
    if buf is None:
        buf = bytearray(n)
    with memoryview(buf) as whole, whole[:n] as view:
        got = 0
        while got < n:
            k = os.preadv(fd, [view[got:]], offset + got)
            if k == 0:
                raise ValueError(f"shared buffer ended at {offset + got} bytes, before len")
            got += k
        return binascii.b2a_base64(view, newline=False)


def inline(data: bytes, members: list[AttachedMember], step: int = 3 << 20) -> bytes:
    """The element `data` with its (checked) members' values inlined, encoded at once, at most
    `step` bytes (a multiple of 3) read at a time."""
    around = glue(data, members)
    parts = [around[0]]
    for i, member in enumerate(members, 1):
        assert member.fd is not None
        for offset in range(0, member.length, step):
            parts.append(encode(member.fd, offset, min(step, member.length - offset)))
        parts.append(around[i])
    return b"".join(parts)


def one_member(tag: bytes, member: AttachedMember) -> bytes:
    """The start `tag` of one attached member (`claim`ed from it alone, met in an element that
    streams) with its data inline after it: ``<oneBLOB ...>`` and the base64, and its
    ``</oneBLOB>`` if the tag closes itself (else the element's own end tag follows). The
    member is `check`ed first."""
    open_tag = member.end < 0
    if open_tag:
        member.end = len(tag)  # its body (only whitespace is allowed) follows in the element
    check([member])
    data = inline(tag, [member])
    return data[: -len(b"</oneBLOB>")] if open_tag else data


def inline_attached(data: bytes, fds: deque[int]) -> bytes:
    """`data` (one ``setBLOBVector``) with its attached members' data inline, taken from the
    front of `fds`; raises ValueError (or OSError) when a member has no descriptor, no valid
    size or not the data it says.

    The element's descriptors are all taken before any is read, and all closed whatever
    happens: one member that fails must not leave the next element's BLOB the wrong data."""
    members = claim(data, lambda: fds.popleft() if fds else None)
    try:
        check(members)
        return inline(data, members)
    finally:
        for member in members:
            if member.fd is not None:
                os.close(member.fd)


def attachable(payloads: Sequence[tuple[int, bytes]]) -> bool:
    """Whether BLOB members given as (announced size, data) can go as memory files: some
    data, at most `MAX_ATTACHED` members holding any, and none announcing a size (0: its
    length) below its length, since indiserver 1.9.9 passes on only ``size`` bytes of a
    memory file."""
    held = [(size, data) for size, data in payloads if data]
    return 0 < len(held) <= MAX_ATTACHED and all(size == 0 or size >= len(data)
                                                 for size, data in held)


def memory_files(datas: Sequence[bytes]) -> list[int]:
    """A new memory file (memfd, close-on-exec) holding each of `datas`, written whole; the
    caller closes them (`close_all`). Those made are closed if one fails (OSError)."""
    fds: list[int] = []
    try:
        for data in datas:
            fd = os.memfd_create("indipydriver-blob", os.MFD_CLOEXEC)
            fds.append(fd)
            with memoryview(data) as view:
                written = 0
                while written < len(view):
                    written += os.write(fd, view[written:])
    except BaseException:
        close_all(fds)
        raise
    return fds


def received_fds(ancdata: Iterable[tuple[int, int, bytes]]) -> list[int]:
    """The descriptors passed (SCM_RIGHTS) in a ``recvmsg``'s ancillary data, in order."""
    fds = array.array("i")
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return list(fds)


def rights(fds: Sequence[int]) -> list[tuple[int, int, bytes]]:
    """The ancillary data passing `fds` (SCM_RIGHTS), for ``sendmsg``."""
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]


def pass_fd(side: socket.socket, fd: int) -> None:
    """Send `fd` on a side channel (`BLOB_FD_ENV`): one message, one byte, one descriptor."""
    side.sendmsg([b"\0"], rights([fd]))


def pass_pipe(side: socket.socket, read_end: int) -> None:
    """Ask, on a side channel offered beside a stdout socket, for stdout on a pipe: the first
    message on it, `STDOUT_PIPE` and the pipe's read end (``indipyserver.drivers.fdchannel``)."""
    side.sendmsg([STDOUT_PIPE], rights([read_end]))


def close_all(fds: list[int]) -> None:
    """Close each of `fds` once (the list is emptied)."""
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass


def duplicates(fds: Sequence[int]) -> list[int]:
    """A duplicate of each of `fds` (none left open if one fails)."""
    dups: list[int] = []
    try:
        for fd in fds:
            dups.append(os.dup(fd))
    except OSError:
        close_all(dups)
        raise
    return dups
