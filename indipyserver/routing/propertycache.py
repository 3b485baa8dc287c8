"""The latest definition and value of every property, to answer late getProperties.

SPEC p.11 lets a server cache `def`/`set` to answer `getProperties`. Replaying is what gives
late snoopers the static values (site, focal length) sent before they asked (indi_pylibcamera
issue #31), and spares every driver a full redefinition whenever a client connects.

A replay is ONE def carrying the current values (the latest set merged in), not the original
def followed by the set: clients such as `indi_getprop` take the first value they see and exit.
The merge parses the two cached elements only when a replay asks for it, and keeps the result
until the property changes again.

Only the newest set is kept, unmerged, while it holds all the older one did: every member
of the vector, the state, timeout and timestamp the older one had, and no number limits
(indilib's IUUpdateMinMax sends them in a set, then sets without them). Otherwise the older
one is kept too, and merged into the definition with the others like it (FOLD_EVERY at a
time, or at the next replay), so that nothing it said is lost: a sweep of indilib's drivers
found the CCD simulator's frame limits replayed as 0 after a connection. The check counts
bytes ("<" for members, "=" for limits) and parses nothing: it runs for every set. Counting
can be fooled only by a set with comments or CDATA in it, or with members its definition does
not have or has once: such a set may replace an older one whose other members it lacks.

A setBLOBVector's data is never kept (stale images, memory), but its state, timeout and
timestamp are: a driver asked for its definition after an exposure says state Ok, and so must
the replay (KStars showed a reconnecting client CCD1 Idle from the cache, Ok from indiserver).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from indipycore.logbudget import short
from indipycore.protocol.enums import State
from indipycore.protocol.events import Number
from indipycore.protocol.framing import Frame
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise

logger = logging.getLogger("indipyserver.propertycache")  # the name users' logs know

__all__ = ["PropertyCache"]


_VECTOR_ATTRS = ("state", "timeout", "timestamp")

#: Sets kept per property until merged into its definition, when newer ones do not cover them.
FOLD_EVERY = 32


class _Entry:
    __slots__ = ("blob_attrs", "definition", "full", "latest", "limits", "merged", "pending")

    def __init__(self, definition: Frame | None, latest: Frame | None) -> None:
        self.definition = definition  # the def, with the older sets merged in but `pending`
        self.latest = latest  # newest non-BLOB set since the definition
        self.blob_attrs: dict[str, str] | None = None  # _VECTOR_ATTRS of the setBLOBVectors since
        self.merged: list[Frame] | None = None
        self.full = _tags_of_full_set(definition)
        self.limits = False  # `latest` carries number limits
        self.pending: list[Frame] | None = None  # older sets `latest` does not cover, in order

    def fold(self, older: Frame) -> None:
        """Keep `older` for the replay: the newer set does not say all it said. Such sets are
        merged into the definition FOLD_EVERY at a time (the definition parsed once for them
        all), or at the next replay."""
        if self.definition is None:
            return
        pending = self.pending
        if pending is None:
            pending = self.pending = []
        pending.append(older)
        if len(pending) >= FOLD_EVERY:
            merged = _merge(self.definition, None, None, pending)
            self.pending = None
            if len(merged) == 1:
                self.definition = merged[0]


def _tags_of_full_set(definition: Frame | None) -> int:
    """Tags ("<") in a set of every member of `definition` (two per member, two for the
    vector); 0 when there is no definition to merge into."""
    return 2 * definition.data.count(b"<def") if definition is not None else 0


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
        self.update_one(device, name, frame)

    def update_one(self, device: str, name: str, frame: Frame) -> None:
        """`update_run` of one set, its loop written out (the round trip's shortcut's: one
        set a trip, ``fastpath.shortcut``). The rules are `update_run`'s, which says why."""
        props = self._devices.get(device)
        if props is None:
            props = self._devices[device] = {}
        entry = props.get(name)
        if entry is None:
            if not self._room(device, props):
                return
            entry = props[name] = _Entry(None, None)
        older = entry.latest
        data = frame.data
        attrs = frame.attrs
        tags = data.count(b"<")
        if older is not None and (entry.limits or tags < entry.full
                                  or not older.attrs.keys() <= attrs.keys()):
            entry.fold(older)
        entry.limits = frame.tag == "setNumberVector" and (
            data.count(b"=") > len(attrs) + (tags - 2) // 2)
        entry.latest = frame
        entry.merged = None

    def update_run(self, device: str, name: str, frames: list[Frame] | tuple[Frame, ...]) -> None:
        """Consecutive sets of one property, oldest first: `update` for each in turn, with the
        property looked up once (a burst's sets come this way, a read's worth at a time)."""
        props = self._devices.get(device)
        if props is None:  # not setdefault: that builds a dict on every set (once per trip)
            props = self._devices[device] = {}
        entry = props.get(name)
        if entry is None:
            if not self._room(device, props):
                return
            entry = props[name] = _Entry(None, None)
        # The newer set replaces the older one whole only if it says all the older said: every
        # member, every attribute the older one had (its state, timeout and timestamp above
        # all), and no limits (in the older one) to lose. Counted in the bytes, nothing parsed:
        # this runs per set. (Keeping an older one that needed no keeping only costs a merge.)
        older = entry.latest
        limits = entry.limits
        full = entry.full
        for frame in frames:
            data = frame.data
            attrs = frame.attrs
            tags = data.count(b"<")
            if older is not None and (limits or tags < full or not older.attrs.keys() <= attrs.keys()):
                entry.fold(older)
            # A number set's "=" are otherwise its attributes' and its members' names.
            limits = frame.tag == "setNumberVector" and (
                data.count(b"=") > len(attrs) + (tags - 2) // 2)
            older = frame
        entry.limits = limits
        entry.latest = older
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
        """The cached (def, newest set) of a property; the def has the older sets the newest
        one does not cover merged in, but for up to FOLD_EVERY kept aside until a replay."""
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
            entry.merged = _merge(entry.definition, entry.latest, entry.blob_attrs, entry.pending)
        return entry.merged


def _merge(
    definition: Frame | None,
    latest: Frame | None,
    blob_attrs: dict[str, str] | None = None,
    earlier: list[Frame] | None = None,
) -> list[Frame]:
    """The definition with the sets since applied in order (`earlier`, then `latest`)."""
    sets = [*earlier, *([latest] if latest is not None else [])] if earlier else (
        [latest] if latest is not None else [])
    if definition is None or (not sets and not blob_attrs):
        return [f for f in (definition, latest) if f is not None]
    try:
        d: Any = parse_element(definition.data)
        changes: dict[str, Any] = {}
        if sets:
            members = d.members
            for frame in sets:
                try:
                    s: Any = parse_element(frame.data)
                except Exception as exc:  # noqa: BLE001 - one bad set must not lose the others
                    logger.debug("cached %s not merged into its definition: %s", frame.tag, exc)
                    continue
                members = _merge_members(members, s.members)
                for attr in _VECTOR_ATTRS:
                    value = getattr(s, attr, None)
                    if value is not None:
                        changes[attr] = value
            changes["members"] = members
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
