"""Cut-through BLOB forwarding: a driver's setBLOBVector reaches clients while it arrives.

A real Router and real ClientConnections on fake transports, fed through the driver-side
InboundProtocol with a BlobForwarder, as an executable driver's output is: every test twice,
as a pipe driver is read and as an indilib C driver's socket is (through AttachedBlobs).
"""

from __future__ import annotations

import asyncio
import random
from xml.etree import ElementTree

import pytest
from handclock import HandClock
from serverdoubles import RecordingDriver
from serverkit import blob_set
from serverkit import number_set
from waiting import until

from indipycore.protocol.enums import State
from indipycore.protocol.events import PingRequest
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import serialise
from indipyserver.blobs.attached import AttachedBlobs
from indipyserver.blobs.attached import SharedBuffers
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.clients import fallingbehind
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.routing.ports import Parts
from indipyserver.routing.router import Router

DEFS = (
    b'<defBLOBVector device="Cam" name="IMG" state="Idle" perm="ro"><defBLOB name="a"/></defBLOBVector>\n'
    b'<defBLOBVector device="Cam" name="RAW" state="Idle" perm="ro"><defBLOB name="a"/></defBLOBVector>\n'
    b'<defNumberVector device="Cam" name="T" state="Idle" perm="ro">'
    b'<defNumber name="t" format="%g" min="0" max="0" step="0">1</defNumber></defNumberVector>\n'
)


def blob(nbytes: int, name: str = "IMG", wrap: bool = True, seed: int = 0) -> bytes:
    """Cam's BLOB of `nbytes` random bytes, its base64 in lines of 72 with ``enclen`` (`wrap`,
    as indilib's drivers send it) or on one line; without the newline after it (what the
    element's Frame holds)."""
    raw = random.Random(seed).randbytes(nbytes)
    return blob_set("Cam", name, "a", raw, enclen=wrap).removesuffix(b"\n")


def number(v: int) -> bytes:
    return number_set("Cam", "T", {"t": v}, state=State.OK)


def ping(k: int) -> bytes:
    return serialise(PingRequest(f"SetBLOB/{k}"))


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False

    def write(self, data) -> None:  # type: ignore[no-untyped-def]
        self.out += data

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high=None, low=None) -> None:  # type: ignore[no-untyped-def]
        pass

    def get_extra_info(self, name, default=None):  # type: ignore[no-untyped-def]
        return ("127.0.0.1", id(self) % 60000) if name == "peername" else default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class FakeDriver(RecordingDriver):
    def __init__(self) -> None:
        super().__init__("fake-driver")
        self.sent: list[bytes] = []
        self.on_send = None

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        if self.on_send is not None:
            self.on_send(data)


def elements(data: bytes) -> list[Frame]:
    out = Framer().feed(bytes(data))
    assert all(isinstance(i, Frame) for i in out), out
    return out  # type: ignore[return-value]


#: How the driver is read (`reader`): as a pipe, or as an indilib C driver's socket (its
#: pieces through AttachedBlobs, which must pass them on as the pipe's are).
READERS = ("pipe", "c-socket")
_reader = "pipe"


@pytest.fixture(autouse=True, params=READERS)
def reader(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Every test here runs for both readers of a driver (`setup`)."""
    global _reader
    _reader = request.param
    yield request.param
    _reader = "pipe"


async def setup(*modes: str | None, max_queue_bytes: int = 64 * 1024 * 1024):
    router = Router()
    driver = FakeDriver()
    router.driver_ready(driver)  # type: ignore[arg-type]

    def on_frames(frames: list[Frame]) -> None:
        router.driver_frames(driver, frames)  # type: ignore[arg-type]

    if _reader == "pipe":
        inbound = InboundProtocol(on_frames, "fake-driver",
                                  BlobForwarder(router, driver))  # type: ignore[arg-type]
    else:
        attached = AttachedBlobs(on_frames, SharedBuffers(), "fake-driver",
                                 BlobForwarder(router, driver, on_whole=on_frames))  # type: ignore[arg-type]
        inbound = InboundProtocol(attached, "fake-driver", attached, split_attached=True)
        attached.reader = inbound
    inbound.data_received(DEFS)
    conns = []
    for mode in modes:
        client = ClientConnection(router, set(), max_queue_bytes=max_queue_bytes)
        transport = FakeTransport()
        client.connection_made(transport)
        request = b"<getProperties version='1.7'/>"
        if mode is not None:
            request += mode.encode()
        client.data_received(request)
        transport.out.clear()
        conns.append((client, transport))
    await asyncio.sleep(0)
    return router, driver, inbound, conns


def feed_split(inbound: InboundProtocol, data: bytes, rng: random.Random, pieces: int) -> None:
    cuts = sorted(rng.sample(range(1, len(data)), pieces))
    for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
        inbound.data_received(data[a:b])


@pytest.mark.parametrize("seed", range(6))
async def test_split_anywhere_receivers_with_different_blob_modes(seed: int) -> None:
    _router, driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>',
        None,  # Never (default): numbers only
        '<enableBLOB device="Cam">Only</enableBLOB>',
        '<enableBLOB device="Cam" name="RAW">Also</enableBLOB>',  # only RAW's BLOBs
    )
    big = blob(300_000, seed=seed)
    raw = blob(150_000, name="RAW", wrap=False, seed=seed + 100)
    stream = big + ping(1) + number(1) + raw + b"\n" + ping(2) + blob(10) + number(2)
    feed_split(inbound, stream, random.Random(seed), 1 + seed * 37)
    await asyncio.sleep(0)
    also, never, only, rawonly = (elements(t.out) for _c, t in conns)
    assert [f.tag for f in also] == [
        "setBLOBVector",
        "setNumberVector",
        "setBLOBVector",
        "setBLOBVector",
        "setNumberVector",
    ]
    assert bytes(also[0].data) == big and bytes(also[2].data) == raw
    assert [f.tag for f in never] == ["setNumberVector", "setNumberVector"]
    assert [f.tag for f in only] == ["setBLOBVector"] * 3
    assert [bytes(f.data) for f in rawonly if f.tag == "setBLOBVector"] == [raw]
    assert [d for d in driver.sent if b"pingReply" in d] == [
        b'<pingReply uid="SetBLOB/1"/>',
        b'<pingReply uid="SetBLOB/2"/>',
    ]


async def test_ping_is_answered_after_the_blob_is_queued_to_its_clients() -> None:
    _router, driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    client, transport = conns[0]
    big = blob(500_000)
    seen: list[int] = []
    driver.on_send = lambda data: seen.append(len(transport.out) + client._queue.nbytes)
    for i in range(0, len(big), 50_000):
        inbound.data_received(big[i : i + 50_000])
        assert not seen
    inbound.data_received(ping(1))
    assert seen == [len(big)]


async def test_other_elements_wait_until_the_streamed_blob_is_complete() -> None:
    router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    big = blob(400_000)
    inbound.data_received(big[:200_000])
    router.send_message("hello from the server")  # e.g. another driver's traffic meanwhile
    await asyncio.sleep(0)
    inbound.data_received(big[200_000:])
    await asyncio.sleep(0)
    got = elements(conns[0][1].out)
    assert [f.tag for f in got] == ["setBLOBVector", "message"]
    assert bytes(got[0].data) == big


async def test_slow_receiver_gets_the_started_blob_whole_then_only_the_latest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fallingbehind, "NEVER_RESUMED_SLOW_AFTER", -1.0)
    _router, _driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>',
        '<enableBLOB device="Cam">Also</enableBLOB>',
        max_queue_bytes=8_000_000,
    )
    (_fast, fast_t), (slow, slow_t) = conns
    slow.pause_writing()  # its socket takes nothing from now on
    blobs = [blob(1_500_000, seed=k) for k in range(3)]
    for k, element in enumerate(blobs):
        for i in range(0, len(element), 1 << 20):
            inbound.data_received(element[i : i + (1 << 20)])
        inbound.data_received(ping(k))
        if k == 0:
            assert slow.slow  # it fell behind during the first BLOB, which it still gets whole
    await asyncio.sleep(0)
    assert [bytes(f.data) for f in elements(fast_t.out)] == blobs
    assert slow._queue.dropped == 1  # the second BLOB was superseded by the third
    # No copy per BLOB for the client that could not take them as they streamed: the third
    # waits for it as the pieces read from the driver, referenced as they are.
    (queued,) = [item for item in slow._queue._items if isinstance(item, Parts)]
    assert b"".join(queued.parts) == blobs[2]
    assert all(type(p) is bytes for p in queued.parts)
    slow.resume_writing()
    assert [bytes(f.data) for f in elements(slow_t.out)] == [blobs[0], blobs[2]]
    assert not slow_t.closed


async def test_unterminated_blob_is_closed_for_receivers_and_next_element_delivered() -> None:
    _router, driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>', None
    )
    big = blob(300_000)
    inbound.data_received(big[:150_000])
    inbound.data_received(big[150_000:200_000] + number(7) + ping(1))
    await asyncio.sleep(0)
    also = conns[0][1].out
    got = elements(also)
    assert [f.tag for f in got] == ["setBLOBVector", "setBLOBVector", "setNumberVector"]
    ElementTree.fromstring(bytes(got[0].data))  # well-formed, with a truncated value
    assert bytes(got[0].data).startswith(big[:200_000])
    assert got[1].attrs["state"] == "Alert" and "cut short" in got[1].attrs["message"]
    # The client that takes no BLOBs is not told about one.
    assert [f.tag for f in elements(conns[1][1].out)] == ["setNumberVector"]
    assert b'<pingReply uid="SetBLOB/1"/>' in driver.sent


async def test_driver_gone_in_the_middle_of_a_blob() -> None:
    _router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    big = blob(300_000)
    inbound.data_received(big[:200_000])
    inbound.connection_lost(None)
    await asyncio.sleep(0)
    got, alert = elements(conns[0][1].out)
    ElementTree.fromstring(bytes(got.data))
    assert alert.attrs["state"] == "Alert"


def blob_forwarder(inbound: InboundProtocol) -> BlobForwarder:
    """The driver's `BlobForwarder` (behind AttachedBlobs when read as a C driver's socket)."""
    stream = inbound._forwarder
    forwarder = stream._sink if isinstance(stream, AttachedBlobs) else stream
    assert isinstance(forwarder, BlobForwarder)
    return forwarder


def blob_snooper(router: Router) -> FakeDriver:
    """A driver snooping Cam with its BLOBs enabled: the router then takes Cam's BLOBs whole."""
    snooper = FakeDriver()
    snooper.label = "snooper"
    router.driver_ready(snooper)  # type: ignore[arg-type]
    router.driver_frames(
        snooper,
        Framer().feed(  # type: ignore[arg-type]
            b'<getProperties device="Cam" version="1.7"/><enableBLOB device="Cam">Also</enableBLOB>'
        ),
    )
    return snooper


async def test_snooped_blob_is_routed_whole() -> None:
    router, driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    snooper = blob_snooper(router)
    big = blob(300_000)
    for i in range(0, len(big), 70_000):
        inbound.data_received(big[i : i + 70_000])
    await asyncio.sleep(0)
    assert big in snooper.sent
    assert [bytes(f.data) for f in elements(conns[0][1].out)] == [big]
    del driver


async def test_two_drivers_streaming_to_one_client_never_interleave() -> None:
    router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    other = FakeDriver()
    other.label = "other"
    router.driver_ready(other)  # type: ignore[arg-type]
    inbound2 = InboundProtocol(
        lambda frames: router.driver_frames(other, frames),  # type: ignore[arg-type]
        "other",
        BlobForwarder(router, other),  # type: ignore[arg-type]
    )
    inbound2.data_received(DEFS.replace(b"Cam", b"Cam2"))
    conns[0][0].data_received(b'<enableBLOB device="Cam2">Also</enableBLOB>')
    a = blob(300_000, seed=1)
    b = blob(300_000, seed=2).replace(b'device="Cam"', b'device="Cam2"')
    for i in range(0, 300_000, 60_000):
        inbound.data_received(a[i : i + 60_000])
        inbound2.data_received(b[i : i + 60_000])
    inbound.data_received(a[300_000:])
    inbound2.data_received(b[300_000:])
    await asyncio.sleep(0)
    got = [bytes(f.data) for f in elements(conns[0][1].out) if f.tag == "setBLOBVector"]
    assert sorted(got) == sorted([a, b])


def hand_clock(client: ClientConnection) -> HandClock:
    """The client's falling-behind timers run on a clock the test moves (`HandClock`)."""
    clock = HandClock()
    client._behind._clock = clock
    return clock


@pytest.mark.parametrize("read_before", [False, True])
async def test_a_client_that_takes_nothing_is_let_go_after_the_never_resumed_delay(
    read_before: bool,
) -> None:
    """The drivers are held up while a client is congested: one whose transport never resumed
    since it connected (it never showed it reads) is declared slow after
    NEVER_RESUMED_SLOW_AFTER, not SLOW_AFTER. One that resumed before (a server chained to
    ours stops reading us while its own clients hold it up) is held for up to SLOW_AFTER, so
    nothing is dropped for it in a short pause."""
    _router, _driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>', max_queue_bytes=8_000_000
    )
    client, _t = conns[0]
    clock = hand_clock(client)  # however long the 2 MB takes to go in, no time passes
    if read_before:
        client.pause_writing()
        client.resume_writing()  # it read once: it has shown it reads
    client.pause_writing()
    inbound.data_received(blob(2_000_000))
    assert client.congested and not client.slow
    clock.advance(fallingbehind.NEVER_RESUMED_SLOW_AFTER * 1.5)  # within SLOW_AFTER
    assert fallingbehind.NEVER_RESUMED_SLOW_AFTER * 1.5 < fallingbehind.SLOW_AFTER
    assert client.slow is not read_before and client.congested is read_before
    clock.advance(fallingbehind.SLOW_AFTER)  # past SLOW_AFTER with no progress: let go
    assert client.slow and not client.congested


async def test_a_client_that_reads_is_not_let_go_early() -> None:
    """A client that takes bytes during its first pause is not let go after
    NEVER_RESUMED_SLOW_AFTER: it holds the drivers while it makes progress, and is let go
    only once SLOW_AFTER has passed with none."""
    _router, _driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>', max_queue_bytes=8_000_000
    )
    client, transport = conns[0]
    clock = hand_clock(client)
    buffered = [600_000]
    transport.get_write_buffer_size = lambda: buffered[0]  # type: ignore[method-assign]
    client.pause_writing()
    inbound.data_received(blob(2_000_000))
    assert client.congested
    buffered[0] = 500_000  # the kernel took some: it reads, slowly
    clock.advance(fallingbehind.NEVER_RESUMED_SLOW_AFTER * 1.5)
    assert client.congested and not client.slow
    clock.advance(fallingbehind.SLOW_AFTER)  # and nothing more since
    assert client.slow and not client.congested


async def test_slow_client_drops_its_stale_blob_when_a_new_one_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fallingbehind, "NEVER_RESUMED_SLOW_AFTER", -1.0)
    _router, _driver, inbound, conns = await setup(
        '<enableBLOB device="Cam">Also</enableBLOB>', max_queue_bytes=8_000_000
    )
    client, transport = conns[0]
    client.pause_writing()
    first, second, third = (blob(1_500_000, seed=k) for k in range(3))
    for element in (first, second):  # streamed (reads of 1 MiB); the second one late
        for i in range(0, len(element), 1 << 20):
            inbound.data_received(element[i : i + (1 << 20)])
    assert client.slow
    held = client._queue.nbytes
    inbound.data_received(third[:300_000])  # the third starts: the second is stale now
    assert client._queue.nbytes < held - 1_000_000
    inbound.data_received(third[300_000:])
    client.resume_writing()
    assert [bytes(f.data) for f in elements(transport.out)] == [first, third]


@pytest.mark.parametrize("pinned", [None, "Cam"])
async def test_blob_from_a_remote_server_is_forwarded_and_dev_at_host_still_filters(
    pinned: str | None,
) -> None:
    from indipycore.retrypolicy import ExponentialBackoff
    from indipyserver.drivers.remote import RemoteConnection

    big = blob(2_000_000, seed=5)
    other = blob(300_000, seed=6).replace(b'device="Cam"', b'device="Other"')
    other_defs = DEFS.replace(b"Cam", b"Other")
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(DEFS + other_defs + b'<pingRequest uid="defined"/>')
        got = b""  # the reply comes after the enableBLOBs the definitions bring
        while b'<pingReply uid="defined"' not in got:
            data = await reader.read(65536)
            assert data, got
            got += data
        for element in (other, big, number(3)):
            for i in range(0, len(element), 100_000):
                writer.write(element[i : i + 100_000])
                await writer.drain()
                await asyncio.sleep(0)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    router = Router()
    client = ClientConnection(router, set())
    transport = FakeTransport()
    client.connection_made(transport)
    client.data_received(b"<getProperties version='1.7'/><enableBLOB>Also</enableBLOB>")
    conn = RemoteConnection("127.0.0.1", port, device=pinned, backoff=ExponentialBackoff(0.05, 30.0))
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))
        await until(lambda: b"setNumberVector" in transport.out, what="the number after the BLOBs")
        done.set()
        task.cancel()
    got = [bytes(f.data) for f in elements(transport.out) if f.tag == "setBLOBVector"]
    assert got == ([big] if pinned else [other, big])


async def test_a_half_closed_client_gets_the_streamed_blob_whole_before_closing() -> None:
    _router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    client, transport = conns[0]
    big = blob(300_000)
    inbound.data_received(big[:200_000])
    await asyncio.sleep(0)  # written: its queue is empty in the middle of the element
    assert client.eof_received() is True
    assert not transport.closed
    inbound.data_received(big[200_000:])
    await asyncio.sleep(0)
    assert transport.closed
    assert [bytes(f.data) for f in elements(transport.out)] == [big]



async def test_the_forwarder_keeps_order_only_while_every_receiver_streams() -> None:
    """`keeps_order`, by which ``blobs.attached`` lets a driver go on sending while its image
    is encoded: True while every client taking the element streams it (what is routed
    meanwhile waits behind it in their queues); False between elements, when a receiver is
    late (it gets the element whole at its end, so anything routed before would overtake it)
    and when the router takes the element whole (a snooping driver enabled its BLOBs)."""
    big = blob(300_000)
    router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>',
                                                 None)
    forwarder = blob_forwarder(inbound)
    assert forwarder is not None and not forwarder.keeps_order
    inbound.data_received(big[:100_000])
    assert forwarder.active and forwarder.keeps_order  # the client without BLOBs is no receiver
    inbound.data_received(big[100_000:])
    assert not forwarder.active and not forwarder.keeps_order

    router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>',
                                                 '<enableBLOB device="Cam">Also</enableBLOB>')
    forwarder = blob_forwarder(inbound)
    assert forwarder is not None
    conns[1][0].slow = True  # as clients.fallingbehind marks it: given the element whole
    inbound.data_received(big[:100_000])
    assert forwarder.active and not forwarder.keeps_order
    inbound.data_received(big[100_000:])
    await asyncio.sleep(0)
    assert [bytes(f.data) for f in elements(conns[1][1].out)] == [big]

    router, _driver, inbound, conns = await setup('<enableBLOB device="Cam">Also</enableBLOB>')
    forwarder = blob_forwarder(inbound)
    assert forwarder is not None
    snooper = blob_snooper(router)
    inbound.data_received(big[:100_000])
    assert forwarder.active and not forwarder.keeps_order
    inbound.data_received(big[100_000:])
    assert big in snooper.sent
