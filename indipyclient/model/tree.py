"""The client's model of what a server holds: devices -> vectors -> members. Pure: no asyncio,
no sockets, no files.

``Model.apply(event)`` takes one protocol event (``indipycore.protocol``) and returns the
client event (``indipyclient.model.events``) saying what changed, or None when nothing did (an
element for an unknown vector, a ``newXXX`` echoed from another client, a malformed value):

* ``defXXXVector``: learns (or replaces) the vector and its device;
* ``setXXXVector``: updates the members sent, and ``state``/``timeout``/``message`` when present
  (INDI 1.7 p.6: absent means no change); a ``oneNumber``'s ``min``/``max``/``step`` (indilib's
  IUUpdateMinMax) update the limits; a set whose kind differs from the definition, or with a
  number that does not parse, is skipped whole;
* ``delProperty``: forgets the vector, or the whole device without a name; a device with no
  vector left is forgotten;
* ``message``: kept in the device's (or, site-wide or unknown device, the client's) bounded list.

The mapping view follows indipyclient 0.9.4: ``model[device][vector][member]`` is the member's
value (the wire string for text and numbers, ``"On"``/``"Off"``, a light's state), and
``vector.member(name)`` the member object (label; numbers' format/min/max/step; BLOBs' size,
format and last saved file). BLOB bodies are never kept: they travel in the ``setBLOBVector``
event (``.z`` decompressed here) and are saved by the connection.

Memory is bounded: at most ``max_messages`` messages per device and site-wide, and at most
``max_devices`` devices and ``max_vectors`` vectors (further definitions are refused and logged).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from indipycore.protocol import Event as ProtocolEvent
from indipycore.protocol import events as pe
from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.blobs import unpack_blob
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import State
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.refusals import is_refusal
from indipycore.protocol.refusals import refuses
from indipycore.protocol.timestamps import parse_timestamp

from . import events
from .events import utcnow
from .properties import MAX_MESSAGES
from .properties import BLOBMember
from .properties import BLOBVector
from .properties import ByName
from .properties import Device
from .properties import LightMember
from .properties import LightVector
from .properties import NumberMember
from .properties import NumberVector
from .properties import PropertyVector
from .properties import SwitchMember
from .properties import SwitchVector
from .properties import TextMember
from .properties import TextVector

__all__ = ["Model"]  # the data it fills are in `properties`

logger = logging.getLogger(__name__)

DEFAULT_GROUP = "DEFAULT GROUP"  # what indipyclient 0.9.4 shows for a vector without a group
MAX_DEVICES = 10_000
MAX_VECTORS = 200_000
MAX_BLOB_SIZE = 2 * 1024**3  # largest decompressed .z BLOB accepted
# A plain decimal, which parse_number reads: checked first, the regular expression is cheaper.
PLAIN_NUMBER = re.compile(r"-?[0-9]{1,300}(?:\.[0-9]{0,300})?").fullmatch
# The whole seconds of a timestamp, in the one form whose fraction alone may be read after it
# (not a leap second, which parse_timestamp reads as the last microsecond of the minute).
_WHOLE_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-5][0-9]").fullmatch


# ---------------------------------------------------------------------------- the model


_SET_KIND: dict[type, type[PropertyVector]] = {
    pe.SetTextVector: TextVector,
    pe.SetNumberVector: NumberVector,
    pe.SetSwitchVector: SwitchVector,
    pe.SetLightVector: LightVector,
    pe.SetBLOBVector: BLOBVector,
}

_SET_EVENT: dict[type, type[events.setVector]] = {
    pe.SetTextVector: events.setTextVector,
    pe.SetNumberVector: events.setNumberVector,
    pe.SetSwitchVector: events.setSwitchVector,
    pe.SetLightVector: events.setLightVector,
}


# A text, switch or light definition -> its vector, member and client event classes.
_PLAIN_DEFS: dict[type, tuple[type[PropertyVector], Any, Any]] = {
    pe.DefTextVector: (TextVector, TextMember, events.defTextVector),
    pe.DefSwitchVector: (SwitchVector, SwitchMember, events.defSwitchVector),
    pe.DefLightVector: (LightVector, LightMember, events.defLightVector),
}


def timeout_seconds(text: str | None) -> float | None:
    """A vector's timeout attribute in seconds; None when absent or not a usable number."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


class Model(ByName[Device]):
    """Every device the client has learnt: a mapping of device name -> ``Device``.

    ``now`` gives the timestamp of an element that has none (tests pass a fixed clock).
    """

    def __init__(
        self,
        *,
        max_messages: int = MAX_MESSAGES,
        max_devices: int = MAX_DEVICES,
        max_vectors: int = MAX_VECTORS,
        max_blob_size: int = MAX_BLOB_SIZE,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.devices: dict[str, Device] = {}
        self._by_name = self.devices
        self.messages: deque[tuple[datetime, str]] = deque(maxlen=max_messages)
        self.max_messages = max_messages
        self.max_devices = max_devices
        self.max_vectors = max_vectors
        self.max_blob_size = max_blob_size
        self.vector_count = 0
        self._now = now
        self._second_text = ""
        self._second = now()
        self._last_text = ""
        self._last_stamp = self._second
        self._apply: dict[type, Callable[[Any], events.Event | None]] = {
            pe.DefTextVector: self._def_plain,
            pe.DefNumberVector: self._def_number,
            pe.DefSwitchVector: self._def_plain,
            pe.DefLightVector: self._def_plain,
            pe.DefBLOBVector: self._def_blob,
            pe.SetTextVector: self._set_plain,
            pe.SetSwitchVector: self._set_plain,
            pe.SetLightVector: self._set_plain,
            pe.SetNumberVector: self._set_number,
            pe.SetBLOBVector: self._set_blob,
            pe.DelProperty: self._delete,
            pe.Message: self._message,
            pe.GetProperties: self._get_properties,
        }

    # -- mapping: device name -> device (`ByName` over ``devices``) ----------------------

    def vector(self, devicename: str, vectorname: str) -> PropertyVector | None:
        """The vector, or None when it is not known."""
        device = self.devices.get(devicename)
        return None if device is None else device.vectors.get(vectorname)

    # -- changes ----------------------------------------------------------------------

    def apply(self, event: ProtocolEvent) -> events.Event | None:
        """Apply one element from the server; the client event for it, or None if nothing
        changed. Never raises for anything a server may send."""
        handler = self._apply.get(type(event))
        if handler is None:  # newXXX echoed from other clients, enableBLOB, pings
            return None
        return handler(event)

    def clear(self) -> None:
        """Forget every device and message (the connection was lost)."""
        for device in self.devices.values():
            for vector in device.vectors.values():
                vector.enable = False
                vector.device = None
        self.devices.clear()
        self.messages.clear()
        self.vector_count = 0

    def mark_busy(self, devicename: str, vectorname: str) -> None:
        """The client has sent new values: the vector is Busy until the device answers
        (INDI 1.7 p.4)."""
        vector = self.vector(devicename, vectorname)
        if vector is not None:
            vector.state = State.BUSY
            vector.snap = None

    def _stamp(self, text: str | None) -> datetime:
        if text:
            # A burst's sets often carry the very same timestamp: reuse its datetime.
            if text == self._last_text:
                return self._last_stamp
            stamp = self._read_stamp(text)
            if stamp is not None:
                self._last_text = text
                self._last_stamp = stamp
                return stamp
        return self._now()

    def _read_stamp(self, text: str) -> datetime | None:
        # A burst's timestamps share their second: reuse it, read only the fraction.
        fraction = text[20:]
        if (text[:19] == self._second_text and text[19:20] == "." and fraction.isdigit()
                and fraction.isascii()):
            return self._second.replace(microsecond=int(fraction[:6].ljust(6, "0")))
        try:
            stamp = parse_timestamp(text)
        except ValueError:
            logger.debug("unreadable timestamp %r; using the time of arrival", text)
            return None
        if text[19:20] in (".", "") and _WHOLE_SECOND(text[:19]) is not None:
            self._second_text = text[:19]
            self._second = stamp.replace(microsecond=0)
        return stamp

    # -- definitions ------------------------------------------------------------------

    def _define(self, event: Any, cls: type[PropertyVector], perm: str) -> PropertyVector | None:
        if not event.members:
            logger.warning("ignoring a definition of %s.%s with no members", event.device,
                           event.name)
            return None
        device = self.devices.get(event.device)
        old = None if device is None else device.vectors.get(event.name)
        if old is None and self.vector_count >= self.max_vectors:
            logger.warning("refusing %s.%s: already %d vectors (max_vectors)",
                           event.device, event.name, self.vector_count)
            return None
        if device is None:
            if len(self.devices) >= self.max_devices:
                logger.warning("refusing device %r: already %d devices (max_devices)",
                               event.device, len(self.devices))
                return None
            device = Device(event.device, self.max_messages)
            self.devices[event.device] = device
        timestamp = self._stamp(event.timestamp)
        vector = cls(
            device,
            event.name,
            event.label if event.label is not None else event.name,
            event.group if event.group else DEFAULT_GROUP,
            event.state,
            perm,
            timeout_seconds(getattr(event, "timeout", None)) or 0.0,
            timestamp,
            event.message if event.message is not None else "",
        )
        if old is None:
            self.vector_count += 1
        else:
            old.enable = False
            old.device = None
        device.vectors[event.name] = vector
        return vector

    def _def_plain(self, event: pe.DefTextVector | pe.DefSwitchVector | pe.DefLightVector
                   ) -> events.Event | None:
        """A text, switch or light definition: the vector, its members as sent."""
        vector_cls, member_cls, event_cls = _PLAIN_DEFS[type(event)]
        vector = self._define(event, vector_cls, getattr(event, "perm", Perm.RO))
        if vector is None:
            return None
        if isinstance(event, pe.DefSwitchVector):
            vector.rule = Rule(event.rule)
        for m in event.members:
            vector.members_[m.name] = member_cls(m.name, m.label or m.name, m.value)
        result: events.Event = event_cls(vector, dict(vector), vector.timestamp)
        return result

    def _def_number(self, event: pe.DefNumberVector) -> events.Event | None:
        for m in event.members:
            try:
                parse_number(m.value)
            except ValueError:
                logger.warning("ignoring defNumberVector %s.%s: member %s is not a number: %r",
                               event.device, event.name, m.name, m.value)
                return None
        vector = self._define(event, NumberVector, event.perm)
        if vector is None:
            return None
        for m in event.members:
            vector.members_[m.name] = NumberMember(
                m.name, m.label or m.name, m.value, m.format or "%g", m.min or "0",
                m.max or "0", m.step or "0")
        return events.defNumberVector(vector, dict(vector), vector.timestamp)

    def _def_blob(self, event: pe.DefBLOBVector) -> events.Event | None:
        vector = self._define(event, BLOBVector, event.perm)
        if vector is None:
            return None
        for m in event.members:
            vector.members_[m.name] = BLOBMember(m.name, m.label or m.name)
        return events.defBLOBVector(vector, dict(vector), vector.timestamp)

    # -- updates ----------------------------------------------------------------------

    def _target(self, event: Any) -> PropertyVector | None:
        device = self.devices.get(event.device)
        vector = None if device is None else device.vectors.get(event.name)
        if vector is None:
            logger.debug("ignoring %s for unknown vector %s.%s", type(event).__name__,
                         event.device, event.name)
            return None
        if type(vector) is not _SET_KIND[type(event)]:
            logger.warning("ignoring %s for %s.%s, defined as a %s", type(event).__name__,
                           event.device, event.name, vector.vectortype)
            return None
        return vector

    def update_set(self, vector: PropertyVector, cls: type[events.setVector],
                   state: State | None, timeout_text: str | None, timestamp_text: str | None,
                   message: str | None, values: tuple[tuple[str, str], ...]) -> events.setVector:
        """Apply a text, number, switch or light set whose fields are already read and
        checked: ``vector`` is the one it names and of its kind, ``values`` its members'
        (name, value) in order (numbers valid). The general path (``apply``) and the burst's
        shortcut (``incoming``) both end here, so that they change the same things (a BLOB
        set's state, timeout, message and timestamp too, with no values)."""
        vector.snap = None
        # (_stamp's first test, inline: a burst's sets mostly repeat the last timestamp.)
        if timestamp_text == self._last_text and timestamp_text:
            timestamp = vector.timestamp = self._last_stamp
        else:
            timestamp = vector.timestamp = self._stamp(timestamp_text)
        if state is not None:
            vector.state = state
        timeout = None if timeout_text is None else timeout_seconds(timeout_text)
        if timeout is not None:
            vector.timeout = timeout
        if message is not None:
            vector.message = message
            vector.message_timestamp = timestamp
        members = vector.members_
        data: dict[str, Any] = {}
        for name, value in values:
            member = members.get(name)
            if member is not None:
                member.value = data[name] = value
        return cls(vector, data, timestamp, state, message, timeout)

    def update_run(self, vector: PropertyVector, run: Callable[..., Iterator[events.setVector]],
                   text: str, at: int, stride: int, count: int) -> Iterator[events.setVector]:
        """`update_set` for `count` sets of one shape naming ``vector`` (a burst's run, read by
        ``incoming``): element i is at ``text[at + i * stride:]``, and ``run`` is its shape's
        loop (``setshapes``), which applies each as its event is handed out, as `update_set`
        would."""
        return run(vector, text, at, stride, count, self._stamp_and_text, self._last_text,
                   self._last_stamp)

    def _stamp_and_text(self, text: str | None) -> tuple[datetime, str]:
        """`_stamp`, and the text to compare the next timestamp with: it when read and kept,
        else "" (read again, as `update_set` would)."""
        stamp = self._stamp(text)
        return stamp, text if text and text == self._last_text else ""

    def _set_plain(self, event: pe.SetTextVector | pe.SetSwitchVector | pe.SetLightVector) -> events.Event | None:
        vector = self._target(event)
        if vector is None:
            return None
        return self.update_set(vector, _SET_EVENT[type(event)], event.state,
                               getattr(event, "timeout", None), event.timestamp, event.message,
                               tuple((m.name, m.value) for m in event.members))

    def _set_number(self, event: pe.SetNumberVector) -> events.Event | None:
        vector = self._target(event)
        if vector is None:
            return None
        for m in event.members:
            if PLAIN_NUMBER(m.value) is None:
                try:
                    parse_number(m.value)
                except ValueError:
                    logger.warning("ignoring setNumberVector %s.%s: member %s is not a "
                                   "number: %r", event.device, event.name, m.name, m.value)
                    return None
        change = self.update_set(vector, events.setNumberVector, event.state, event.timeout,
                                 event.timestamp, event.message,
                                 tuple((m.name, m.value) for m in event.members))
        members = vector.members_
        for m in event.members:
            member = members.get(m.name)
            if member is None:
                continue
            # indilib's IUUpdateMinMax: a set may carry new limits (the shape follows them).
            if m.min is not None:
                member.min = m.min
            if m.max is not None:
                member.max = m.max
            if m.step is not None:
                member.step = m.step
            if m.min is not None or m.max is not None or m.step is not None:
                vector.limits_changed()
        return change

    def apply_blobs(self, event: pe.SetBLOBVector,
                    received: Mapping[str, Any]) -> events.setBLOBVector | None:
        """Apply a ``setBLOBVector`` whose BLOBs were received apart (``blobstream``):
        ``event`` has no data, ``received`` maps members to their bytes (or where they were
        saved)."""
        change = self._set_blob(event, received)
        return change if isinstance(change, events.setBLOBVector) else None

    def _set_blob(self, event: pe.SetBLOBVector,
                  received: Mapping[str, Any] | None = None) -> events.Event | None:
        vector = self._target(event)
        if vector is None:
            return None
        # The vector's state, timeout, message and timestamp as for any set.
        header = self.update_set(vector, events.setVector, event.state, event.timeout,
                                 event.timestamp, event.message, ())
        timestamp, timeout = header.timestamp, header.timeout
        members = vector.members_
        data: dict[str, Any] = {}
        sizeformat: dict[str, tuple[int, str]] = {}
        for m in event.members:
            member = members.get(m.name)
            if member is None:
                continue
            payload = (self._blob_payload(vector, m) if received is None
                       else received.get(m.name))
            member.blobsize = m.size
            member.blobformat = m.format
            if payload is None:
                continue
            data[m.name] = payload
            sizeformat[m.name] = (m.size, m.format)
        return events.setBLOBVector(vector, data, timestamp, event.state, event.message,
                                    timeout, sizeformat)

    def _blob_payload(self, vector: PropertyVector, blob: pe.BLOB) -> bytes | None:
        """The BLOB's bytes, decompressed when its format ends in ``.z``; None when there is
        nothing (a state-only ``size="0"``) or it cannot be read."""
        if not blob.data:
            return None
        try:
            payload = unpack_blob(blob.data, blob.format, self.max_blob_size)
        except ValueError as exc:
            logger.warning("skipping BLOB %s.%s.%s: %s", vector.devicename, vector.name,
                           blob.name, exc)
            return None
        if len(payload) != blob.size:
            # indilib sends .fits.fz with size = the unpacked FITS (indi-notes 1.4): expected.
            level = logging.DEBUG if blob.format.endswith(".fz") else logging.WARNING
            logger.log(level, "BLOB %s.%s.%s: size attribute %d but %d bytes%s",
                       vector.devicename, vector.name, blob.name, blob.size, len(payload),
                       " after decompression" if is_zlib_format(blob.format) else "")
        return payload

    # -- deletion, messages -------------------------------------------------------------

    def _delete(self, event: pe.DelProperty) -> events.Event | None:
        device = self.devices.get(event.device)
        if device is None:
            return None
        timestamp = self._stamp(event.timestamp)
        if event.name is None:
            gone = list(device.vectors.values())
            del self.devices[event.device]
        else:
            vector = device.vectors.pop(event.name, None)
            if vector is None:
                return None
            gone = [vector]
            if not device.vectors:
                del self.devices[event.device]
        for vector in gone:
            vector.enable = False
            vector.device = None
        self.vector_count -= len(gone)
        return events.delProperty(event.device, event.name, event.message or "", timestamp)

    def _message(self, event: pe.Message) -> events.Event | None:
        timestamp = self._stamp(event.timestamp)
        text = event.message or ""
        device = self.devices.get(event.device) if event.device is not None else None
        if device is not None:
            device.messages.appendleft((timestamp, text))
        else:
            # Site-wide, or from a device not (yet) known: the program should still see it.
            self.messages.appendleft((timestamp, text))
        refused = self._refused(event.device, text, timestamp) if is_refusal(text) else None
        return events.Message(event.device, text, timestamp, refused)

    def _refused(self, device: str | None, text: str, timestamp: datetime
                 ) -> PropertyVector | None:
        """The vector this client set that the server refused (the message names it; the
        server ties it to its device only when the client may see that device): Busy since
        the client sent it, it is now Alert with the server's words, as a driver's refusal
        would leave it."""
        candidates = [self.devices[device]] if device in self.devices else \
            list(self.devices.values())
        for holder in candidates:
            for vector in holder.vectors.values():
                if vector.state == State.BUSY and refuses(text, holder.devicename, vector.name):
                    vector.state = State.ALERT
                    vector.message = text
                    vector.message_timestamp = timestamp
                    vector.snap = None
                    return vector
        return None

    def _get_properties(self, event: pe.GetProperties) -> events.Event | None:
        return events.getProperties(event.device, event.name, self._now())
