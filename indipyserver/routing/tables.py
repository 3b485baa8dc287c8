"""The router's tables and delivery from them. No asyncio, no sockets.

`RoutingTables` is what a `router.Router` holds (``router.tables``, and the round trip's
shortcut reads and updates them too, ``fastpath.shortcut``): who owns which device, the
clients' interests and BLOB modes, the snooping drivers, the requests already asked of each
connection and the def/set cache, and delivers from them: an element to the clients and the
snooping drivers that want it, a device-less element to every client, cached defs and sets
replayed to one client or driver, a request for an unknown device asked of each remote at most
once (the loop guard's rule for requests, `router`). What each incoming element means is
decided in `router`.

The rules both the router and the round trip's shortcut (``fastpath.shortcut``) apply are
written here once, in "the shared rules" below: where a client's new vector goes
(`new_target`), the interest it shows (`new_interest`), which other clients get its echo
(`echo_receivers`), whether a driver's set concerns anyone but its clients (`owns`,
`snooped`, `logs_message`) and which clients get it (`set_receivers`). The shortcut decides
nothing of its own: it only leaves to the general path what these rules do not cover.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from indipycore.logbudget import WarningBudget
from indipycore.protocol.framing import Frame
from indipyserver.routing.interests import BlobModes
from indipyserver.routing.interests import ClientState
from indipyserver.routing.pendingcommands import PendingCommands
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.propertycache import PropertyCache
from indipyserver.routing.remoteblobs import RemoteBlobModes
from indipyserver.routing.serverelements import BLOB_TAGS
from indipyserver.routing.serverelements import NEW_TAGS
from indipyserver.routing.serverelements import get_properties_frame
from indipyserver.routing.serverelements import message_frame
from indipyserver.routing.streamblobs import is_stream_blob
from indipyserver.routing.streamblobs import keep_up_with_stream

# Under the router's name: delivery from the tables is part of its decisions.
logger = logging.getLogger("indipyserver.router")

#: Requests for unknown devices remembered per connection (loop guard); past this many the
#: memory is cleared, so a client asking for endless invented names cannot grow it unbounded.
MAX_ASKED = 1024
#: A client's new*Vector larger than this goes to its driver only, not echoed to the other
#: clients (an upload: an image or a file for the driver).
MAX_ECHO_BYTES = 1 << 20


class RoutingTables:
    """Who owns which device, client interests, BLOB modes, snoops and the def/set cache."""

    def __init__(
        self,
        stream_drop_bytes: int = 0,
        message_log: Callable[[dict[str, str], str], None] | None = None,
    ) -> None:
        """`stream_drop_bytes`: a video stream BLOB is not given to a client with more than
        this queued (indiserver's -d; 0: never dropped), see `routing.streamblobs`. `message_log` is
        called with the attributes and device of each element a driver sends that carries a
        message and is routed (indiserver's -l, `drivers.messagelog`)."""
        self.stream_drop_bytes = stream_drop_bytes
        self.message_log = message_log
        self.clients: dict[ClientPort, ClientState] = {}
        self.drivers: dict[DriverPort, None] = {}  # live drivers, in start order
        self.owner: dict[str, DriverPort] = {}
        self.owned: dict[DriverPort, set[str]] = {}
        self.refused: dict[DriverPort, set[str]] = {}
        # device -> {snooping driver: property names, or None for all of them}
        self.snoops: dict[str, dict[DriverPort, set[str] | None]] = {}
        self.snoop_all: dict[DriverPort, None] = {}
        self.driver_blobs: dict[DriverPort, BlobModes] = {}
        # loop guard: requests already made of a connection
        self.asked: dict[object, set[tuple[str, str | None]]] = {}
        # the BLOB modes told to each remote, derived from clients and snooping drivers
        self.remote_blobs = RemoteBlobModes(self.clients, self.driver_blobs)
        self.cache = PropertyCache()
        self.unread = PendingCommands()  # devices whose cache may predate a client's command
        self.client_warnings = WarningBudget()  # about what clients sent: bounded
        self.driver_warnings = WarningBudget()  # about what drivers and remotes sent

    # -- the shared rules: the router's, which the shortcut follows too ------------------

    def new_target(self, tag: str, device: str | None, name: str | None) -> DriverPort | None:
        """The driver a client's element `tag` about `device`.`name` goes to: the device's
        owner. None: the router drops it (not a vector a client may send -- a light is
        read-only --, no device or no name, or a device nothing here serves)."""
        if tag not in NEW_TAGS or not device or not name:
            return None
        return self.owner.get(device)

    def new_interest(self, state: ClientState, device: str | None, name: str | None) -> None:
        """A client that sends a new vector is interested in it from then on (unless it wants
        every device anyway; ``"*"`` marks a chained server)."""
        if not state.all_devices or device == "*":
            state.add_interest(device, name, False)

    def echo_receivers(self, state: ClientState, tag: str, device: str, name: str,
                       size: int) -> list[ClientState]:
        """The other clients that get a copy of client `state`'s new vector (indiserver
        echoes every one, notes 1.5.3): those interested in it, and nobody for one larger
        than `MAX_ECHO_BYTES` (one client's upload must not fill everyone's queue)."""
        if size > MAX_ECHO_BYTES:
            return []
        is_blob = tag in BLOB_TAGS
        return [other for other in self.clients.values()
                if other is not state and other.wants(is_blob, device, name)]

    def owns(self, driver: DriverPort, device: str) -> bool:
        """Whether `driver` owns `device` (the loop guard: it may speak only of its own)."""
        return self.owner.get(device) is driver

    def snooped(self, device: str) -> bool:
        """Whether a snooping driver may want what is said of `device`."""
        return bool(self.snoop_all or self.snoops.get(device))

    def snooped_blob(self, device: str, name: str, source: DriverPort) -> bool:
        """Whether a snooping driver other than `source` takes the BLOBs of `device`.`name`
        (it must have asked with enableBLOB, notes 1.5.6): `to_snoopers`' choice for a BLOB."""
        if not self.snooped(device):
            return False
        targets = [d for d, names in (self.snoops.get(device) or {}).items()
                   if names is None or name in names]
        targets += self.snoop_all
        for driver in targets:
            blobs = self.driver_blobs.get(driver)
            if driver is not source and blobs is not None and blobs.wants(True, device, name):
                return True
        return False

    def takes_attached(self, driver: DriverPort) -> bool:
        """Whether a client that takes BLOBs as memory files (``ClientPort.shares_blobs``: on
        the Unix socket) wants some BLOB of a device `driver` owns: an in-process driver's
        reason to attach its BLOBs rather than encode them (``drivers.inprocess``), and the
        reason to pass a small attached image's memfd on (``blobs.attached``)."""
        owned = self.owned.get(driver)
        if not owned:
            return False
        return any(state.sink.shares_blobs and any(state.wants_some_blob(d) for d in owned)
                   for state in self.clients.values())

    def logs_message(self, has_message: bool) -> bool:
        """Whether an element a driver sends is logged (indiserver's -l): one with a message,
        when the server keeps a log."""
        return has_message and self.message_log is not None

    def set_receivers(self, device: str, name: str) -> list[ClientState]:
        """The clients a driver's set vector (not a BLOB) about `device`.`name` goes to."""
        return [state for state in self.clients.values()
                if state.simple or state.wants(False, device, name)]

    # -- the same rules as the shortcut asks them: one call a read -------------------
    # Each Python call is a frame on the round trip, before the write that wakes the peer
    # (seven of them cost 1.2 us of the server's 7 warm, bench/RESULTS.md): these two are the
    # rules above written out once more, in the shortcut's order. Changing a rule above means
    # changing it here too; tests/server/fastpath holds the shortcut to the router's outcome.

    def shortcut_echo(self, state: ClientState, tag: str, device: str, name: str,
                      size: int) -> list[ClientState]:
        """`new_interest` then `echo_receivers`, for a new vector the shortcut has written to
        its driver (a client alone on the server gets no echo: no list is made)."""
        if not state.all_devices or device == "*":
            state.add_interest(device, name, False)
        clients = self.clients
        if len(clients) == 1 or size > MAX_ECHO_BYTES:
            return []
        is_blob = tag in BLOB_TAGS
        return [other for other in clients.values()
                if other is not state and other.wants(is_blob, device, name)]

    def shortcut_set(self, driver: DriverPort, device: str, name: str,
                     attrs: bytes) -> list[ClientState] | None:
        """`set_receivers` for a driver's set (not a BLOB) that concerns nobody but them:
        `owns`, not `snooped`, not `logs_message` (`attrs`, its other attributes as read, are
        looked at only when the server keeps a log); None when one of those sends it the
        general way."""
        if self.owner.get(device) is not driver or self.snoop_all or self.snoops.get(device):
            return None
        # `find`, not `in`: ``bytes in bytes`` first tries its operand as an integer, and
        # raises and clears a TypeError (a formatted message) each time.
        if self.message_log is not None and attrs.find(b"message") >= 0:
            return None
        receivers = []
        for state in self.clients.values():  # a loop, not a comprehension: no frame (3.11)
            if state.simple or state.wants(False, device, name):
                receivers.append(state)
        return receivers

    # -- replays from the cache, and requests for unknown devices ---------------------

    def replay(
        self, state: ClientState, device: str | None, name: str | None,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> bool:
        """Send cached defs and sets (not of the devices in `skip`) to one client; False when
        nothing matched."""
        entries = self.cache.replay(device, name)
        for dev, name_, replay in entries:
            if dev not in skip and state.wants(False, dev, name_):
                for frame in replay:
                    state.sink.send_frame(frame)
        return bool(entries)

    def ask_remotes(
        self, device: str, name: str | None, who: str, source: DriverPort | None
    ) -> bool:
        """Ask remotes for a device nobody here provides, each at most once per connection;
        False when there is no remote to ask.

        Asking again is never needed: the remote keeps our interest and sends the device when
        it appears. Asking once and never the connection the request came from is what stops
        such a request going round a loop of servers for ever.
        """
        remotes = [
            d
            for d in self.drivers
            if d.is_remote and d is not source and d.device in (None, device)
        ]
        if not remotes:
            logger.debug("getProperties from %s for unknown device %r dropped", who, device)
        for remote in remotes:
            if self.first_ask(remote, device, name):
                remote.send_frame(get_properties_frame(device, name))
        return bool(remotes)

    def first_ask(self, target: object, device: str, name: str | None) -> bool:
        """True the first time (device, name) is asked of `target` (a connection)."""
        asked = self.asked.setdefault(target, set())
        if (device, name) in asked or (device, None) in asked:
            return False
        if len(asked) >= MAX_ASKED:
            asked.clear()
        asked.add((device, name))
        return True

    def replay_to_driver(self, driver: DriverPort, device: str | None, name: str | None) -> None:
        own = self.owned.get(driver, ())
        for dev, _name, replay in self.cache.replay(device, name):
            if dev not in own:
                for frame in replay:
                    driver.send_frame(frame)

    # -- delivery ----------------------------------------------------------------------

    def broadcast(self, frame: Frame, chained: bool = True) -> None:
        """A device-less element to every client (not to a BLOB-only connection).

        With `chained` false, upstream servers (clients that sent device="*") are skipped.
        """
        for state in self.clients.values():
            if not chained and state.chained:
                continue
            if state.simple or not state.blob_only:
                state.sink.send_frame(frame)

    def send_message(self, message: str, timestamp: str | None = None) -> None:
        """A device-less message to every client."""
        self.broadcast(message_frame(message, timestamp))

    def to_clients(self, frame: Frame, device: str, name: str | None) -> None:
        is_blob = frame.tag in BLOB_TAGS
        if is_blob and _state_only(frame.data):
            # No BLOB in it, only the vector's state and message, such as a driver's refusal
            # of a client's newBLOBVector (Alert and why): it goes to every client of the
            # property whatever its BLOB mode, or a client that never enabled BLOBs (most do
            # not) would never learn that its request failed. indiserver drops it for them.
            for state in self.clients.values():
                if state.simple or state.interested(device, name):
                    state.sink.send_frame(frame)
            return
        if is_blob and self.stream_drop_bytes and is_stream_blob(frame.data):
            sinks = [s.sink for s in self.clients.values() if s.wants(True, device, name)]
            for sink in keep_up_with_stream(sinks, self.stream_drop_bytes, device, name):
                sink.send_frame(frame)
            return
        for state in self.clients.values():
            if state.simple:
                if not is_blob:
                    state.sink.send_frame(frame)
            elif state.wants(is_blob, device, name):
                state.sink.send_frame(frame)

    def to_clients_run(self, frames: list[Frame], device: str, name: str) -> None:
        """`to_clients` for consecutive sets (not BLOBs) of one property: each client that
        wants them gets them in one call (``send_frames``)."""
        if len(frames) == 1:
            self.to_clients(frames[0], device, name)
            return
        for state in self.set_receivers(device, name):
            state.sink.send_frames(frames)

    def to_snoopers(
        self, frame: Frame, device: str, name: str | None, source: DriverPort | None
    ) -> None:
        if not self.snooped(device):
            return
        snoopers = self.snoops.get(device)
        is_blob = frame.tag in BLOB_TAGS
        targets: list[DriverPort] = []
        if snoopers:
            for driver, names in snoopers.items():
                if driver is not source and (names is None or name is None or name in names):
                    targets.append(driver)
        for driver in self.snoop_all:
            if driver is not source and driver not in targets:
                targets.append(driver)
        for driver in targets:
            blobs = self.driver_blobs.get(driver)
            # BLOBs only to snoopers that asked with enableBLOB (notes 1.5.6).
            if blobs is None:
                if is_blob:
                    continue
            elif not blobs.wants(is_blob, device, name):
                continue
            driver.send_frame(frame)


def _state_only(data: bytes | memoryview) -> bool:
    """Whether a set/newBLOBVector holds no oneBLOB (it is small then: only the check of a
    small element reads its bytes)."""
    return len(data) < 2048 and b"<oneBLOB" not in bytes(data)
