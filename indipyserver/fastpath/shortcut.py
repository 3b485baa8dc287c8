"""The round trip's shortcut: a new or set vector alone in a read, routed from its start tag.

A client's ``newNumberVector`` to its driver and the driver's ``setNumberVector`` back are most
of what an interactive client waits for, and each usually arrives alone in its read. The
general path frames the read (a `Frame`, its attributes decoded, a list), dispatches it in the
router and only then writes. Here the same routing is done from the tag, device and name the
read holds (`fastpath.readclassifier.ReadClassifier`, by the read's shape mostly without a regular expression), and
the write comes first: the `Frame`, the attributes, the client's interest
and the property cache are done after it, while the peer is already at work (work a server
does before a write delays the peer it wakes by all of its time; after it, only when the two
share a CPU).

Once its writes are done the shortcut hands the CPU to the peer they woke (`os.sched_yield`)
before its own bookkeeping; after a new vector, what the driver has answered meanwhile is read
at once (the driver's reader, `DriverPort.reader_now`), not on the event loop's next turn. When it has not answered
yet, the CPU is handed over once more and the pipe read again: in about one trip in twenty the
first read found nothing (most likely the driver, woken on this CPU, still queued behind another
task), and the second read almost always finds the answer. Without it the server slept in
``epoll_wait`` and was woken again: the slow trips that make the p99 (bench/RESULTS.md: the read that would block fell from
~5 % of trips to under 0.5 %, and the p99 by ~1.5 %). A driver that takes longer costs one more
``sched_yield`` and read, then the loop waits as before. Writing to a pipe or
a socket tells Linux the writer will soon sleep (a "sync" wake-up), so the woken driver or
local client is usually queued on this very CPU, where everything the server still does -- the
bookkeeping, asyncio's turn of the loop -- delays it by all of its time. Yielding lets it run
first. A peer on another machine is woken by nothing here: no yield (`fastpath.localpeer`).
Whatever else waits for this CPU may run first too (what the hand-over gains and costs is in
bench/RESULTS.md). Only a read that is one element alone takes the shortcut, so a busy peer
whose messages pile up in the reads is served by the general path, without yielding.

Only what this routes exactly as `router` would is taken, and the decisions are the router's
own rules (``RoutingTables``'s shared rules: `new_target`, and `shortcut_echo` and
`shortcut_set`, which are `new_interest`, `echo_receivers`, `owns`, `snooped`, `logs_message`
and `set_receivers` in one call each, a Python frame being a cost on the trip): nothing is
decided here that the router decides otherwise. What the shortcut adds is only what it leaves to the general path: a read
that is not one whole vector alone (a newline may follow) with ASCII device and name, neither
blank nor repeated later in the tag (`readclassifier`); a client's new vector the router
would drop, check with expat, give to an in-process driver, or refuse (its state's
`may_write`, the router's question too: under ``--acl`` the access rules); a driver's set that a snooping
driver watches or whose message is logged; and any read when a receiver cannot take the write
at once. Those are left before anything is done. ``tests/server/fastpath`` holds the two to
the same outcome, on crafted reads and on the recorded traffic of indilib's drivers and
clients (``tests/data/corpus``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipycore.protocol.frames import Frame
from indipycore.protocol.frames import decode_attrs
from indipycore.protocol.wellformed import xml_error
from indipyserver.fastpath.readclassifier import ReadClassifier
from indipyserver.routing.interests import ClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.tables import RoutingTables

if TYPE_CHECKING:
    from indipyserver.loop.flowcontrol import LoopFlow

__all__ = ["Shortcut"]


def _stay() -> None:
    """Where there is no `os.sched_yield`: carry on."""


#: Gives the CPU to a peer the shortcut's writes have just woken (see the module's doc).
_handoff: Callable[[], None] = getattr(os, "sched_yield", _stay)


def _frame(tag: str, device: str, name: str, rest: bytes, element: bytes) -> Frame:
    attrs = {"device": device, "name": name}
    if rest:
        attrs.update(decode_attrs(rest))
    return Frame(tag, attrs, element)


class Shortcut:
    """`route_new` and `route_set`: True when the read was routed, False (nothing done) when
    it is the general path's. Reads and updates the router's tables as the router would; the
    server hands it to the connections it can apply to (clients, executable drivers and
    remote servers; never in-process drivers, which take no write through)."""

    def __init__(self, tables: RoutingTables) -> None:
        self._tables = tables
        classifier = ReadClassifier()  # what a read holds, by its shape: this server's
        self._alone_new = classifier.alone_new
        self._alone_set = classifier.alone_set
        self._drivers = 0  # connections given the shortcut: a client's write can go to one

    def driver_added(self) -> None:
        """The server gave the shortcut to a driver (an executable driver or a remote server)."""
        self._drivers += 1

    def route_new(self, client: ClientPort, data: bytes, flow: LoopFlow) -> bool:
        """A client's read: a new vector to the driver that owns the device."""
        if not self._drivers:
            return False  # in-process drivers only: they take no write through
        found = self._alone_new(data)
        if found is None:
            return False
        tables = self._tables
        tag, device, name, rest, element, plain = found
        owner = tables.new_target(tag, device, name)
        if owner is None or not owner.takes_writes:
            return False  # dropped by the router, or an in-process driver's: the general path's
        if not (plain or xml_error(element) is None):
            return False  # the router logs a malformed element and drops it
        state = tables.clients.get(client)
        if (state is None or not (state.writes_all or state.may_write(device, name))
                or not owner.write_through(element)):
            return False  # one the access rules refuse: the router refuses it and says so
        # What `Router.client_frames` does besides, after the write.
        tables.unread.sent(device)
        receivers = tables.shortcut_echo(state, tag, device, name, len(element))
        if receivers:
            _deliver(receivers, tag, device, name, rest, element, flow)
        if owner.local:  # an executable driver; a remote server on this machine
            _handoff()
            read = owner.reader_now  # (`owner.read_now`, a call less)
            if read is not None and not read():  # a driver that answers at once has done so...
                _handoff()  # ...unless it was still queued behind another on this CPU
                read()
        return True

    def route_set(self, driver: DriverPort, data: bytes, flow: LoopFlow) -> bool:
        """A driver's read: a set vector to the clients that want it, then into the cache."""
        found = self._alone_set(data)
        if found is None:
            return False
        tag, device, name, rest, element, plain = found
        if not (driver.trusted_xml or plain):
            return False  # the general path checks it with expat, and drops it if malformed
        tables = self._tables
        # Refused (the loop guard), for snoopers too, or its message logged: the general path's.
        receivers = tables.shortcut_set(driver, device, name, rest)
        if receivers is None:
            return False
        # `_deliver`, written out: this is the trip's last step before the client's write.
        frame = None
        woke = False
        try:
            for state in receivers:
                sink = state.sink
                if sink.write_through(element):
                    woke = woke or sink.local
                else:
                    if frame is None:
                        frame = _frame(tag, device, name, rest, element)
                        flow.begin()
                    sink.send_frame(frame)
        finally:
            if frame is not None:
                flow.end()
        if woke:
            _handoff()
        if frame is None:  # `_frame`, written out
            attrs = {"device": device, "name": name}
            if rest:
                attrs.update(decode_attrs(rest))
            frame = Frame(tag, attrs, element)
        tables.cache.update_one(device, name, frame)
        return True


def _deliver(
    receivers: list[ClientState],
    tag: str,
    device: str,
    name: str,
    rest: bytes,
    element: bytes,
    flow: LoopFlow,
) -> tuple[Frame | None, bool]:
    """A client's echo (`Shortcut.route_set` has the same loop inline): `element` written through to each receiver that can take it at
    once, one `Frame` (made at the first that cannot) queued at the others, the loop's flow
    held while it is made and queued. Returns that frame (None when every receiver took the
    write) and whether a client on this machine was written to (and so woken)."""
    frame = None
    woke = False
    try:
        for state in receivers:
            sink = state.sink
            # Written at once if it can take it, else queued there and then (`send_frame`,
            # in a batch flushed at its end), as the router would for that client: in the
            # router's order of clients, not after the others' writes, which
            # ``clients.fallingbehind`` counts when it judges a client that is behind.
            if sink.write_through(element):
                woke = woke or sink.local
            else:
                if frame is None:
                    frame = _frame(tag, device, name, rest, element)
                    flow.begin()
                sink.send_frame(frame)
    finally:
        if frame is not None:
            flow.end()
    return frame, woke

