"""The events a driver's `rxevent` and `snoopevent` receive (indipydriver 3.x class names).

Match on them by class and attributes::

    match event:
        case newNumberVector(devicename="Thermostat", vectorname="TARGET") if "TARGET" in event:
            value = event.getfloatvalue("TARGET")   # checked against min/max

Values are given as indipydriver 3.x gave them: plain strings (a number as the text the client
sent, ``'15'`` or ``'12:30:00'``; switches ``'On'``/``'Off'``; lights ``'Ok'`` ...), BLOBs as
decoded (and `.z`-decompressed) bytes. A number event's ``getfloatvalue(name)`` gives the float
(sexagesimal parsed; a client's is already checked against min/max). The protocol event is
`event.raw`.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Generic
from typing import TypeVar

from indipycore.byname import ByName
from indipycore.protocol import events as pe
from indipycore.protocol.timestamps import parse_timestamp

from .members import NumberMember
from .naming import no_such_name
from .vectors import BLOBVector
from .vectors import NumberVector
from .vectors import PropertyVector
from .vectors import SwitchVector
from .vectors import TextVector

__all__ = [
    "ClientVectorEvent",
    "Message",
    "RxEvent",
    "VectorEvent",
    "defBLOBVector",
    "defLightVector",
    "defNumberVector",
    "defSwitchVector",
    "defTextVector",
    "delProperty",
    "enableBLOB",
    "getProperties",
    "newBLOBVector",
    "newNumberVector",
    "newSwitchVector",
    "newTextVector",
    "setBLOBVector",
    "setLightVector",
    "setNumberVector",
    "setSwitchVector",
    "setTextVector",
]


def _timestamp(text: str | None) -> datetime:
    """The event's time; the time of arrival when absent or unreadable (as 3.x did)."""
    if text:
        try:
            return parse_timestamp(text)
        except ValueError:
            pass
    return datetime.now(UTC)


class RxEvent:
    """Base of all events: `devicename`, `vectorname`, `timestamp` and the protocol event `raw`.

    `vector` is this driver's vector the event is about, when there is one (never for snooped
    traffic; always for a client's new*Vector, see `ClientVectorEvent`).
    """

    __match_args__ = ("devicename", "vectorname")

    def __init__(self, raw: Any, devicename: str | None, vectorname: str | None,
                 vector: PropertyVector | None = None) -> None:
        self.raw = raw
        self.devicename = devicename
        self.vectorname = vectorname
        self.vector: PropertyVector | None = vector
        self.timestamp = _timestamp(getattr(raw, "timestamp", None))

    @property
    def root(self) -> Any:
        """3.x gave the XML element here; the protocol event (wire attributes) takes its place."""
        return self.raw

    def __repr__(self) -> str:
        return f"{type(self).__name__}(devicename={self.devicename!r}, vectorname={self.vectorname!r})"


class VectorEvent(RxEvent, ByName[Any]):
    """An event carrying member values: a mapping of member name -> value (3.x's strings)."""

    def __init__(self, raw: Any, values: dict[str, Any],
                 vector: PropertyVector | None = None) -> None:
        super().__init__(raw, raw.device, raw.name, vector)
        self._by_name = values

    def __repr__(self) -> str:
        values = {k: (f"<{len(v)} bytes>" if isinstance(v, bytes) else v)
                  for k, v in self._by_name.items()}
        return (f"{type(self).__name__}(devicename={self.devicename!r}, "
                f"vectorname={self.vectorname!r}, {values})")


# ---------------------------------------------------------------- from clients


class getProperties(RxEvent):
    """A client asks for definitions; given to `rxevent` only when `auto_send_def` is False,
    once per vector asked for, with that `vector` to answer with ``send_defVector()``."""


class enableBLOB(RxEvent):
    """A client's BLOB policy; drivers ignore it (servers apply it), but it is shown for logging."""

    def __init__(self, raw: pe.EnableBLOB, vector: PropertyVector | None = None) -> None:
        super().__init__(raw, raw.device, raw.name, vector)
        self.value = raw.value


_V = TypeVar("_V", bound=PropertyVector)


class ClientVectorEvent(VectorEvent, Generic[_V]):
    """A client's checked new*Vector; `vector` is the target vector, of the matching kind."""

    vector: _V

    def __init__(self, raw: Any, values: dict[str, Any], vector: _V) -> None:
        super().__init__(raw, values, vector)


class newSwitchVector(ClientVectorEvent[SwitchVector]):
    """A client sets switches: values 'On'/'Off'; only some members may be present."""

    def __init__(self, raw: Any, values: dict[str, Any], vector: SwitchVector) -> None:
        # The checked enums as the plain strings 3.x gave.
        super().__init__(raw, {name: value.value for name, value in values.items()}, vector)


class newTextVector(ClientVectorEvent[TextVector]):
    """A client sets texts."""


class _NumberValues:
    """``getfloatvalue`` for events carrying numbers as text."""

    _by_name: dict[str, Any]
    _floats: dict[str, float]

    def getfloatvalue(self, membername: str) -> float:
        """The member's value as a float (sexagesimal text parsed); KeyError if absent."""
        try:
            return self._floats[membername]
        except KeyError:
            raise no_such_name("this event", "member", membername, self._by_name) from None


class newNumberVector(_NumberValues, ClientVectorEvent[NumberVector]):
    """A client sets numbers: values are the text the client sent (``'15'``), already checked
    to be numbers within min/max; `getfloatvalue` gives the float."""

    def __init__(self, raw: Any, values: dict[str, Any], vector: NumberVector) -> None:
        self._floats = values
        super().__init__(raw, {m.name: m.value for m in raw.members}, vector)

    def getformattedvalue(self, membername: str) -> str:
        """The member's value formatted with the vector member's `format`, as a client shows it."""
        member = self.vector._member(membername, NumberMember)
        return member.format_number(self.getfloatvalue(membername))


class newBLOBVector(ClientVectorEvent[BLOBVector]):
    """A client uploads BLOBs: values are decoded bytes; `sizeformat[name]` = (size, format)."""

    def __init__(self, raw: Any, values: dict[str, Any], vector: BLOBVector) -> None:
        super().__init__(raw, values, vector)
        self.sizeformat = {m.name: (m.size, m.format) for m in raw.members}


# ---------------------------------------------------------------- snooped from other devices


class Message(RxEvent):
    """A message from another device (or site-wide when `devicename` is None)."""

    def __init__(self, raw: pe.Message) -> None:
        super().__init__(raw, raw.device, None)
        self.message = raw.message or ""


class delProperty(RxEvent):
    """A snooped device removed one vector, or itself when `vectorname` is None."""

    def __init__(self, raw: pe.DelProperty) -> None:
        super().__init__(raw, raw.device, raw.name)
        self.message = raw.message or ""


class _SnoopVectorEvent(VectorEvent):
    """A snooped def or set vector: its message, state and timeout as 3.x gave them."""

    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        super().__init__(raw, values)
        self.message = raw.message or ""
        self.state: str | None = raw.state.value if raw.state is not None else None
        self.timeout: str = getattr(raw, "timeout", None) or "0"  # (lights have none)


class _DefEvent(_SnoopVectorEvent):
    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        super().__init__(raw, values)
        self.label = raw.label or raw.name
        self.group = raw.group or ""
        perm = getattr(raw, "perm", None)
        self.perm: str = perm.value if perm is not None else "ro"
        self.memberlabels = {m.name: (m.label or m.name) for m in raw.members}


class defSwitchVector(_DefEvent):
    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        super().__init__(raw, values)
        self.rule: str = raw.rule.value


class defTextVector(_DefEvent):
    pass


class _SnoopedNumbers(_NumberValues, _SnoopVectorEvent):
    """A snooped number vector's floats, read from the text of its members."""

    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        self._floats = _floats(raw)
        super().__init__(raw, values)


class defNumberVector(_SnoopedNumbers, _DefEvent):
    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        super().__init__(raw, values)
        # name -> (label, format, min, max, step) as 3.x gave them, plus floats in `limits`
        self.memberlabels = {
            m.name: (m.label or m.name, m.format, m.min, m.max, m.step) for m in raw.members
        }


class defLightVector(_DefEvent):
    pass


class defBLOBVector(_DefEvent):
    pass


class setSwitchVector(_SnoopVectorEvent):
    pass


class setTextVector(_SnoopVectorEvent):
    pass


class setNumberVector(_SnoopedNumbers):
    pass


class setLightVector(_SnoopVectorEvent):
    pass


class setBLOBVector(_SnoopVectorEvent):
    def __init__(self, raw: Any, values: dict[str, Any]) -> None:
        super().__init__(raw, values)
        self.sizeformat = {m.name: (m.size, m.format) for m in raw.members}


# protocol event class -> (user event class, "kind" used to convert member values)
SNOOP_EVENTS: dict[type, type[VectorEvent]] = {
    pe.DefSwitchVector: defSwitchVector,
    pe.DefTextVector: defTextVector,
    pe.DefNumberVector: defNumberVector,
    pe.DefLightVector: defLightVector,
    pe.DefBLOBVector: defBLOBVector,
    pe.SetSwitchVector: setSwitchVector,
    pe.SetTextVector: setTextVector,
    pe.SetNumberVector: setNumberVector,
    pe.SetLightVector: setLightVector,
    pe.SetBLOBVector: setBLOBVector,
}

NEW_EVENTS: dict[type, type[ClientVectorEvent[Any]]] = {
    pe.NewSwitchVector: newSwitchVector,
    pe.NewTextVector: newTextVector,
    pe.NewNumberVector: newNumberVector,
    pe.NewBLOBVector: newBLOBVector,
}


def _floats(raw: Any) -> dict[str, float]:
    """The numbers of a snooped def/setNumberVector that parse, as floats."""
    floats = {}
    for member in raw.members:
        try:
            floats[member.name] = member.float
        except ValueError:
            continue
    return floats


def snooped_values(raw: Any) -> dict[str, Any]:
    """Member values of a snooped def/set as 3.x gave them (text; switch and light states as
    plain strings; BLOBs decoded); members whose value cannot be read are left out (another
    device's mistake must not stop this driver)."""
    from indipycore.protocol.blobs import unpack_blob

    values: dict[str, Any] = {}
    numbers = _floats(raw) if isinstance(raw, (pe.DefNumberVector, pe.SetNumberVector)) else {}
    for member in raw.members:
        if isinstance(member, pe.Number):
            if member.name in numbers:
                values[member.name] = member.value
        elif isinstance(member, pe.BLOB):
            try:
                values[member.name] = unpack_blob(member.data, member.format)
            except ValueError:
                continue
        elif isinstance(member, (pe.Switch, pe.Light)):
            values[member.name] = member.value.value
        else:
            values[member.name] = member.value
    return values
