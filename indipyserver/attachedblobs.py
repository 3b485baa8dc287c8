"""BLOBs that an indilib C driver attaches as file descriptors, turned back into inline base64.

A C driver whose stdout is an AF_UNIX socket (``exdriver``, ELF programs) sends each BLOB's data
as a memfd passed with SCM_RIGHTS, and in the XML only ``<oneBLOB ... len='N' attached='true'>``
with an empty body. The socket reader puts the descriptors, in arrival order, in the driver's
`SharedBuffers` before the bytes that came with them are framed; `AttachedBlobs` then gives them
to the ``attached`` members in document order, as indiserver 1.9.9 does (``Msg::fetchBlobs``).
Clients only ever see inline BLOBs: each member becomes one line of base64 without ``enclen``
(what indiserver sends to TCP clients), which libindiclient counts right.

Only whole elements are converted: such a driver is read without cut-through streaming
(``exdriver``), so a ``setBLOBVector`` always arrives as one `Frame`.
"""

from __future__ import annotations

import binascii
import logging
import mmap
import os
import re
from collections import deque
from collections.abc import Callable, Iterable

from indipydriver.protocol.frames import Frame, decode_attrs

__all__ = ["AttachedBlobs", "SharedBuffers", "inline_attached"]

logger = logging.getLogger(__name__)

_ATTRS = rb"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)"""
#: A oneBLOB start tag (attributes in group 1, "/" in group 2 if self-closing).
_ONE_BLOB = re.compile(rb"<oneBLOB" + _ATTRS + rb"\s*(/?)>")
_EMPTY_END = re.compile(rb"\s*</oneBLOB\s*>")
#: The attributes a client must not see: the data is inline now, and not line-wrapped.
_DROPPED = re.compile(rb"""\s+(?:attached|enclen)\s*=\s*(?:"[^"]*"|'[^']*')""")


class SharedBuffers:
    """The descriptors received from one driver and not yet claimed, oldest first; owns them."""

    def __init__(self) -> None:
        self._fds: deque[int] = deque()

    def push(self, fds: Iterable[int]) -> None:
        self._fds.extend(fds)

    def pop(self) -> int | None:
        return self._fds.popleft() if self._fds else None

    def __len__(self) -> int:
        return len(self._fds)

    def close_all(self) -> None:
        """Close what is left (the driver died or restarted): they would never be claimed."""
        while self._fds:
            _close(self._fds.popleft())


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError as exc:
        logger.debug("closing shared buffer %d: %s", fd, exc)


def _read_base64(fd: int, length: int) -> bytes:
    """One line of base64 of the first `length` bytes of `fd` (a memfd rounded up in size)."""
    if length == 0:
        return b""
    size = os.fstat(fd).st_size
    if size < length:
        raise ValueError(f"len {length} exceeds the shared buffer's {size} bytes")
    with mmap.mmap(fd, length, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ) as data:
        return binascii.b2a_base64(data, newline=False)


def _length(attrs: dict[str, str], key: str) -> int:
    value = attrs.get(key)
    if value is None or not value.isdigit():
        raise ValueError(f"attached BLOB with bad or missing {key}={value!r}")
    return int(value)


def inline_attached(frame: Frame, buffers: SharedBuffers, label: str = "driver") -> Frame | None:
    """`frame` with each ``attached`` oneBLOB inlined from the next descriptor of `buffers`.

    Returns `frame` itself when it has no attached member, and None (the element dropped, an
    error logged, as indiserver does) when a member lacks a descriptor, a valid ``len`` and
    ``size``, or readable data. Every descriptor taken is closed, whatever happens.
    """
    data = frame.data
    if frame.tag != "setBLOBVector" or b"attached" not in data:
        return frame
    members = []  # (start, end, attribute text, attrs, fd) of each attached member
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
        members.append((m.start(), end, raw, attrs, buffers.pop()))
        pos = max(end, m.end())
    if not members:
        return frame
    parts: list[bytes] = []
    try:
        pos = 0
        for start, end, raw, attrs, fd in members:
            if fd is None:
                raise ValueError(f"missing shared buffer for BLOB {attrs.get('name')!r}")
            if end < 0:
                raise ValueError(f"attached BLOB {attrs.get('name')!r} has a body")
            length = _length(attrs, "len")
            _length(attrs, "size")
            parts += (
                data[pos:start],
                b"<oneBLOB",
                _DROPPED.sub(b"", raw),
                b">",
                _read_base64(fd, length),
                b"</oneBLOB>",
            )
            pos = end
        parts.append(data[pos:])
    except (ValueError, OSError) as exc:
        logger.error(
            "%s: %s %s.%s dropped: %s", label, frame.tag, frame.device, frame.name, exc
        )
        return None
    finally:
        for member in members:
            if member[4] is not None:
                _close(member[4])
    return Frame(frame.tag, frame.attrs, b"".join(parts))


class AttachedBlobs:
    """Wraps a driver's ``on_frames`` so that what it receives has only inline BLOBs."""

    def __init__(
        self, on_frames: Callable[[list[Frame]], None], buffers: SharedBuffers, label: str
    ) -> None:
        self._on_frames = on_frames
        self.buffers = buffers
        self._label = label

    def __call__(self, frames: list[Frame]) -> None:
        if any(f.tag == "setBLOBVector" for f in frames):
            out = []
            for frame in frames:
                converted = inline_attached(frame, self.buffers, self._label)
                if converted is not None:
                    out.append(converted)
            frames = out
        if frames:
            self._on_frames(frames)
