"""A driver snooping on a device it holds itself, as if from outside.

One driver may hold several devices: the Alpaca bridge's (``alpaca://``) holds every device of
an Alpaca server, a mount and a camera among them, and the camera role snoops the mount named
in ACTIVE_DEVICES for its FITS header (OBJCTRA, TELESCOP...). A server never sends a driver its
own traffic back, so such a snoop was refused ("it belongs to this driver") and the header had
no pointing. Here the driver is its own source instead: what it sends for a device it snoops
on reaches its snooping path (`snoopevent`, the roles' ``snooped``) as the server would have
sent it, from the same bytes, and the device's current vectors are replayed when the snoop is
asked for (as a server answers a getProperties with definitions).

Only drivers that snoop their own devices pay: `wants` is one falsy check otherwise, and a
match on the start tag's device attribute before anything is parsed. BLOBs are not looped back
(a snoop of a BLOB needs an enableBLOB, which a driver asks of other devices only).
"""

from __future__ import annotations

from collections.abc import Iterable

from indipycore.protocol.escaping import escape
from indipycore.protocol.events import Event
from indipycore.protocol.parser import parse_element

__all__ = ["LocalSnoops"]


class LocalSnoops:
    """The (device, vector or None) snoops a driver asked of its own devices."""

    def __init__(self) -> None:
        self._snoops: set[tuple[str, str | None]] = set()
        # The start tag's device attribute of each snooped device, as the writer spells it.
        self._attributes: dict[bytes, str] = {}

    def __bool__(self) -> bool:
        return bool(self._snoops)

    def add(self, devicename: str, vectorname: str | None) -> None:
        self._snoops.add((devicename, vectorname))
        self._attributes[f' device="{escape(devicename)}"'.encode()] = devicename

    def matches(self, devicename: str | None, vectorname: str | None) -> bool:
        return devicename is not None and ((devicename, None) in self._snoops
                                           or (devicename, vectorname) in self._snoops)

    def event_of(self, data: bytes) -> Event | None:
        """The def/set vector `data` holds, when it is about a snooped vector of an own
        device; None for anything else (a message, a BLOB, another device)."""
        head = bytes(data[:512])
        if not head.startswith((b"<def", b"<set")) or head.startswith(b"<setBLOBVector"):
            return None
        end = head.find(b">")
        tag = head if end < 0 else head[:end]
        if not any(attribute in tag for attribute in self._attributes):
            return None
        event = parse_element(bytes(data))
        device = getattr(event, "device", None)
        if event is None or not self.matches(device, getattr(event, "name", None)):
            return None
        return event

    def replay(self, elements: Iterable[bytes]) -> list[Event]:
        """The events of a snooped device's current definitions (`elements`, its vectors'
        def bytes), as a server's answer to the snoop's getProperties."""
        return [event for data in elements if (event := self.event_of(data)) is not None]
