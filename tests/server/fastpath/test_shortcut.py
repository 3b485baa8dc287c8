"""The round trip's shortcut (indipyserver.fastpath.shortcut) routes exactly as the general path.

A read that is one new or set vector is routed from its start tag and written before it is
framed. Whatever it takes, every receiver must get the same bytes, the cache must hold the
same, and ownership must end the same as if the router had been given the framed element;
whatever it does not take (snoopers, logged messages, unowned or non-ASCII devices, several
elements, a paused receiver...) must reach the general path untouched. Each test runs the same
reads through two servers' objects, one with the shortcut and one without, and compares.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import corpus
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from serverkit import PausableReadTransport
from serverkit import Recorder
from waiting import until

from indipycore.logbudget import WarningBudget
from indipycore.protocol.errors import ProtocolError
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.clients import clientconnection as clients
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.fastpath import shortcut as lanes
from indipyserver.fastpath.shortcut import Shortcut
from indipyserver.routing.router import Router

DEFS = (
    b'<defNumberVector device="D" name="N" state="Idle" perm="rw"><defNumber name="v" '
    b'format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>\n'
    b'<defSwitchVector device="D" name="S" state="Idle" perm="rw" rule="AnyOfMany">'
    b'<defSwitch name="s">Off</defSwitch></defSwitchVector>\n'
    b'<defTextVector device="D" name="T" state="Idle" perm="rw"><defText name="t">x'
    b"</defText></defTextVector>\n"
    b'<defLightVector device="D" name="L" state="Idle"><defLight name="l">Idle</defLight>'
    b"</defLightVector>\n"
)

#: What clients send: (source, bytes of one read).
CLIENT_READS = [
    b'<newNumberVector device="D" name="N"><oneNumber name="v">1</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N"><oneNumber name="v">2</oneNumber></newNumberVector>',
    b'<newSwitchVector device="D" name="S"><oneSwitch name="s">On</oneSwitch></newSwitchVector>\n',
    b'<newTextVector device=" D " name=" T " timestamp="2026-01-01T00:00:00">'
    b'<oneText name="t">a &amp; b</oneText></newTextVector>\n',
    b'<newNumberVector device="Nobody" name="N"><oneNumber name="v">3</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D\xc3\xa9" name="N"><oneNumber name="v">4</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N"><oneNumber name="v">5</oneNumber></newNumberVector>\n'
    b'<newNumberVector device="D" name="N"><oneNumber name="v">6</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N"><oneNumber name="v">7</oneNumber></newNumberVector> x',
    # 8-: what the general path reads differently from the start tag's first two attributes
    b'<newNumberVector device="D" name=" "><oneNumber name="v">8</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name=""><oneNumber name="v">9</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N" device="E"><oneNumber name="v">10</oneNumber>'
    b"</newNumberVector>\n",
    b'<newSwitchVector device="D" name="N" name="S"><oneSwitch name="s">Off</oneSwitch>'
    b"</newSwitchVector>\n",
    b'<newNumberVector device="*" name="N"><oneNumber name="v">12</oneNumber></newNumberVector>\n',
    # 13-: forms the shortcut must leave, or take exactly as the general path
    b'<newNumberVector name="N" device="D"><oneNumber name="v">13</oneNumber></newNumberVector>\n',
    b"<newNumberVector device='D' name='N'><oneNumber name='v'>14</oneNumber></newNumberVector>\n",
    b'<newNumberVector device="D" name="N" timestamp=\'2026-01-01T00:00:00\'>'
    b'<oneNumber name="v">15</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="" name="N"><oneNumber name="v">16</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N"><oneNumber name="v">17</oneNumber></newNumberVector>\r\n',
    b'<newNumberVector device="D" name="N"><oneNumber name="v">18</oneNumber></newNumberVector>'
    b'<newNumberVector device="D" name="N"><oneNu',
    b'mber name="v">18</oneNumber></newNumberVector>\n',
    b'<newNumberVector device="D" name="N" ><oneNumber name="v">20</oneNumber></newNumberVector >',
    b'<newNumberVector device="D" name="N\xe9"><oneNumber name="v">21</oneNumber></newNumberVector>',
    b'<newNumberVector device="D" name="N" message="\xe9"><oneNumber name="v">22</oneNumber>'
    b"</newNumberVector>",
    b'<newLightVector device="D" name="L"><oneLight name="l">Ok</oneLight></newLightVector>\n',
    b'<newTextVector\n  device="D"\n  name="T"\n  ><oneText name="t">24</oneText></newTextVector>\n',
]

#: What the driver sends.
DRIVER_READS = [
    b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">1</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="N" state="Busy" timeout="3" message="moving">'
    b'<oneNumber name="v">2</oneNumber></setNumberVector>\n',
    b'<setSwitchVector device="D" name="S" state="Ok"><oneSwitch name="s">On</oneSwitch>'
    b"</setSwitchVector>",
    b'<setTextVector device=" D " name="T" message="a &lt; b"><oneText name="t">y</oneText>'
    b"</setTextVector>\n",
    b'<setLightVector device="D" name="L" state="Alert"><oneLight name="l">Alert</oneLight>'
    b"</setLightVector>\n",
    b'<setNumberVector device="E" name="N" state="Ok"><oneNumber name="v">9</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="N"><oneNumber name="v">3</oneNumber></setNumberVector>\n'
    b'<setNumberVector device="D" name="N"><oneNumber name="v">4</oneNumber></setNumberVector>\n',
    b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">5</oneNumber>',
    b"</setNumberVector>\n",
    # 9-: what the general path reads differently from the start tag's first two attributes
    b'<setNumberVector device="D" name=" " state="Ok"><oneNumber name="v">6</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="" state="Ok"><oneNumber name="v">7</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="N" device="E" state="Ok"><oneNumber name="v">8</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="S" name="N" state="Ok"><oneNumber name="v">9</oneNumber>'
    b"</setNumberVector>\n",
    b'<defNumberVector device="*" name="N" state="Idle" perm="rw"><defNumber name="v" '
    b'format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>\n',
    b'<setNumberVector device="*" name="N" state="Ok"><oneNumber name="v">10</oneNumber>'
    b"</setNumberVector>\n",
    # 15-: forms the shortcut must leave, or take exactly as the general path
    b'<setNumberVector name="N" device="D" state="Ok"><oneNumber name="v">11</oneNumber>'
    b"</setNumberVector>\n",
    b"<setNumberVector device='D' name='N' state='Ok'><oneNumber name='v'>12</oneNumber>"
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="N" state=\'Busy\'><oneNumber name="v">13</oneNumber>'
    b"</setNumberVector>\r\n",
    b'<setNumberVector device="D" name="N" message="m\xe9"><oneNumber name="v">14</oneNumber>'
    b"</setNumberVector>\n",
    b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">15</oneNumber>'
    b'</setNumberVector><setNumberVector device="D"',
    b' name="N" state="Ok"><oneNumber name="v">16</oneNumber></setNumberVector>\n',
    b'<setBLOBVector device="D" name="N" state="Ok"></setBLOBVector>\n',
    b'<setSwitchVector device="D" name="S" timestamp="2026-01-01T00:00:01" state="Ok" '
    b'timeout="0"><oneSwitch name="s">Off</oneSwitch></setSwitchVector>',
    b'<delProperty device="D" name="N"/>\n',
    # A set vector alone in its read, its member closed by the wrong tag (dropped as malformed).
    b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">1</oneText>'
    b"</setNumberVector>\n",
]
MALFORMED_SET = len(DRIVER_READS) - 1

#: What each client asked for when it connected.
INTERESTS = [
    b'<getProperties version="1.7"/>\n',
    b'<getProperties version="1.7" device="D" name="N"/>\n',
    b'<getProperties version="1.7" device="E"/>\n',
    # 3-: chained servers, BLOB modes, narrower interests
    b'<getProperties version="1.7" device="*"/>\n',
    b'<getProperties version="1.7"/><enableBLOB>Only</enableBLOB>\n',
    b'<getProperties version="1.7"/><enableBLOB device="D">Only</enableBLOB>\n',
    b'<getProperties version="1.7"/><enableBLOB device="D" name="N">Also</enableBLOB>\n',
    b'<getProperties version="1.7" device="D"/><enableBLOB device="D">Never</enableBLOB>\n',
    b'<getProperties version="1.7" device="D" name="S"/>\n',
    b'<getProperties version="1.7" device="*"/><enableBLOB>Also</enableBLOB>\n',
    b"",
]


def _shortcut(router: Router) -> Shortcut:
    """The shortcut as the server hands it to clients and to a driver that reads a peer."""
    shortcut = Shortcut(router.tables)
    shortcut.driver_added()
    return shortcut


class Driver(DriverConnection):
    async def run(self, router: Router) -> None:  # fed directly by the tests
        raise NotImplementedError


class Rig:
    """A router, one executable-driver-like connection and some clients, fed directly."""

    def __init__(
        self,
        shortcut: bool,
        interests: list[int | bytes],
        *,
        defs: bytes = DEFS,
        snooper: bool = False,
        message_log: bool = False,
        paused: int | None = None,
        slow: int | None = None,
        congested: int | None = None,
        eof: int | None = None,
        closing: int | None = None,
        max_queue_bytes: int | None = None,
        driver_paused: bool = False,
        driver_queue: int | None = None,
        star: bool = False,
        remote: bool = False,
    ) -> None:
        self.logged: list[tuple[dict[str, str], str]] = []
        self.router = Router(
            message_log=(lambda attrs, device: self.logged.append((attrs, device)))
            if message_log
            else None
        )
        self.taken = 0
        self.driver = Driver("d", is_remote=remote)
        if driver_queue is not None:
            self.driver.max_queue_bytes = driver_queue
        self.to_driver = Recorder()
        self.driver.attach_writer(self.to_driver)
        self.inbound = InboundProtocol(
            partial(self.router.driver_frames, self.driver), "d",
            BlobForwarder(self.router, self.driver),
        )
        if shortcut:  # a remote server's reads have it too (remote.py)
            self.inbound.shortcut_route = self._counted(partial(_shortcut(self.router).route_set, self.driver))
        self.inbound.connection_made(Recorder())
        self.router.driver_ready(self.driver)
        self.inbound.start()
        if defs:
            self.inbound.data_received(defs)
        if star:
            self.inbound.data_received(DRIVER_READS[13])  # the driver owns device "*"
        if snooper:
            other = Driver("snooper")
            other.attach_writer(Recorder())
            self.router.driver_ready(other)
            self.router.driver_frames(other, _frames(b'<getProperties version="1.7" device="D"/>'))
        self.clients: list[ClientConnection] = []
        self.to_client: list[Recorder] = []
        options = {} if max_queue_bytes is None else {"max_queue_bytes": max_queue_bytes}
        for i in interests:
            client = ClientConnection(self.router, set(), **options)  # type: ignore[arg-type]
            client._shortcut_route = self._counted(_shortcut(self.router).route_new) if shortcut else None
            transport = Recorder()
            client.connection_made(transport)
            asked = INTERESTS[i] if isinstance(i, int) else i
            if asked:
                client.data_received(asked)
            self.clients.append(client)
            self.to_client.append(transport)
        n = len(self.clients)
        if paused is not None and paused < n:
            self.clients[paused].pause_writing()
        if slow is not None and slow < n:
            self.clients[slow].slow = True
        if congested is not None and congested < n:
            self.clients[congested].congested = True
        if eof is not None and eof < n:
            self.clients[eof].eof_received()
        if closing is not None and closing < n:
            self.clients[closing].close()
        if driver_paused:
            self.driver.writer_paused(True)
        for t in [self.to_driver, *self.to_client]:
            t.writes.clear()

    def _counted(self, lane):  # type: ignore[no-untyped-def]
        def counted(*args):  # type: ignore[no-untyped-def]
            taken = lane(*args)
            self.taken += taken
            return taken
        return counted

    def feed(self, reads: list[tuple[str, int | bytes, int]]) -> None:
        """Each read: from a client (the `client`th) or the driver; `which` indexes
        CLIENT_READS or DRIVER_READS, or is the read's bytes."""
        for source, which, client in reads:
            if source == "client" and self.clients:
                data = CLIENT_READS[which] if isinstance(which, int) else which
                self.clients[client % len(self.clients)].data_received(data)
            elif source == "driver":
                self.inbound.data_received(DRIVER_READS[which] if isinstance(which, int)
                                           else which)

    def outcome(self) -> object:
        router = self.router
        cache = [
            (dev, name, [f.data for f in frames])
            for dev, name, frames in router.tables.cache.replay(None, None)
        ]
        states = []
        for client in self.clients:
            state = router.tables.clients.get(client)
            states.append(
                None
                if state is None
                else (
                    state.all_devices, state.chained, state.simple, state.interests,
                    state.blobs.default, state.blobs.devices, state.blobs.props,
                )
            )
        return (
            b"".join(self.to_driver.writes),
            [b"".join(t.writes) + bytes(c._queue.take(1 << 30)) for t, c in
             zip(self.to_client, self.clients)],
            cache,
            sorted(router.tables.owner),
            {d.label: sorted(v) for d, v in router.tables.refused.items()},
            self.logged,
            states,
            [(c._bad, c._framer.offset, c.slow, c.congested, c._closing, c.dropped)
             for c in self.clients],
            (self.inbound._framer.offset, self.driver._pending, self.driver._dropped),
            # commands the driver may not have read (a getProperties then goes to it)
            {d: (e.sent, e.read, list(e.fences)) for d, e in router.tables.unread._devices.items()},
        )


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _logged(action) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    """What `action()` logs, every level."""
    handler = _Records()
    top = logging.getLogger("indipyserver")
    level = top.level
    top.addHandler(handler)
    top.setLevel(logging.DEBUG)
    try:
        action()
    finally:
        top.removeHandler(handler)
        top.setLevel(level)
    return handler.records


def _frames(data: bytes):  # type: ignore[no-untyped-def]
    from indipycore.protocol.framing import Framer

    return Framer().feed(data)


def both(reads: list[tuple[str, int | bytes, int]], interests: list[int | bytes],
         **options: object) -> int:
    """Feed `reads` to a rig with the shortcut and one without; assert the same outcome and
    return how many reads the shortcut took."""

    async def run() -> int:
        with_lanes = Rig(True, interests, **options)  # type: ignore[arg-type]
        without = Rig(False, interests, **options)  # type: ignore[arg-type]
        clients._malformed_warnings = WarningBudget()  # shared by all clients: one per rig
        logs = _logged(lambda: with_lanes.feed(reads))
        clients._malformed_warnings = WarningBudget()
        assert logs == _logged(lambda: without.feed(reads))
        await asyncio.sleep(0)  # flushes scheduled outside a batch
        assert with_lanes.outcome() == without.outcome()
        assert without.taken == 0
        return with_lanes.taken

    return asyncio.run(run())


def test_a_round_trip_is_taken_by_the_shortcut_and_routed_the_same() -> None:
    taken = both([("client", 0, 0), ("driver", 0, 0), ("client", 2, 0), ("driver", 2, 0)], [0, 1])
    assert taken == 4


def test_attributes_spaces_and_entities_are_routed_and_cached_the_same() -> None:
    reads = [("client", 3, 0), ("driver", 1, 0), ("driver", 3, 0), ("driver", 4, 0)]
    assert both(reads, [0, 1, 2]) == 4


def test_what_the_shortcut_leaves_reaches_the_general_path() -> None:
    # An unowned device, a non-ASCII device, two elements in a read, text after the element,
    # a set about a device the driver has not defined (it becomes its owner), a split element.
    reads = [("client", 4, 0), ("client", 5, 0), ("client", 6, 0), ("client", 7, 0),
             ("driver", 5, 0), ("driver", 6, 0), ("driver", 7, 0), ("driver", 8, 0)]
    assert both(reads, [0, 2]) == 0


def test_snoopers_and_logged_messages_are_left_to_the_general_path() -> None:
    assert both([("driver", 0, 0)], [0], snooper=True) == 0
    assert both([("driver", 1, 0)], [0], message_log=True) == 0
    assert both([("driver", 0, 0)], [0], message_log=True) == 1  # no message: taken


def test_a_paused_client_gets_the_element_queued_and_the_others_at_once() -> None:
    assert both([("driver", 0, 0), ("client", 0, 1), ("driver", 1, 0)], [0, 1], paused=0) == 3


#: Up to 12 reads, each a client's (which of 3 clients) or the driver's.
_READS = st.lists(
    st.one_of(
        st.tuples(st.just("client"), st.integers(0, len(CLIENT_READS) - 1), st.integers(0, 2)),
        st.tuples(st.just("driver"), st.integers(0, len(DRIVER_READS) - 1), st.just(0)),
    ),
    max_size=12,
)


@settings(max_examples=150)
@given(
    reads=_READS,
    interests=st.lists(st.integers(0, len(INTERESTS) - 1), min_size=0, max_size=3),
    snooper=st.booleans(),
    message_log=st.booleans(),
    paused=st.one_of(st.none(), st.integers(0, 2)),
)
def test_any_sequence_of_reads_routes_the_same_with_and_without_the_shortcut(
    reads: list[tuple[str, int, int]],
    interests: list[int],
    snooper: bool,
    message_log: bool,
    paused: int | None,
) -> None:
    both(reads, interests, snooper=snooper, message_log=message_log, paused=paused)


_CLIENT = st.one_of(st.none(), st.integers(0, 2))


@settings(max_examples=150)
@given(
    reads=_READS,
    interests=st.lists(st.integers(0, len(INTERESTS) - 1), min_size=1, max_size=3),
    paused=_CLIENT,
    slow=_CLIENT,
    congested=_CLIENT,
    eof=_CLIENT,
    closing=_CLIENT,
    max_queue_bytes=st.sampled_from([None, 1 << 20, 300_000]),
    driver_paused=st.booleans(),
    driver_queue=st.sampled_from([None, 100, 1000]),
    star=st.booleans(),
    remote=st.booleans(),
)
def test_clients_and_drivers_in_any_state_get_the_same_with_and_without_the_shortcut(
    reads: list[tuple[str, int, int]],
    interests: list[int],
    paused: int | None,
    slow: int | None,
    congested: int | None,
    eof: int | None,
    closing: int | None,
    max_queue_bytes: int | None,
    driver_paused: bool,
    driver_queue: int | None,
    star: bool,
    remote: bool,
) -> None:
    both(reads, interests, paused=paused, slow=slow, congested=congested, eof=eof,
         closing=closing, max_queue_bytes=max_queue_bytes, driver_paused=driver_paused,
         driver_queue=driver_queue, star=star, remote=remote)


def test_a_blank_or_empty_name_is_no_name_as_the_general_path_reads_it() -> None:
    # The router reads ``name=" "`` and ``name=""`` as no name: a set is not cached, and is
    # for anyone interested in part of the device; a new is echoed to such a client.
    for which in (9, 10):
        both([("driver", which, 0)], [0, 1, 8])
    for which in (8, 9):
        both([("client", which, 0)], [0, 1, 8])


def test_a_repeated_device_or_name_attribute_is_read_as_the_general_path_reads_it() -> None:
    # The framer keeps the last of a repeated attribute: the router routes by that one.
    both([("client", 10, 0)], [0, 1, 2])
    both([("client", 11, 0)], [0, 1, 8])
    both([("driver", 11, 0)], [0, 1, 2])
    both([("driver", 12, 0)], [0, 1, 8])


def test_a_new_vector_for_a_device_named_star_marks_the_client_chained_as_the_router_does() -> None:
    both([("client", 12, 0)], [0, 3], star=True)
    both([("client", 12, 0), ("driver", 14, 0)], [0, 1], star=True)


def test_a_new_vector_to_a_remote_servers_device_is_routed_the_same() -> None:
    # A remote owner is written to as a driver is (DriverConnection.write_through), and a set
    # vector alone in its read goes to the clients by the shortcut too.
    assert both([("client", 0, 0), ("driver", 0, 0), ("client", 2, 1)], [0, 3], remote=True) == 3


def test_a_new_light_vector_from_a_client_is_dropped_as_the_router_drops_it() -> None:
    # Lights are read-only: the router has no newLightVector (routing.serverelements.NEW_TAGS).
    assert both([("client", 23, 0)], [0, 1]) == 0


@pytest.mark.parametrize("late", [False, True], ids=["streaming", "late"])
def test_a_set_vector_cannot_overtake_a_shared_blob_being_converted(late: bool) -> None:
    # A shared-BLOB driver's reader has the shortcut too (exdriver). While AttachedBlobs
    # converts a large attached BLOB over several loop iterations, a client that streams it
    # gets whatever is routed meanwhile behind it, so the reader goes on and the shortcut may
    # take the driver's next set vector at once: it is queued behind the BLOB. A late client
    # (slow: given the BLOB whole at its end) would see it overtake, so the reader is held
    # and the set vector is read only after the BLOB has gone out.
    import os

    from indipyserver.blobs.attached import AttachedBlobs
    from indipyserver.blobs.attached import SharedBuffers

    async def run() -> None:
        router = Router()
        driver = Driver("shared")
        driver.attach_writer(Recorder())
        buffers = SharedBuffers()
        on_frames = partial(router.driver_frames, driver)
        attached = AttachedBlobs(
            on_frames, buffers, "shared", BlobForwarder(router, driver, on_whole=on_frames),
            step=3,
        )
        inbound = InboundProtocol(attached, "shared", None)
        attached.reader = inbound
        taken: list[bool] = []

        def lane(data: bytes, flow: object) -> bool:
            taken.append(_shortcut(router).route_set(driver, data, flow))  # type: ignore[arg-type]
            return taken[-1]

        inbound.shortcut_route = lane
        transport = PausableReadTransport()
        inbound.connection_made(transport)
        router.driver_ready(driver)
        inbound.start()
        inbound.data_received(DEFS + b'<defBLOBVector device="D" name="B" state="Idle" '
                              b'perm="ro"><defBLOB name="b"/></defBLOBVector>\n')
        client = ClientConnection(router, set())
        to_client = Recorder()
        client.connection_made(to_client)
        client.data_received(b'<getProperties version="1.7"/><enableBLOB>Also</enableBLOB>\n')
        to_client.writes.clear()
        client.slow = late  # as clients.fallingbehind marks it

        payload = b"0123456789" * 10
        fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
        try:
            os.write(fd, payload)
            buffers.push([fd])
            inbound.data_received(
                b'<setBLOBVector device="D" name="B" state="Ok"><oneBLOB name="b" size="100" '
                b'format=".fits" len="100" attached="true"></oneBLOB></setBLOBVector>\n'
            )
            assert attached.converting
            assert transport.reading is not late  # held only for a late client
            taken.clear()
            if not late:
                inbound.data_received(DRIVER_READS[0])  # read meanwhile: the shortcut takes it
                assert taken == [True] and attached.converting
            await until(lambda: not attached.converting, what="the BLOB converted", interval=0)
            assert transport.reading
            if late:
                inbound.data_received(DRIVER_READS[0])  # the next read: taken by the shortcut
                assert taken == [True]
            client.slow = False
            client.flush_marked()
            await asyncio.sleep(0)
            out = b"".join(to_client.writes)
            assert out.index(b"</setBLOBVector>") < out.index(b"<setNumberVector")
            assert router.cached("D", "N")[1] is not None
        finally:  # the descriptor too, whatever failed (a leak would fail the memfd count
            attached.close()  # of a later test in this process)
            buffers.close_all()

    asyncio.run(run())


def test_a_client_falling_behind_is_judged_against_the_others_in_the_routers_order() -> None:
    # fallingbehind: a paused client whose queue passes the soft limit is *slow* if others
    # kept up (wrote to their sockets) since it was paused, else *congested* (holds the
    # drivers). The router queues for the clients in order, so a client before the others
    # is judged before their writes of this same element count: the shortcut must not
    # write to every client first and queue for the late ones after.
    import socket

    from indipycore.protocol.framing import Frame
    from indipyserver.loop.flowcontrol import KeepingUp

    async def outcome(shortcut: bool, source: str) -> object:
        loop = asyncio.get_running_loop()
        # The verdict may depend on how long the client has been paused (fallingbehind reads
        # the loop's clock): stopped, both runs are judged at the same moment after the pause,
        # however busy the machine (a loaded run once judged one of them later).
        now = loop.time()
        loop.time = lambda: now  # type: ignore[method-assign]
        router = Router()
        driver = Driver("d")
        driver.attach_writer(Recorder())
        inbound = InboundProtocol(partial(router.driver_frames, driver), "d")
        if shortcut:
            inbound.shortcut_route = partial(_shortcut(router).route_set, driver)
        inbound.connection_made(PausableReadTransport())
        router.driver_ready(driver)
        inbound.start()
        inbound.data_received(DEFS)
        keeping_up = KeepingUp()
        clients, sockets = [], []
        for _ in range(3):
            ours, peer = socket.socketpair()
            sockets += [ours, peer]
            client = ClientConnection(router, set(), max_queue_bytes=8 << 20,
                                      keeping_up=keeping_up)
            await loop.connect_accepted_socket(lambda c=client: c, ours)  # type: ignore[misc]
            assert client._fd >= 0  # writes itself, counting KeepingUp
            client._shortcut_route = _shortcut(router).route_new if shortcut else None
            client.data_received(INTERESTS[0])
            clients.append(client)
        behind = clients[0]
        behind.pause_writing()
        filler = b"<message>" + b"x" * (behind.soft_bytes - 40) + b"</message>"
        behind.send_frame(Frame("message", {}, filler))
        await asyncio.sleep(0)
        if source == "driver":
            inbound.data_received(DRIVER_READS[0])
        else:
            clients[2].data_received(CLIENT_READS[0])
        result = (behind.slow, behind.congested, inbound._throttled)
        for client in clients:
            client.abort()
        await asyncio.sleep(0)
        for s in sockets:
            s.close()
        return result

    async def run() -> None:
        for source in ("driver", "client"):
            assert await outcome(True, source) == await outcome(False, source)

    asyncio.run(run())


class _Handoffs:
    """Stands in for `fastpath.shortcut._handoff`: records, at each call, what the rig had written."""

    def __init__(self, rig_box: list[Rig]) -> None:
        self.rig_box = rig_box
        self.calls: list[tuple[int, list[int]]] = []

    def __call__(self) -> None:
        rig = self.rig_box[0]
        self.calls.append((len(rig.to_driver.writes), [len(t.writes) for t in rig.to_client]))


def _handoffs(monkeypatch, interests: list[int], reads, local=(), far=False, **options):  # type: ignore[no-untyped-def]
    """Feed `reads` to a rig with the shortcut whose clients in `local` are on this machine
    (and its driver too unless `far`); return the `_handoff` calls, each with the writes made
    before it."""
    box: list[Rig] = []
    handoffs = _Handoffs(box)
    monkeypatch.setattr(lanes, "_handoff", handoffs)

    async def run() -> None:
        rig = Rig(True, interests, **options)
        for i, client in enumerate(rig.clients):
            client.local = i in local
        rig.driver.local = not far
        box.append(rig)
        rig.feed(reads)

    asyncio.run(run())
    return handoffs.calls


def test_a_new_vector_hands_the_cpu_to_the_driver_once_written(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The driver is woken by the write and most likely queued on this CPU: it gets the CPU
    # before the server's own bookkeeping (the shortcut), and only once the bytes are on their way.
    assert _handoffs(monkeypatch, [0], [("client", 0, 0)]) == [(1, [0])]
    # What the shortcut leaves (two elements in one read) goes the general way: no handing over.
    assert _handoffs(monkeypatch, [0], [("client", 6, 0)]) == []
    # Nor when the driver could not take the write at once (queued for the general path).
    assert _handoffs(monkeypatch, [0], [("client", 0, 0)], driver_paused=True) == []
    # A remote server's device: handed over when that server is on this machine only.
    assert _handoffs(monkeypatch, [0], [("client", 0, 0)], remote=True) == [(1, [0])]
    assert _handoffs(monkeypatch, [0], [("client", 0, 0)], remote=True, far=True) == []


def test_a_set_vector_hands_over_after_all_its_writes_when_a_client_is_local(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Two clients, both written to before the one handing over.
    assert _handoffs(monkeypatch, [0, 0], [("driver", 0, 0)], local=[1]) == [(0, [1, 1])]
    # Clients on other machines are not woken here: nothing to hand the CPU to.
    assert _handoffs(monkeypatch, [0, 0], [("driver", 0, 0)]) == []
    # A local client that cannot take the write gets it queued (flushed later): no handing over.
    assert _handoffs(monkeypatch, [0, 0], [("driver", 0, 0)], local=[0], paused=0) == []


def test_handing_over_changes_nothing_routed() -> None:
    # lanes._handoff is os.sched_yield: with every client local, the reads of the round
    # trip route as without the shortcut.
    async def run() -> None:
        with_lanes = Rig(True, [0, 1])
        for client in with_lanes.clients:
            client.local = True
        without = Rig(False, [0, 1])
        reads = [("client", 0, 0), ("driver", 0, 0), ("client", 2, 1), ("driver", 2, 0)]
        with_lanes.feed(reads)
        without.feed(reads)
        await asyncio.sleep(0)
        assert with_lanes.outcome() == without.outcome()
        assert with_lanes.taken == 4

    asyncio.run(run())


def test_a_driver_that_answered_during_the_handover_is_read_at_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a new vector is written and the CPU handed to the driver, what the driver has
    answered meanwhile is read there and then (`DriverConnection.read_now`), before the
    client's read returns: no turn of the event loop between the two halves of the trip.
    Routed as the general path routes it; a driver on another machine is not read early."""
    order: list[str] = []
    monkeypatch.setattr(lanes, "_handoff", lambda: order.append("handoff"))

    async def run(far: bool) -> tuple[list[str], int]:
        rig = Rig(True, [0, 1])
        rig.driver.local = not far
        answer = DRIVER_READS[0]

        def answered() -> bool:  # the driver's reader, finding the answer in the pipe
            order.append("read_now")
            rig.inbound.data_received(answer)
            return True

        rig.driver.reader_now = answered
        rig.clients[0].data_received(CLIENT_READS[0])
        written = len(rig.to_client[0].writes)
        return order[:], written

    # Handed to the driver, its answer read, written to the (local) client and handed to it.
    assert asyncio.run(run(far=False)) == (["handoff", "read_now", "handoff"], 1)
    order.clear()
    assert asyncio.run(run(far=True)) == ([], 0)

    async def same() -> None:  # the answer read early routes as when the loop reads it
        early = Rig(True, [0, 1])
        early.driver.reader_now = lambda: early.inbound.data_received(DRIVER_READS[0]) or True
        early.clients[0].data_received(CLIENT_READS[0])
        later = Rig(True, [0, 1])
        later.clients[0].data_received(CLIENT_READS[0])
        later.inbound.data_received(DRIVER_READS[0])
        await asyncio.sleep(0)
        assert early.outcome() == later.outcome()

    asyncio.run(same())


def test_a_driver_still_queued_after_the_handover_gets_the_cpu_once_more(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """When the first read after the hand-over finds nothing (the driver, woken on this CPU,
    still queued behind another task), the CPU is handed over once more and the pipe read
    again: an answer there is written to the client at once, no turn of the event loop. A
    driver that has still not answered is left to the loop, after one extra try, no more."""
    order: list[str] = []
    monkeypatch.setattr(lanes, "_handoff", lambda: order.append("handoff"))

    async def run(answers_at: int) -> tuple[list[str], int]:
        rig = Rig(True, [0, 1])
        tries = [0]

        def reader() -> bool:  # nothing in the pipe until try `answers_at`
            tries[0] += 1
            order.append("read_now")
            if tries[0] < answers_at:
                return False
            rig.inbound.data_received(DRIVER_READS[0])
            return True

        rig.driver.reader_now = reader
        rig.clients[0].data_received(CLIENT_READS[0])
        return order[:], len(rig.to_client[0].writes)

    assert asyncio.run(run(2)) == (["handoff", "read_now", "handoff", "read_now", "handoff"], 1)
    order.clear()
    assert asyncio.run(run(3)) == (["handoff", "read_now", "handoff", "read_now"], 0)



def test_the_shortcut_does_not_pass_a_malformed_set_vector_on() -> None:
    """A set vector alone in a driver's read goes to the clients before it is framed, so the
    shortcut checks it first (``wellformed.plain_update``): one with a member closed by the
    wrong tag is left to the general path, which drops it, the same with and without the
    shortcut, while the good one before it is taken."""
    assert both([("driver", 0, 0), ("driver", MALFORMED_SET, 0)], [0, 1]) == 1


async def test_a_new_vector_to_an_in_process_driver_is_left_to_the_general_path_untried() -> None:
    """An in-process driver takes elements framed, never written through: the shortcut
    declines a client's new vector to its device as soon as it knows the owner, without
    trying the write (it tried, and always failed), and the general path delivers it."""
    from indipydriver import IPyDriver
    from indipyserver.drivers.inprocess import InProcessDriverConnection

    router = Router()
    owner = InProcessDriverConnection(IPyDriver())
    router.driver_ready(owner)
    (defs,) = _frames(b'<defNumberVector device="D" name="N" state="Idle" perm="rw"><defNumber '
                      b'name="v" format="%g" min="0" max="9" step="1">1</defNumber>'
                      b"</defNumberVector>")
    router.driver_frames(owner, [defs])
    owner.discard_outgoing()  # the router's getProperties to it
    tried: list[bytes] = []

    def write_through(data: bytes) -> bool:
        tried.append(data)
        return False

    owner.write_through = write_through  # type: ignore[method-assign]
    client = ClientConnection(router, set(), shortcut=_shortcut(router))
    client.connection_made(Recorder())
    new = b'<newNumberVector device="D" name="N"><oneNumber name="v">2</oneNumber></newNumberVector>'
    client.data_received(new)
    assert tried == []
    assert owner.queued_bytes == len(new)  # the general path queued it, framed


# --- the recorded traffic of indilib's drivers and clients (tests/data/corpus) -----------------


def _corpus_elements(name: str) -> list[bytes]:
    """The top-level elements of a capture, each as its bytes."""
    from indipycore.protocol.framing import Frame
    from indipycore.protocol.framing import Framer

    return [f.data for f in Framer().feed(corpus.read(name)) if type(f) is Frame]


def _as_we_write(element: bytes) -> bytes | None:
    """The element as our serialiser writes it (the plain form our drivers send, which the
    shortcut can take), or None for one it does not parse to."""
    from indipycore.protocol import parse_element
    from indipycore.protocol import serialise

    try:
        event = parse_element(element)
    except ProtocolError:
        return None
    return None if event is None else serialise(event).rstrip(b"\n")


#: What the corpus's clients asked for: every device, one device, a chained server, BLOBs too,
#: one property, nothing.
CORPUS_INTERESTS: list[int | bytes] = [
    0, 3, 9,
    b'<getProperties version="1.7" device="Telescope Simulator"/>\n',
    b'<getProperties version="1.7"/><enableBLOB device="CCD Simulator">Also</enableBLOB>\n',
    b"<getProperties version='1.7' device='Telescope Simulator' name='EQUATORIAL_EOD_COORD'/>\n",
    b"",
]


@pytest.mark.parametrize("rewritten", [False, True], ids=["as recorded", "as we write"])
def test_the_shortcut_and_the_router_agree_on_every_element_of_the_corpus(rewritten: bool) -> None:
    """Every element indilib's telescope and CCD simulators wrote (the driver's reads, one
    element each), then what indi_getprop, indi_setprop and indi_eval sent (the clients'
    reads), reach every receiver, the cache, the interests and the logs the same with the
    shortcut as through the router alone; as recorded (indilib's single quotes and line
    breaks, which the shortcut leaves) and as our serialiser writes the same elements (which
    it takes)."""
    driver = [e for name in ("telescope-traffic.xml", "ccd-traffic.xml")
              for e in _corpus_elements(name)]
    clients_sent = _corpus_elements("indilib-clients-send.xml")
    if rewritten:
        driver = [w for w in map(_as_we_write, driver) if w is not None]
        clients_sent = [w for w in map(_as_we_write, clients_sent) if w is not None]
    reads: list[tuple[str, int | bytes, int]] = [("driver", e + b"\n", 0) for e in driver]
    reads += [("client", e + b"\n", i) for i, e in enumerate(clients_sent)]
    # and the driver's answers again, after the clients' commands
    reads += [("driver", e + b"\n", 0) for e in driver if e.startswith(b"<set")][:200]
    taken = both(reads, CORPUS_INTERESTS, defs=b"")
    sets = sum(1 for source, data, _ in reads if source == "driver"
               and isinstance(data, bytes) and data.startswith(b"<set")
               and not data.startswith(b"<setBLOB"))
    if rewritten:
        # our plain form: the shortcut takes the round trip's elements (not the BLOBs)
        assert taken >= sets // 2
    assert sets > 100
