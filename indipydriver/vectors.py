"""Property vectors (indipydriver 3.x names and signatures) and how they are sent.

A vector is a mapping of member name -> member value. Its `send_*` methods serialise the
element once to bytes and hand them to the driver. Things 3.x got wrong and this fixes:
a `message` goes with the one send it is given to (never repeated later), a BLOB's size applies
to one send only, and `send_setVectorMembers(members=[])` sends a valid empty (state-only) set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .members import (
    BLOBMember,
    LightMember,
    NumberMember,
    PropertyMember,
    SwitchMember,
    TextMember,
)
from .protocol.enums import Perm, Rule, State, SwitchState
from .wire import escape, timestamp_text

if TYPE_CHECKING:
    from .device import Device
    from .driver import IPyDriver

__all__ = [
    "BLOBVector",
    "LightVector",
    "NumberVector",
    "PropertyVector",
    "SwitchVector",
    "TextVector",
]

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=PropertyMember)


def _not_one_of(vector: str, what: str, value: object, allowed: type[StrEnum]) -> ValueError:
    """The error for an attribute given a value outside its INDI enumeration (SPEC p.5)."""
    choices = ", ".join(member.value for member in allowed)
    return ValueError(f"vector {vector!r}: {what} {value!r} is not one of {choices}")


class PropertyVector(Mapping[str, Any]):
    """Common part of all vectors: name, label, group, state, enable and the send methods."""

    vectortype: ClassVar[str] = ""  # "Number", "Switch", ...
    member_class: ClassVar[type[PropertyMember]]  # set by each concrete vector class
    has_perm: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        state: str,
        members: Iterable[PropertyMember],
    ) -> None:
        self.name = name
        self.label = label if label else name
        self.group = group if group else ""
        self.state = state
        self.timeout = "0"
        self.enable = True
        self.device: Device | None = None
        self._devicename: str | None = None
        self._ident = ""
        self.data: dict[str, PropertyMember] = {}
        for member in members:
            if not isinstance(member, self.member_class):
                raise TypeError(
                    f"{type(self).__name__} {name!r}: members must be "
                    f"{self.member_class.__name__}s, not {type(member).__name__}"
                )
            if member.name in self.data:
                raise ValueError(f"{type(self).__name__} {name!r}: duplicate member {member.name!r}")
            self.data[member.name] = member
        if not self.data:
            raise ValueError(f"{type(self).__name__} {name!r} needs at least one member")

    # ---------------------------------------------------------------- attributes

    @property
    def state(self) -> State:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        try:
            self._state = State(value)
        except ValueError:
            raise _not_one_of(self.name, "state", value, State) from None

    @property
    def perm(self) -> Perm:
        """Read-only unless the vector kind has a settable perm (lights are always ro)."""
        return Perm.RO

    @property
    def devicename(self) -> str | None:
        return self._devicename

    @devicename.setter
    def devicename(self, value: str | None) -> None:
        self._devicename = value
        # The identifying attributes are the same in every element this vector sends.
        if value is not None:
            self._ident = f' device="{escape(value)}" name="{escape(self.name)}"'

    @property
    def driver(self) -> IPyDriver | None:
        return self.device.driver if self.device is not None else None

    @property
    def vectorname(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, device={self._devicename!r})"

    # ---------------------------------------------------------------- mapping of member values

    def __getitem__(self, membername: str) -> Any:
        return self.data[membername].membervalue

    def __setitem__(self, membername: str, value: Any) -> None:
        self.data[membername].membervalue = value

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, membername: object) -> bool:
        return membername in self.data

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

    def _attached_driver(self) -> IPyDriver:
        device = self.device
        if device is None or device.driver is None:
            raise RuntimeError(f"vector {self.name!r} is not in a Device of an IPyDriver")
        return device.driver

    def _sending_driver(self) -> IPyDriver | None:
        """The driver to send with; None while this vector or its device is disabled."""
        driver = self._attached_driver()
        device = self.device
        return driver if self.enable and device is not None and device.enable else None

    def _apply(self, timeout: Any, state: str | None) -> None:
        if timeout is not None:
            self.timeout = timeout if isinstance(timeout, str) else str(timeout)
        if state:
            self.state = state

    def _timeout_attr(self) -> str:
        # 3.x convention: no timeout on read-only vectors (SPEC: N/A for ro).
        return f' timeout="{escape(self.timeout)}"' if self.perm is not Perm.RO else ""

    def _extra_def_attrs(self) -> str:
        return f' perm="{self.perm.value}"'

    def _def_bytes(self, message: str, timestamp: datetime | None) -> bytes:
        tag = f"def{self.vectortype}Vector"
        parts = [
            f"<{tag}{self._ident} label=\"{escape(self.label)}\" group=\"{escape(self.group)}\""
            f' state="{self._state.value}"{self._extra_def_attrs()}{self._timeout_attr()}'
            f' timestamp="{timestamp_text(timestamp)}"'
        ]
        if message:
            parts.append(f' message="{escape(message)}"')
        parts.append(">")
        parts.extend(member._def() for member in self.data.values())
        parts.append(f"</{tag}>")
        return "".join(parts).encode()

    def _set_bytes(
        self,
        members: Iterable[PropertyMember],
        message: str,
        timestamp: datetime | None,
        state: State | None = None,
        mark_sent: bool = True,
    ) -> bytes:
        tag = self.vectortype
        state = state or self._state
        parts = [
            f'<set{tag}Vector{self._ident} state="{state.value}"{self._timeout_attr()}'
            f' timestamp="{timestamp_text(timestamp)}"'
        ]
        if message:
            parts.append(f' message="{escape(message)}"')
        parts.append(">")
        for member in members:
            parts.append(member._one)
            if mark_sent:
                member.changed = False
        parts.append(f"</set{tag}Vector>")
        return "".join(parts).encode()

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
        members = [] if self.vectortype == "BLOB" else list(self._ordered(self.data.values()))
        data = self._set_bytes(members, message, None, state=State.ALERT, mark_sent=False)
        await driver._send(data)

    def _ordered(self, members: Iterable[PropertyMember]) -> Iterable[PropertyMember]:
        return members

    async def send_defVector(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
    ) -> None:
        """Send the definition (all members); clients learn the vector from this."""
        self._apply(timeout, state)
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
        self._apply(timeout, state)
        driver = self._sending_driver()
        if driver is None:
            return
        if allvalues:
            members: Iterable[PropertyMember] = self.data.values()
        else:
            members = [m for m in self.data.values() if m.changed]
            if not members and not message and not state:
                return
        await driver._send(self._set_bytes(self._ordered(members), message, timestamp))

    async def send_setVectorMembers(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
        members: Iterable[str] = (),
    ) -> None:
        """Send the named members only; an empty list sends a state/message-only set."""
        self._apply(timeout, state)
        driver = self._sending_driver()
        if driver is None:
            return
        wanted = set(members)
        unknown = wanted - self.data.keys()
        if unknown:
            raise KeyError(f"vector {self.name!r} has no member(s) {sorted(unknown)}")
        chosen = [m for m in self.data.values() if m.name in wanted]
        await self._send_members(driver, chosen, message, timestamp)

    async def _send_members(self, driver: IPyDriver, chosen: list[PropertyMember],
                            message: str, timestamp: datetime | None) -> None:
        await driver._send(self._set_bytes(self._ordered(chosen), message, timestamp))

    async def send_delProperty(self, message: str = "", timestamp: datetime | None = None) -> None:
        """Tell clients this vector is gone; it stays disabled until `enable` is set True."""
        device = self.device
        if device is None or device.driver is None:
            raise RuntimeError(f"vector {self.name!r} is not in a Device of an IPyDriver")
        text = f'<delProperty{self._ident} timestamp="{timestamp_text(timestamp)}"'
        if message:
            text += f' message="{escape(message)}"'
        self.enable = False
        for member in self.data.values():
            member.changed = True
        await device.driver._send((text + "/>").encode())


class _PermVector(PropertyVector):
    """Vectors a client may write to (all but lights)."""

    def __init__(self, name: str, label: str | None, group: str | None, perm: str, state: str,
                 members: Iterable[PropertyMember]) -> None:
        self.name = name  # named in the error if perm is invalid
        self.perm = perm
        super().__init__(name, label, group, state, members)

    @property
    def perm(self) -> Perm:
        return self._perm

    @perm.setter
    def perm(self, value: str) -> None:
        try:
            self._perm = Perm(value)
        except ValueError:
            raise _not_one_of(self.name, "perm", value, Perm) from None


class SwitchVector(_PermVector):
    """Switches with a rule; assigning 'On' in a OneOfMany or AtMostOne vector turns the others
    Off, so the vector always keeps its rule."""

    vectortype = "Switch"
    member_class = SwitchMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        rule: str,
        state: str,
        switchmembers: Iterable[SwitchMember],
    ) -> None:
        self.name = name  # named in the error if rule is invalid
        self.rule = rule
        super().__init__(name, label, group, perm, state, switchmembers)
        if self._perm is Perm.WO:
            logger.warning("SwitchVector %r: perm 'wo' is not allowed for switches (SPEC p.3)",
                           name)

    @property
    def rule(self) -> Rule:
        return self._rule

    @rule.setter
    def rule(self, value: str) -> None:
        try:
            self._rule = Rule(value)
        except ValueError:
            raise _not_one_of(self.name, "rule", value, Rule) from None

    def __setitem__(self, membername: str, value: Any) -> None:
        member = self.data[membername]
        member.membervalue = value
        if member.membervalue is SwitchState.ON and self._rule is not Rule.ANY_OF_MANY:
            for other in self.data.values():
                if other is not member and other.membervalue is SwitchState.ON:
                    other.membervalue = SwitchState.OFF

    def _extra_def_attrs(self) -> str:
        return f' perm="{self._perm.value}" rule="{self._rule.value}"'

    def _ordered(self, members: Iterable[PropertyMember]) -> Iterable[PropertyMember]:
        # SPEC pp.9-10: for OneOfMany the device reports the switch going Off before the one
        # going On, so a client never sees two On at once.
        members = list(members)
        return [m for m in members if m.membervalue is SwitchState.OFF] + [
            m for m in members if m.membervalue is SwitchState.ON
        ]


class LightVector(PropertyVector):
    """Read-only indicators; lights have no perm and no timeout (SPEC p.3)."""

    vectortype = "Light"
    member_class = LightMember
    has_perm = False

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        state: str,
        lightmembers: Iterable[LightMember],
    ) -> None:
        super().__init__(name, label, group, state, lightmembers)

    def _extra_def_attrs(self) -> str:
        return ""

    def _timeout_attr(self) -> str:
        return ""


class TextVector(_PermVector):
    """Text values."""

    vectortype = "Text"
    member_class = TextMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        textmembers: Iterable[TextMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, textmembers)


class NumberVector(_PermVector):
    """Numbers; values may be assigned as float, int or INDI text and read back as given."""

    vectortype = "Number"
    member_class = NumberMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        numbermembers: Iterable[NumberMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, numbermembers)

    def getfloatvalue(self, membername: str) -> float:
        return self._member(membername, NumberMember).getfloatvalue()

    def getformattedvalue(self, membername: str) -> str:
        return self._member(membername, NumberMember).getformattedvalue()


class BLOBVector(_PermVector):
    """Binary large objects. Each send reads the member values, base64-encodes them once and,
    like indilib >= 1.9.7, follows each BLOB with a pingRequest so the next BLOB waits until the
    server has taken the previous one (back-pressure)."""

    vectortype = "BLOB"
    member_class = BLOBMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        blobmembers: Iterable[BLOBMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, blobmembers)

    def set_blobsize(self, membername: str, blobsize: int) -> None:
        """Size (before compression) to announce for this member on the next send only."""
        if not isinstance(blobsize, int):
            # 3.x API: a bad blobsize raises ValueError, whatever its type.
            raise ValueError(f"blobsize must be an int, not {blobsize!r}")  # noqa: TRY004
        self._member(membername, BLOBMember).blobsize = blobsize

    def set_blobformat(self, membername: str, blobformat: str) -> None:
        """Format (file suffix such as '.fits' or '.fits.z') of this member's BLOBs."""
        self._member(membername, BLOBMember).blobformat = blobformat

    async def send_setVector(
        self,
        message: str = "",
        timestamp: datetime | None = None,
        timeout: Any = None,
        state: str | None = None,
        allvalues: bool = True,
    ) -> None:
        """Send members that hold data (all of them, or only changed ones)."""
        names = [
            m.name for m in self.data.values()
            if m.membervalue is not None and (allvalues or m.changed)
        ]
        if not names and not allvalues and not message and not state:
            return
        await self.send_setVectorMembers(message, timestamp, timeout, state, names)

    async def _send_members(self, driver: IPyDriver, chosen: list[PropertyMember],
                            message: str, timestamp: datetime | None) -> None:
        # The chosen BLOB members with their current data; none makes a state-only set.
        blobs = [self._member(m.name, BLOBMember) for m in chosen]
        payloads = [(m, m.read_value()) for m in blobs]
        data = await driver._encode_blobs(self, payloads, message, timestamp)
        for member in blobs:
            # 3.x kept a size set once for every later send; here it is per send.
            member.blobsize = 0
            member.changed = False
        await driver._send_blob(data)

    def _blob_bytes(
        self,
        payloads: list[tuple[BLOBMember, bytes]],
        message: str,
        timestamp: datetime | None,
        encode: Callable[[bytes], bytes],
    ) -> bytes:
        head = (
            f'<setBLOBVector{self._ident} state="{self._state.value}"{self._timeout_attr()}'
            f' timestamp="{timestamp_text(timestamp)}"'
        )
        if message:
            head += f' message="{escape(message)}"'
        pieces = [(head + ">").encode()]
        for member, raw in payloads:
            size = member.blobsize if member.blobsize else len(raw)
            encoded = encode(raw)
            # One line of base64 and no `enclen`: indilib's lilxml takes `enclen` to mean
            # base64 wrapped at 72 columns and, with one line, swallows the closing tags of a
            # BLOB longer than one read (indiserver and libindiclient 1.9.9 then stall).
            pieces.append(
                f'<oneBLOB name="{escape(member.name)}" size="{size}"'
                f' format="{escape(member.blobformat)}">'.encode()
            )
            pieces.append(encoded)
            pieces.append(b"</oneBLOB>")
        pieces.append(b"</setBLOBVector>")
        return b"".join(pieces)
