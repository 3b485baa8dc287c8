"""INDI XML -> redis values, pure: what each received element writes into the store.

``StoreWriter.apply(event)`` returns the redis operations (``ops``) an element from the INDI
side makes, without doing any I/O; ``redisside`` runs those of a whole read in one pipeline.
What the server holds is the client library's pure ``Model`` (``indipyclient.model.tree``), which
every element is applied to as it is for any client: a ``set`` is stored only for a vector the
model has defined with its kind, its numbers formatted as the model's members say, and a
``delProperty`` removes the keys of the vectors and members the model held. Besides the model
the writer remembers only what it logged last under each key, so that a log stream gets an
entry only when what its key holds changes.

Log streams, as indiredis keeps them: an entry (``timestamp`` received, ``datastring`` the JSON
of the key's whole new content) is appended when that content changes, not on every element.
A change of the ``timestamp`` field alone is not a change here (indiredis compared it too, so a
driver repeating one value with fresh timestamps filled a number's 50 entries with that value);
a set repeating the values of the last one adds nothing to the logs (it is still stored and
published). Messages are logged each time (each is an event of its own).

The keys are those of indiredis 0.7 / indi-mr 0.4 (``keys``); fixed here against them: a
sexagesimal ``float_number`` uses 3600 seconds a degree, a deleted property's message goes to
``devicemessages:<device>``, and BLOB members hold the path of the file saved (decompressed)
instead of any bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime

from indipyclient.model.properties import Device
from indipyclient.model.properties import PropertyVector
from indipyclient.model.tree import Model
from indipycore.protocol import events as ev
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.escaping import escape
from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import empty_element
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import start_tag

from .keys import Keys
from .ops import Delete
from .ops import HSet
from .ops import Log
from .ops import Op
from .ops import ReplaceList
from .ops import SAdd
from .ops import SetValue
from .ops import SRem

__all__ = ["DEFAULT_LOG_LENGTHS", "StoreWriter", "blob_notice", "log_lengths_with"]

logger = logging.getLogger(__name__)

#: How many entries each log stream keeps (indiredis's defaults); a caller's dict is merged over.
DEFAULT_LOG_LENGTHS: dict[str, int] = {
    "devices": 5, "properties": 5, "attributes": 5, "elements": 5, "messages": 5,
    "textvector": 5, "numbervector": 50, "switchvector": 5, "lightvector": 5, "blobvector": 5,
}

_KIND = {
    ev.DefTextVector: "TextVector", ev.DefNumberVector: "NumberVector",
    ev.DefSwitchVector: "SwitchVector", ev.DefLightVector: "LightVector",
    ev.DefBLOBVector: "BLOBVector", ev.SetTextVector: "TextVector",
    ev.SetNumberVector: "NumberVector", ev.SetSwitchVector: "SwitchVector",
    ev.SetLightVector: "LightVector", ev.SetBLOBVector: "BLOBVector",
}


def log_lengths_with(given: Mapping[str, int] | None) -> dict[str, int]:
    """The defaults with ``given`` merged over them; every length at least 1."""
    lengths = dict(DEFAULT_LOG_LENGTHS)
    for name, value in (given or {}).items():
        lengths[name] = max(1, int(value))
    return lengths


def _same(old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """Whether two hash contents hold the same values, their timestamps aside."""
    if old.keys() != new.keys():
        return False
    return all(value == old[key] for key, value in new.items() if key != "timestamp")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class StoreWriter:
    """Turns INDI events into store operations (see the module docstring)."""

    def __init__(self, keyprefix: str = "indi_",
                 log_lengths: Mapping[str, int] | None = None) -> None:
        self.keys = Keys(keyprefix)
        self.lengths = log_lengths_with(log_lengths)
        self.model = Model()
        self._logged: dict[str, dict[str, str]] = {}  # bare key -> what its hash holds

    @property
    def devices(self) -> Mapping[str, Device]:
        """The devices stored: the model's (device -> vector name -> vector)."""
        return self.model.devices

    def kind_of(self, device: str, vector: str) -> str | None:
        found = self.model.vector(device, vector)
        return found.vectortype if found is not None else None

    # -- helpers -----------------------------------------------------------------------------

    def _k(self, bare: str) -> str:
        return self.keys.full(bare)

    def _log(self, bare: str, data: object, length_name: str, received: str) -> Log:
        return Log(self._k(Keys.logdata(bare)),
                   {"timestamp": received, "datastring": json.dumps(data)},
                   self.lengths.get(length_name, 5))

    def _changed(self, bare: str, old: Mapping[str, str] | None, new: dict[str, str],
                 length_name: str, received: str) -> list[Op]:
        """A log entry of ``new`` (the key's whole content) unless ``old`` held the same."""
        if old is not None and _same(old, new):
            return []
        return [self._log(bare, new, length_name, received)]

    def note_state(self, device: str, vector: str, state: str, received: str) -> list[Op]:
        """The operations for a state the bridge itself gives a vector (``Busy`` when a program
        sends it a new value), logged as any change."""
        bare = Keys.attributes(vector, device)
        change = {"state": state, "timestamp": received}
        old = self._logged.get(bare)
        if self.model.vector(device, vector) is None or old is None:
            return [HSet(self._k(bare), change)]
        if state == "Busy":
            self.model.mark_busy(device, vector)
        new = self._logged[bare] = {**old, **change}
        return [HSet(self._k(bare), change), *self._changed(bare, old, new, "attributes", received)]

    def _message_ops(self, device: str | None, timestamp: str | None, text: str | None,
                     received: str) -> list[Op]:
        if not text:
            return []
        value = f"{timestamp or received} {text}"
        bare = Keys.messages() if device is None else Keys.devicemessages(device)
        return [SetValue(self._k(bare), value), self._log(bare, value, "messages", received)]

    # -- the events ----------------------------------------------------------------------------

    def apply(self, event: ev.Event, blob_files: Mapping[str, tuple[str, int]] | None = None,
              received: str | None = None) -> list[Op]:
        """The operations ``event`` makes. ``blob_files`` maps each BLOB member of a
        ``setBLOBVector`` to the (path, decompressed size) it was saved as; ``received`` is the
        log entries' timestamp (now when not given)."""
        received = received or _now()
        if isinstance(event, ev.Message):
            return self._message_ops(event.device, event.timestamp, event.message, received)
        if isinstance(event, ev.DelProperty):
            return self._delete(event, received)
        if isinstance(event, (ev.DefTextVector, ev.DefNumberVector, ev.DefSwitchVector,
                              ev.DefLightVector, ev.DefBLOBVector)):
            return self._define(event, received)
        if isinstance(event, (ev.SetTextVector, ev.SetNumberVector, ev.SetSwitchVector,
                              ev.SetLightVector, ev.SetBLOBVector)):
            return self._set(event, blob_files or {}, received)
        return []

    def _define(self, event: ev.DefTextVector | ev.DefNumberVector | ev.DefSwitchVector
                | ev.DefLightVector | ev.DefBLOBVector, received: str) -> list[Op]:
        device, name, kind = event.device, event.name, _KIND[type(event)]
        new_device = device not in self.model
        old = self.model.vector(device, name)
        old_members = list(old) if old is not None else []
        if self.model.apply(event) is None:
            return []  # refused by the model (no members, past its bounds): logged there
        vectors = self.model.devices[device]
        members = [m.name for m in event.members]
        ops: list[Op] = []
        if new_device:
            ops += [SAdd(self._k(Keys.devices()), (device,)),
                    self._log(Keys.devices(), sorted(self.model), "devices", received)]
        if old is None:
            ops += [SAdd(self._k(Keys.properties(device)), (name,)),
                    ReplaceList(self._k(Keys.propertyorder(device)), tuple(vectors)),
                    self._log(Keys.properties(device), sorted(vectors), "properties", received)]
        elif old_members:
            # A redefinition may drop members: their hashes go with the old set.
            dropped = [Keys.elementattributes(m, name, device) for m in old_members
                       if m not in event]
            for key in dropped:
                self._logged.pop(key, None)
            ops.append(Delete(tuple(self._k(key) for key in dropped)))
            ops.append(Delete((self._k(Keys.elements(name, device)),)))
        timestamp = event.timestamp or received
        timeout = getattr(event, "timeout", None) or "0"
        attrs = {
            "device": device, "name": name, "vector": kind, "state": str(event.state),
            "perm": str(getattr(event, "perm", "ro")), "label": event.label or name,
            "group": event.group or "DEFAULT GROUP", "timestamp": timestamp,
            "timeout": timeout, "message": event.message or "",
        }
        if isinstance(event, ev.DefSwitchVector):
            attrs["rule"] = str(event.rule)
        if isinstance(event, ev.DefBLOBVector):
            attrs["blobs"] = "Disabled"
        akey = Keys.attributes(name, device)
        old_attrs, self._logged[akey] = self._logged.get(akey), attrs
        ops += [HSet(self._k(akey), attrs),
                *self._changed(akey, old_attrs, attrs, "attributes", received)]
        ekey = Keys.elements(name, device)
        ops += [SAdd(self._k(ekey), tuple(members)),
                ReplaceList(self._k(Keys.elementorder(name, device)), tuple(members))]
        if members != old_members:
            ops.append(self._log(ekey, members, "elements", received))
        length = kind.lower()
        for member in event.members:
            values = self._member_values(member, timestamp, timeout, _format(
                vectors[name], member.name), define=True)
            mkey = Keys.elementattributes(member.name, name, device)
            old_values, self._logged[mkey] = self._logged.get(mkey), values
            ops += [HSet(self._k(mkey), values),
                    *self._changed(mkey, old_values, values, length, received)]
        ops += self._message_ops(device, event.timestamp, event.message, received)
        return ops

    def _set(self, event: ev.SetTextVector | ev.SetNumberVector | ev.SetSwitchVector
             | ev.SetLightVector | ev.SetBLOBVector, blob_files: Mapping[str, tuple[str, int]],
             received: str) -> list[Op]:
        device, name, kind = event.device, event.name, _KIND[type(event)]
        vector = self.model.vector(device, name)
        if vector is None or vector.vectortype != kind:
            logger.info("%s for %s.%s that was not defined (as %s): not stored",
                        type(event).__name__, device, name, kind)
            return []
        if isinstance(event, ev.SetBLOBVector):
            self.model.apply_blobs(event, {})  # the bytes are saved apart, never kept
        else:
            self.model.apply(event)
        ops: list[Op] = []
        timestamp = event.timestamp or received
        attrs = {"timestamp": timestamp}
        if event.state is not None:
            attrs["state"] = str(event.state)
        timeout = getattr(event, "timeout", None)
        if timeout is not None:
            attrs["timeout"] = timeout
        if event.message is not None:
            attrs["message"] = event.message
        akey = Keys.attributes(name, device)
        old_attrs = self._logged.get(akey, {})
        new_attrs = self._logged[akey] = {**old_attrs, **attrs}
        ops += [HSet(self._k(akey), attrs),
                *self._changed(akey, old_attrs, new_attrs, "attributes", received)]
        length = kind.lower()
        for member in event.members:
            if member.name not in vector:
                logger.info("%s.%s has no member %r: not stored", device, name, member.name)
                continue
            if isinstance(member, ev.BLOB):
                path, size = blob_files.get(member.name, ("", member.size))
                values = {"format": member.format, "size": str(size), "filepath": path,
                          "timestamp": timestamp}
            else:
                values = self._member_values(member, timestamp, timeout,
                                             _format(vector, member.name), define=False)
            mkey = Keys.elementattributes(member.name, name, device)
            old_values = self._logged.get(mkey, {})
            new_values = self._logged[mkey] = {**old_values, **values}
            ops += [HSet(self._k(mkey), values),
                    *self._changed(mkey, old_values, new_values, length, received)]
        ops += self._message_ops(device, event.timestamp, event.message, received)
        return ops

    @staticmethod
    def _member_values(member: ev.Member, timestamp: str, timeout: str | None,
                       fmt: str | None, define: bool) -> dict[str, str]:
        values = {"name": member.name, "timestamp": timestamp}
        if define:
            values["label"] = member.label or member.name
        if timeout is not None:
            values["timeout"] = timeout
        if isinstance(member, ev.BLOB):
            values.update(format=member.format, size=str(member.size), filepath="")
            return values
        if isinstance(member, ev.Number):
            values["value"] = member.value
            try:
                number = parse_number(member.value)
            except ProtocolError:
                number = None
            if number is not None:
                values["float_number"] = repr(number)
                if fmt is not None:
                    try:
                        values["formatted_number"] = format_number(number, fmt)
                    except (ValueError, ProtocolError):
                        values["formatted_number"] = member.value
            for limit in ("min", "max", "step"):
                text = getattr(member, limit)
                if text is None:
                    continue
                values[limit] = text
                try:
                    values["float_" + limit] = repr(parse_number(text))
                except ProtocolError:
                    pass
            if member.format is not None:
                values["format"] = member.format
            return values
        values["value"] = str(member.value)
        return values

    def _delete(self, event: ev.DelProperty, received: str) -> list[Op]:
        device = event.device
        vectors = self.model.devices.get(device)
        ops: list[Op] = []
        if vectors is not None:
            names = list(vectors) if event.name is None else [event.name]
            held = {n: list(vectors[n]) for n in names if n in vectors}
            self.model.apply(event)
            for name, members in held.items():
                doomed = [Keys.attributes(name, device), Keys.elements(name, device),
                          Keys.elementorder(name, device)]
                doomed += [Keys.elementattributes(m, name, device) for m in members]
                for key in doomed:
                    self._logged.pop(key, None)
                ops += [Delete(tuple(self._k(k) for k in doomed)),
                        SRem(self._k(Keys.properties(device)), (name,))]
            still = self.model.devices.get(device)
            left = sorted(still) if still is not None else []
            ops.append(self._log(Keys.properties(device), left, "properties",
                                 received))
            if still is not None and left:
                ops.append(ReplaceList(self._k(Keys.propertyorder(device)), tuple(still)))
            if not left:
                ops += [Delete((self._k(Keys.properties(device)),
                                self._k(Keys.propertyorder(device)))),
                        SRem(self._k(Keys.devices()), (device,)),
                        self._log(Keys.devices(), sorted(self.model), "devices", received)]
        ops += self._message_ops(device, event.timestamp, event.message, received)
        return ops

    def forget_all(self, received: str | None = None) -> list[Op]:
        """Operations removing every device this writer stored (a lost INDI server or site)."""
        ops: list[Op] = []
        for device in list(self.model):
            ops += self._delete(ev.DelProperty(device), received or _now())
        return ops


def _format(vector: PropertyVector, member: str) -> str | None:
    """A number member's format as the model holds it (None for other kinds)."""
    found = vector.members_.get(member)
    return getattr(found, "format", None)


def blob_notice(event: ev.SetBLOBVector, files: Mapping[str, tuple[str, int]]) -> bytes:
    """What ``from_indi`` carries for a ``setBLOBVector``: the element with each ``oneBLOB``
    empty and its file's ``filepath`` (and decompressed ``size``) instead of the bytes."""
    # Not an INDI element (``filepath`` is indiredis's), so spelt with the core writer's
    # pieces rather than `serialise`; escaped by the protocol's `escape` like every event.
    attrs = attribute("device", escape(event.device)) + attribute("name", escape(event.name))
    for attr in ("state", "timeout", "timestamp", "message"):
        value = getattr(event, attr)
        if value is not None:
            attrs += attribute(attr, escape(str(value)))
    parts = [start_tag("setBLOBVector", attrs, COMPACT)]
    for member in event.members:
        path, size = files.get(member.name, ("", member.size))
        parts.append(empty_element("oneBLOB", attribute("name", escape(member.name))
                                   + attribute("size", str(size))
                                   + attribute("format", escape(member.format))
                                   + attribute("filepath", escape(path)), COMPACT))
    parts.append(end_tag("setBLOBVector", COMPACT))
    return "".join(parts).encode()
