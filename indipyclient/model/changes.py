"""What changed, as the front ends subscribe to it: `Change` notices, pure.

The model hands out one client event (``events``) per element it applied; a front end that
draws from the model does not need the event's values, only *what* changed, so that it can
read the current values back when it draws. `change_of` is the one mapping of client events to
those notices (the web client's sources and the terminal use it alike), and `Coalescer`
(``coalesce``) keeps them so that a burst costs one redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import events as ev

__all__ = ["Change", "ChangeKind", "change_of"]

ChangeKind = Literal["define", "set", "delete", "message", "connection"]


@dataclass(frozen=True, slots=True)
class Change:
    """Something changed. `define`/`set`/`delete` name a device (and vector; a device-wide
    delete has `vector` None); `message` names the device or None (a server message), and the vector when it is
    the server's refusal of this client's new values (that vector is now Alert);
    `connection` means the connection came or went (on loss every device is gone)."""

    kind: ChangeKind
    device: str | None = None
    vector: str | None = None


_CONNECTION = Change("connection")


def change_of(event: ev.Event) -> Change | None:
    """The notice for a client event, or None for an event that changes nothing drawn
    (a getProperties, a vector's timeout)."""
    if isinstance(event, ev.setVector):
        return Change("set", event.devicename, event.vectorname)
    if isinstance(event, ev.defVector):
        return Change("define", event.devicename, event.vectorname)
    if isinstance(event, ev.delProperty):
        return Change("delete", event.devicename, event.vectorname)
    if isinstance(event, ev.Message):
        refused = event.refused  # the vector the server refused: its state shows it too
        return Change("message", event.devicename, refused.name if refused is not None else None)
    if isinstance(event, ev.ConnectionMade | ev.ConnectionLost):
        return _CONNECTION
    return None
