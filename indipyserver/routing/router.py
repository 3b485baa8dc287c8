"""Pure routing: who receives which element. No asyncio, no sockets.

The router is told about connections and the elements they send (as `Frame`s) and delivers
the original bytes by calling `send_frame(frame)` on clients and drivers (an in-process driver
takes the `Frame` itself; the elements the router makes are `Frame`s too, `serverelements`).
It implements indiserver's de-facto rules (INDI notes 1.5) with the improvements of notes 4:
routing instead of broadcasting, per-device/property `enableBLOB` (SPEC p.4, p.8), snooping with
a replay cache (SPEC p.11 allows caching), ping replies, and refusing duplicate device names
(which also stops loops in a chain of servers).

Loop guard (notes 4.3: indiserver has none). Two servers that are each other's remote must not
circulate traffic, and the guard is a set of routing rules, not a filter on repeated bytes:

* ownership: a source may speak only about devices it owns. Anything a driver or remote sends
  about a device owned by another source, or refused for it in this session, is dropped (the
  first refusal is logged and told to clients). An echo coming back round a loop is about a
  device the receiving server already owns, so it stops there. Once the owner is gone, a
  local driver refused its device is asked for it again (a driver restarted while its old
  process still served it); a remote is not.
* requests are never re-broadcast to remotes: a client's ``getProperties device="*"`` or
  device-less ``getProperties`` re-asks only *local* drivers not heard from (a remote was asked
  when it connected and sends us everything since, because we are its chained client); a
  request for an unknown device is asked of each remote (and upstream server) at most once per
  connection and never of the connection it came from.
* a client's ``enableBLOB`` is never passed on: each remote is told, per BLOB property it has
  defined, Also/Never derived from what our clients and snooping drivers want (never a
  client's Only, which would starve the cache), only when it changes, re-derived when one of
  them goes. Those rules live in `routing.remoteblobs`.
* a device-less ``message`` from a remote goes to end-user clients only, not to upstream
  servers (it travels one server hop): nothing ties it to an owner that could stop a loop.

What a client, a peer's driver or a remote sends is passed on as its bytes only when it is
well-formed XML (``routing.admission``): a malformed element is logged and dropped, instead of breaking
the parsers of everyone who would get it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipycore.logbudget import short
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import FrameRun
from indipycore.protocol.wellformed import PlainUpdates
from indipyserver.routing.admission import NOT_PASSED_ON
from indipyserver.routing.admission import PLAIN_TAGS
from indipyserver.routing.admission import client_element_ok
from indipyserver.routing.admission import driver_element_ok
from indipyserver.routing.dropnotices import DropNotices
from indipyserver.routing.interests import BlobModes
from indipyserver.routing.interests import ClientState
from indipyserver.routing.interests import blob_mode
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.serverelements import DEF_TAGS
from indipyserver.routing.serverelements import DEVICE_TAGS
from indipyserver.routing.serverelements import NEW_TAGS
from indipyserver.routing.serverelements import RUN_TAGS
from indipyserver.routing.serverelements import SET_TAGS
from indipyserver.routing.serverelements import cut_short_frame
from indipyserver.routing.serverelements import del_property_frame
from indipyserver.routing.serverelements import get_properties_frame
from indipyserver.routing.serverelements import message_frame
from indipyserver.routing.serverelements import ping_reply
from indipyserver.routing.streamblobs import is_stream_blob
from indipyserver.routing.streamblobs import keep_up_with_stream
from indipyserver.routing.tables import MAX_ECHO_BYTES
from indipyserver.routing.tables import RoutingTables

if TYPE_CHECKING:  # built by the server only for --acl / --audit (`routing.access`)
    from indipyserver.routing.access import AccessRules
    from indipyserver.routing.access import ClientGuard

#: Devices one driver or remote may provide (``_too_many_devices``): an observatory's whole
#: tree has a few hundred.
MAX_DEVICES_PER_SOURCE = 1000
_CROWDED = "\0crowded"  # in a source's refused devices once it passed that (never a name)

logger = logging.getLogger("indipyserver.router")  # the name users' logs know


class Router:
    """Who receives which element: the rules for each element a client or a driver sends.
    The tables they read and the delivery from them are its `RoutingTables` (``tables``), what
    it says when it drops something its `DropNotices`."""

    def __init__(
        self,
        stream_drop_bytes: int = 0,
        message_log: Callable[[dict[str, str], str], None] | None = None,
        guard: ClientGuard | None = None,
    ) -> None:
        """`stream_drop_bytes`: a video stream BLOB is not given to a client with more than
        this queued (indiserver's -d; 0: never dropped), see `routing.streamblobs`.
        `message_log` is called with the attributes and device of each element a driver sends
        that carries a message and is routed (indiserver's -l, `drivers.messagelog`).
        `guard` (``--acl``, ``--audit``): the clients' states and new vectors go through it
        (`routing.access`); without one every client's state is a plain `ClientState`, which
        reads everything it asked for and `may_write` anything."""
        self.tables = RoutingTables(stream_drop_bytes, message_log)
        self.guard = guard
        # this server's driver elements known well-formed, by shape (a bound method: per element)
        self._plain = PlainUpdates().accepts
        self._notices = DropNotices(self.tables.client_warnings, self.tables.driver_warnings)

    # -- queries (for the server, tests and logs) ----------------------------------------

    @property
    def clients(self) -> list[ClientPort]:
        return list(self.tables.clients)

    @property
    def drivers(self) -> list[DriverPort]:
        return list(self.tables.drivers)

    def owner(self, device: str) -> DriverPort | None:
        """The connection that provides `device`, if any."""
        return self.tables.owner.get(device)

    def cached(self, device: str, name: str) -> tuple[Frame | None, Frame | None]:
        """The latest (def, set) kept for a property."""
        return self.tables.cache.get(device, name)

    def broadcast(self, frame: Frame, chained: bool = True) -> None:
        """A device-less element to every client (`RoutingTables.broadcast`)."""
        self.tables.broadcast(frame, chained)

    def send_message(self, message: str, timestamp: str | None = None) -> None:
        """A device-less message to every client."""
        self.tables.send_message(message, timestamp)

    # -- clients -----------------------------------------------------------------------

    def add_client(self, client: ClientPort) -> None:
        """A client connected; it receives nothing device-specific until it shows interest.
        Under a guard its state is the guard's (``routing.access``)."""
        guard = self.guard
        self.tables.clients[client] = (ClientState(client) if guard is None
                                       else guard.state_for(client))

    def set_access(self, rules: AccessRules) -> None:
        """New access rules (SIGHUP), for every client from now on. Each client's view
        follows them at once: a vector it saw and may no longer read is deleted for it
        (``delProperty``), one it may now read and wanted is replayed from the cache."""
        assert self.guard is not None
        states = list(self.tables.clients.values())
        entries = self.tables.cache.replay(None, None)
        saw = [{(d, n) for d, n, _ in entries if s.wants(False, d, n)} for s in states]
        self.guard.set_rules(rules, states)
        for state, before in zip(states, saw, strict=True):
            for device, name, replay in entries:
                now = state.wants(False, device, name)
                if (device, name) in before and not now:
                    state.sink.send_frame(del_property_frame(device, name))
                elif now and (device, name) not in before:
                    for frame in replay:
                        state.sink.send_frame(frame)

    def client_lost(self, client: ClientPort) -> None:
        """A client disconnected."""
        state = self.tables.clients.pop(client, None)
        self._notices.forget(client)
        if state is not None:
            self.tables.asked.pop(state, None)
            self.tables.remote_blobs.recheck()

    def client_frames(self, client: ClientPort, frames: list[Frame]) -> None:
        """Elements read from a client, handled in order."""
        state = self.tables.clients.get(client)
        if state is None:
            return
        for frame in frames:
            tag = frame.tag
            attrs = frame.attrs
            device = attrs.get("device") or None
            name = attrs.get("name") or None
            if tag in NEW_TAGS:
                if not client_element_ok(client.label, frame, self.tables.client_warnings):
                    continue
                self.tables.new_interest(state, device, name)
                self._client_new(state, frame, device, name)
            elif tag == "getProperties":
                state.add_interest(device, name, True)
                self._client_get_properties(state, device, name)
            elif tag == "enableBLOB":
                state.add_interest(device, name, False)
                self._client_enable_blob(state, frame, device, name)
            elif tag == "pingRequest":
                client.send_frame(ping_reply(frame))
            elif tag in DEVICE_TAGS and device:
                # From a chained server below us forwarding what one of our drivers snoops
                # (notes 1.5.4): only snooping drivers want it, and only for a device no source
                # of ours provides -- otherwise it is a stale copy (or a loop's echo) of
                # traffic the snoopers already get from the owner. From a client that is not
                # a chained server and with nobody snooping it reaches nobody: a warning.
                if device not in self.tables.owner:
                    if client_element_ok(client.label, frame, self.tables.client_warnings):
                        if state.chained or self.tables.snoop_all or self.tables.snoops.get(device):
                            self.tables.to_snoopers(frame, device, name, None)
                        else:
                            self._notices.client_sent_drivers_element(state, frame, device)
                else:
                    self._notices.client_spoke_for_owned(
                        state, frame, device, self.tables.owner[device].label)
            elif tag == "pingReply":
                pass  # an answer to a ping: nothing to route (we send clients none)
            else:
                self._notices.client_sent_unknown(state, frame)

    def _client_new(
        self, state: ClientState, frame: Frame, device: str | None, name: str | None
    ) -> None:
        guard = self.guard
        if guard is not None and not guard.allows_new(state, frame, device, name):
            return  # refused (`state.may_write`, the audit trail), the client told why
        owner = self.tables.new_target(frame.tag, device, name)
        if owner is None or not device or not name:
            if not device or device not in self.tables.owner:
                # indiserver drops these without a word; the user whose click did nothing
                # (the device's remote or driver has gone, or the name is wrong) gets a
                # reason here.
                if (note := self.tables.client_warnings.take()) is not None:
                    logger.warning("client %s sent <%s> for device %s, which nothing here "
                                   "serves (its driver or remote gone?): dropped%s",
                                   state.sink.label, frame.tag,
                                   short(device) if device else "''", note)
            elif (note := self.tables.client_warnings.take()) is not None:
                logger.warning("client %s sent <%s> for %s without a name: dropped%s",
                               state.sink.label, frame.tag, short(device), note)
            return
        owner.send_frame(frame)
        self.tables.unread.sent(device)
        if len(frame.data) > MAX_ECHO_BYTES:
            # One client's 140 MB text must not fill every other client's queue past its
            # limit and get them all disconnected as "not reading".
            logger.info("client %s sent a %d-byte <%s> for %s.%s: not echoed to other "
                        "clients, only queued to its driver", state.sink.label, len(frame.data),
                        frame.tag, short(device), short(name))
            return
        for other in self.tables.echo_receivers(state, frame.tag, device, name,
                                                len(frame.data)):
            other.sink.send_frame(frame)

    def _client_get_properties(
        self, state: ClientState, device: str | None, name: str | None
    ) -> None:
        if device is None or device == "*":
            # Answered from the cache. device="*" (an upstream server, now marked chained) is
            # never passed on as device="*": two servers that are each other's remote would
            # bounce it forever. Remotes are not re-asked either: they were asked when they
            # connected and, as their chained client, we get everything they have since.
            # A device whose driver may not have read a command yet is asked of its owner
            # instead, behind the command (`routing.pendingcommands`).
            behind = {dev for dev in self.tables.unread.behind() if dev in self.tables.owner}
            self.tables.replay(state, None, None, behind)
            for dev in sorted(behind):
                self._ask_behind_command(dev, None)
            if device is None:
                self._replay_to_named(state, behind)
            request = get_properties_frame()
            for driver in self.tables.drivers:
                if not driver.is_remote and not self.tables.owned.get(driver):
                    driver.send_frame(request)
            return
        owner = self.tables.owner.get(device)
        if owner is None:
            if (not self.tables.ask_remotes(device, name, "client " + state.sink.label, None)
                    and (note := self.tables.client_warnings.take()) is not None):
                # indiserver says nothing; a typo in indi_getprop's device name (or a driver
                # not started) then looks like a server that never answers.
                known = sorted(self.tables.owner)
                listed = ", ".join(short(d) for d in known[:5]) + (", ..." if len(known) > 5 else "")
                logger.info("client %s asked for device %s, which nothing here serves (devices: "
                            "%s): it gets the device if it appears%s", state.sink.label,
                            short(device), listed or "none", note)
            return
        if self.tables.unread.unread(device):
            self._ask_behind_command(device, name)
        elif not self.tables.replay(state, device, name):
            owner.send_frame(get_properties_frame(device, name))

    def _ask_behind_command(self, device: str, name: str | None) -> None:
        """Pass a getProperties to the owner of `device`, behind the command it may not have
        read yet, as indiserver would: its answer, not the cache, shows what the command did
        (a client's ``indi_setprop`` then ``indi_eval -w``). Its definitions reach every client
        interested in them, the asker among them."""
        self.tables.owner[device].send_frame(get_properties_frame(device, name))
        self.tables.unread.asked(device)

    def _replay_to_named(self, asker: ClientState, skip: set[str]) -> None:
        """A device-less getProperties is answered to the other clients that want named
        devices only, too. indiserver passes it to its drivers, whose definitions reach every
        client interested in them, and an indiserver chaining several of our devices, one
        connection each (``"CCD"@host``, ``"Telescope"@host``), relies on that: it passes its
        own clients' device-less getProperties to one connection per host:port and learns the
        other devices from what its other connections receive meanwhile. Clients that want
        every device asked for themselves and get nothing again."""
        for other in self.tables.clients.values():
            if other is not asker and not other.all_devices and other.interests:
                self.tables.replay(other, None, None, skip)

    def _client_enable_blob(
        self, state: ClientState, frame: Frame, device: str | None, name: str | None
    ) -> None:
        mode = blob_mode(frame)
        if mode is None:
            if (note := self.tables.client_warnings.take()) is not None:
                logger.warning("client %s sent a bad enableBLOB: %s%s", state.sink.label,
                               short(frame.data), note)
            return
        state.enable_blob(device, name, mode)
        # Only chained servers act on enableBLOB; drivers must ignore it (notes 1.5).
        self.tables.remote_blobs.changed(device, name)

    # -- drivers -----------------------------------------------------------------------

    def driver_ready(self, driver: DriverPort) -> None:
        """A driver (re)started or a remote (re)connected: ask it for its properties.

        The first getProperties names no device, or a C driver would take that device name
        as its own (INDI notes 2.2). A remote is asked with device="*", indiserver's own
        signature of a chained server, so that it also forwards snoop requests to us.
        A ``dev@host`` remote is, like indiserver's RemoteDvrInfo, pre-registered as the owner
        of that device and asked only for it (notes 2.2).
        """
        self.tables.drivers[driver] = None
        self.tables.owned.setdefault(driver, set())
        self.tables.refused.pop(driver, None)  # a new session: refusals are per session
        self.tables.asked.pop(driver, None)
        self.tables.remote_blobs.forget(driver)
        pinned = driver.device if driver.is_remote else None
        if pinned:
            owner = self.tables.owner.get(pinned)
            if owner is None:
                self.tables.owner[pinned] = driver
                self.tables.owned[driver].add(pinned)
            elif owner is not driver:
                self._refuse(driver, pinned, owner)
            driver.send_frame(get_properties_frame(pinned))
            self.tables.first_ask(driver, pinned, None)
        elif driver.is_remote:
            # device="*" alone, as indiserver asks: a server answers it with every device,
            # so a device-less one after it made the remote send each definition twice.
            driver.send_frame(get_properties_frame("*"))
            # Snoops that nobody local could answer may be for this remote's devices.
            for device, snoopers in self.tables.snoops.items():
                if device not in self.tables.owner and snoopers and self.tables.first_ask(driver, device, None):
                    driver.send_frame(get_properties_frame(device))
        else:
            driver.send_frame(get_properties_frame())

    def driver_lost(self, driver: DriverPort) -> None:
        """A driver died or a remote disconnected: its devices are deleted for everyone, and
        a local driver refused one of them meanwhile (`_take_back`) is asked for it again."""
        self.tables.drivers.pop(driver, None)
        self.tables.refused.pop(driver, None)
        for device in sorted(self.tables.owned.pop(driver, ())):
            del self.tables.owner[device]
            self.tables.cache.delete(device)
            self.tables.unread.forget(device)
            frame = del_property_frame(device)
            self.tables.to_clients(frame, device, None)
            self.tables.to_snoopers(frame, device, None, driver)
            self._take_back(device)
        self.tables.asked.pop(driver, None)
        self.tables.remote_blobs.forget(driver)
        if self.tables.driver_blobs.pop(driver, None) is not None:
            self.tables.remote_blobs.recheck()  # it may have been the last to snoop a remote's BLOBs
        self.tables.snoop_all.pop(driver, None)
        for snoopers in self.tables.snoops.values():
            snoopers.pop(driver, None)

    def driver_frames(self, driver: DriverPort, frames: list[Frame]) -> None:
        """Elements read from a driver, handled strictly in order.

        In order matters for ping back-pressure: a C driver's pingRequest after a BLOB is
        answered only once that BLOB has been queued for its clients (INDI notes 2.7).
        """
        check = not driver.trusted_xml
        plain = self._plain
        warnings = self.tables.driver_warnings
        owner = self.tables.owner
        # Consecutive sets of one property (a burst) go to each client together, once all
        # are read: `_driver_device_element` does nothing else for a set without a message
        # about a device the driver owns. Anything else first sends the run on, in order.
        run: list[Frame] = []
        run_device = run_name = ""
        for frame in frames:
            tag = frame.tag
            if type(frame) is FrameRun:
                # A burst's elements of one shape, framed together (``protocol.runs``): they
                # join the run as one if the first of them would, else go one by one.
                assert isinstance(frame, FrameRun)
                names = self._whole_run(driver, frame, check)
                if names is None:
                    if run:
                        self._run_done(run, run_device, run_name)
                        run = []
                    self.driver_frames(driver, frame.frames())
                    continue
                if run and names != (run_device, run_name):
                    self._run_done(run, run_device, run_name)
                    run = []
                run.append(frame)
                run_device, run_name = names
                continue
            if (check and tag not in NOT_PASSED_ON
                    and not (tag in PLAIN_TAGS and plain(frame.data))
                    and not driver_element_ok(driver, frame, warnings)):
                continue
            if tag in RUN_TAGS:
                attrs = frame.attrs
                device = attrs.get("device")
                name = attrs.get("name")
                if device and name and "message" not in attrs and owner.get(device) is driver:
                    # (`RoutingTables.owns`, inline: once per element of a burst)
                    if run and (name != run_name or device != run_device):
                        self._run_done(run, run_device, run_name)
                        run = []
                    run.append(frame)
                    run_device = device
                    run_name = name
                    if self.tables.snooped(device):
                        self.tables.to_snoopers(frame, device, name, driver)
                    continue
            if run:
                self._run_done(run, run_device, run_name)
                run = []
            self._driver_element(driver, frame)
        if run:
            self._run_done(run, run_device, run_name)

    def _driver_element(self, driver: DriverPort, frame: Frame) -> None:
        """One element from a driver that is not part of a run (`driver_frames`), checked."""
        tag = frame.tag
        if tag in DEVICE_TAGS:
            self._driver_device_element(driver, frame)
        elif tag == "pingRequest":
            driver.send_frame(ping_reply(frame))
        elif tag == "getProperties":
            self._snoop(driver, frame.attrs.get("device") or None, frame.attrs.get("name") or None)
        elif tag == "enableBLOB":
            mode = blob_mode(frame)
            if mode is not None:
                blobs = self.tables.driver_blobs.setdefault(driver, BlobModes())
                device = frame.attrs.get("device") or None
                name = frame.attrs.get("name") or None
                blobs.set(device, name, mode)
                # a snooped remote device's BLOBs must be asked of its remote
                self.tables.remote_blobs.changed(device, name)
            else:
                self._notices.driver_sent_unknown(driver, frame)
        elif tag in NEW_TAGS:
            self._driver_new(driver, frame)
        elif tag != "pingReply":
            self._notices.driver_sent_unknown(driver, frame)

    def _run_done(self, run: list[Frame], device: str, name: str) -> None:
        """Consecutive sets of one property from its owner (`driver_frames`): into the cache
        and to the clients. Nothing reads the cache between them and the element that ends
        the run, which is handled after this."""
        cached = run
        if any(type(frame) is FrameRun for frame in run):
            # Of a FrameRun the cache needs its newest element and the one before: the others
            # have its members and attributes, each newer one saying all the older did.
            cached = []
            for frame in run:
                if type(frame) is FrameRun:
                    assert isinstance(frame, FrameRun)
                    cached.append(frame.element(-2))
                    cached.append(frame.element(-1))
                else:
                    cached.append(frame)
        self.tables.cache.update_run(device, name, cached)
        self.tables.to_clients_run(run, device, name)

    def _whole_run(self, driver: DriverPort, run: FrameRun,
                   check: bool) -> tuple[str, str] | None:
        """The device and name of a `FrameRun` from `driver` that may go on as one element
        would in `driver_frames`, all of it in one run; None: take its elements one by one.

        Its elements differ only in digits, and none of what is checked here tells digits
        apart (``protocol.runs``; ``wellformed`` for `PlainUpdates`), so its first element
        stands for all. One a snooping driver watches goes one by one: snoopers get elements
        singly."""
        attrs = run.attrs
        device = attrs.get("device")
        name = attrs.get("name")
        if (not device or not name or "message" in attrs
                or self.tables.owner.get(device) is not driver or self.tables.snoop_all):
            return None
        snoopers = self.tables.snoops.get(device)
        if snoopers and any(names is None or name in names for names in snoopers.values()):
            return None
        if check and not self._plain(run.element(0).data):
            return None
        return device, name

    def route_head(self, driver: DriverPort, head: FrameHead) -> list[ClientPort] | None:
        """The clients of an element from `driver` that is still arriving, chosen from its start
        tag alone (cut-through forwarding of BLOBs, `blobs.cutthrough.BlobForwarder`).

        Only a ``setBLOBVector`` about a device `driver` already owns, that no snooping driver
        takes (one that snoops the device but never enabled its BLOBs gets none), can go this way: for it `driver_frames` would do nothing but `to_clients`,
        note its state in the cache (which keeps no BLOB data) and log its message (``-l``),
        done here from the start tag. None means: assemble it and call `driver_frames`.
        """
        if head.tag != "setBLOBVector":
            return None
        attrs = head.attrs
        device = attrs.get("device")
        name = attrs.get("name") or None
        if not device or name is None or not self.tables.owns(driver, device):
            return None
        if self.tables.snooped_blob(device, name, driver):
            return None  # a snooping driver that enabled BLOBs gets it whole
        if self.tables.logs_message("message" in attrs):
            assert self.tables.message_log is not None
            self.tables.message_log(attrs, device)
        clients = [s.sink for s in self.tables.clients.values() if s.wants(True, device, name)]
        if self.tables.stream_drop_bytes and clients and is_stream_blob(head.data):
            clients = keep_up_with_stream(clients, self.tables.stream_drop_bytes, device, name)
        self.tables.cache.update_blob(device, name, attrs)
        return clients

    def takes_attached(self, driver: DriverPort) -> bool:
        """Whether a client on the Unix socket would take a BLOB of `driver`'s devices as a
        memory file now (`RoutingTables.takes_attached`)."""
        return self.tables.takes_attached(driver)

    def stream_cut_short(self, driver: DriverPort, head: FrameHead) -> None:
        """A BLOB vector that was streaming from `driver` ended before its end (the driver
        died, stalled or sent something broken): the clients that want its BLOBs are sent its
        state as Alert with a message, and the cache keeps that state. Those that got its
        pieces hold a truncated image whose end looks like any other."""
        attrs = head.attrs
        device = attrs.get("device")
        name = attrs.get("name")
        if not device or not name or self.tables.owner.get(device) is not driver:
            return
        frame = cut_short_frame(device, name, f"{name} was cut short on its way from "
                                              f"{driver.label}: discard that image")
        self.tables.cache.update_blob(device, name, frame.attrs)
        for state in self.tables.clients.values():
            if state.wants(True, device, name):
                state.sink.send_frame(frame)

    def _driver_device_element(self, driver: DriverPort, frame: Frame) -> None:
        tag = frame.tag
        attrs = frame.attrs
        device = attrs.get("device")
        if not device:
            if tag != "message":
                if (note := self.tables.driver_warnings.take()) is not None:  # may come with each set
                    logger.warning("driver %s sent <%s> without device: dropped%s",
                                   driver.label, tag, note)
                return
            if self.tables.message_log is not None:
                self.tables.message_log(attrs, "")
            if driver.is_remote:
                # Nothing ties a device-less message to an owner, so from a remote it goes to
                # end-user clients only: passed up to a chained server it could come back
                # round a loop (and our own refusal notices are device-less messages).
                self.tables.broadcast(frame, chained=False)
            else:
                self.tables.broadcast(frame)
            return
        owner = self.tables.owner.get(device)
        if owner is not driver:
            if owner is not None or device in self.tables.refused.get(driver, ()):
                # Loop guard: a source speaks only about its own devices (module docstring).
                self._refuse(driver, device, owner)
                return
            if tag == "delProperty":
                logger.debug("dropped <delProperty> for unowned %r from %s", device, driver.label)
                return
            owned = self.tables.owned.setdefault(driver, set())
            if len(owned) >= MAX_DEVICES_PER_SOURCE:
                self._too_many_devices(driver, device)
                return
            self.tables.owner[device] = driver
            owned.add(device)
        if self.tables.logs_message("message" in attrs):
            assert self.tables.message_log is not None
            self.tables.message_log(attrs, device)
        name = attrs.get("name") or None
        freed = False
        if name is not None:
            if tag in DEF_TAGS:
                self.tables.cache.define(device, name, frame)
                self.tables.unread.defined(device)
                if tag == "defBLOBVector" and driver.is_remote:
                    self.tables.remote_blobs.defined(driver, device, name)  # asked for at once if wanted
            elif tag in SET_TAGS:
                if tag != "setBLOBVector":
                    self.tables.cache.update(device, name, frame)
                else:  # the data is not kept (stale images, memory); the state is
                    self.tables.cache.update_blob(device, name, attrs)
            elif tag == "delProperty":
                self.tables.cache.delete(device, name)
                if driver.is_remote:
                    self.tables.remote_blobs.deleted(driver, device, name)
        elif tag == "delProperty":
            self.tables.cache.delete(device)
            self.tables.unread.forget(device)
            if driver.is_remote:
                self.tables.remote_blobs.deleted(driver, device, None)
            # The whole device is gone: free the name, so that after a loss the real owner
            # can take it back from a copy that came round a loop, and another source may
            # provide it. (A pinned dev@host remote keeps its device.)
            if driver.device != device:
                del self.tables.owner[device]
                self.tables.owned[driver].discard(device)
                freed = True
        self.tables.to_clients(frame, device, name)
        if self.tables.snooped(device):
            self.tables.to_snoopers(frame, device, name, driver)
        if freed:  # after the deletion went out, so the definitions asked for follow it
            self._take_back(device)

    def _too_many_devices(self, driver: DriverPort, device: str) -> None:
        """A source that names ever new devices (a bug, or an attack) must not grow the
        server's tables without bound: past MAX_DEVICES_PER_SOURCE its new devices are
        dropped, logged once per session of that source."""
        refused = self.tables.refused.setdefault(driver, set())
        if _CROWDED not in refused:
            refused.add(_CROWDED)
            logger.error("%s provides more than %d devices: %s and any other new one are "
                         "dropped", driver.label, MAX_DEVICES_PER_SOURCE, short(device))
        if len(refused) <= MAX_DEVICES_PER_SOURCE:
            refused.add(device)  # its later elements are dropped quietly (`_refuse`)

    def _take_back(self, device: str) -> None:
        """`device`'s owner is gone: each local driver refused it this session is asked for it
        again and may now provide it. A driver started again while its old process still
        served the device (a FIFO ``stop`` and ``start``, indiweb's restart) defined it before
        the old one was gone, and was refused for the whole session: its device never came
        back. A remote is not asked: what it says of the device came round a loop from the
        owner just lost, and its deletion is on the way."""
        for other, refused in self.tables.refused.items():
            if device in refused and not other.is_remote:
                refused.discard(device)
                logger.info("Device %r: asking %s, refused it while another provided it",
                            device, other.label)
                other.send_frame(get_properties_frame(device))

    def _refuse(
        self, driver: DriverPort, device: str, owner: DriverPort | None
    ) -> None:
        """Drop what `driver` says about `device`; the first time, log it and tell clients."""
        refused = self.tables.refused.setdefault(driver, set())
        if device in refused:
            logger.debug("dropped element for refused device %r from %s", device, driver.label)
            return
        refused.add(device)
        by = owner.label if owner is not None else "another source"
        text = (
            f"Device {device!r} from {driver.label} refused: it is already provided by "
            f"{by} (duplicate device name, or a loop of chained servers)"
        )
        logger.error(text)
        self.tables.broadcast(message_frame(text))

    def _driver_new(self, driver: DriverPort, frame: Frame) -> None:
        device = frame.attrs.get("device")
        name = frame.attrs.get("name") or None
        owner = self.tables.owner.get(device) if device else None
        if driver.is_remote:
            # A chained server echoes its other clients' new*Vector to us (notes 1.5.3): pass it on
            # only for a device that remote provides. An echo of a new*Vector for a device owned by
            # anyone else (ours, seen by the remote through a loop) stops here. Routine with
            # every command in a two-way chain, and the command reached its driver the other
            # way: debug only.
            if device and owner is driver:
                self.tables.to_clients(frame, device, name)
            else:
                logger.debug(
                    "dropped <%s> for %r from %s: not its device", frame.tag, device, driver.label
                )
            return
        if device and owner is not None and owner is not driver:
            owner.send_frame(frame)
            self.tables.unread.sent(device)
            return
        self._notices.driver_command_dropped(driver, frame, device, owner)

    def _snoop(self, driver: DriverPort, device: str | None, name: str | None) -> None:
        """SPEC p.4: a device's getProperties asks for copies of another device's traffic."""
        if device is None:
            # "Snoop all devices", which indiserver never implemented (notes 4.4).
            self.tables.snoop_all[driver] = None
            self.tables.replay_to_driver(driver, None, None)
            return
        if device in self.tables.owned.get(driver, ()):
            return
        snoopers = self.tables.snoops.setdefault(device, {})
        if driver in snoopers:
            names = snoopers[driver]
            if names is not None:
                if name is None:
                    snoopers[driver] = None
                else:
                    names.add(name)
        else:
            snoopers[driver] = None if name is None else {name}
        self.tables.replay_to_driver(driver, device, name)
        owner = self.tables.owner.get(device)
        if owner is not None:
            # Asked of the owner only if the cache could not answer in full (a set with no
            # definition, a device past the cache's bound): its answer goes to every client
            # of the device too, so a snooper repeating its request (it heard nothing for a
            # while, or the property it watched was deleted) made every client get all the
            # device's definitions again.
            if not self.tables.cache.answers(device, name):
                owner.send_frame(get_properties_frame(device, name))
            return
        # A remote's getProperties is its own driver's snoop passed up to us: it is not sent
        # back to that remote, and each connection is asked once (loop guard).
        self.tables.ask_remotes(device, name, "driver " + driver.label, driver)
        # ...and upstream servers, as indiserver's q2Servers does.
        for state in self.tables.clients.values():
            if state.chained and self.tables.first_ask(state, device, name):
                state.sink.send_frame(get_properties_frame(device, name))
