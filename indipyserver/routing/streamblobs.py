"""Video stream BLOBs: frames a client that is behind is better off without (indiserver ``-d``).

A camera streaming video sends each frame as a ``setBLOBVector`` whose ``oneBLOB`` has a format
naming a stream (indilib's ``.stream``, ``.stream_jpg``...). A frame is stale as soon as the next
one exists, so, as indiserver does, a client already more than ``-d`` MB behind is not given
new ones: it sees the stream again, live, once it has caught up, instead of ever later. Every
other BLOB (an exposure) is kept for it as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from indipycore.protocol.frames import decode_attrs
from indipyserver.routing.ports import ClientPort

__all__ = ["DEFAULT_STREAM_DROP_MB", "is_stream_blob", "keep_up_with_stream"]

logger = logging.getLogger("indipyserver.router")  # decided while routing: the router's log


#: indiserver 1.9.9's default for -d (MB).
DEFAULT_STREAM_DROP_MB = 5

#: The first member's start tag is looked for within this many bytes of the element.
_HEAD = 4096


def is_stream_blob(data: bytes | bytearray | memoryview) -> bool:
    """Whether the element (or its first bytes) is a BLOB vector whose first ``oneBLOB`` has a
    format containing ``stream``, as indiserver tests it."""
    head = bytes(data[:_HEAD])
    start = head.find(b"<oneBLOB")
    if start < 0:
        return False
    end = head.find(b">", start)
    if end < 0:
        return False
    raw = head[start + len(b"<oneBLOB") : end].rstrip(b"/")
    try:
        fmt = decode_attrs(raw).get("format", "")
    except ValueError:
        return False
    return "stream" in fmt


def keep_up_with_stream(
    sinks: Sequence[ClientPort], limit: int, device: str, name: str | None
) -> list[ClientPort]:
    """The clients of a stream frame that are not more than `limit` bytes behind (their
    ``queued_bytes``) and so get it; the others are passed over, with a debug line."""
    kept = []
    for sink in sinks:
        behind = sink.queued_bytes
        if behind > limit:
            logger.debug(
                "client %s is %d bytes behind: stream frame %s.%s dropped for it",
                sink.label, behind, device, name,
            )
        else:
            kept.append(sink)
    return kept
