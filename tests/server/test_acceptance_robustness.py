"""Acceptance tests for the server's robustness rule (issue 3), filling gaps found in the audit.

Bad input gets a clear logged error and the service keeps running with nothing else lost. Each
test names the bad input, says what happens to its sender, and checks that another client (or
another driver) is still fully served afterwards:

* a request for an unknown device: dropped with a warning that says why; the sender stays
  connected;
* values of the wrong type: routed to the owner, which refuses them (Alert + log line);
* an element larger than the framing cap from a client: logged, that client is disconnected;
* an in-process driver that dies: logged with its name and traceback, clients get delProperty;
* an executable driver that writes malformed XML: logged with its name, its good output still
  reaches clients;
* an executable driver that stops reading: its queue stays under max_queue_bytes, the excess is
  dropped with a log line, and everything else keeps working;
* a remote server that sends malformed XML: logged with its label, its good output reaches
  clients;
* a client beyond maxconnections: told with a message, logged, closed; its slot is reusable;
* a 1 MiB stderr "line" from an executable driver: logged in bounded pieces, nothing lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from waiting import until

from indipycore.protocol.events import NewTextVector
from indipycore.protocol.events import PingRequest
from indipycore.protocol.events import Text
from indipycore.protocol.serialiser import serialise
from indipyserver import IPyServer
from indipyserver.clients import clientconnection as clients

NEW_V = '<newNumberVector device="Gadget" name="VALUE"><oneNumber name="V">{}</oneNumber></newNumberVector>'



async def _defined_clients(srv: IPyServer, count: int) -> list[RawClient]:
    """`count` clients connected, then each sent the definitions (up to the Gadget's BLOB)."""
    clients = [await RawClient.connect(srv.port) for _ in range(count)]
    for c in clients:
        await c.send("<getProperties/>")
        await c.wait_for("defBLOBVector")
    return clients


async def test_unknown_device_is_dropped_with_a_warning_and_the_sender_stays_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(server(make_gadget())) as srv:
        a, b = await _defined_clients(srv, 2)
        with caplog.at_level(logging.WARNING, logger="indipyserver.router"):
            await a.send(NEW_V.format(5).replace("Gadget", "Nobody"))
            await a.round_trip()
        assert "for device 'Nobody', which nothing here serves" in caplog.text
        await a.send(NEW_V.format(6))
        for c in (a, b):
            s = await c.wait_for("setNumberVector", name="VALUE")
            assert b">6" in s.data or b"6.0" in s.data
        assert not any(b"Nobody" in f.data for f in b.frames)


async def test_wrong_value_types_are_refused_by_the_owner_with_alert_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = make_gadget()
    async with running(server(driver)) as srv:
        a = await RawClient.connect(srv.port)
        await a.send("<getProperties/>")
        await a.wait_for("defBLOBVector")
        before = driver["Gadget"]["VALUE"]["V"]
        with caplog.at_level(logging.WARNING):
            await a.send(NEW_V.format("twelve"))
            alert = await a.wait_for("setNumberVector", name="VALUE", state="Alert")
        assert b"rejected" in alert.data
        assert "rejected newNumberVector" in caplog.text and "is not a number" in caplog.text
        assert driver["Gadget"]["VALUE"]["V"] == before
        await a.send(NEW_V.format(7))
        await a.wait_for("setNumberVector", name="VALUE", state="Ok")
        assert driver["Gadget"]["VALUE"]["V"] == "7"  # as the client wrote it (3.x)


async def test_an_oversize_element_from_a_client_is_logged_and_only_that_client_is_dropped(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the client framing cap lowered to 64 KiB, a client sending an unfinished 1 MiB
    element is told off in the log and disconnected; the other client loses nothing."""

    class SmallFramer(clients.Framer):  # type: ignore[misc, valid-type]
        def __init__(self, max_element_size: int = 64 * 1024, **options: object) -> None:
            super().__init__(max_element_size, **options)

    monkeypatch.setattr(clients, "Framer", SmallFramer)
    driver = make_gadget()
    async with running(server(driver)) as srv:
        bad, good = await _defined_clients(srv, 2)
        with caplog.at_level(logging.WARNING, logger="indipyserver.clients"):
            await bad.send('<newBLOBVector device="Gadget" name="IMAGE"><oneBLOB name="I">')
            await bad.send(b"QUFB" * (1 << 18))  # 1 MiB of base64, never closed
            with pytest.raises((EOFError, ConnectionResetError)):
                await bad.read_until(lambda fs: False)
        assert "larger than 65536 bytes" in caplog.text
        assert "disconnected" in caplog.text
        await good.send(NEW_V.format(9))
        await good.wait_for("setNumberVector", name="VALUE")
        await good.round_trip()
        assert len(srv.clients) == 1


async def test_an_unfinished_element_is_let_go_when_its_client_disconnects() -> None:
    """A client that sends 20 MB of an element and disconnects: what was buffered is freed
    at once, even with the cyclic garbage collector off (a chaos run saw three 200 MB ones
    held until the collector ran, minutes later)."""
    import gc
    import tracemalloc

    driver = make_gadget()
    gc.disable()
    tracemalloc.start()
    try:
        async with running(server(driver)) as srv:
            watcher = await RawClient.connect(srv.port)
            base = tracemalloc.get_traced_memory()[0]
            bad = await RawClient.connect(srv.port)
            await bad.send('<newBLOBVector device="Gadget" name="IMAGE"><oneBLOB name="I">')
            for _ in range(20):
                await bad.send(b"QUFB" * (1 << 18))
            await until(lambda: tracemalloc.get_traced_memory()[0] - base > 15_000_000, 5,
                        "the partial BLOB buffered")
            await bad.close()
            await until(lambda: len(srv.clients) == 1, 5, "the bad client gone")
            held = tracemalloc.get_traced_memory()[0] - base
            assert held < 5_000_000, f"{held} bytes still held after the client left"
            await watcher.round_trip()
    finally:
        tracemalloc.stop()
        gc.enable()


async def test_unfinished_elements_of_all_clients_together_are_bounded(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each client may hold one unfinished element up to the framer's limit; together they may
    not pass MAX_PARTIAL_BYTES (lowered here to 3 MB): the client whose element would take
    them past it is disconnected with an error logged; the other keeps its connection and,
    once it finishes its element, is served."""
    monkeypatch.setattr(clients, "MAX_PARTIAL_BYTES", 3 << 20)
    monkeypatch.setattr(clients, "PARTIAL_CHECK_BYTES", 1 << 20)
    driver = make_gadget()
    async with running(server(driver)) as srv:
        first, second = await _defined_clients(srv, 2)
        head = '<newBLOBVector device="Gadget" name="IMAGE"><oneBLOB name="I" size="3" format=".b">'
        await first.send(head)
        await first.send(b"QUFB" * (1 << 19))  # 2 MB, not finished
        await until(lambda: sum(c._framer.buffered for c in srv.clients) >= 2 << 20, 5,
                    "the server holding the first 2 MB")
        with caplog.at_level(logging.ERROR, logger="indipyserver.clients"):
            await second.send(head)
            await second.send(b"QUFB" * (1 << 19))  # 4 MB together: over
            with pytest.raises((EOFError, ConnectionResetError)):
                await second.read_until(lambda fs: False)
        assert "would take the clients' unfinished elements past 3145728 bytes" in caplog.text
        await first.send("</oneBLOB></newBLOBVector>")
        await first.round_trip()
        assert len(srv.clients) == 1


async def test_an_in_process_driver_that_dies_is_logged_and_its_devices_deleted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crash = asyncio.Event()

    class Crashing(type(make_gadget())):  # type: ignore[misc]
        async def serve(self, link):  # type: ignore[no-untyped-def]
            serving = asyncio.ensure_future(super().serve(link))
            await crash.wait()
            serving.cancel()
            raise RuntimeError("hardware exploded")

    other = make_gadget("Other")
    dying = Crashing(make_gadget()["Gadget"])
    async with running(server(dying, other)) as srv:
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.read_until(lambda fs: sum(f.tag == "defBLOBVector" for f in fs) == 2)
        with caplog.at_level(logging.ERROR):
            crash.set()
            gone = await c.wait_for("delProperty", device="Gadget")
        assert "name" not in gone.attrs
        failure = [r for r in caplog.records if "failed" in r.getMessage()]
        assert failure and "Crashing" in failure[0].getMessage() and failure[0].exc_info
        await c.send(NEW_V.format(3).replace("Gadget", "Other"))
        await c.wait_for("setNumberVector", device="Other")
        await c.round_trip()


MALFORMED_DRIVER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, sys, time
    os.write(1, b"<<garbage from a buggy driver & <oops\\n")
    os.write(1, b'<defTextVector device="Ex" name="T" state="Ok" perm="ro">'
                b'<defText name="t">fine</defText></defTextVector>\\n')
    while os.read(0, 65536):
        pass
    """
)

# Reads nothing until SIGUSR1, then reads its input to the end. (A driver that never reads
# again until shutdown meets a separate write-pipe leak, reported by the audit.)
DEAF_DRIVER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, signal, sys
    def drain(*_):
        while os.read(0, 1 << 20):
            pass
        sys.exit(0)
    signal.signal(signal.SIGUSR1, drain)
    os.write(1, b'<defTextVector device="Deaf" name="T" state="Ok" perm="rw">'
                b'<defText name="t">x</defText></defTextVector>\\n')
    while True:
        signal.pause()
    """
)


@asynccontextmanager
async def _defined(srv: IPyServer, device: str, text: bytes) -> AsyncIterator[RawClient]:
    """`srv` running, and a client of it given `device`'s defTextVector, which holds `text`."""
    async with running(srv):
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        d = await c.wait_for("defTextVector", device=device)
        assert text in d.data
        yield c


def _malformed_xml_logged(caplog: pytest.LogCaptureFixture, source: str) -> None:
    """Malformed XML was logged, every line of it naming `source`."""
    lines = [r.getMessage() for r in caplog.records if "malformed XML" in r.getMessage()]
    assert lines and all(source in line for line in lines), lines


async def test_malformed_xml_from_an_executable_driver_is_logged_with_its_name(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    script = tmp_path / "buggy_driver.py"
    script.write_text(MALFORMED_DRIVER)
    script.chmod(0o755)
    srv = server(make_gadget())
    srv.add_exdriver(str(script), max_restarts=0)
    with caplog.at_level(logging.WARNING):
        async with _defined(srv, "Ex", b"fine") as c:
            await c.send(NEW_V.format(2))
            await c.wait_for("setNumberVector", device="Gadget")
    _malformed_xml_logged(caplog, "buggy_driver.py")


async def test_an_executable_driver_that_stops_reading_has_a_bounded_queue(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A driver that stops reading stdin: past max_queue_bytes what is sent to it is dropped
    with one log line, the queue never grows beyond the limit, and other clients/drivers go on
    (indiserver has no limit here, notes 2.4)."""
    script = tmp_path / "deaf_driver.py"
    script.write_text(DEAF_DRIVER)
    script.chmod(0o755)
    limit = 256 * 1024
    srv = server(make_gadget())
    conn = srv.add_exdriver(str(script), max_restarts=0, max_queue_bytes=limit)
    with caplog.at_level(logging.WARNING):
        async with running(srv):
            c, other = await RawClient.connect(srv.port), await RawClient.connect(srv.port)
            for client in (c, other):
                await client.send("<getProperties/>")
                await client.wait_for("defTextVector", device="Deaf")
            text = "y" * 10_000
            new = serialise(NewTextVector("Deaf", "T", (Text("t", text),)))
            peak = 0
            for i in range(20):  # 20 rounds of 60 x 10 kB: 12 MB; the pipe holds about 1 MiB
                await c.send(new * 60)
                await c.round_trip()
                peak = max(peak, conn.queued_bytes)
            assert 0 < peak <= limit
            os.kill(conn.pid, signal.SIGUSR1)  # reads again: what was kept is delivered
            await until(lambda: conn.queued_bytes == 0 and "messages were dropped" in caplog.text,
                        5, "the kept messages delivered")
            await other.send(NEW_V.format(4))
            await other.wait_for("setNumberVector", device="Gadget")
            await other.round_trip()
    assert "is not reading its input" in caplog.text and "deaf_driver" in caplog.text
    assert re.search(r"deaf_driver.py: \d+ messages were dropped", caplog.text)


async def test_malformed_xml_from_a_remote_server_is_logged_and_its_good_output_forwarded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fake_remote(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"<<<not xml at all & <b <c\n"
                     b'<defTextVector device="Far" name="T" state="Ok" perm="ro">'
                     b'<defText name="t">from afar</defText></defTextVector>\n')
        await writer.drain()
        await reader.read()  # keep the connection until the server goes
        writer.close()

    remote = await asyncio.start_server(fake_remote, "127.0.0.1", 0)
    port = remote.sockets[0].getsockname()[1]
    srv = server()
    srv.add_remote("127.0.0.1", port)
    try:
        with caplog.at_level(logging.WARNING):
            async with _defined(srv, "Far", b"from afar") as c:
                await c.round_trip()
    finally:
        remote.close()
        await remote.wait_closed()
    _malformed_xml_logged(caplog, f"127.0.0.1:{port}")


async def test_a_client_beyond_maxconnections_is_told_logged_and_its_slot_is_reusable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The refused client gets a device-less message and is closed, the refusal is logged, the
    connected client is not disturbed, and once it leaves a new client is accepted."""
    async with running(server(make_gadget(), maxconnections=1)) as srv:
        first = await RawClient.connect(srv.port)
        await first.round_trip()
        with caplog.at_level(logging.WARNING, logger="indipyserver.clients"):
            refused = await RawClient.connect(srv.port)
            with pytest.raises(EOFError):
                await refused.read_until(lambda fs: False)
        assert refused.tags() == ["message"]
        assert "refused client" in caplog.text and "maxconnections" in caplog.text
        await first.round_trip()
        await first.close()
        await until(lambda: not srv.clients, 5, "the first client gone")
        later = await RawClient.connect(srv.port)
        await later.round_trip()


async def test_at_maxconnections_a_silent_client_gives_its_place_to_a_new_one(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sockets that never send an element (98 of them in a chaos run, silent or sending one
    space) held every slot for good, and real clients were refused. At the limit, the oldest
    client with no whole element since it connected SILENT_SECONDS ago is closed to make room,
    logged; a client that has sent one is never."""
    monkeypatch.setattr(clients, "SILENT_SECONDS", 0.2)
    async with running(server(make_gadget(), maxconnections=2)) as srv:
        talker = await RawClient.connect(srv.port)
        await talker.round_trip()
        silent = await RawClient.connect(srv.port)
        await silent.send(" <getProp")  # bytes, but no element
        await asyncio.sleep(0.3)  # on purpose: silent for longer than SILENT_SECONDS
        with caplog.at_level(logging.WARNING, logger="indipyserver.clients"):
            newcomer = await RawClient.connect(srv.port)
            await newcomer.round_trip()
            with pytest.raises(EOFError):
                await silent.read_until(lambda fs: False)
            assert "it sent no INDI element in the" in caplog.text
            await asyncio.sleep(0.3)  # on purpose: the newcomer, who spoke, past SILENT_SECONDS
            refused = await RawClient.connect(srv.port)  # both remaining clients have spoken
            with pytest.raises(EOFError):
                await refused.read_until(lambda fs: False)
        assert refused.tags() == ["message"]
        await talker.round_trip()


CHATTY_DRIVER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, sys
    sys.stderr.write("x" * (1 << 20))  # 1 MiB without a newline
    sys.stderr.write("\\nlast words\\n")
    sys.stderr.flush()
    os.write(1, b'<defTextVector device="Chatty" name="T" state="Ok" perm="ro">'
                b'<defText name="t">ok</defText></defTextVector>\\n')
    while os.read(0, 65536):
        pass
    """
)


async def test_a_huge_stderr_line_from_an_executable_driver_is_logged_cut_short(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Huge input on stderr: the 1 MiB line is logged once, cut to a readable length that
    says how long it was (not held whole, nor logged in 64 KiB pieces), the line after it is
    logged, and the driver's INDI output still reaches clients."""
    script = tmp_path / "chatty_driver.py"
    script.write_text(CHATTY_DRIVER)
    script.chmod(0o755)
    srv = server()
    srv.add_exdriver(str(script), max_restarts=0)
    with caplog.at_level(logging.INFO, logger="indipyserver.driver_stderr"):
        async with running(srv):
            c = await RawClient.connect(srv.port)
            await c.send("<getProperties/>")
            await c.wait_for("defTextVector", device="Chatty")
            await until(lambda: "last words" in caplog.text, 5, "the driver's last words logged")
    pieces = [r.getMessage() for r in caplog.records if "chatty_driver.py: " in r.getMessage()]
    assert any(p.endswith("last words") for p in pieces)
    (xs,) = [p.split("chatty_driver.py: ", 1)[1] for p in pieces if "xxxx" in p]
    assert xs.endswith(f"... ({1 << 20} bytes)") and len(xs) < 2100


async def test_a_client_sending_garbage_between_good_requests_cannot_flood_the_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown elements interleaved with pings never reach ten bad in a row, so the client
    stays; each one was logged (13,107 lines from one connection in a chaos run). Now 20 per
    10 s are, the next one logged saying how many were left out, for all clients together:
    reconnecting after each burst (21,080 lines in 10 s) gets no fresh budget."""
    from indipycore.logbudget import WarningBudget

    monkeypatch.setattr(clients, "_malformed_warnings", WarningBudget())
    async with running(server(make_gadget())) as srv:
        with caplog.at_level(logging.WARNING, logger="indipyserver.clients"):
            for round_ in range(3):
                a = await RawClient.connect(srv.port)
                await a.send(b"".join(b"<fooBar/>" + serialise(PingRequest(f"p{i}"))
                                      for i in range(100)))
                await a.wait_for("pingReply", uid="p99")
                await a.round_trip()
                await a.close()
        logged = [r for r in caplog.records if "sent malformed XML" in r.getMessage()]
        assert len(logged) == 20, len(logged)
        assert "unknown element <fooBar> refused" in logged[0].getMessage()
