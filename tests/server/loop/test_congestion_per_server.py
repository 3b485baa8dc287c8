"""A congested client holds up the drivers of its own server only (flowcontrol.Congestion).

Two servers in one event loop (a chain in one process, as examples/chain.py runs): A serves a
camera streaming BLOBs to a client that reads slowly, so that client is congested and A's
camera waits in its pipe; B serves a meter streaming numbers to a client that keeps up. The
meter has nothing to do with A's client: B must go on reading it (its client keeps receiving)
all the while A's camera is held.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import blob_set_around
from serverkit import make_gadget
from serverkit import running
from serverkit import script_constants
from serverkit import stdio_driver
from waiting import until

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipyserver import IPyServer
from indipyserver.clients import fallingbehind
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.drivers.inprocess import InProcessDriverConnection

RAW = 256 * 1024  # 350 KB of base64 per BLOB: the 1 MiB pipe holds three

#: A's BLOB as the serialiser writes it, cut where the camera puts its base64.
CAMERA_HEAD, CAMERA_TAIL = blob_set_around("CamA", "IMG", "a", RAW)
#: A's camera: once triggered, BLOBs as fast as its pipe takes them, for ever; after each one
#: it tells stderr (logged by the server) how many it has written, so a camera held in its
#: pipe shows as a count that stops.
CAMERA = stdio_driver(
    """
    os.write(1, b'<defBLOBVector device="CamA" name="IMG" state="Idle" perm="ro">'
                b'<defBLOB name="a"/></defBLOBVector>\\n')
    """,
    """
    blob = HEAD + base64.b64encode(os.urandom(RAW)) + TAIL
    k = 0
    while True:
        os.write(1, blob)
        k += 1
        os.write(2, b'camera wrote %d\\n' % k)
    """,
    setup=script_constants(RAW=RAW, HEAD=CAMERA_HEAD, TAIL=CAMERA_TAIL),
)

#: B's meter (executable): a number every 2 ms once asked for its properties, until stdin ends.
METER = stdio_driver(
    """
    os.write(1, b'<defNumberVector device="MeterB" name="V" state="Idle" perm="ro">'
                b'<defNumber name="v" format="%.0f" min="0" max="0" step="0">0</defNumber>'
                b'</defNumberVector>\\n')
    n = 0
    while not select.select([0], [], [], 0.002)[0] or os.read(0, 65536):
        n += 1
        os.write(1, b'<setNumberVector device="MeterB" name="V" state="Ok">'
                    b'<oneNumber name="v">%d</oneNumber></setNumberVector>\\n' % n)
    sys.exit(0)
    """,
    setup="import select",
)


class Meter(IPyDriver):
    """B's meter in-process: a number every 2 ms (its writes wait while B is congested)."""

    async def rxevent(self, event) -> None:  # type: ignore[no-untyped-def]
        pass

    async def hardware(self) -> None:
        vector = self["MeterB"]["V"]
        n = 0
        while not self.stop:
            n += 1
            vector["v"] = n
            await vector.send_setVector()
            await asyncio.sleep(0.002)


def in_process_meter() -> Meter:
    member = NumberMember("v", "v", "%.0f", 0, 0, 0, 0)
    return Meter(Device("MeterB", [NumberVector("V", "V", "Main", "ro", "Idle", [member])]))


HELLO = b'<getProperties version="1.7"/><enableBLOB device="CamA">Also</enableBLOB>'
TRIGGER = b'<newNumberVector device="CamA" name="GO"><oneNumber name="n">1</oneNumber></newNumberVector>'


class SlowReader:
    """A's client: a raw socket that reads `chunk` bytes every `pause` seconds, steadily."""

    def __init__(self, sock: socket.socket, chunk: int, pause: float) -> None:
        self.sock = sock
        self.chunk = chunk
        self.pause = pause

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while await loop.sock_recv(self.sock, self.chunk):
            await asyncio.sleep(self.pause)


class Counter:
    """B's client: reads everything as it comes, counting B's numbers."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.numbers = 0
        self._framer = Framer()

    async def run(self) -> None:
        while data := await self.client.reader.read(1 << 16):
            for item in self._framer.feed(data):
                if isinstance(item, Frame) and item.tag == "setNumberVector":
                    self.numbers += 1


class CameraWrites(logging.Handler):
    """How many BLOBs A's camera has written to its pipe (from its stderr, as logged)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        found = re.search(r"camera wrote (\d+)", record.getMessage())
        if found:
            self.count = max(self.count, int(found.group(1)))


class Spells:
    """Counts the times a client fell behind, i.e. its congested spells: one that ends and
    the next that begins within a few ms would pass unseen between two looks."""

    def __init__(self) -> None:
        self.count = 0

    def counting(self) -> Callable[[fallingbehind.FallingBehind], None]:
        """A `FallingBehind.fell_behind` that counts its calls."""
        original = fallingbehind.FallingBehind.fell_behind

        def fell_behind(behind: fallingbehind.FallingBehind) -> None:
            self.count += 1
            original(behind)

        return fell_behind


@pytest.mark.parametrize("meter", ["executable", "in-process"])
async def test_a_congested_client_of_one_server_holds_up_its_drivers_only(
    tmp_path: Path, meter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While A's slow client is congested, A's camera is held in its pipe (its write count
    stops) and B's meter goes on being read: B's client keeps getting numbers within one
    congested spell of A's client.

    The slow client reads steadily, but the kernel passes its progress on in window updates
    some 60 ms apart: the falling-behind delays are lengthened so that it stays congested
    (held for) rather than being let go as one that does not read, which is not the point
    here."""
    monkeypatch.setattr(fallingbehind, "SLOW_AFTER", 1.0)
    monkeypatch.setattr(fallingbehind, "NEVER_RESUMED_SLOW_AFTER", 1.0)
    spells = Spells()
    monkeypatch.setattr(fallingbehind.FallingBehind, "fell_behind", spells.counting())
    camera = tmp_path / "camera.py"
    camera.write_text(CAMERA)
    srv_a = IPyServer(port=0, handle_signals=False)
    srv_a.add_exdriver(sys.executable, str(camera), max_restarts=0, grace=0.5)
    srv_b = IPyServer(port=0, handle_signals=False)
    if meter == "executable":
        script = tmp_path / "meter.py"
        script.write_text(METER)
        srv_b.add_exdriver(sys.executable, str(script), max_restarts=0, grace=0.5)
    else:
        srv_b.add_driver(in_process_meter())
    writes = CameraWrites()
    exlog = logging.getLogger("indipyserver.driver_stderr")  # the camera reports its writes
    level = exlog.level
    exlog.addHandler(writes)
    exlog.setLevel(logging.INFO)
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    sock = socket.socket()
    try:
        async with running(srv_a), running(srv_b):
            b_client = await RawClient.connect(srv_b.port)
            await b_client.send('<getProperties version="1.7"/>')
            await b_client.wait_for("setNumberVector", device="MeterB")
            counter = Counter(b_client)
            tasks.append(asyncio.create_task(counter.run()))

            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", srv_a.port))
            await loop.sock_sendall(sock, HELLO + b'<pingRequest uid="s"/>')
            got = b""
            while b"pingReply" not in got or b"defBLOBVector" not in got:
                got += await loop.sock_recv(sock, 65536)
            (a_client,) = srv_a.clients
            tasks.append(asyncio.create_task(SlowReader(sock, 8192, 0.005).run()))
            await loop.sock_sendall(sock, TRIGGER)
            # The client is congested until it has taken about 2 MB (some 1.5 s), then the
            # camera is read for a moment and it is congested again. B's numbers are the
            # clock: within one congested spell, B's client gets NUMBERS numbers (by then the
            # camera's report of its last write before it was held has been read: its stderr
            # is read by the same loop), then NUMBERS more, and A's camera wrote nothing
            # meanwhile. A spell that ends first is tried again; were B held up with A, every
            # spell would end before B's client got a number.
            writes_seen = None
            for _ in range(5):
                await until(lambda: a_client.congested, 10, "A's client to become congested", 0.005)
                spell = spells.count
                if not await numbers_in_spell(a_client, spell, spells, counter):
                    continue
                a_before = writes.count
                if await numbers_in_spell(a_client, spell, spells, counter):
                    writes_seen = (a_before, writes.count)
                    break
            assert writes_seen is not None, (
                f"B's meter was held up by A's client: five congested spells of A's client "
                f"each ended before B's client got {2 * NUMBERS} numbers"
            )
            a_before, a_after = writes_seen
            assert a_after == a_before > 0, "A's camera went on writing while A was congested"
    finally:
        for task in tasks:
            task.cancel()
        sock.close()
        exlog.removeHandler(writes)
        exlog.setLevel(level)


#: B's numbers that mark time within one congested spell of A's client (B's meter sends one
#: every 2 ms; the spell lasts about 1.5 s).
NUMBERS = 20


async def numbers_in_spell(
    client: ClientConnection, spell: int, spells: Spells, counter: Counter,
) -> bool:
    """Whether B's client got NUMBERS more numbers while `client` stayed congested in spell
    number `spell` (False: the spell ended first)."""
    target = counter.numbers + NUMBERS

    def over() -> bool:
        return not client.congested or spells.count != spell

    await until(lambda: over() or counter.numbers >= target, 30,
                lambda: f"B's numbers ({counter.numbers} of {target}) or the spell to end",
                0.005)
    return not over()


async def test_a_server_wires_its_own_congestion_to_all_it_runs(tmp_path: Path) -> None:
    """A chain in one loop: the root serves an in-process driver, an executable one and the
    leaf server as a remote. Its clients, its driver connections and the readers of its
    drivers' pipes and of the remote's socket share the root's Congestion; the leaf's (whose
    client is the root's remote link) is another, and congesting the root pauses the root's
    readers only (the executable driver's socket has two: its reader, and the converter of
    the BLOBs it may attach, which stops between steps)."""
    script = tmp_path / "defs.py"
    script.write_text(stdio_driver(
        """
        os.write(1, b'<defTextVector device="Ex" name="T" state="Idle" perm="ro">'
                    b'<defText name="t">x</defText></defTextVector>\\n')
        """
    ))
    leaf = IPyServer(make_gadget("Leaf"), port=0, handle_signals=False)
    async with running(leaf):
        root = IPyServer(make_gadget("Root"), port=0, handle_signals=False)
        root.add_exdriver(sys.executable, str(script), max_restarts=0, grace=0.5)
        root.add_remote("127.0.0.1", leaf.port)
        async with running(root):
            client = await RawClient.connect(root.port)
            await client.send('<getProperties version="1.7"/>')
            for device in ("Root", "Ex", "Leaf"):
                await client.wait_for("defTextVector", device=device)
            ours, theirs = root._congestion, leaf._congestion
            assert ours is not theirs
            assert [conn.congestion for conn in root.connections] == [ours] * 3
            assert [conn.congestion for conn in leaf.connections] == [theirs]
            (root_client,) = root.clients
            (link,) = leaf.clients  # the root's remote link, a client of the leaf
            assert root_client._behind._congestion is ours
            assert link._behind._congestion is theirs
            readers = list(ours._readers)
            assert sorted(type(r).__name__ for r in readers) == [
                "AttachedBlobs", "InboundProtocol", "StreamProtocol"
            ]
            assert not theirs._readers  # the leaf has only an in-process driver

            ours.congest(root_client)
            assert all(r._throttled for r in readers)  # type: ignore[attr-defined]
            assert not theirs.congested
            ours.decongest(root_client)
            assert not any(r._throttled for r in readers)  # type: ignore[attr-defined]


def test_servers_and_objects_built_alone_do_not_share_a_congestion() -> None:
    """Each server makes its own; a connection built without a server gets a standalone one."""
    a, b = IPyServer(port=0, handle_signals=False), IPyServer(port=0, handle_signals=False)
    assert a._congestion is not b._congestion
    first = InProcessDriverConnection(make_gadget())
    second = InProcessDriverConnection(make_gadget())
    assert first.congestion is not second.congestion
    a.add_connection(first)
    assert first.congestion is a._congestion
