"""IPyServer end to end: real sockets on 127.0.0.1 port 0, in-process drivers, raw clients."""

from __future__ import annotations

import asyncio
import logging
import select

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from serverkit import server
from serverkit import socket_round_trip
from waiting import until

from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.events import EnableBLOB
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import serialise
from indipydriver import IPyDriver
from indipyserver import IPyServer
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.loop.eventloop import inline_selector
from indipyserver.routing.router import Router

NEW_V = '<newNumberVector device="Gadget" name="VALUE"><oneNumber name="V">42</oneNumber></newNumberVector>'



async def test_getproperties_new_set_round_trip_and_echo() -> None:
    """A client's new reaches the driver; its set reaches every client; the new is echoed."""
    async with running(server(make_gadget())) as srv:
        a, b = await RawClient.connect(srv.port), await RawClient.connect(srv.port)
        for c in (a, b):
            await c.send('<getProperties version="1.7"/>')
            await c.wait_for("defBLOBVector")
        await a.send(NEW_V)
        for c in (a, b):
            s = await c.wait_for("setNumberVector", name="VALUE")
            assert b"42" in s.data
        await b.wait_for("newNumberVector")
        await a.round_trip()  # a's new was dealt with, and what it brought a has come
        assert "newNumberVector" not in a.tags()  # not echoed to its sender
        assert srv.port != 0


async def test_late_client_gets_current_values_in_the_definition() -> None:
    async with running(server(make_gadget())) as srv:
        a = await RawClient.connect(srv.port)
        await a.send("<getProperties/>" + NEW_V)
        await a.wait_for("setNumberVector")
        late = await RawClient.connect(srv.port)
        await late.send('<getProperties device="Gadget" name="VALUE"/>')
        d = await late.wait_for("defNumberVector")
        assert b">42" in d.data or b"42.0" in d.data


@pytest.mark.parametrize(
    ("mode", "expect_blob", "expect_other"),
    [("", False, True), ("Also", True, True), ("Only", True, False)],
)
async def test_enableblob_modes(mode: str, expect_blob: bool, expect_other: bool) -> None:
    """enableBLOB Never (the default), Also and Only decide which of a driver's BLOB and
    number a client gets; a round trip after both proves what did not come never will."""
    driver = make_gadget()
    async with running(server(driver)) as srv:
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defBLOBVector")
        if mode:
            await c.send(serialise(EnableBLOB("Gadget", BLOBEnable(mode))))
        await c.round_trip()
        c.frames.clear()
        await send_blob(driver, b"x" * 1000)  # an in-process driver's sends are routed at once
        await driver["Gadget"]["VALUE"].send_setVector()
        await c.round_trip()
        assert ("setBLOBVector" in c.tags()) == expect_blob
        assert ("setNumberVector" in c.tags()) == expect_other


async def test_ping_is_answered_to_that_client_only() -> None:
    """A pingReply goes to the client that asked, never to another."""
    async with running(server(make_gadget())) as srv:
        a, b = await RawClient.connect(srv.port), await RawClient.connect(srv.port)
        await b.send("<getProperties/>")
        await a.send('<pingRequest uid="abc"/>')
        reply = await a.wait_for("pingReply")
        assert reply.attrs == {"uid": "abc"}
        own = await b.round_trip()
        assert [f.attrs for f in b.frames if f.tag == "pingReply"] == [own.attrs]


class RawDriver(DriverConnection):
    """A driver-side connection the test feeds by hand (a snooping peer)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.router: Router | None = None

    async def run(self, router: Router) -> None:
        self.router = router
        router.driver_ready(self)
        await asyncio.Event().wait()

    def feed(self, xml: str) -> None:
        assert self.router is not None
        self.router.driver_frames(self, [f for f in Framer().feed(xml.encode()) if isinstance(f, Frame)])

    def taken(self) -> bytes:
        return self._take() if self._pending else b""


async def test_late_snooper_gets_static_values_and_later_updates() -> None:
    """A driver snooping one property gets its current value at once and its later sets, and
    nothing of the device's other properties."""
    driver = make_gadget()
    snooper = RawDriver("snooper")
    async with running(server(driver, snooper)) as srv:
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defBLOBVector")
        snooper.taken()
        snooper.feed('<getProperties device="Gadget" name="STATIC"/>')
        got = snooper.taken()
        assert b'<defTextVector device="Gadget" name="STATIC"' in got and b"constant" in got
        vector = driver["Gadget"]["STATIC"]
        vector["T"] = "changed"
        await vector.send_setVector()
        await driver["Gadget"]["VALUE"].send_setVector()
        # An in-process driver's sends are routed before send_setVector returns, and the router
        # queues a snooper's share at once: both are in, or never will be.
        got = snooper.taken()
        assert b"changed" in got and b"VALUE" not in got


async def a_duplicate_refused(srv: IPyServer, second: IPyDriver) -> RawClient:
    """A client that has the server's devices, then `second` added, which serves the same
    device: the client is told it was refused."""
    c = await RawClient.connect(srv.port)
    await c.send("<getProperties/>")
    await c.wait_for("defBLOBVector")
    srv.add_driver(second)
    assert b"already provided" in (await c.wait_for("message")).data
    return c


async def test_duplicate_device_refused_and_server_keeps_serving(caplog: pytest.LogCaptureFixture) -> None:
    first, second = make_gadget(), make_gadget()
    async with running(server(first)) as srv:
        c = await a_duplicate_refused(srv, second)
        await c.send(NEW_V)
        await c.wait_for("setNumberVector")
        assert srv.router.owner("Gadget").driver is first  # type: ignore[union-attr]
    assert "refused" in caplog.text


async def test_a_refused_duplicate_is_asked_again_once_the_owner_is_gone() -> None:
    """A driver started again while its old self still serves the device (a FIFO stop and
    start: indiweb's restart) is refused; once the old one is gone the new one is asked for
    the device and serves it: clients get its definitions after the deletion, and its
    answers. Before, the refusal held for the new one's whole session and the device never
    came back (indiweb's restart of the dome, a fresh-clone run of 2026-11-29)."""
    first, second = make_gadget(), make_gadget()
    async with running(server(first)) as srv:
        c = await a_duplicate_refused(srv, second)
        old = srv.router.owner("Gadget")
        assert old is not None and old.driver is first  # type: ignore[attr-defined]
        srv.remove_connection(old)  # type: ignore[arg-type]
        await c.wait_for("delProperty")
        deleted = next(i for i, f in enumerate(c.frames) if f.tag == "delProperty")
        # asked again: its definitions after the deletion
        await c.read_until(lambda fs: any(f.tag == "defBLOBVector" for f in fs[deleted:]), 15)
        new = srv.router.owner("Gadget")
        assert new is not None and new.driver is second  # type: ignore[attr-defined]
        await c.send(NEW_V)
        await c.wait_for("setNumberVector")


async def test_slow_client_queue_stays_bounded_while_fast_client_gets_every_blob() -> None:
    """A client that never reads neither grows memory nor slows the others (notes 4.1)."""
    driver = make_gadget()
    limit_mb = 4
    async with running(server(driver, max_client_queue_mb=limit_mb)) as srv:
        slow, fast = await RawClient.connect(srv.port), await RawClient.connect(srv.port)
        for c in (slow, fast):
            await c.send('<getProperties/><enableBLOB device="Gadget">Also</enableBLOB><pingRequest uid="s"/>')
        await fast.wait_for("pingReply")
        await until(lambda: len(srv.clients) == 2, 10, "both clients registered")
        slow_conn = max(srv.clients, key=lambda cc: cc.label == f"127.0.0.1:{slow.writer.get_extra_info('sockname')[1]}")
        payload = b"\0" * 300_000
        count = 40  # 40 x 400 kB of base64: far more than the 4 MB limit
        peak = 0
        received = 0

        async def reader() -> None:
            nonlocal received
            await fast.read_until(lambda fs: sum(f.tag == "setBLOBVector" for f in fs) >= count, 20)
            received = sum(f.tag == "setBLOBVector" for f in fast.frames)

        task = asyncio.create_task(reader())
        for _ in range(count):
            await send_blob(driver, payload)
            peak = max(peak, slow_conn.queued_bytes)
        await task
        assert received == count
        assert peak <= limit_mb * 1024 * 1024
        assert slow_conn in srv.clients  # superseded BLOBs were dropped, so it stayed under -m
        assert slow_conn.dropped > 0


async def test_slow_client_is_disconnected_past_the_queue_limit(caplog: pytest.LogCaptureFixture) -> None:
    driver = make_gadget()
    async with running(server(driver, max_client_queue_mb=2)) as srv:
        slow = await RawClient.connect(srv.port)
        await slow.send("<getProperties/>")
        await until(lambda: len(srv.clients) == 1, 10, "the client registered")
        (conn,) = srv.clients
        device = driver["Gadget"]
        for i in range(30000):  # messages are never coalesced; loopback buffers take a few MB
            await device.send_message("m" * 1000 + str(i))
            if conn.closed.is_set():
                break
        await asyncio.wait_for(conn.closed.wait(), 5)
        assert conn not in srv.clients
    assert "bytes queued" in caplog.text


async def test_maxconnections_refuses_with_a_message() -> None:
    async with running(server(make_gadget(), maxconnections=1)) as srv:
        first = await RawClient.connect(srv.port)
        await first.round_trip()  # the first connection is served
        second = await RawClient.connect(srv.port)
        with pytest.raises(EOFError):
            await second.read_until(lambda fs: False)
        assert second.tags() == ["message"]
        assert b"already has 1 clients" in second.frames[0].data
        assert "device" not in second.frames[0].attrs
        await first.round_trip()  # and still is


async def test_malformed_xml_affects_only_that_client(caplog: pytest.LogCaptureFixture) -> None:
    driver = make_gadget()
    async with running(server(driver)) as srv:
        bad, good = await RawClient.connect(srv.port), await RawClient.connect(srv.port)
        await good.send("<getProperties/>")
        await good.wait_for("defBLOBVector")
        with caplog.at_level(logging.WARNING, logger="indipyserver.clients"):
            await bad.send("<<<garbage & stuff <getProperties device='Gadget' name='VALUE'/>")
            await bad.wait_for("defNumberVector")  # resynchronised: still served
        assert "malformed XML" in caplog.text and "127.0.0.1:" in caplog.text
        await driver["Gadget"]["VALUE"].send_setVector()
        await good.wait_for("setNumberVector")
        await bad.send("<a <b <c <d <e <f <g <h <i <j <k <l <m")
        with pytest.raises(EOFError):
            await bad.read_until(lambda fs: False)
        await good.round_trip()  # still served


async def test_send_message_reaches_every_client() -> None:
    async with running(server(make_gadget())) as srv:
        c = await RawClient.connect(srv.port)
        await c.send("<pingRequest/>")
        await c.wait_for("pingReply")
        srv.send_message("hello all")
        m = await c.wait_for("message")
        assert m.attrs["message"] == "hello all" and "device" not in m.attrs


async def test_shutdown_closes_clients_and_returns() -> None:
    srv = server(make_gadget())
    async with running(srv):
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defBLOBVector")
    with pytest.raises(EOFError):
        await c.read_until(lambda fs: False, 2)


SIGNAL_SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from serverkit import make_gadget
from indipyserver import IPyServer

async def main():
    srv = IPyServer(make_gadget(), port=0)
    task = asyncio.create_task(srv.asyncrun())
    await srv.started()
    sys.stdout.write(f"{srv.port}\\n")
    sys.stdout.flush()
    await task

asyncio.run(main())
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
async def test_signal_shuts_the_server_down_cleanly_with_exit_0(signame: str) -> None:
    import signal
    import sys
    from pathlib import Path

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SIGNAL_SCRIPT, str(Path(__file__).parents[1]),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    port = int(await asyncio.wait_for(proc.stdout.readline(), 10))
    c = await RawClient.connect(port)
    await c.send("<getProperties/>")
    await c.wait_for("defBLOBVector")
    proc.send_signal(getattr(signal, signame))
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    await c.close()
    assert proc.returncode == 0, err.decode()


async def test_shutdown_aborts_a_client_that_does_not_take_its_last_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that stopped reading with data queued for it would keep its socket open after
    the server returned (transport.close waits to flush): it is aborted after a grace period,
    logged, and the server returns. (pytest turns an unclosed socket into an error.)"""
    import socket as socket_module

    driver = make_gadget()
    srv = server(driver)
    task = asyncio.create_task(srv.asyncrun())
    await asyncio.wait_for(srv.started(), 5)
    stalled = socket_module.create_connection(("127.0.0.1", srv.port))
    try:
        stalled.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        # answered: the server has the client and its enableBLOB; from now on it reads nothing
        await socket_round_trip(
            stalled, b'<getProperties/><enableBLOB device="Gadget">Also</enableBLOB>')
        for _ in range(10):
            await send_blob(driver, b"\0" * 1_000_000)  # more than the socket buffers hold
        (conn,) = srv.clients
        assert conn.queued_bytes > 0
        with caplog.at_level(logging.DEBUG, logger="indipyserver.server"):
            srv.shutdown()
            await asyncio.wait_for(task, 5)
        assert conn.closed.is_set()
        assert "did not take its last bytes: aborted" in caplog.text
    finally:
        stalled.close()


async def test_a_client_reset_is_logged_and_forgotten_while_others_are_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that resets its connection (RST) while data is on its way is dropped with a
    log line; the others keep their round trips (on both event loops: the server's own reads
    the socket itself)."""
    import socket as socket_module
    import struct

    async with running(server(make_gadget())) as srv:
        ok = await RawClient.connect(srv.port)
        await ok.send('<getProperties version="1.7"/>')
        await ok.wait_for("defBLOBVector")
        gone = socket_module.create_connection(("127.0.0.1", srv.port))
        gone.sendall(b'<getProperties version="1.7"/>')
        await until(lambda: select.select([gone], [], [], 0)[0], 10, "definitions unread in its buffer")
        gone.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_LINGER, struct.pack("ii", 1, 0))
        with caplog.at_level(logging.DEBUG, logger="indipyserver.clients"):  # routine: DEBUG
            gone.close()  # unread definitions in its buffer: the kernel sends a reset
            await until(lambda: len(srv.clients) == 1, 10, "the reset client gone")
        assert len(srv.clients) == 1
        assert "disconnected" in caplog.text
        await ok.send(NEW_V)
        s = await ok.wait_for("setNumberVector", name="VALUE")
        assert b"42" in s.data


async def test_a_half_closed_client_gets_what_was_routed_for_it_then_is_closed() -> None:
    """A client that shuts down its sending side (EOF) still gets what its requests produced
    at once -- the definitions for its getProperties -- and then the server closes it; its
    new vector reached the driver all the same."""
    driver = make_gadget()
    async with running(server(driver)) as srv:
        c = await RawClient.connect(srv.port)
        await c.send('<getProperties version="1.7"/>' + NEW_V)
        c.writer.write_eof()
        with pytest.raises(EOFError):
            await c.read_until(lambda frames: False, 5)
        assert "defBLOBVector" in c.tags()
        await until(lambda: driver["Gadget"]["VALUE"]["V"] == "42", 10, "V = 42 at the driver")


async def test_clients_coming_and_going_fast_leave_the_server_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Descriptor numbers are reused at once when clients come and go; on the server's own
    loop each is registered with its selector again. 150 clients that connect, some of them
    asking and sending, and leave (some with a reset) while the driver keeps sending: nothing
    is logged as an error and a last client gets its round trip."""
    import socket as socket_module
    import struct

    driver = make_gadget()
    async with running(server(driver)) as srv:
        with caplog.at_level(logging.WARNING):
            for i in range(150):
                s = socket_module.create_connection(("127.0.0.1", srv.port))
                if i % 3:
                    s.sendall(b'<getProperties version="1.7"/>' + (NEW_V.encode() if i % 5 == 0 else b""))
                if i % 4 == 0:
                    s.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_LINGER, struct.pack("ii", 1, 0))
                await asyncio.sleep(0)
                s.close()
                if i % 10 == 0:
                    await driver["Gadget"]["VALUE"].send_setVector()
            await until(lambda: not srv.clients, 10, "every client gone")
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        selector = inline_selector(asyncio.get_running_loop())
        if selector is not None:  # every client's inline reader went with it
            assert not selector._inline
        last = await RawClient.connect(srv.port)
        await last.send('<getProperties version="1.7"/>')
        await last.wait_for("defBLOBVector")
        await last.send(NEW_V)
        s = await last.wait_for("setNumberVector", name="VALUE")
        assert b"42" in s.data
