"""What a program publishes to go to the INDI side, checked; pure.

Exactly one well-formed element a client may send (``getProperties``, ``enableBLOB`` or a
``new*Vector``), about a device some source defined (``getProperties`` may name none, or a
device not defined yet: asking for it is how a program finds it). Anything else is refused
with the reason, which the bridge logs before dropping it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from indipyclient.model.properties import PropertyVector
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError
from indipycore.protocol import events as ev
from indipycore.protocol import parse_element
from indipycore.protocol.acceptance import judge

__all__ = ["CLIENT_TAGS", "ToIndiRequest", "check_to_indi", "refusal", "whole_frames"]

#: The elements a client may send (INDI 1.7 p.4).
CLIENT_TAGS = frozenset({"getProperties", "enableBLOB", "newTextVector", "newNumberVector",
                         "newSwitchVector", "newBLOBVector"})

MAX_TO_INDI = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ToIndiRequest:
    event: ev.Event
    data: bytes              # the element as published (one element, stripped)
    device: str | None       # the device it is about (None: every device)
    source: str | None       # the source that defined the device, when known


#: Framed as the server and the client frame them: their bodies searched for ``<`` only
#: (memchr), not for the closing tag (a slower search: ~3 ms more CPU for a 13.5 MB BLOB in
#: every message mqtttoport receives), and holding nothing but their members.
_BLOB_TAGS = frozenset({"setBLOBVector", "newBLOBVector"})


def whole_frames(data: bytes, limit: int) -> list[Frame] | str:
    """The elements in one published message (up to `limit` bytes), all of them whole and
    well framed, or why it is refused (what a program publishes to MQTT or to redis)."""
    if len(data) > limit:
        return f"larger than {limit} bytes"
    # A BLOB is never handed out in pieces here (stream_min is the limit): one in a whole
    # message is one Frame, its data the message's own bytes. A framer left clean by the last
    # message is used again (a fresh one a message was a tenth of mqtttoredis's cost); one
    # that saw anything wrong is dropped.
    framer = _FRAMERS.pop(limit, None) or Framer(max_element_size=limit,
                                                stream_tags=_BLOB_TAGS, stream_min=limit)
    items = framer.feed(data)
    if framer.buffered or framer.streaming:
        return "an unfinished element"
    bad = [item for item in items if type(item) is not Frame]
    if bad:
        return f"malformed: {bad[0]}"
    _FRAMERS[limit] = framer
    return [item for item in items if type(item) is Frame]


_FRAMERS: dict[int, Framer] = {}  # by limit: the clean framers `whole_frames` may use again


def check_to_indi(data: bytes, source_of: Callable[[str], str | None]) -> ToIndiRequest | str:
    """The request in ``data``, or the reason it is refused."""
    frames = whole_frames(data, MAX_TO_INDI)
    if isinstance(frames, str):
        return frames
    if len(frames) != 1:
        return f"{len(frames)} elements, not one"
    frame = frames[0]
    if frame.tag not in CLIENT_TAGS:
        return f"<{frame.tag}> is not an element a client sends"
    try:
        event = parse_element(frame.data)
    except ProtocolError as exc:
        return f"malformed: {exc}"
    if event is None:
        return "not an INDI element"
    device = getattr(event, "device", None)
    source = source_of(device) if device is not None else None
    if device is not None and source is None and not isinstance(event, ev.GetProperties):
        return f"unknown device {device!r}"
    return ToIndiRequest(event, bytes(frame.data), device, source)


_KIND = {ev.NewTextVector: "TextVector", ev.NewNumberVector: "NumberVector",
         ev.NewSwitchVector: "SwitchVector", ev.NewBLOBVector: "BLOBVector"}


def refusal(event: ev.Event,
            vector_of: Callable[[str, str], PropertyVector | None]) -> str | None:
    """Why a published ``new*Vector`` may not be sent, by the rule every client applies
    (`protocol.acceptance`) to the vector as the store's model holds it (`vector_of(device,
    name)`), or None when it may (and for every other request)."""
    kind = _KIND.get(type(event))
    if kind is None or not isinstance(event, ev.NewTextVector | ev.NewNumberVector
                                      | ev.NewSwitchVector | ev.NewBLOBVector):
        return None
    vector = vector_of(event.device, event.name)
    if vector is None:
        return f"{event.device}.{event.name}: unknown vector"
    if vector.vectortype != kind:
        return f"{event.device}.{event.name}: a {vector.vectortype}, not a {kind}"
    values: dict[str, object] = {m.name: (m if isinstance(m, ev.BLOB) else m.value)
                                 for m in event.members}
    verdict = judge(vector.shape, values)
    return None if verdict else verdict.message
