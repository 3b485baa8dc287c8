"""RemoteConnection against a scripted TCP server on 127.0.0.1, with a recording router.

Protects: the ``[device]@host[:port]`` grammar; surviving a refused connection; driver_ready on
connect, driver_lost on loss and reconnection with backoff; ``enableBLOB Also`` once per device
when blob_enable is set; ``dev@host`` taking only that device.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from serverdoubles import RecordingDriverSide
from waiting import until

from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipyserver import IPyServer
from indipyserver.drivers.remote import RemoteConnection
from indipyserver.drivers.remote import RemoteSpec
from indipyserver.drivers.remote import parse_remote_spec

FAST = ExponentialBackoff(0.02, 0.05)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("@localhost", RemoteSpec("localhost", 7624, None)),
        ("@localhost:7625", RemoteSpec("localhost", 7625, None)),
        ("CCD Simulator@host.example:7000", RemoteSpec("host.example", 7000, "CCD Simulator")),
        ('"Dome Simulator"@10.0.0.2', RemoteSpec("10.0.0.2", 7624, "Dome Simulator")),
        ("dev@[::1]:7625", RemoteSpec("::1", 7625, "dev")),
        ("@[::1]", RemoteSpec("::1", 7624, None)),
    ],
)
def test_remote_spec_forms(text: str, spec: RemoteSpec) -> None:
    """indiserver's [device]@host[:port], default port 7624, quotes around the device removed."""
    assert parse_remote_spec(text) == spec


@pytest.mark.parametrize("text", ["localhost:7624", "dev@", "@host:port", "@host:0", "@host:70000"])
def test_bad_remote_specs_are_refused(text: str) -> None:
    """A typo on the command line is reported, not turned into a connection to nowhere."""
    with pytest.raises(ValueError):
        parse_remote_spec(text)


class RecordingRouter(RecordingDriverSide):
    def __init__(self) -> None:
        super().__init__(b'<getProperties version="1.7" device="*"/>')


class ScriptedServer:
    """A TCP server that records what it receives and sends canned defs to each connection."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.received = bytearray()
        self.writers: list[asyncio.StreamWriter] = []
        self.got_data = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(self.reply)
        while data := await reader.read(65536):
            self.received += data
            self.got_data.set()
        writer.close()

    def drop_all(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()


DEFS = (
    b'<defTextVector device="A" name="P" state="Idle" perm="ro"><defText name="t">x</defText>'
    b'</defTextVector><defBLOBVector device="A" name="B" state="Idle" perm="ro">'
    b'<defBLOB name="b"/></defBLOBVector>'
    b'<defTextVector device="B &amp; C" name="P" state="Idle" perm="ro">'
    b'<defText name="t">y</defText></defTextVector>'
)



async def serve_scripted(reply: bytes = DEFS) -> tuple[ScriptedServer, asyncio.Server, int]:
    """A `ScriptedServer` sending `reply` on 127.0.0.1 and a free port: it, its asyncio server
    (not yet serving: enter it) and the port."""
    scripted = ScriptedServer(reply)
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
    return scripted, server, server.sockets[0].getsockname()[1]


async def sent_before(conn: RemoteConnection, scripted: ScriptedServer) -> bytes:
    """What the connection had sent the remote before now: a marker queued on the connection
    now is written after all of it, so once the marker has arrived all of it has too. The
    bytes before the marker."""
    marker = b'<pingRequest uid="sent-before"/>'
    conn.send(marker)
    await until(lambda: marker in scripted.received, 5, "the marker at the remote")
    return bytes(scripted.received).split(marker, 1)[0]

async def test_connects_asks_and_forwards_and_reconnects_after_loss() -> None:
    """driver_ready on connect, frames forwarded, driver_lost on loss, then back again."""
    scripted, server, port = await serve_scripted()
    router = RecordingRouter()
    conn = RemoteConnection("127.0.0.1", port, backoff=FAST)
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: sum(e[0] == "frame" for e in ev) == 3)
        assert b"getProperties" in await sent_before(conn, scripted)
        assert b"enableBLOB" not in scripted.received  # BLOBs only when asked for
        scripted.drop_all()
        await router.wait_for(lambda ev: sum(e[0] == "frame" for e in ev) == 6)
        task.cancel()
    kinds = [e[0] for e in router.events if e[0] != "frame"]
    assert kinds == ["ready", "lost", "ready", "lost"]


async def test_refused_connection_is_retried_until_the_server_appears(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A remote that is down at start never raises; the connection is made once it is up."""
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    router = RecordingRouter()
    conn = RemoteConnection("127.0.0.1", port, backoff=FAST)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        with caplog.at_level(logging.WARNING, logger="indipyserver"):
            await until(lambda: caplog.text.count("cannot connect to") >= 2, 10,
                        "two refused attempts logged")
        assert router.events == [] and not task.done()
        scripted = ScriptedServer(DEFS)
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", port)
        async with server:
            await router.wait_for(lambda ev: sum(e[0] == "frame" for e in ev) == 3)
            task.cancel()


async def test_blob_enable_sends_enableblob_once_per_device() -> None:
    """With blob_enable each device gets one escaped enableBLOB Also as it first appears."""
    scripted, server, port = await serve_scripted()
    router = RecordingRouter()
    conn = RemoteConnection("127.0.0.1", port, blob_enable=True, backoff=FAST)
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        # two elements, each naming enableBLOB in its start and end tags
        await until(lambda: scripted.received.count(b"enableBLOB") >= 4, 5, "two enableBLOBs")
        await sent_before(conn, scripted)  # and nothing more was on its way
        task.cancel()
    assert scripted.received.count(b'<enableBLOB device="A">Also</enableBLOB>') == 1
    assert scripted.received.count(b'<enableBLOB device="B &amp; C">Also</enableBLOB>') == 1


async def test_device_at_host_takes_only_that_device() -> None:
    """dev@host: other devices of the remote are not offered to our clients."""
    _, server, port = await serve_scripted()
    router = RecordingRouter()
    conn = RemoteConnection("127.0.0.1", port, device="B & C", backoff=FAST)
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        # A's definitions come first in the stream: dealt with (dropped) before B & C's
        await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))
        task.cancel()
    devices = {e[1].device for e in router.events if e[0] == "frame"}  # type: ignore[attr-defined]
    assert devices == {"B & C"}


async def test_device_at_host_with_the_real_router_asks_for_that_device_only() -> None:
    """indiserver's dev@host: the remote is sent getProperties device='dev' (notes 2.2), not the
    chained-server device="*" nor a device-less one, and our clients see only that device."""
    from indipyserver.routing.router import Router

    scripted, server, port = await serve_scripted()
    router = Router()
    conn = RemoteConnection("127.0.0.1", port, device="B & C", backoff=FAST)
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))
        await until(lambda: router.cached("B & C", "P")[0] is not None, 5, "B & C cached")
        asked = await sent_before(conn, scripted)
        task.cancel()
    assert asked == b'<getProperties device="B &amp; C" version="1.7"/>\n'
    assert router.owner("B & C") is None  # lost on cancel: deleted for clients
    assert router.cached("A", "P") == (None, None)


async def test_a_remote_server_on_this_machine_is_known_to_be_local() -> None:
    """The round trip's shortcut hands the CPU to a peer it has woken only when the peer is
    on this machine (the shortcut); a remote server's connection says so once connected (the rule
    itself: test_localpeer)."""
    _, server, port = await serve_scripted()
    router = RecordingRouter()
    conn = RemoteConnection("127.0.0.1", port, backoff=FAST)
    conn.local = False  # as if an earlier connection had gone elsewhere
    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(e[0] == "ready" for e in ev))
        assert conn.local is True
        task.cancel()


async def test_a_remote_servers_set_vector_alone_in_a_read_takes_the_shortcut() -> None:
    """A chained server's set vector that arrives alone in a read reaches the clients by the
    round trip's shortcut (the shortcut), as an executable driver's does, and lands in the cache; a
    pinned dev@host remote's set about another of its devices is still dropped (the shortcut
    takes only sets about a device the remote owns, and leaves the rest to `_frames`)."""
    from serverkit import Recorder

    from indipycore.protocol.enums import Perm
    from indipycore.protocol.enums import State
    from indipycore.protocol.events import DefTextVector
    from indipycore.protocol.events import Text
    from indipycore.protocol.serialiser import serialise
    from indipyserver.clients.clientconnection import ClientConnection
    from indipyserver.fastpath.shortcut import Shortcut
    from indipyserver.routing.router import Router

    defs = b"".join(serialise(DefTextVector(device, "P", State.IDLE, Perm.RO, (Text("t", "x"),)))
                    for device in ("Scope", "Dome"))
    scripted, server, port = await serve_scripted(defs)
    router = Router()
    seen: list[tuple[bytes, bool]] = []
    shortcut = Shortcut(router.tables)  # as the server hands it to a remote's connection
    shortcut.driver_added()
    route_set = shortcut.route_set

    def counted(driver, data, flow):  # type: ignore[no-untyped-def]
        taken = route_set(driver, data, flow)
        seen.append((bytes(data), taken))
        return taken

    shortcut.route_set = counted  # type: ignore[method-assign]
    client = ClientConnection(router, set())
    to_client = Recorder()
    client.connection_made(to_client)
    client.data_received(b'<getProperties version="1.7"/>\n')
    conn = RemoteConnection("127.0.0.1", port, device="Scope", backoff=FAST)
    conn.shortcut = shortcut
    mine = (b'<setTextVector device="Scope" name="P" state="Ok"><oneText name="t">z'
            b"</oneText></setTextVector>\n")
    other = (b'<setTextVector device="Dome" name="P" state="Ok"><oneText name="t">w'
             b"</oneText></setTextVector>\n")

    async def sent(data: bytes) -> None:
        scripted.writers[0].write(data)
        await until(lambda: any(d == data for d, _ in seen), 5, f"{data!r} routed")

    async with server, asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))
        await until(lambda: router.cached("Scope", "P")[0] is not None, 5, "Scope cached")
        await sent(other)
        await sent(mine)
        await until(lambda: mine.rstrip(b"\n") in b"".join(to_client.writes), 5,
                    "the set written to the client")
        written = b"".join(to_client.writes)
        cached = router.cached("Scope", "P")[1]
        task.cancel()
    assert (other, False) in seen and (mine, True) in seen
    assert mine.rstrip(b"\n") in written and b'device="Dome"' not in written
    assert cached is not None and cached.data == mine.rstrip(b"\n")


@pytest.mark.parametrize(("host", "port", "error"), [
    ("localhost", "abc", ValueError), ("localhost", 0, ValueError), ("localhost", 70000, ValueError),
    ("localhost", True, ValueError), ("", 7624, TypeError), (None, 7624, TypeError),
])
def test_a_bad_remote_address_is_refused_where_it_is_given(host, port, error) -> None:  # type: ignore[no-untyped-def]
    """add_remote("localhost", "abc") retried for ever, logging "Servname not supported"."""
    with pytest.raises(error, match="remote"):
        IPyServer().add_remote(host, port)


def test_a_port_given_as_digits_is_taken() -> None:
    """3.x passed the port on to asyncio, which takes "7624" too."""
    assert IPyServer().add_remote("localhost", "7625").port == 7625  # type: ignore[arg-type, attr-defined]


async def remote_of(handler, retry: Retry):  # type: ignore[no-untyped-def]
    """A TCP server running `handler`, and a RemoteConnection to it with `retry`."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, RemoteConnection("127.0.0.1", port, retry=retry), RecordingRouter()


async def test_a_remote_restarted_after_a_stable_run_is_reconnected_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Restarted by hand several times within a minute, a remote server used to be waited
    for 0.5, 1, 2 ... up to 30 s (a chaos review saw 8, 16 and 30 s): a connection that lasted
    `stable_after` starts the delays again from `initial`. Read from the logged delays (each
    0.05 s, shown as 0.1; without the reset they would be 0.05, 0.2, 0.8 and 3.2 s)."""
    scripted = ScriptedServer(DEFS)
    server, conn, router = await remote_of(scripted.handle, Retry(
        ExponentialBackoff(0.05, 30.0, factor=4.0), stable_after=0.2))
    with caplog.at_level(logging.WARNING, logger="indipyserver"):
        async with server, asyncio.TaskGroup() as tg:
            task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
            for n in range(1, 5):
                await router.wait_for(lambda ev, n=n: sum(e[0] == "frame" for e in ev) == 3 * n)
                await asyncio.sleep(0.25)  # up longer than stable_after (a lower bound)
                scripted.drop_all()
            await router.wait_for(lambda ev: sum(e[0] == "frame" for e in ev) == 15, timeout=15)
            task.cancel()
    delays = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records
              if "reconnecting in" in r.getMessage()]
    assert delays == ["0.1 s"] * 4, delays


async def test_a_remote_that_drops_every_connection_at_once_is_backed_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A remote that answers and then drops the connection at once (an indiserver whose -m
    cuts us off, one that crashes after its definitions) is not retried in a storm: 36
    connections in 20 s in a review of a reset on the first definition, 0.5 s apart. Read
    from the logged delays, which grow (0.05 s shown as 0.1, 0.2, 0.8) as the connection
    never lasts `stable_after`."""

    async def answer_and_drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(DEFS)
        await writer.drain()
        writer.transport.abort()

    server, conn, router = await remote_of(answer_and_drop, Retry(
        ExponentialBackoff(0.05, 30.0, factor=4.0), stable_after=5.0))
    with caplog.at_level(logging.WARNING, logger="indipyserver"):
        async with server, asyncio.TaskGroup() as tg:
            task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
            await until(lambda: router.count("lost") >= 3, 10, "three connections lost")
            task.cancel()
    delays = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records
              if "reconnecting in" in r.getMessage()]
    assert delays[:3] == ["0.1 s", "0.2 s", "0.8 s"], delays
    kinds = [e[0] for e in router.events]
    three = kinds[:[i for i, k in enumerate(kinds) if k == "lost"][2] + 1]
    assert three.count("ready") == 3 and three.count("frame") == 9  # each got the definitions
