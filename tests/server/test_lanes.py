"""The round trip's shortcut (indipyserver.lanes) routes exactly as the general path.

A read that is one new or set vector is routed from its start tag and written before it is
framed. Whatever it takes, every receiver must get the same bytes, the cache must hold the
same, and ownership must end the same as if the router had been given the framed element;
whatever it does not take (snoopers, logged messages, unowned or non-ASCII devices, several
elements, a paused receiver...) must reach the general path untouched. Each test runs the same
reads through two servers' objects, one with the shortcut and one without, and compares.
"""

from __future__ import annotations

import asyncio
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st
from serverkit import Recorder

from indipyserver import lanes
from indipyserver.clients import ClientConnection
from indipyserver.cutthrough import BlobForwarder
from indipyserver.driverconn import DriverConnection
from indipyserver.peerio import InboundProtocol
from indipyserver.router import Router

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
]

#: What each client asked for when it connected.
INTERESTS = [
    b'<getProperties version="1.7"/>\n',
    b'<getProperties version="1.7" device="D" name="N"/>\n',
    b'<getProperties version="1.7" device="E"/>\n',
]


class Driver(DriverConnection):
    async def run(self, router: Router) -> None:  # fed directly by the tests
        raise NotImplementedError


class Rig:
    """A router, one executable-driver-like connection and some clients, fed directly."""

    def __init__(
        self,
        shortcut: bool,
        interests: list[int],
        *,
        snooper: bool = False,
        message_log: bool = False,
        paused: int | None = None,
    ) -> None:
        self.logged: list[tuple[dict[str, str], str]] = []
        self.router = Router(
            message_log=(lambda attrs, device: self.logged.append((attrs, device)))
            if message_log
            else None
        )
        self.taken = 0
        self.driver = Driver("d")
        self.to_driver = Recorder()
        self.driver.attach_writer(self.to_driver)
        self.inbound = InboundProtocol(
            partial(self.router.driver_frames, self.driver), "d",
            BlobForwarder(self.router, self.driver),
        )
        if shortcut:
            self.inbound.lane = self._counted(partial(self.router.lane_set, self.driver))
        self.inbound.connection_made(Recorder())
        self.router.driver_ready(self.driver)
        self.inbound.start()
        self.inbound.data_received(DEFS)
        if snooper:
            other = Driver("snooper")
            other.attach_writer(Recorder())
            self.router.driver_ready(other)
            self.router.driver_frames(other, _frames(b'<getProperties version="1.7" device="D"/>'))
        self.clients: list[ClientConnection] = []
        self.to_client: list[Recorder] = []
        for i in interests:
            client = ClientConnection(self.router, set())
            client._lane = self._counted(self.router.lane_new) if shortcut else None
            transport = Recorder()
            client.connection_made(transport)
            client.data_received(INTERESTS[i])
            self.clients.append(client)
            self.to_client.append(transport)
        if paused is not None and paused < len(self.clients):
            self.clients[paused].pause_writing()
        for t in [self.to_driver, *self.to_client]:
            t.writes.clear()

    def _counted(self, lane):  # type: ignore[no-untyped-def]
        def counted(*args):  # type: ignore[no-untyped-def]
            taken = lane(*args)
            self.taken += taken
            return taken
        return counted

    def feed(self, reads: list[tuple[str, int, int]]) -> None:
        for source, which, client in reads:
            if source == "client" and self.clients:
                self.clients[client % len(self.clients)].data_received(CLIENT_READS[which])
            elif source == "driver":
                self.inbound.data_received(DRIVER_READS[which])

    def outcome(self) -> object:
        cache = {
            (dev, name): tuple(f.data if f is not None else None for f in self.router.cached(dev, name))
            for dev in ("D", "E")
            for name in ("N", "S", "T", "L")
        }
        return (
            b"".join(self.to_driver.writes),
            [b"".join(t.writes) + bytes(t_client._queue.take(1 << 30)) for t, t_client in
             zip(self.to_client, self.clients)],
            cache,
            sorted(self.router._owner),
            self.logged,
        )


def _frames(data: bytes):  # type: ignore[no-untyped-def]
    from indipydriver.protocol.framing import Framer

    return Framer().feed(data)


def both(reads: list[tuple[str, int, int]], interests: list[int], **options: object) -> int:
    """Feed `reads` to a rig with the shortcut and one without; assert the same outcome and
    return how many reads the shortcut took."""

    async def run() -> int:
        with_lanes = Rig(True, interests, **options)  # type: ignore[arg-type]
        without = Rig(False, interests, **options)  # type: ignore[arg-type]
        with_lanes.feed(reads)
        without.feed(reads)
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


@settings(max_examples=150, deadline=None)
@given(
    reads=st.lists(
        st.one_of(
            st.tuples(st.just("client"), st.integers(0, len(CLIENT_READS) - 1), st.integers(0, 2)),
            st.tuples(st.just("driver"), st.integers(0, len(DRIVER_READS) - 1), st.just(0)),
        ),
        max_size=12,
    ),
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


def test_alone_takes_one_whole_vector_only() -> None:
    element = CLIENT_READS[0].rstrip()
    assert lanes.alone(CLIENT_READS[0], ord("n")) == (
        b"newNumberVector", "D", "N", b"", element
    )
    assert lanes.alone(CLIENT_READS[0], ord("s")) is None  # a new vector, not a set
    assert lanes.alone(CLIENT_READS[6], ord("n")) is None  # two elements
    assert lanes.alone(CLIENT_READS[7], ord("n")) is None  # text after it
    assert lanes.alone(DRIVER_READS[7], ord("s")) is None  # not whole
    assert lanes.alone(b'<newBLOBVector device="D" name="B"></newBLOBVector>', ord("n")) is None
