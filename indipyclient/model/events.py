"""What the client tells a program: one event per thing that happened, with indipyclient 0.9.4's
class names and ``eventtype`` strings.

Both APIs hand out these objects: ``IPyClient.rxevent(event)`` receives them, and
``async for event in client.events()`` yields them. Every event has ``eventtype``,
``devicename``, ``vectorname`` (None where it does not apply), ``timestamp`` (an aware UTC
``datetime``) and ``root`` (always None here: the XML element is not kept, see docs/clients.rst).

=================== ==================== =====================================================
class               ``eventtype``        made when
=================== ==================== =====================================================
``ConnectionMade``  ``"ConnectionMade"`` the TCP connection to the server is up
``ConnectionLost``  ``"ConnectionLost"`` it went down (everything learnt has been cleared)
``VectorTimeOut``   ``"TimeOut"``        a vector this client set did not answer in its timeout
``Message``         ``"Message"``        a ``message`` element (device-less: site-wide)
``getProperties``   ``"getProperties"``  the server sent a ``getProperties`` (rare)
``delProperty``     ``"Delete"``         a vector, or a whole device (``vectorname`` None), went
``defXXXVector``    ``"Define"``         a vector was defined (``"DefineBLOB"`` for BLOBs)
``setXXXVector``    ``"Set"``            a vector's values or state changed (``"SetBLOB"``)
``ClientEvent``     any string           made by the program itself (0.9.4's ClientEvent)
=================== ==================== =====================================================

Def and set events are read-only mappings of member name -> value *as sent in this element*
(a set carries only the members the driver changed); ``event.vector`` is the client's live
vector after the change. Values are strings as on the wire (numbers too: ``vector.getfloatvalue``
reads them), switches ``"On"``/``"Off"``, lights a state; a ``setBLOBVector`` maps members to the
received bytes (``.z`` already decompressed) and has ``sizeformat`` (member -> (size, format))
and ``filenames`` (member -> the file it was saved to, when the client has a BLOB folder).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from indipycore.protocol import State

from .properties import ByName

if TYPE_CHECKING:
    from .properties import Device
    from .properties import PropertyVector

__all__ = [
    "ClientEvent",
    "ConnectionLost",
    "ConnectionMade",
    "Event",
    "Message",
    "VectorEvent",
    "VectorTimeOut",
    "defBLOBVector",
    "defLightVector",
    "defNumberVector",
    "defSwitchVector",
    "defTextVector",
    "defVector",
    "delProperty",
    "getProperties",
    "setBLOBVector",
    "setLightVector",
    "setNumberVector",
    "setSwitchVector",
    "setTextVector",
    "setVector",
]


def utcnow() -> datetime:
    """The current time, aware and in UTC (what every event timestamp is)."""
    return datetime.now(UTC)


class Event:
    """The base of every event: ``eventtype``, ``devicename``, ``vectorname``, ``timestamp``."""

    __slots__ = ("devicename", "timestamp", "vectorname")
    eventtype: str = ""
    root: None = None

    def __init__(
        self,
        devicename: str | None = None,
        vectorname: str | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        self.devicename = devicename
        self.vectorname = vectorname
        self.timestamp = timestamp if timestamp is not None else utcnow()

    def __repr__(self) -> str:
        where = ".".join(n for n in (self.devicename, self.vectorname) if n)
        return f"<{type(self).__name__} {where or '-'} {self.timestamp.isoformat()}>"


class ConnectionMade(Event):
    """The connection to the server is up; the client has asked for every property."""

    __slots__ = ()
    eventtype = "ConnectionMade"


class ConnectionLost(Event):
    """The connection is down; every device the client had learnt has been forgotten."""

    __slots__ = ("reason",)
    eventtype = "ConnectionLost"

    def __init__(self, reason: str = "", timestamp: datetime | None = None) -> None:
        super().__init__(None, None, timestamp)
        self.reason = reason


class Message(Event):
    """A ``message`` from a device, or site-wide when ``devicename`` is None. When it is the
    server's refusal of new values this client sent (``indipycore.protocol.refusals``),
    ``refused`` is that vector (its state is now Alert, with this message)."""

    __slots__ = ("message", "refused")
    eventtype = "Message"

    def __init__(self, devicename: str | None, message: str, timestamp: datetime,
                 refused: PropertyVector | None = None) -> None:
        super().__init__(devicename, None, timestamp)
        self.message = message
        self.refused = refused


class getProperties(Event):
    """The server sent a ``getProperties`` (device and name may be None)."""

    __slots__ = ()
    eventtype = "getProperties"


class delProperty(Event):
    """A vector (or the whole device, when ``vectorname`` is None) was deleted."""

    __slots__ = ("message",)
    eventtype = "Delete"

    def __init__(
        self, devicename: str, vectorname: str | None, message: str, timestamp: datetime
    ) -> None:
        super().__init__(devicename, vectorname, timestamp)
        self.message = message


class VectorEvent(Event, ByName[Any]):
    """An event about one vector; a read-only mapping of member name -> value."""

    __slots__ = ("_by_name", "vector")

    def __init__(
        self, vector: PropertyVector, data: dict[str, Any], timestamp: datetime
    ) -> None:
        # Set here, not through Event.__init__: one event is made per element of a burst.
        self.devicename = vector.devicename
        self.vectorname = vector.name
        self.timestamp = timestamp
        self.vector = vector
        self._by_name = data

    @property
    def device(self) -> Device | None:
        """The device the vector belongs to (None once it has been deleted)."""
        return self.vector.device

    @property
    def data(self) -> dict[str, Any]:
        """Member name -> value, as received."""
        return self._by_name


class VectorTimeOut(VectorEvent):
    """A vector this client set gave no answer within its timeout (``set_vector_timeouts``)."""

    __slots__ = ()
    eventtype = "TimeOut"

    def __init__(self, vector: PropertyVector) -> None:
        super().__init__(vector, {}, utcnow())


class ClientEvent(VectorEvent):
    """An event the program makes itself for a vector, with any ``payload`` (0.9.4 name)."""

    __slots__ = ("eventtype", "payload")

    def __init__(self, eventtype: str, vector: PropertyVector, **payload: Any) -> None:
        super().__init__(vector, dict(vector), utcnow())
        self.eventtype = eventtype
        self.payload = payload


class defVector(VectorEvent):
    """A vector was defined (or redefined): every member with its value."""

    __slots__ = ()
    eventtype = "Define"

    @property
    def label(self) -> str:
        return self.vector.label

    @property
    def group(self) -> str:
        return self.vector.group

    @property
    def state(self) -> State:
        return self.vector.state

    @property
    def message(self) -> str:
        return self.vector.message

    @property
    def perm(self) -> str:
        return self.vector.perm

    @property
    def rule(self) -> str | None:
        return self.vector.rule

    @property
    def timeout(self) -> float:
        return self.vector.timeout

    @property
    def memberlabels(self) -> dict[str, Any]:
        """Member name -> label; for numbers (label, format, min, max, step), as in 0.9.4."""
        return {name: self.vector.member(name).labels() for name in self.vector}


class defSwitchVector(defVector):
    __slots__ = ()


class defTextVector(defVector):
    __slots__ = ()


class defNumberVector(defVector):
    __slots__ = ()


class defLightVector(defVector):
    __slots__ = ()


class defBLOBVector(defVector):
    """A BLOB vector was defined; its members have no value yet (None)."""

    __slots__ = ()
    eventtype = "DefineBLOB"


class setVector(VectorEvent):
    """A vector changed: the members sent (only the changed ones, perhaps none) and, when the
    element carried them, the new ``state``, ``message`` and ``timeout`` (else None)."""

    __slots__ = ("message", "state", "timeout")
    eventtype = "Set"

    def __init__(
        self,
        vector: PropertyVector,
        data: dict[str, Any],
        timestamp: datetime,
        state: State | None,
        message: str | None,
        timeout: float | None,
    ) -> None:
        # One call up, not a chain: VectorEvent sets the rest itself (the hot path of a burst;
        # the call costs some 70 ns an event, under 1 % of a burst's element).
        VectorEvent.__init__(self, vector, data, timestamp)
        self.state = state
        self.message = message
        self.timeout = timeout


class setSwitchVector(setVector):
    __slots__ = ()


class setTextVector(setVector):
    __slots__ = ()


class setNumberVector(setVector):
    __slots__ = ()


class setLightVector(setVector):
    __slots__ = ()


class setBLOBVector(setVector):
    """BLOBs arrived: member -> bytes (decompressed), ``sizeformat`` member -> (size, format),
    ``filenames`` member -> the saved file's path (filled when the client saves BLOBs). A
    large BLOB saved to the BLOB folder was written as it arrived and is read back from its
    file only when ``event[member]`` asks for it."""

    __slots__ = ("filenames", "sizeformat")
    eventtype = "SetBLOB"

    def __init__(
        self,
        vector: PropertyVector,
        data: dict[str, Any],
        timestamp: datetime,
        state: State | None,
        message: str | None,
        timeout: float | None,
        sizeformat: dict[str, tuple[int, str]],
    ) -> None:
        super().__init__(vector, data, timestamp, state, message, timeout)
        self.sizeformat = sizeformat
        self.filenames: dict[str, str] = {}

    def __getitem__(self, membername: str) -> Any:
        value = self._by_name[membername]
        # A large BLOB streamed to the BLOB folder is read back only when asked for.
        return value.read() if hasattr(value, "read") else value
