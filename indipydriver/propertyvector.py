"""`PropertyVector`: what every kind of vector shares (the kinds are in `vectors`).

Its name, label, group, state and enable; the mapping of member name -> member value; and the
`send_*` methods, which write the element once to bytes and hand them to the driver. The
elements are spelt by the protocol core's writer (`protocol.serialiser`): a set vector, the
driver's hot path, is a join of pieces it made, kept from one send to the next (`_set_bytes`).
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import MutableMapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from typing import ClassVar
from typing import TypeVar

from indipycore.byname import ByName
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.events import DelProperty
from indipycore.protocol.frames import _XML_SPACE
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import open_attribute

from .members import PropertyMember
from .naming import add_named
from .naming import checked_string
from .naming import no_such_name
from .ports import DevicePort
from .ports import DriverPort
from .wire import escape
from .wire import now_timestamp
from .wire import timestamp_text
from .wire import write_element

__all__ = ["PropertyVector"]

_M = TypeVar("_M", bound=PropertyMember)
_E = TypeVar("_E", bound=StrEnum)


def _one_of(vector: str, what: str, value: str, allowed: type[_E]) -> _E:
    """`value` as a member of its INDI enumeration; a ValueError naming the vector, the
    attribute and the choices when it is none of them (SPEC p.5)."""
    try:
        return allowed(value)
    except ValueError:
        choices = ", ".join(member.value for member in allowed)
        raise ValueError(f"vector {vector!r}: {what} {value!r} is not one of {choices}") from None


# Per kind, the writer's start tag of a def vector cut at its values (the identifying
# attributes, label, group, state, then perm/rule/timeout, up to the timestamp's value: the
# values go between the pieces) and its end tag.
_DEF_TAGS: dict[str, tuple[tuple[str, ...], str]] = {}


def _def_tags(kind: str) -> tuple[tuple[str, ...], str]:
    tags = _DEF_TAGS.get(kind)
    if tags is None:
        tag = f"def{kind}Vector"
        attrs = ("{}" + attribute("label", "{}") + attribute("group", "{}")
                 + attribute("state", "{}") + "{}")
        head = tuple(open_attribute(tag, attrs, "timestamp").split("{}"))
        tags = _DEF_TAGS[kind] = (head, end_tag(tag, COMPACT))
    return tags


class PropertyVector(ByName[Any], MutableMapping[str, Any]):
    """Common part of all vectors: name, label, group, state, enable and the send methods.

    A mapping of member name -> member value, with the mapping methods 3.x's ``UserDict`` had
    (``update``, ``pop``, ``copy``, ...). Attributes read back as 3.x gave them: `state`,
    `perm`, `rule` and `timeout` are plain strings; `message` is sent with the next send.
    """

    kind: ClassVar[str] = ""  # "Number", "Switch", ...: the element is def<kind>Vector
    member_class: ClassVar[type[PropertyMember]]  # set by each concrete vector class
    has_perm: ClassVar[bool] = True
    _perm: Perm = Perm.RO  # the perm the framework applies (lights: always ro)
    #: Members CONFIG_SAVE leaves out of the file: a driver's own members beside indilib's,
    #: which an indilib driver reading the file would refuse the whole vector for.
    unsaved: frozenset[str] = frozenset()

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        state: str,
        members: Iterable[PropertyMember],
    ) -> None:
        kind = type(self).__name__
        self.name = checked_string(name, "name", kind)
        owner = f"{kind} {name!r}"
        self.label = checked_string(label, "label", owner) if label else name
        self.group = checked_string(group, "group", owner) if group else ""
        self.state = state
        self._timeout = "0"
        self.message = ""
        self.enable = True
        self.device: DevicePort | None = None
        self._devicename: str | None = None
        self._ident = ""
        self._ident_attrs: dict[str, str] | None = None
        self._set_shape: tuple[tuple[State, str, str, Perm], str, str, dict[str, str] | None] | None = None
        self.data: dict[str, PropertyMember] = {}
        self._by_name = self.data  # names, length and membership (ByName); values below
        for member in members:
            if not isinstance(member, self.member_class):
                raise TypeError(
                    f"{type(self).__name__} {name!r}: members must be "
                    f"{self.member_class.__name__}s, not {type(member).__name__}"
                )
            add_named(self.data, member.name, member, f"{type(self).__name__} {name!r}", "member")
        if not self.data:
            raise ValueError(f"{type(self).__name__} {name!r} needs at least one member")

    # ---------------------------------------------------------------- attributes

    @property
    def state(self) -> str:
        return self._state.value

    @state.setter
    def state(self, value: str) -> None:
        self._state = _one_of(self.name, "state", value, State)

    @property
    def perm(self) -> str:
        """'ro' unless the vector kind has a settable perm (lights are always ro)."""
        return "ro"

    @property
    def rule(self) -> str | None:
        """A switch vector's rule; None for other kinds."""
        return None

    @property
    def timeout(self) -> str:
        """Seconds a client should allow for a change, sent with every element (not on ro
        vectors); given as a number or a string, read back as a string (3.x)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: Any) -> None:
        self._timeout = value if isinstance(value, str) else str(value)

    @property
    def changed(self) -> bool:
        """Whether a member value changed since it was last sent (3.x's flag)."""
        return any(member.changed for member in self.data.values())

    @changed.setter
    def changed(self, value: bool) -> None:
        for member in self.data.values():
            member.changed = value

    @property
    def vectortype(self) -> str:
        """The class name, as 3.x gave it (``"NumberVector"``)."""
        return type(self).__name__

    checkvalue = staticmethod(PropertyMember.checkvalue)

    @property
    def devicename(self) -> str | None:
        return self._devicename

    @devicename.setter
    def devicename(self, value: str | None) -> None:
        self._devicename = value
        # The identifying attributes are the same in every element this vector sends.
        if value is not None:
            device, name = escape(value), escape(self.name)
            self._ident = attribute("device", device) + attribute("name", name)
            # The same as a framer reads them back, when nothing needed escaping (`_set_bytes`).
            self._ident_attrs = ({"device": value.strip(_XML_SPACE), "name": self.name.strip(_XML_SPACE)}
                                 if device is value and name is self.name else None)

    @property
    def driver(self) -> DriverPort | None:
        return self.device.driver if self.device is not None else None

    @property
    def vectorname(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, device={self._devicename!r})"

    # ---------------------------------------------------------------- mapping of member values

    def __getitem__(self, membername: str) -> Any:
        try:
            return self.data[membername].membervalue
        except KeyError:
            raise self._no_member(membername) from None

    def __setitem__(self, membername: str, value: Any) -> None:
        try:
            member = self.data[membername]
        except KeyError:
            raise self._no_member(membername) from None
        member.membervalue = value

    def get(self, membername: str, default: Any = None) -> Any:
        """The value of member `membername`, or `default`."""
        # Mapping's would build the KeyError's message for every miss.
        member = self.data.get(membername)
        return default if member is None else member.membervalue

    def __delitem__(self, membername: str) -> None:
        if len(self.data) == 1 and membername in self.data:
            raise ValueError(f"{type(self).__name__} {self.name!r} keeps at least one member")
        try:
            del self.data[membername]
        except KeyError:
            raise self._no_member(membername) from None

    def copy(self) -> dict[str, Any]:
        """A dict of member name -> value (3.x's UserDict copy of a vector came back empty)."""
        return {name: member.membervalue for name, member in self.data.items()}

    def _no_member(self, membername: object) -> KeyError:
        return no_such_name(f"{type(self).__name__} {self.name!r}", "member", membername, self.data)

    def members(self) -> dict[str, PropertyMember]:
        """The member objects by name (the mapping itself gives values)."""
        return self.data

    def memberlabel(self, membername: str) -> str:
        return self.data[membername].label

    def _member(self, membername: str, kind: type[_M]) -> _M:
        """The member object as its own class (the constructor admits only `member_class`)."""
        member = self.data[membername]
        if not isinstance(member, kind):
            raise TypeError(f"member {membername!r} of {self.name!r} is not a {kind.__name__}")
        return member

    # ---------------------------------------------------------------- sending

    def _attached_driver(self) -> DriverPort:
        device = self.device
        if device is None or device.driver is None:
            raise RuntimeError(f"vector {self.name!r} is not in a Device of an IPyDriver")
        return device.driver

    def _sending_driver(self) -> DriverPort | None:
        """The driver to send with; None while this vector or its device is disabled."""
        driver = self._attached_driver()
        device = self.device
        return driver if self.enable and device is not None and device.enable else None

    def _apply(self, timeout: Any, state: str | None, message: str) -> str:
        """Apply a send's timeout and state; the message to send: the one given, else one
        assigned to `message` since the last send (sent once, never repeated)."""
        if timeout is not None:
            self.timeout = timeout
        if state:
            self.state = state
        pending = self.message
        if pending:
            self.message = ""
            return message or pending
        return message

    def _timeout_attr(self) -> str:
        # 3.x convention: no timeout on read-only vectors (SPEC: N/A for ro).
        return attribute("timeout", escape(self._timeout)) if self._perm is not Perm.RO else ""

    def _extra_def_attrs(self) -> str:
        return attribute("perm", self._perm.value)

    def _def_bytes(self, message: str, timestamp: datetime | None) -> bytes:
        # One format of the kind's template: a getProperties is answered with every vector's
        # definition, most of them written for the first time.
        (h0, h1, h2, h3, h4, h5), tail = _def_tags(self.kind)
        parts = [f"{h0}{self._ident}{h1}{escape(self.label)}{h2}{escape(self.group)}{h3}"
                 f"{self._state.value}{h4}{self._extra_def_attrs()}{self._timeout_attr()}{h5}",
                 timestamp_text(timestamp),
                 f'"{attribute("message", escape(message))}>' if message else '">']
        parts.extend(member._def() for member in self.data.values())
        parts.append(tail)
        return "".join(parts).encode()

    def _set_bytes(
        self,
        members: Iterable[PropertyMember],
        message: str,
        timestamp: datetime | None,
        state: State | None = None,
        mark_sent: bool = True,
        attrs: dict[str, str] | None = None,
    ) -> bytes:
        """The set element. With `attrs`, also its start tag's attributes as a framer would
        read them (an in-process server takes the element framed: `IPyDriver._send`), put
        there only when no value needed escaping; left empty otherwise."""
        state = state or self._state
        stamp = now_timestamp() if timestamp is None else timestamp_text(timestamp)
        # What stays the same from one set to the next (a driver streaming readings sends
        # thousands a second) is built once: the start tag up to the timestamp, the end tag
        # and the start tag's attributes as a framer reads them.
        key = (state, self._timeout, self._ident, self._perm)
        shape = self._set_shape
        if shape is None or shape[0] != key:
            shape = self._set_shape = self._build_set_shape(key)
        _, head, tail, base = shape
        text = escape(message) if message else ""
        # After the timestamp's value: the end of the start tag, a message before it if any.
        parts = [head, stamp, f'"{attribute("message", text)}>' if text else '">']
        for member in members:
            parts.append(member._one)
            if mark_sent:
                member.changed = False
        parts.append(tail)
        if attrs is not None and base is not None and (not message or text is message):
            attrs.update(base)
            attrs["timestamp"] = stamp
            if text:
                attrs["message"] = message.strip(_XML_SPACE)
        return "".join(parts).encode()

    def _build_set_shape(
        self, key: tuple[State, str, str, Perm]
    ) -> tuple[tuple[State, str, str, Perm], str, str, dict[str, str] | None]:
        """(key, start tag up to the timestamp's value, end tag, the start tag's attributes
        but the timestamp -- None when a value needed escaping) for `_set_bytes`."""
        state = key[0]
        tag = f"set{self.kind}Vector"
        timeout = self._timeout_attr()
        head = open_attribute(tag, self._ident + attribute("state", state.value) + timeout, "timestamp")
        ident = self._ident_attrs
        base: dict[str, str] | None = None
        if ident is not None and (not timeout or escape(self._timeout) is self._timeout):
            base = dict(ident)
            base["state"] = state.value
            if timeout:
                base["timeout"] = self._timeout.strip(_XML_SPACE)
        return key, head, end_tag(tag, COMPACT), base

    async def _send_set(self, driver: DriverPort, members: Iterable[PropertyMember], message: str,
                        timestamp: datetime | None) -> None:
        """Send a set of `members`; framed here for a link that takes frames (an in-process
        server), whose framer would otherwise read back what was just written."""
        if not driver.sends_framed:
            await driver._send(self._set_bytes(members, message, timestamp))
            return
        attrs: dict[str, str] = {}
        data = self._set_bytes(members, message, timestamp, attrs=attrs)
        await driver._send(data, f"set{self.kind}Vector" if attrs else None, attrs)

    async def _send_rejected(self, message: str) -> None:
        """Answer a client request the framework rejected: current values, Alert, the reason.

        A client (KStars) shows a vector Busy from its new*Vector until a set arrives, so a silent
        drop leaves it Busy for ever; SPEC p.6 has the device report a failed request with state
        Alert. The vector's own state and `changed` flags are left alone: the request failed,
        not the device. A BLOB vector's answer is state-only (no image resent).
        """
        driver = self._sending_driver()
        if driver is None:
            return
        members = [] if self.kind == "BLOB" else list(self._ordered(self.data.values()))
        data = self._set_bytes(members, message, None, state=State.ALERT, mark_sent=False)
        await driver._send(data)

    def _ordered(self, members: Collection[PropertyMember]) -> Collection[PropertyMember]:
        return members

    async def send_defVector(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
    ) -> None:
        """Send the definition (all members); clients learn the vector from this."""
        message = self._apply(timeout, state, message)
        driver = self._sending_driver()
        if driver is None:
            return
        data = self._def_bytes(message, timestamp)
        for member in self.data.values():
            member.changed = False
        await driver._send(data)

    async def send_setVector(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
        allvalues: bool = True,
    ) -> None:
        """Send current values: all of them, or with `allvalues=False` only the changed ones.

        With `allvalues=False`, nothing changed and no message or state given, nothing is sent.
        """
        message = self._apply(timeout, state, message)
        driver = self._sending_driver()
        if driver is None:
            return
        members = self._set_members(allvalues)
        if not allvalues and not members and not message and not state:
            return
        await self._send_set(driver, members, message, timestamp)

    def _set_members(self, allvalues: bool) -> Collection[PropertyMember]:
        """The members `send_setVector` sends, in the order sent (`_ordered`'s): all of them,
        or only the changed ones."""
        if allvalues:
            return self.data.values()
        return [m for m in self.data.values() if m.changed]

    async def send_setVectorMembers(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
        members: Iterable[str] = (),
    ) -> None:
        """Send the named members only; an empty list sends a state/message-only set."""
        message = self._apply(timeout, state, message)
        driver = self._sending_driver()
        if driver is None:
            return
        wanted = set(members)
        unknown = wanted - self.data.keys()
        if unknown:
            raise KeyError(f"vector {self.name!r} has no member(s) {sorted(unknown)}")
        chosen = [m for m in self.data.values() if m.name in wanted]
        await self._send_set(driver, self._ordered(chosen), message, timestamp)

    async def send_delProperty(self, message: str = "", timestamp: datetime | None = None) -> None:
        """Tell clients this vector is gone; it stays disabled until `enable` is set True."""
        device = self.device
        if device is None or device.driver is None:
            raise RuntimeError(f"vector {self.name!r} is not in a Device of an IPyDriver")
        data = write_element(DelProperty(device.devicename, self.name, timestamp_text(timestamp),
                                         message or None))
        self.enable = False
        for member in self.data.values():
            member.changed = True
        await device.driver._send(data)
