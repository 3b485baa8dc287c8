"""`AlpacaDevice`: one INDI device in one Alpaca role, and the members every type has.

A member is a method: ``get_<member>`` answers a GET with the value, ``put_<member>`` a PUT
(both async, both given the request's `Params`) -- or, where it is no more than one INDI
element read or written, a row of the type's `TABLE` (`table` of `Number`, `Switch`,
`Toggle`, `Setting`, `Limit`, `Offered`, `Press`), so that each such member is a line rather
than a method. A member of the type with neither for a verb is not implemented (0x400) --
never a made-up value; a name that is no member of the type is a bad request (400). Members that need the device connected say
so with 0x407 rather than reading a property the INDI device has not defined yet.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from typing import ClassVar
from typing import Protocol

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .indiside import SYNC_TIMEOUT
from .indiside import IndiSide
from .indiside import alert_error
from .registry import Identity

logger = logging.getLogger(__name__)

Handler = Callable[[Params], Awaitable[Any]]

COMMON_MEMBERS = frozenset({
    "action", "commandblind", "commandbool", "commandstring", "connect", "connected",
    "connecting", "description", "devicestate", "disconnect", "driverinfo", "driverversion",
    "interfaceversion", "name", "supportedactions",
})

BRIDGE = "indipyalpaca"

#: Alpaca's guide directions (0 north, 1 south, 2 east, 3 west) as INDI's timed-guide members.
TIMED_GUIDE = (("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_N"),
               ("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_S"),
               ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_E"),
               ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_W"))


class Entry(Protocol):
    """A row of `AlpacaDevice.TABLE`: how member `name` reads (and, with a ``put``, writes)
    one INDI element of `device`."""

    async def get(self, device: AlpacaDevice, name: str, params: Params) -> Any: ...


class Action(Protocol):
    """A row of `AlpacaDevice.TABLE` for a member that only acts (a PUT, no GET)."""

    async def put(self, device: AlpacaDevice, name: str, params: Params) -> None: ...


@dataclass(frozen=True)
class Number:
    """A read-only member that is one INDI number, through `convert` (0x400 without it)."""

    vector: str
    element: str
    convert: Callable[[float], Any] = float

    async def get(self, device: AlpacaDevice, name: str, params: Params) -> Any:
        value = device.indi.number(device.name, self.vector, self.element)
        if value is None:
            raise AlpacaError.not_implemented(f"{name} (no {self.vector})")
        return self.convert(value)


@dataclass(frozen=True)
class Setting(Number):
    """An integer member the client sets within the element's limits (a camera's Gain),
    which its `Limit` rows read."""

    convert: Callable[[float], Any] = round

    def limits(self, device: AlpacaDevice, name: str) -> tuple[int, int]:
        """The whole numbers within the element's (min, max)."""
        found = device.indi.limits(device.name, self.vector, self.element)
        if found is None:
            raise AlpacaError.not_implemented(f"{name} (no {self.vector})")
        return math.ceil(found[0]), math.floor(found[1])

    async def put(self, device: AlpacaDevice, name: str, params: Params) -> None:
        value = params.as_int(name)
        low, high = self.limits(device, name)
        if not low <= value <= high:
            raise AlpacaError.invalid_value(f"{name} {value} is outside {low}..{high}")
        await device.indi.send_and_see(device.name, self.vector, {self.element: value})


@dataclass(frozen=True)
class Limit:
    """A read-only member that is the low (`index` 0) or high (1) limit of a `Setting`."""

    setting: Setting
    index: int

    async def get(self, device: AlpacaDevice, name: str, params: Params) -> int:
        return self.setting.limits(device, name)[self.index]


@dataclass(frozen=True)
class Switch:
    """A read-only boolean member: whether switch `on` is On (0x400 without the vector)."""

    vector: str
    on: str

    async def get(self, device: AlpacaDevice, name: str, params: Params) -> bool:
        on = device.indi.switch_on(device.name, self.vector, self.on)
        if on is None:
            raise AlpacaError.not_implemented(f"{name} (no {self.vector})")
        return on


@dataclass(frozen=True)
class Toggle(Switch):
    """A boolean member the client sets too: True turns `on` On, False `off`; the PUT returns
    once the INDI device shows it."""

    off: str

    async def put(self, device: AlpacaDevice, name: str, params: Params) -> None:
        wanted = params.as_bool(name)
        device.indi.require(device.name, self.vector, name)
        member = self.on if wanted else self.off
        await device.indi.send_and_see(device.name, self.vector, {member: "On"})


def _offers(device: AlpacaDevice, vector: str, member: str) -> bool:
    found = device.indi.vector(device.name, vector)
    return found is not None and member in found


@dataclass(frozen=True)
class Offered:
    """A read-only boolean member: whether the device's `vector` has switch `member` (a
    capability, such as CanSetPark: a PARK_OPTION vector with PARK_CURRENT)."""

    vector: str
    member: str

    async def get(self, device: AlpacaDevice, name: str, params: Params) -> bool:
        return _offers(device, self.vector, self.member)


@dataclass(frozen=True)
class Press:
    """A member that only acts (SetPark): switch `member` of `vector` set On, 0x400 where the
    device does not offer it (the `Offered` row of the same switch says whether it does)."""

    vector: str
    member: str

    async def put(self, device: AlpacaDevice, name: str, params: Params) -> None:
        if not _offers(device, self.vector, self.member):
            raise AlpacaError.not_implemented(f"{name} (no {self.vector}.{self.member})")
        await device.indi.send(device.name, self.vector, {self.member: "On"})


def table(**rows: Entry | Action) -> Mapping[str, Entry | Action]:
    """A type's `AlpacaDevice.TABLE`, by the members' Alpaca names, read-only (it is shared by
    every device of the type)."""
    return MappingProxyType(rows)


class AlpacaDevice:
    """The members common to every Alpaca type, on INDI's CONNECTION and DRIVER_INFO."""

    device_type: DeviceType
    #: The members of this type beyond the common ones (lower case, as on the URL).
    MEMBERS: frozenset[str] = frozenset()
    #: DeviceState entries: Alpaca member name -> its GET member (omitted when unreadable).
    STATE: tuple[str, ...] = ()
    #: Members of this type that answer whether or not the device is connected.
    ALWAYS: frozenset[str] = frozenset()
    #: Members that are one INDI element each: Alpaca name (as the interface spells it) -> row.
    TABLE: ClassVar[Mapping[str, Entry | Action]] = MappingProxyType({})
    #: `TABLE` by lower-case member (as on the URL), made for each subclass.
    _ROWS: ClassVar[dict[str, tuple[str, Entry | Action]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._ROWS = {name.lower(): (name, entry) for name, entry in cls.TABLE.items()}

    def __init__(self, indi: IndiSide, identity: Identity) -> None:
        self.indi = indi
        self.identity = identity
        self.name = identity.name

    # -- dispatch ----------------------------------------------------------------------

    def is_member(self, member: str) -> bool:
        return member in COMMON_MEMBERS or member in self.MEMBERS

    def handler(self, verb: str, member: str) -> Handler | None:
        """The method for this verb and member (or its `TABLE` row's), None when the type
        has it but we do not."""
        found: Handler | None = getattr(self, f"{verb.lower()}_{member}", None)
        if callable(found):
            return found
        name, entry = self._ROWS.get(member, ("", None))
        shared = getattr(entry, verb.lower(), None)
        if not callable(shared):
            return None
        row: Handler = functools.partial(shared, self, name)
        return row

    def has_other_verb(self, verb: str, member: str) -> bool:
        other = "put" if verb.lower() == "get" else "get"
        return self.handler(other, member) is not None

    async def call(self, verb: str, member: str, params: Params) -> Any:
        handler = self.handler(verb, member)
        if handler is None:
            raise AlpacaError.not_implemented(member)
        if member not in COMMON_MEMBERS and member not in self.ALWAYS:
            self.require_connected()
        return await handler(params)

    # -- INDI state --------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """CONNECTION.CONNECT On and settled (neither Busy nor Alert)."""
        vector = self.indi.vector(self.name, "CONNECTION")
        if vector is None:  # a device without CONNECTION is always there
            return self.indi.vector(self.name, "DRIVER_INFO") is not None
        return str(vector.get("CONNECT")) == "On" and vector.state in (State.OK, State.IDLE)

    def require_connected(self) -> None:
        if not self.connected:
            raise AlpacaError.not_connected(self.name)

    def check_not_alert(self, vector_name: str) -> None:
        """Reading a completion property whose operation failed is an error (the IF pages):
        the INDI vector went Alert, so say why."""
        vector = self.indi.vector(self.name, vector_name)
        if vector is not None and vector.state == State.ALERT:
            raise alert_error(self.name, vector_name, vector.message)

    # -- common members ----------------------------------------------------------------

    async def get_name(self, params: Params) -> str:
        return self.name

    async def get_description(self, params: Params) -> str:
        return self.indi.text(self.name, "DRIVER_INFO", "DRIVER_NAME") or self.name

    async def get_driverinfo(self, params: Params) -> str:
        exe = self.indi.text(self.name, "DRIVER_INFO", "DRIVER_EXEC")
        served = f" (INDI driver {exe})" if exe else ""
        return f"INDI device {self.name}{served} served as Alpaca by {BRIDGE}"

    async def get_driverversion(self, params: Params) -> str:
        return self.indi.text(self.name, "DRIVER_INFO", "DRIVER_VERSION") or "0"

    async def get_interfaceversion(self, params: Params) -> int:
        return self.device_type.interface_version

    async def get_supportedactions(self, params: Params) -> list[str]:
        return []

    async def put_action(self, params: Params) -> str:
        name = params.required("Action")
        raise AlpacaError(ErrorNumber.ACTION_NOT_IMPLEMENTED,
                          f"action {name!r} is not implemented (SupportedActions is empty)")

    async def get_connected(self, params: Params) -> bool:
        return self.connected

    async def put_connected(self, params: Params) -> None:
        """Synchronous: returns once the INDI device has answered (an immediate reconnect
        after a disconnect must not be lost), at most SYNC_TIMEOUT, and, for a connect, once
        it has settled (`IndiSide.settle`): a client that reads at once sees the properties
        the driver defines just after CONNECTION goes Ok."""
        wanted = params.as_bool("Connected")
        if wanted == self.connected:
            if wanted:
                await self.indi.settled(self.name)  # a connect under way, by either member
            return
        self.indi.require(self.name, "CONNECTION", "Connected")
        member = "CONNECT" if wanted else "DISCONNECT"
        await self.indi.send_and_wait(self.name, "CONNECTION", {member: "On"}, SYNC_TIMEOUT)
        if wanted:
            self.indi.settle(self.name)
            await self.indi.settled(self.name)

    async def put_connect(self, params: Params) -> None:
        """Asynchronous (Platform 7): the request goes out; Connecting says when it is done,
        the device settled."""
        if self.connected:
            return
        self.indi.require(self.name, "CONNECTION", "Connect")
        await self.indi.send(self.name, "CONNECTION", {"CONNECT": "On"})
        self.indi.settle(self.name)

    async def put_disconnect(self, params: Params) -> None:
        vector = self.indi.vector(self.name, "CONNECTION")
        if vector is None or str(vector.get("DISCONNECT")) == "On" and vector.state != State.BUSY:
            return
        await self.indi.send(self.name, "CONNECTION", {"DISCONNECT": "On"})

    async def get_connecting(self, params: Params) -> bool:
        """True while CONNECTION is Busy or the device has not settled since a connect; a
        connection that failed (Alert) is the error that Connect could not report when it
        returned."""
        vector = self.indi.vector(self.name, "CONNECTION")
        if vector is None:
            return False
        if vector.state == State.ALERT:
            raise alert_error(self.name, "CONNECTION", vector.message)
        return vector.state == State.BUSY or self.indi.settling(self.name)

    async def get_devicestate(self, params: Params) -> list[dict[str, Any]]:
        """The operational state in one read; an entry that cannot be read now is left out."""
        entries = []
        for name in self.STATE:
            handler = self.handler("get", name.lower())
            if handler is None:
                continue
            try:
                if name.lower() not in COMMON_MEMBERS | self.ALWAYS:
                    self.require_connected()
                value = await handler(params)
            except AlpacaError:
                continue
            entries.append({"Name": name, "Value": value})
        return entries

    # ---------------------------------------------------------------- timed guiding

    async def timed_guide(self, direction: int, duration: int) -> None:
        """A PulseGuide as INDI's timed guiding (a mount's, or a camera's ST4 port): Alpaca's
        directions 0 north, 1 south, 2 east, 3 west to TELESCOPE_TIMED_GUIDE_NS / _WE."""
        vector, member = TIMED_GUIDE[direction]
        await self.indi.send(self.name, vector, {member: duration})

    def timed_guiding(self) -> bool:
        """IsPulseGuiding: either timed-guide vector Busy."""
        vectors = [self.indi.vector(self.name, v)
                   for v in ("TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE")]
        return any(v is not None and v.state == State.BUSY for v in vectors)
