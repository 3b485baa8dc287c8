"""Snooped BLOBs that indilib's indiserver 1.9.9 passes as shared memory, read back inline.

Under indiserver 1.9.9 a driver's stdin and stdout are one Unix socketpair, and a BLOB it snoops
arrives as ``<oneBLOB name=.. size=.. format=.. attached='true'/>`` with the data in a memfd
passed beside it (SCM_RIGHTS); later indiservers send base64 instead (indilib issue #1822). The
link receives the descriptors (`links.StdioLink.take_fds`); `inline_attached` gives each
attached member, in document order, the next one's bytes as base64, so the element parses as
any other. The byte count follows indiserver's rule: ``len`` if given, else ``size`` capped at
the memfd's size. Every descriptor taken is closed.
"""

from __future__ import annotations

import binascii
import os
import re
from collections import deque

from .protocol.frames import decode_attrs

__all__ = ["inline_attached"]

#: An attached member has no body: ``<oneBLOB .../>`` or ``<oneBLOB ...></oneBLOB>``.
_EMPTY_BLOB = re.compile(
    rb"<oneBLOB((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?:/>|>\s*</oneBLOB\s*>)"
)
_HIDDEN = re.compile(rb"""\s+(?:attached|enclen)\s*=\s*(?:"[^"]*"|'[^']*')""")


def inline_attached(data: bytes, fds: deque[int]) -> bytes:
    """`data` (one ``setBLOBVector``) with its attached members' data inline, taken from the
    front of `fds`; raises ValueError when a member has no descriptor or no valid size.

    The element's descriptors are all taken before any is read, and all closed whatever
    happens: one member that fails must not leave the next element's BLOB the wrong data."""
    members = [(m, decode_attrs(m.group(1))) for m in _EMPTY_BLOB.finditer(data)]
    members = [(m, attrs) for m, attrs in members if attrs.get("attached") == "true"]
    taken = [fds.popleft() for _ in range(min(len(members), len(fds)))]
    try:
        if len(taken) < len(members):
            raise ValueError(f"no shared buffer for BLOB {members[len(taken)][1].get('name')!r}")
        out: list[bytes] = []
        pos = 0
        for (m, attrs), fd in zip(members, taken, strict=True):
            out += (data[pos:m.start()], b"<oneBLOB", _HIDDEN.sub(b"", m.group(1)), b">",
                    binascii.b2a_base64(_read(fd, attrs), newline=False), b"</oneBLOB>")
            pos = m.end()
        out.append(data[pos:])
        return b"".join(out)
    finally:
        for fd in taken:
            os.close(fd)


def _read(fd: int, attrs: dict[str, str]) -> bytes:
    """The member's bytes: ``len`` (at most the memfd's size), else ``size`` capped at it."""
    available = os.fstat(fd).st_size
    length = attrs.get("len")
    size = attrs.get("size", "")
    if length is not None and length.isdigit():
        n = int(length)
        if n > available:
            raise ValueError(f"len {n} exceeds the shared buffer's {available} bytes")
    elif size.isdigit():
        n = min(int(size), available)
    else:
        raise ValueError(f"attached BLOB {attrs.get('name')!r} without a valid size")
    parts = []
    got = 0
    while got < n:
        piece = os.pread(fd, n - got, got)
        if not piece:
            raise ValueError(f"shared buffer ended at {got} bytes, before {n}")
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)
