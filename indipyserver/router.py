"""Pure routing: who receives which element. No asyncio, no sockets.

The router is told about connections and the elements they send (as `Frame`s) and delivers
the original bytes by calling `send_frame(frame)` on clients and `send(data)` on drivers.
It implements indiserver's de-facto rules (INDI notes 1.5) with the improvements of notes 4:
routing instead of broadcasting, per-device/property `enableBLOB` (SPEC p.4, p.8), snooping with
a replay cache (SPEC p.11 allows caching), ping replies, and refusing duplicate device names
(which also stops loops in a chain of servers).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from indipydriver.protocol.enums import BLOBEnable
from indipydriver.protocol.framing import Frame

from .propertycache import PropertyCache

if TYPE_CHECKING:
    from .driverconn import DriverConnection

logger = logging.getLogger(__name__)

_KINDS = ("Text", "Number", "Switch", "Light", "BLOB")
DEF_TAGS = frozenset(f"def{k}Vector" for k in _KINDS)
SET_TAGS = frozenset(f"set{k}Vector" for k in _KINDS)
NEW_TAGS = frozenset(f"new{k}Vector" for k in _KINDS if k != "Light")
BLOB_TAGS = frozenset({"setBLOBVector", "newBLOBVector"})
#: Elements a device sends about itself; the first one naming a device claims it.
DEVICE_TAGS = DEF_TAGS | SET_TAGS | {"message", "delProperty"}

NEVER, ALSO, ONLY = BLOBEnable.NEVER, BLOBEnable.ALSO, BLOBEnable.ONLY


class ClientSink(Protocol):
    """What the router needs of a client connection."""

    label: str

    def send_frame(self, frame: Frame) -> None:
        """Queue one element to the client; never blocks."""


# -- elements the server writes itself --------------------------------------------------


def _escape(text: str) -> str:
    # Only the five named entities: C peers (lilxml) decode nothing else (INDI notes 1.6).
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _element(tag: str, attrs: dict[str, str]) -> Frame:
    text = "".join(f' {k}="{_escape(v)}"' for k, v in attrs.items())
    return Frame(tag, dict(attrs), f"<{tag}{text}/>\n".encode())


def message_frame(message: str, timestamp: str | None = None, device: str | None = None) -> Frame:
    """A `message` element from the server itself."""
    attrs = {"device": device} if device else {}
    attrs["timestamp"] = timestamp or _now()
    attrs["message"] = message
    return _element("message", attrs)


def del_property_frame(device: str) -> Frame:
    """The `delProperty` that tells clients a device went away."""
    return _element("delProperty", {"device": device, "timestamp": _now()})


def get_properties_bytes(device: str | None = None, name: str | None = None) -> bytes:
    """A getProperties for a driver: always version="1.7".

    C drivers exit(1) on a missing or newer version (INDI notes 2.8), so the version is
    rewritten rather than forwarded (a client's version="2.0" must never reach them).
    """
    attrs = {}
    if device:
        attrs["device"] = device
    if name:
        attrs["name"] = name
    attrs["version"] = "1.7"
    return _element("getProperties", attrs).data


def ping_reply(frame: Frame) -> Frame:
    """The same element renamed to pingReply, as indiserver answers (INDI notes 2.7)."""
    data = frame.data
    start = data.find(b"<pingRequest")
    data = data[:start] + b"<pingReply" + data[start + len(b"<pingRequest") :]
    end = data.rfind(b"</pingRequest>")
    if end >= 0:
        data = data[:end] + b"</pingReply>" + data[end + len(b"</pingRequest>") :]
    return Frame("pingReply", dict(frame.attrs), data)


# -- per-connection state ----------------------------------------------------------------


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
        """SPEC p.4: Never = no BLOBs, Also = BLOBs too, Only = nothing but setBLOBVector."""
        mode = self.mode(device, name)
        if is_blob:
            return mode is not NEVER
        return mode is not ONLY


class ClientState:
    """What the router knows of one client: its interests and BLOB modes."""

    __slots__ = ("all_devices", "blobs", "chained", "interests", "simple", "sink")

    def __init__(self, sink: ClientSink) -> None:
        self.sink = sink
        self.all_devices = False
        self.chained = False  # an upstream server that sent getProperties device="*"
        # device -> property names, or None for the whole device (indiserver ClInfo::props)
        self.interests: dict[str, set[str] | None] = {}
        self.blobs = BlobModes()
        self.simple = False  # all devices, default BLOB modes: the fast path

    def _update(self) -> None:
        self.simple = self.all_devices and self.blobs.is_default

    def add_interest(self, device: str | None, name: str | None, getproperties: bool) -> None:
        """INDI notes 1.5 rule 1: a named device narrows; device-less getProperties means all,
        unless a specific interest was shown first; device="*" marks a chained server."""
        if device == "*":
            if not self.interests:
                self.all_devices = self.chained = True
        elif device:
            names = self.interests.get(device, ())
            if names is None:
                pass
            elif not name:
                self.interests[device] = None
            elif names == ():
                self.interests[device] = {name}
            else:
                names.add(name)  # type: ignore[union-attr]
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

    def wants(self, is_blob: bool, device: str, name: str | None) -> bool:
        if self.simple:
            return not is_blob
        return self.interested(device, name) and self.blobs.wants(is_blob, device, name)


class Router:
    """Who owns which device, client interests, BLOB modes, snoops and the def/set cache."""

    def __init__(self) -> None:
        self._clients: dict[ClientSink, ClientState] = {}
        self._drivers: dict[DriverConnection, None] = {}  # live drivers, in start order
        self._owner: dict[str, DriverConnection] = {}
        self._owned: dict[DriverConnection, set[str]] = {}
        self._refused: dict[DriverConnection, set[str]] = {}
        # device -> {snooping driver: property names, or None for all of them}
        self._snoops: dict[str, dict[DriverConnection, set[str] | None]] = {}
        self._snoop_all: dict[DriverConnection, None] = {}
        self._driver_blobs: dict[DriverConnection, BlobModes] = {}
        self._cache = PropertyCache()

    # -- queries (for the server, tests and logs) ----------------------------------------

    @property
    def clients(self) -> list[ClientSink]:
        return list(self._clients)

    @property
    def drivers(self) -> list[DriverConnection]:
        return list(self._drivers)

    def owner(self, device: str) -> DriverConnection | None:
        """The connection that provides `device`, if any."""
        return self._owner.get(device)

    def cached(self, device: str, name: str) -> tuple[Frame | None, Frame | None]:
        """The latest (def, set) kept for a property."""
        return self._cache.get(device, name)

    # -- clients -----------------------------------------------------------------------

    def add_client(self, client: ClientSink) -> None:
        """A client connected; it receives nothing device-specific until it shows interest."""
        self._clients[client] = ClientState(client)

    def client_lost(self, client: ClientSink) -> None:
        """A client disconnected."""
        self._clients.pop(client, None)

    def client_frames(self, client: ClientSink, frames: list[Frame]) -> None:
        """Elements read from a client, handled in order."""
        state = self._clients.get(client)
        if state is None:
            return
        for frame in frames:
            tag = frame.tag
            attrs = frame.attrs
            device = attrs.get("device") or None
            name = attrs.get("name") or None
            if tag in NEW_TAGS:
                state.add_interest(device, name, False)
                self._client_new(state, frame, device, name)
            elif tag == "getProperties":
                state.add_interest(device, name, True)
                self._client_get_properties(state, device, name)
            elif tag == "enableBLOB":
                state.add_interest(device, name, False)
                self._client_enable_blob(state, frame, device, name)
            elif tag == "pingRequest":
                client.send_frame(ping_reply(frame))
            elif tag in SET_TAGS and device:
                # From a chained server below us: only snooping drivers want it (notes 1.5.4).
                self._to_snoopers(frame, device, name, None)
            elif tag == "pingReply":
                pass
            else:
                logger.debug("dropped <%s> from client %s", tag, client.label)

    def _client_new(
        self, state: ClientState, frame: Frame, device: str | None, name: str | None
    ) -> None:
        owner = self._owner.get(device) if device else None
        if owner is None:
            logger.debug("dropped <%s> for unknown device %r", frame.tag, device)
            return
        owner.send(frame.data)
        # indiserver echoes every newXXX to the other interested clients (notes 1.5.3).
        is_blob = frame.tag in BLOB_TAGS
        for other in self._clients.values():
            if other is not state and other.wants(is_blob, device, name):  # type: ignore[arg-type]
                other.sink.send_frame(frame)

    def _client_get_properties(
        self, state: ClientState, device: str | None, name: str | None
    ) -> None:
        if device == "*":
            for driver in self._drivers:
                driver.send(get_properties_bytes("*" if driver.is_remote else None))
            self._replay(state, None, None)
            return
        if device is None:
            # Answered from the cache; only drivers not heard from yet are asked.
            self._replay(state, None, None)
            request = get_properties_bytes()
            for driver in self._drivers:
                if not self._owned.get(driver):
                    driver.send(request)
            return
        owner = self._owner.get(device)
        if owner is None:
            self._ask_remotes(device, name, "client " + state.sink.label)
            return
        if not self._replay(state, device, name):
            owner.send(get_properties_bytes(device, name))

    def _client_enable_blob(
        self, state: ClientState, frame: Frame, device: str | None, name: str | None
    ) -> None:
        mode = _blob_mode(frame)
        if mode is None:
            logger.warning("client %s sent a bad enableBLOB: %r", state.sink.label, frame.data)
            return
        state.blobs.set(device, name, mode)
        state._update()
        # Only chained servers act on enableBLOB; drivers must ignore it (notes 1.5).
        if device:
            owner = self._owner.get(device)
            if owner is not None and owner.is_remote:
                owner.send(frame.data)
        else:
            for driver in self._drivers:
                if driver.is_remote:
                    driver.send(frame.data)

    def _replay(self, state: ClientState, device: str | None, name: str | None) -> bool:
        """Send cached defs and sets to one client; False when nothing matched."""
        entries = self._cache.replay(device, name)
        for dev, name_, replay in entries:
            if state.wants(False, dev, name_):
                for frame in replay:
                    state.sink.send_frame(frame)
        return bool(entries)

    def _ask_remotes(self, device: str, name: str | None, who: str) -> None:
        remotes = [d for d in self._drivers if d.is_remote]
        if not remotes:
            logger.debug("getProperties from %s for unknown device %r dropped", who, device)
        for remote in remotes:
            remote.send(get_properties_bytes(device, name))

    # -- drivers -----------------------------------------------------------------------

    def driver_ready(self, driver: DriverConnection) -> None:
        """A driver (re)started or a remote (re)connected: ask it for its properties.

        The first getProperties names no device, or a C driver would take that device name
        as its own (INDI notes 2.2). A remote is first told we are a chained server
        (device="*", indiserver's own signature) so that it forwards snoop requests to us.
        """
        self._drivers[driver] = None
        self._owned.setdefault(driver, set())
        if driver.is_remote:
            driver.send(get_properties_bytes("*"))
            driver.send(get_properties_bytes())
            # Snoops that nobody local could answer may be for this remote's devices.
            for device, snoopers in self._snoops.items():
                if device not in self._owner and snoopers:
                    driver.send(get_properties_bytes(device))
        else:
            driver.send(get_properties_bytes())

    def driver_lost(self, driver: DriverConnection) -> None:
        """A driver died or a remote disconnected: its devices are deleted for everyone."""
        self._drivers.pop(driver, None)
        for device in sorted(self._owned.pop(driver, ())):
            del self._owner[device]
            self._cache.delete(device)
            frame = del_property_frame(device)
            self._to_clients(frame, device, None)
            self._to_snoopers(frame, device, None, driver)
        self._refused.pop(driver, None)
        self._driver_blobs.pop(driver, None)
        self._snoop_all.pop(driver, None)
        for snoopers in self._snoops.values():
            snoopers.pop(driver, None)

    def driver_frames(self, driver: DriverConnection, frames: list[Frame]) -> None:
        """Elements read from a driver, handled strictly in order.

        In order matters for ping back-pressure: a C driver's pingRequest after a BLOB is
        answered only once that BLOB has been queued for its clients (INDI notes 2.7).
        """
        for frame in frames:
            tag = frame.tag
            if tag in DEVICE_TAGS:
                self._driver_device_element(driver, frame)
            elif tag == "pingRequest":
                driver.send(ping_reply(frame).data)
            elif tag == "getProperties":
                self._snoop(driver, frame.attrs.get("device") or None, frame.attrs.get("name") or None)
            elif tag == "enableBLOB":
                mode = _blob_mode(frame)
                if mode is not None:
                    blobs = self._driver_blobs.setdefault(driver, BlobModes())
                    blobs.set(frame.attrs.get("device"), frame.attrs.get("name"), mode)
            elif tag in NEW_TAGS:
                self._driver_new(driver, frame)
            elif tag == "pingReply":
                pass
            else:
                logger.debug("dropped <%s> from driver %s", tag, driver.label)

    def _driver_device_element(self, driver: DriverConnection, frame: Frame) -> None:
        tag = frame.tag
        attrs = frame.attrs
        device = attrs.get("device")
        if not device:
            if tag == "message":
                self.broadcast(frame)
            else:
                logger.warning("driver %s sent <%s> without device: dropped", driver.label, tag)
            return
        owner = self._owner.get(device)
        if owner is not driver:
            if owner is not None:
                self._refuse(driver, device, owner)
                return
            self._owner[device] = driver
            self._owned.setdefault(driver, set()).add(device)
        name = attrs.get("name") or None
        if name is not None:
            if tag in DEF_TAGS:
                self._cache.define(device, name, frame)
            elif tag in SET_TAGS:
                if tag != "setBLOBVector":  # BLOBs are not kept: stale images, memory
                    self._cache.update(device, name, frame)
            elif tag == "delProperty":
                self._cache.delete(device, name)
        elif tag == "delProperty":
            self._cache.delete(device)
        self._to_clients(frame, device, name)
        self._to_snoopers(frame, device, name, driver)

    def _refuse(self, driver: DriverConnection, device: str, owner: DriverConnection) -> None:
        refused = self._refused.setdefault(driver, set())
        if device in refused:
            return
        refused.add(device)
        text = (
            f"Device {device!r} from {driver.label} refused: it is already provided by "
            f"{owner.label} (duplicate device name, or a loop of chained servers)"
        )
        logger.error(text)
        self.broadcast(message_frame(text))

    def _driver_new(self, driver: DriverConnection, frame: Frame) -> None:
        device = frame.attrs.get("device")
        name = frame.attrs.get("name") or None
        if not device:
            return
        if driver.is_remote:
            # A chained server echoes its other clients' newXXX to us: pass the echo on.
            self._to_clients(frame, device, name)
            return
        owner = self._owner.get(device)
        if owner is not None and owner is not driver:
            owner.send(frame.data)
        else:
            logger.debug("dropped <%s> from driver %s", frame.tag, driver.label)

    def _snoop(self, driver: DriverConnection, device: str | None, name: str | None) -> None:
        """SPEC p.4: a device's getProperties asks for copies of another device's traffic."""
        if device is None:
            # "Snoop all devices", which indiserver never implemented (notes 4.4).
            self._snoop_all[driver] = None
            self._replay_to_driver(driver, None, None)
            return
        if device in self._owned.get(driver, ()):
            return
        snoopers = self._snoops.setdefault(device, {})
        if driver in snoopers:
            names = snoopers[driver]
            if names is not None:
                if name is None:
                    snoopers[driver] = None
                else:
                    names.add(name)
        else:
            snoopers[driver] = None if name is None else {name}
        self._replay_to_driver(driver, device, name)
        owner = self._owner.get(device)
        if owner is not None:
            owner.send(get_properties_bytes(device, name))
            return
        self._ask_remotes(device, name, "driver " + driver.label)
        # ...and upstream servers, as indiserver's q2Servers does.
        for state in self._clients.values():
            if state.chained:
                state.sink.send_frame(_element("getProperties", _gp_attrs(device, name)))

    def _replay_to_driver(self, driver: DriverConnection, device: str | None, name: str | None) -> None:
        own = self._owned.get(driver, ())
        for dev, _name, replay in self._cache.replay(device, name):
            if dev not in own:
                for frame in replay:
                    driver.send(frame.data)

    # -- delivery ----------------------------------------------------------------------

    def broadcast(self, frame: Frame) -> None:
        """A device-less element to every client (not to a BLOB-only connection)."""
        for state in self._clients.values():
            if state.simple or state.blobs.default is not ONLY:
                state.sink.send_frame(frame)

    def send_message(self, message: str, timestamp: str | None = None) -> None:
        """A device-less message to every client."""
        self.broadcast(message_frame(message, timestamp))

    def _to_clients(self, frame: Frame, device: str, name: str | None) -> None:
        is_blob = frame.tag in BLOB_TAGS
        for state in self._clients.values():
            if state.simple:
                if not is_blob:
                    state.sink.send_frame(frame)
            elif state.wants(is_blob, device, name):
                state.sink.send_frame(frame)

    def _to_snoopers(
        self, frame: Frame, device: str, name: str | None, source: DriverConnection | None
    ) -> None:
        snoopers = self._snoops.get(device)
        if not snoopers and not self._snoop_all:
            return
        is_blob = frame.tag in BLOB_TAGS
        targets: list[DriverConnection] = []
        if snoopers:
            for driver, names in snoopers.items():
                if driver is not source and (names is None or name is None or name in names):
                    targets.append(driver)
        for driver in self._snoop_all:
            if driver is not source and driver not in targets:
                targets.append(driver)
        for driver in targets:
            blobs = self._driver_blobs.get(driver)
            # BLOBs only to snoopers that asked with enableBLOB (notes 1.5.6).
            if blobs is None:
                if is_blob:
                    continue
            elif not blobs.wants(is_blob, device, name):
                continue
            driver.send(frame.data)


def _gp_attrs(device: str, name: str | None) -> dict[str, str]:
    attrs = {"device": device}
    if name:
        attrs["name"] = name
    attrs["version"] = "1.7"
    return attrs


def _blob_mode(frame: Frame) -> BLOBEnable | None:
    """The text content of an enableBLOB element (small: parsed here, not by the framer)."""
    data = frame.data
    start = data.find(b">")
    end = data.rfind(b"</")
    if start < 0 or end <= start:
        return None
    try:
        return BLOBEnable(data[start + 1 : end].decode().strip())
    except (UnicodeDecodeError, ValueError):
        return None
