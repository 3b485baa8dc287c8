"""What one connection asked the router for: its interest in devices and its BLOB modes.

Bounded whatever the peer names (`MAX_NAMED_ENTRIES`), so a client cannot grow server memory by
mentioning ever new devices or properties.
"""

from __future__ import annotations

import logging

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import short
from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.framing import Frame
from indipyserver.routing.ports import ClientPort

logger = logging.getLogger("indipyserver.router")  # same logger as the routing it serves

NEVER, ALSO, ONLY = BLOBEnable.NEVER, BLOBEnable.ALSO, BLOBEnable.ONLY


#: Named interests / enableBLOB entries kept per connection. A peer naming ever new devices or
#: properties must not grow server memory without bound: past this, interest widens to all
#: devices (more traffic, nothing missed) and further named BLOB modes are ignored (logged).
MAX_NAMED_ENTRIES = 10_000
_crowded_warnings = WarningBudget()  # past the bound, one request after another would log


def blob_mode(frame: Frame) -> BLOBEnable | None:
    """The mode an enableBLOB element asks for, or None if it is not one (small: parsed here,
    not by the framer)."""
    data = frame.data
    start = data.find(b">")
    end = data.rfind(b"</")
    if start < 0 or end <= start:
        return None
    try:
        return BLOBEnable(data[start + 1 : end].decode().strip())
    except (UnicodeDecodeError, ValueError):
        return None


class BlobModes:
    """enableBLOB state of one connection: default Never, per device, per property."""

    __slots__ = ("default", "devices", "props")

    def __init__(self) -> None:
        self.default = NEVER
        self.devices: dict[str, BLOBEnable] = {}
        self.props: dict[tuple[str, str], BLOBEnable] = {}

    def set(self, device: str | None, name: str | None, mode: BLOBEnable) -> None:
        if not device:
            # DTD: device is required; a device-less one is taken as connection-wide.
            self.default = mode
            self.devices.clear()
            self.props.clear()
        elif len(self.devices) + len(self.props) >= MAX_NAMED_ENTRIES and (
            (device, name) not in self.props if name else device not in self.devices
        ):
            if (note := _crowded_warnings.take()) is not None:
                logger.warning("enableBLOB for %s %s ignored: more than %d named BLOB modes on "
                               "one connection%s", short(device), short(name),
                               MAX_NAMED_ENTRIES, note)
        elif name:
            self.props[(device, name)] = mode
        else:
            # A device-wide setting replaces earlier per-property ones of that device.
            self.devices[device] = mode
            for key in [k for k in self.props if k[0] == device]:
                del self.props[key]

    def mode(self, device: str | None, name: str | None) -> BLOBEnable:
        if device is None:
            return self.default
        if name is not None and self.props:
            mode = self.props.get((device, name))
            if mode is not None:
                return mode
        return self.devices.get(device, self.default)

    @property
    def is_default(self) -> bool:
        return self.default is NEVER and not self.devices and not self.props

    def wants(self, is_blob: bool, device: str | None, name: str | None) -> bool:
        """SPEC p.4: Never = no BLOBs, Also = BLOBs too, Only = nothing but setBLOBVector.

        A property set Only (``enableBLOB device=D name=P``) still has its other messages
        sent (its defBLOBVector, a delProperty), unless its device or the connection is Only
        too, as indiserver 1.9.9 does: KStars' BlobManager sets its image property Only as
        soon as it sees the device, and then needs that property's definition, which may come
        later (a camera defines it when connected), to take the images."""
        mode = self.mode(device, name)
        if is_blob:
            return mode is not NEVER
        if mode is ONLY and name is not None and device is not None and (device, name) in self.props:
            mode = self.devices.get(device, self.default)
        return mode is not ONLY


class ClientState:
    """What the router knows of one client: its interests and BLOB modes."""

    __slots__ = ("_entries", "all_devices", "blobs", "chained", "interests", "simple", "sink")

    def __init__(self, sink: ClientPort) -> None:
        self.sink = sink
        self.all_devices = False
        self.chained = False  # an upstream server that sent getProperties device="*"
        # device -> property names, or None for the whole device (indiserver ClInfo::props)
        self.interests: dict[str, set[str] | None] = {}
        self.blobs = BlobModes()
        self.simple = False  # all devices, default BLOB modes: the fast path
        self._entries = 0  # distinct named interests recorded

    def _update(self) -> None:
        self.simple = self.all_devices and self.blobs.is_default

    #: `may_write` is True for everything (no access rules): the shortcut reads this, once
    #: an attribute, rather than call `may_write` on every request.
    writes_all: bool = True

    def may_write(self, device: str | None, name: str | None) -> bool:
        """Whether its commands (new vectors) to `device`.`name` may go on: the one question
        the router and the round trip's shortcut ask. Without access rules, always
        (``routing.access.GuardedClientState`` asks its rules)."""
        return True

    def enable_blob(self, device: str | None, name: str | None, mode: BLOBEnable) -> None:
        """The client's enableBLOB: its BLOB modes, and the fast test (`simple`) after them."""
        self.blobs.set(device, name, mode)
        self._update()

    def add_interest(self, device: str | None, name: str | None, getproperties: bool) -> None:
        """INDI notes 1.5 rule 1: a named device narrows; device-less getProperties means all,
        unless a specific interest was shown first; device="*" marks a chained server."""
        if device == "*":
            if not self.interests:
                self.all_devices = self.chained = True
        elif device:
            if self._entries >= MAX_NAMED_ENTRIES and not self.all_devices:
                logger.warning(
                    "client %s named more than %d devices/properties: it now gets all devices",
                    self.sink.label, MAX_NAMED_ENTRIES,
                )
                self.all_devices = True
            if self.all_devices:
                self._update()
                return
            names = self.interests.get(device, ())
            if names is None:
                pass
            elif not name:
                self.interests[device] = None
                self._entries += 1
            elif isinstance(names, set):
                if name not in names:
                    names.add(name)
                    self._entries += 1
            else:  # () : nothing asked of this device yet
                self.interests[device] = {name}
                self._entries += 1
        elif getproperties and not self.interests:
            self.all_devices = True
        self._update()

    def interested(self, device: str, name: str | None) -> bool:
        if self.all_devices:
            return True
        names = self.interests.get(device, ())
        if names is None:
            return True
        if names == ():
            return False
        # Device-level elements (no name) go to anyone interested in part of the device.
        return name is None or name in names

    @property
    def blob_only(self) -> bool:
        """A connection that asked for nothing but BLOBs: Only for the whole connection, or
        every mode it set is Only and each device it named has one (KStars' BlobManager
        watches one device and sets one of its properties Only). Device-less messages are
        not sent to it, as indiserver sends a connection set to Only nothing but
        setBLOBVector."""
        blobs = self.blobs
        if blobs.default is ONLY:
            return True
        if self.all_devices or not self.interests or not (blobs.devices or blobs.props):
            return False
        if any(m is not ONLY for m in blobs.devices.values()) or any(
                m is not ONLY for m in blobs.props.values()):
            return False
        with_only = set(blobs.devices) | {device for device, _ in blobs.props}
        return all(device in with_only for device in self.interests)

    def wants(self, is_blob: bool, device: str, name: str | None) -> bool:
        if self.simple:
            return not is_blob
        return self.interested(device, name) and self.blobs.wants(is_blob, device, name)

    def wants_some_blob(self, device: str) -> bool:
        """Whether some BLOB of `device` reaches it (a mode other than Never for the device or
        one of its properties, and interest in it)."""
        if self.simple or not self.interested(device, None):
            return False
        blobs = self.blobs
        return blobs.mode(device, None) is not NEVER or any(
            mode is not NEVER for (named, _), mode in blobs.props.items() if named == device)
