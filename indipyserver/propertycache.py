"""The latest definition and value of every property, to answer late getProperties.

SPEC p.11 lets a server cache `def`/`set` to answer `getProperties`. Replaying is what gives
late snoopers the static values (site, focal length) sent before they asked (indi_pylibcamera
issue #31), and spares every driver a full redefinition whenever a client connects.

A replay is ONE def carrying the current values (the latest set merged in), not the original
def followed by the set: clients such as `indi_getprop` take the first value they see and exit.
The merge parses the two cached elements only when a replay asks for it, and keeps the result
until the property changes again.

A setBLOBVector's data is never kept (stale images, memory), but its state, timeout and
timestamp are: a driver asked for its definition after an exposure says state Ok, and so must
the replay (KStars showed a reconnecting client CCD1 Idle from the cache, Ok from indiserver).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from indipydriver.logbudget import short
from indipydriver.protocol.enums import State
from indipydriver.protocol.events import Number
from indipydriver.protocol.framing import Frame
from indipydriver.protocol.parser import parse_element
from indipydriver.protocol.serialiser import serialise

logger = logging.getLogger(__name__)

__all__ = ["PropertyCache"]


_VECTOR_ATTRS = ("state", "timeout", "timestamp")


class _Entry:
    __slots__ = ("blob_attrs", "definition", "latest", "merged")

    def __init__(self, definition: Frame | None, latest: Frame | None) -> None:
        self.definition = definition
        self.latest = latest  # newest non-BLOB set since the definition
        self.blob_attrs: dict[str, str] | None = None  # _VECTOR_ATTRS of the setBLOBVectors since
        self.merged: list[Frame] | None = None


#: Properties kept per device, and in all. A driver that invents property names (a bug, or
#: an attack) must not grow the server without bound: a chaos review's remote defined two
#: million and took the server to 2.3 GB. Past a limit, new properties are still passed on to
#: the clients that are connected, only not kept for late ones; the first one is logged.
MAX_PROPERTIES_PER_DEVICE = 10_000
MAX_PROPERTIES = 100_000


class PropertyCache:
    """device -> property -> latest def and set (of a setBLOBVector only its state, timeout and
    timestamp are kept: the data would be stale and large)."""

    def __init__(self) -> None:
        self._devices: dict[str, dict[str, _Entry]] = {}
        self._count = 0  # properties kept, all devices
        self._full: set[str] = set()  # devices a property was not kept for (logged once)

    def define(self, device: str, name: str, frame: Frame) -> None:
        props = self._devices.get(device)
        if props is None:
            props = self._devices[device] = {}
        if name in props or self._room(device, props):
            props[name] = _Entry(frame, None)

    def update(self, device: str, name: str, frame: Frame) -> None:
        props = self._devices.get(device)
        if props is None:  # not setdefault: that builds a dict on every set (once per trip)
            props = self._devices[device] = {}
        entry = props.get(name)
        if entry is None:
            if self._room(device, props):
                props[name] = _Entry(None, frame)
        else:
            entry.latest = frame
            entry.merged = None

    def _room(self, device: str, props: dict[str, _Entry]) -> bool:
        """Whether a new property of `device` may be kept; counts it if so."""
        if len(props) < MAX_PROPERTIES_PER_DEVICE and self._count < MAX_PROPERTIES:
            self._count += 1
            return True
        if device not in self._full:
            self._full.add(device)
            logger.error("device %s has more properties than are kept (%d for one device, %d in "
                         "all): its new ones are passed on, but not replayed to later clients",
                         short(device), MAX_PROPERTIES_PER_DEVICE, MAX_PROPERTIES)
        return False

    def update_blob(self, device: str, name: str, attrs: dict[str, str]) -> None:
        """A setBLOBVector (its start tag's attributes): the replayed definition takes its state,
        timeout and timestamp; an attribute it lacks keeps the value from before."""
        entry = self._devices.get(device, {}).get(name)
        if entry is None or entry.definition is None:
            return  # nothing to replay it in
        kept = {k: attrs[k] for k in _VECTOR_ATTRS if attrs.get(k)}
        if kept:
            entry.blob_attrs = {**entry.blob_attrs, **kept} if entry.blob_attrs else kept
            entry.merged = None

    def delete(self, device: str, name: str | None = None) -> None:
        """delProperty: one property, or the whole device when no name."""
        if name is None:
            props = self._devices.pop(device, None)
            if props is not None:
                self._count -= len(props)
            self._full.discard(device)
        else:
            props = self._devices.get(device)
            if props is not None and props.pop(name, None) is not None:
                self._count -= 1

    def get(self, device: str, name: str) -> tuple[Frame | None, Frame | None]:
        """The cached (def, set) of a property."""
        entry = self._devices.get(device, {}).get(name)
        return (entry.definition, entry.latest) if entry else (None, None)

    def answers(self, device: str, name: str | None) -> bool:
        """Whether a replay of (device, name) holds everything its driver would send: every
        matching property cached with its definition, and none left out (`_full`)."""
        props = self._devices.get(device)
        if not props:
            return False
        if name is not None:
            entry = props.get(name)
            return entry is not None and entry.definition is not None
        return device not in self._full and all(e.definition is not None
                                                for e in props.values())

    def replay(self, device: str | None, name: str | None) -> list[tuple[str, str, list[Frame]]]:
        """(device, property, elements to send) for every cached property that matches."""
        if device is None:
            items = [(d, n, e) for d, props in self._devices.items() for n, e in props.items()]
        else:
            props = self._devices.get(device, {})
            if name is None:
                items = [(device, n, e) for n, e in props.items()]
            else:
                entry = props.get(name)
                items = [(device, name, entry)] if entry else []
        return [(d, n, self._current(e)) for d, n, e in items]

    def _current(self, entry: _Entry) -> list[Frame]:
        if entry.merged is None:
            entry.merged = _merge(entry.definition, entry.latest, entry.blob_attrs)
        return entry.merged


def _merge(
    definition: Frame | None, latest: Frame | None, blob_attrs: dict[str, str] | None = None
) -> list[Frame]:
    if definition is None or (latest is None and not blob_attrs):
        return [f for f in (definition, latest) if f is not None]
    try:
        d: Any = parse_element(definition.data)
        changes: dict[str, Any] = {}
        if latest is not None:
            s: Any = parse_element(latest.data)
            changes["members"] = _merge_members(d.members, s.members)
            for attr in _VECTOR_ATTRS:
                value = getattr(s, attr, None)
                if value is not None:
                    changes[attr] = value
        elif blob_attrs:  # a defBLOBVector: the attributes of the sets since, never their data
            changes = {k: State(v) if k == "state" else v for k, v in blob_attrs.items()}
        data = serialise(dataclasses.replace(d, **changes))
    except Exception as exc:  # noqa: BLE001 - a merge failure must never stop routing
        logger.debug("cannot merge cached %s into its definition (%s): replaying as cached",
                     latest.tag if latest is not None else "setBLOBVector state", exc)
        return [definition] if latest is None else [definition, latest]
    return [Frame(definition.tag, definition.attrs, data)]


def _merge_members(defined: tuple[Any, ...], updated: tuple[Any, ...]) -> tuple[Any, ...]:
    new = {m.name: m for m in updated}
    out = []
    for member in defined:
        u = new.get(member.name)
        if u is None:
            out.append(member)
        elif isinstance(member, Number):
            # indilib's oneNumber may carry new limits (IUUpdateMinMax, INDI notes 1.6).
            out.append(dataclasses.replace(
                member,
                value=u.value,
                min=u.min if u.min is not None else member.min,
                max=u.max if u.max is not None else member.max,
                step=u.step if u.step is not None else member.step,
            ))
        else:
            out.append(dataclasses.replace(member, value=u.value))
    return tuple(out)
