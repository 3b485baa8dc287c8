"""The client on a Unix socket (``localhost:PATH``) against a fake server in the test that
passes memory files beside its elements (``sendmsg`` with SCM_RIGHTS), as indiserver does.

Protects: the host name convention (``unixaddress``: abstract on Linux, ``localhost:`` alone is
``/tmp/indiserver``); the transport hands each read's descriptors out with that read
(``ServerStream.take_fds``), pauses while too many wait, and drops a connection whose
descriptors were cut short, closing them; through ``connect()`` an attached BLOB arrives as raw
bytes (and is saved in the BLOB folder) while wrong counts, garbage, a pipe instead of a
memory file, a ``len`` past the file's end and a close in the middle of an element are logged
and leave no descriptor open, the connection going on; a lost socket is reconnected, the logs
naming its path.
"""

from __future__ import annotations

import array
import asyncio
import base64
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from serverkit import open_memfds
from waiting import until

import indipyclient
from indipyclient import ConnectionLost
from indipyclient import ExponentialBackoff
from indipyclient import IPyClient
from indipyclient import events
from indipyclient import setBLOBVector
from indipyclient.model.incoming import Incoming
from indipyclient.model.incoming import Item
from indipyclient.model.tree import Model
from indipyclient.session.connection import Connection
from indipyclient.session.serverstream import MAX_FDS as STREAM_MAX_FDS
from indipyclient.session.serverstream import ServerStream
from indipyclient.session.unixaddress import ABSTRACT
from indipyclient.session.unixaddress import DEFAULT_PATH
from indipyclient.session.unixaddress import shown
from indipyclient.session.unixaddress import unix_address
from indipyclient.session.unixaddress import unix_path
from indipyclient.session.unixtransport import UnixTransport

DEF_BLOB = (b'<defBLOBVector device="Dev" name="IMAGE" state="Idle" perm="ro">'
            b'<defBLOB name="img"/></defBLOBVector>\n')
DEF_TEXT = (b'<defTextVector device="Dev" name="TEXT" state="Idle" perm="ro">'
            b'<defText name="t">start</defText></defTextVector>\n')


def attached(size: int, length: int | None = None, name: str = "img") -> bytes:
    length = size if length is None else length
    return (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok"><oneBLOB name="'
            + name.encode() + b'" size="' + str(size).encode() + b'" format=".fits" len="'
            + str(length).encode() + b'" attached="true"/></setBLOBVector>\n')


def text(value: str) -> bytes:
    return (b'<setTextVector device="Dev" name="TEXT" state="Ok"><oneText name="t">'
            + value.encode() + b"</oneText></setTextVector>\n")


def memfd(data: bytes) -> int:
    fd = os.memfd_create("fake-server-blob", os.MFD_CLOEXEC)
    os.write(fd, data)
    return fd


def memfds_open() -> list[str]:
    """Every memory file this process holds open."""
    return open_memfds("self", "/memfd:")


def text_of(client: indipyclient.Client) -> str | None:
    vector = client.model.vector("Dev", "TEXT")
    return None if vector is None else vector.members_["t"].membervalue


def blob_size(client: indipyclient.Client) -> int | None:
    vector = client.model.vector("Dev", "IMAGE")
    return None if vector is None else vector.members_["img"].blobsize


def send(sock: socket.socket, data: bytes, fds: list[int] = []) -> None:  # noqa: B006
    """`data` with `fds` passed on its first bytes; the sender's copies closed."""
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())] \
        if fds else []
    sent = sock.sendmsg([data], rights)
    if sent < len(data):
        sock.sendall(data[sent:])
    for fd in fds:
        os.close(fd)


def test_localhost_colon_names_a_unix_socket_as_libindiclient_does() -> None:
    assert unix_path("localhost:/tmp/x") == "/tmp/x"
    assert unix_path("localhost:") == DEFAULT_PATH == "/tmp/indiserver"
    assert unix_path("localhost") is None and unix_path("127.0.0.1") is None
    assert unix_path("otherhost:/tmp/x") is None
    assert ABSTRACT  # these tests run on Linux, where the name is abstract
    assert unix_address("/tmp/x") == "\0/tmp/x" and shown("/tmp/x") == "@/tmp/x"


# -- the transport and the stream, over a socketpair ----------------------------------------

async def test_each_reads_descriptors_are_handed_out_with_it() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stream = ServerStream()
    transport = UnixTransport(asyncio.get_running_loop(), ours, stream)
    try:
        send(theirs, b"first")
        send(theirs, b"second", [memfd(b"a"), memfd(b"b")])
        got = b""
        fds: list[int] = []
        while got != b"firstsecond":
            got += await stream.read(False)
            fds += stream.take_fds()
        assert len(fds) == 2 and [os.pread(fd, 1, 0) for fd in fds] == [b"a", b"b"]
        for fd in fds:
            os.close(fd)
        assert stream.take_fds() == []
    finally:
        transport.close()
        theirs.close()
        await stream.wait_closed()
    assert memfds_open() == []


async def test_reading_pauses_while_too_many_descriptors_wait_and_they_close_at_the_end() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stream = ServerStream()
    transport = UnixTransport(asyncio.get_running_loop(), ours, stream)
    try:
        for _ in range(STREAM_MAX_FDS // 8 + 1):
            send(theirs, b"x", [memfd(b"m") for _ in range(8)])
        await until(lambda: not transport.is_reading(), 5, "reading paused")
        assert len(memfds_open()) == 8 * (STREAM_MAX_FDS // 8 + 1)
    finally:
        transport.close()
        theirs.close()
        await stream.wait_closed()
        stream.close_fds()
    assert memfds_open() == []


async def test_descriptors_cut_short_drop_the_connection_and_are_closed() -> None:
    """More than 16 at once cannot all be received: those that came cannot be matched."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stream = ServerStream()
    UnixTransport(asyncio.get_running_loop(), ours, stream)
    send(theirs, b"too many", [memfd(b"m") for _ in range(20)])
    with pytest.raises(ConnectionError, match="more descriptors than could be received"):
        async with asyncio.timeout(5):
            while await stream.read(False):
                pass
    theirs.close()
    stream.close_fds()
    assert memfds_open() == []


# -- the client, against a fake server on an abstract socket --------------------------------

Script = Callable[[socket.socket], Awaitable[None]]


@asynccontextmanager
async def fake_server(script: Script) -> AsyncIterator[str]:
    """A server on a fresh abstract socket running `script` for each connection; yields the
    path."""
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(unix_address(path))
    listener.listen()
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(sock: socket.socket) -> None:
        try:
            await script(sock)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sock.close()

    async def accept() -> None:
        while True:
            sock, _ = await loop.sock_accept(listener)
            tasks.add(asyncio.create_task(serve(sock)))

    acceptor = asyncio.create_task(accept())
    try:
        yield path
    finally:
        acceptor.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(acceptor, *tasks, return_exceptions=True)
        listener.close()


async def hold(sock: socket.socket) -> None:
    """Keep the connection until the client closes it."""
    loop = asyncio.get_running_loop()
    while await loop.sock_recv(sock, 4096):
        pass


async def first_blob(client: indipyclient.Client, timeout: float = 10) -> setBLOBVector:
    """The first setBLOBVector among the client's events (failing after `timeout` s)."""
    async with asyncio.timeout(timeout):
        async for event in client.events():
            if isinstance(event, setBLOBVector):
                return event
    raise AssertionError("the events ended before a setBLOBVector")


async def test_an_attached_blob_arrives_as_raw_bytes_and_is_saved(tmp_path: Path) -> None:
    image = b"SIMPLE  =" + bytes(range(256)) * 100

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_BLOB)
        send(sock, attached(len(image)), [memfd(image)])
        await hold(sock)

    async with fake_server(script) as path, \
            indipyclient.connect(f"localhost:{path}", 7624, blobfolder=tmp_path) as client:
        event = await first_blob(client)
        assert type(event["img"]) is bytes and event["img"] == image
        assert Path(event.filenames["img"]).read_bytes() == image
        assert client.connection.attached_received == 1
    assert memfds_open() == []


BAD: dict[str, Callable[[], tuple[bytes, list[int]]]] = {
    "no descriptor": lambda: (attached(5), []),
    "two descriptors for one member": lambda: (attached(3), [memfd(b"abc"), memfd(b"xyz")]),
    "garbage with a descriptor": lambda: (b"<setBLOBVector attached='true' <<>>\n",
                                          [memfd(b"g")]),
    "a pipe instead of a memory file": lambda: (attached(4), [_pipe()]),
    "len past the file's end": lambda: (attached(4, length=400), [memfd(b"four")]),
}


def _pipe() -> int:
    r, w = os.pipe()
    os.close(w)
    return r


@pytest.mark.parametrize("case", sorted(BAD))
async def test_bad_input_is_logged_and_the_connection_goes_on_with_nothing_left_open(
        case: str, caplog: pytest.LogCaptureFixture) -> None:
    element, fds = BAD[case]()

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_BLOB + DEF_TEXT)
        send(sock, element, fds)
        send(sock, text("after"))
        send(sock, attached(4), [memfd(b"good")])
        await hold(sock)

    caplog.set_level(logging.WARNING)
    async with fake_server(script) as path, \
            indipyclient.connect(f"localhost:{path}", 7624) as client:
        await until(lambda: text_of(client) == "after", 10, "the text after")
        await until(lambda: blob_size(client) == 4, 10, "the good BLOB")
        # (Two for one member: its member is read, the second descriptor closed.)
        read = 2 if case == "two descriptors for one member" else 1
        assert client.connected and client.connection.attached_received == read
        said = caplog.text
        assert f"@{path}" in said, said
        assert "skipping malformed input" in said or "descriptors" in said, said
    assert memfds_open() == []


async def test_a_close_in_the_middle_of_an_element_closes_its_descriptors() -> None:
    sent = asyncio.Event()

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_BLOB)
        element = attached(4)
        send(sock, element[:30], [memfd(b"lost")])
        sent.set()
        await asyncio.sleep(0)  # (the socket closes when the script returns)

    async with fake_server(script) as path:
        client = indipyclient.connect(f"localhost:{path}", 7624,
                                      backoff=ExponentialBackoff(0.05, 0.1))
        events = client.events()
        async with client:
            async with asyncio.timeout(10):
                async for event in events:
                    if isinstance(event, ConnectionLost):
                        break
            await until(lambda: not memfds_open(), 5, "the descriptor closed")


async def test_a_lost_socket_is_reconnected_and_the_logs_name_its_path(
        caplog: pytest.LogCaptureFixture) -> None:
    connections = 0

    async def script(sock: socket.socket) -> None:
        nonlocal connections
        connections += 1
        send(sock, DEF_TEXT + text(f"connection {connections}"))
        if connections == 1:
            return  # closed: the client reconnects
        await hold(sock)

    caplog.set_level(logging.INFO, logger="indipyclient.session.connection")
    async with fake_server(script) as path, \
            indipyclient.connect(f"localhost:{path}", 7624,
                                 backoff=ExponentialBackoff(0.05, 0.1)) as client:
        await until(lambda: text_of(client) == "connection 2", 10, "the second connection")
    assert f"connected to @{path}" in caplog.text
    assert f"connection to @{path} lost" in caplog.text


async def test_no_server_on_the_path_is_retried_and_said() -> None:
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    client = indipyclient.connect(f"localhost:{path}", 7624, connect_timeout=0.3,
                                  backoff=ExponentialBackoff(0.01, 0.02))
    with pytest.raises(ConnectionError, match=f"@{path}"):
        async with client:
            pass
    assert client.connection.attempts >= 2
    assert client.connection.last_failure == "Connection refused"


async def test_descriptors_waiting_unread_are_closed_when_the_program_stops() -> None:
    """The program is slow (its handler waits), so the element with its memfd waits in the
    stream's queue; stopping the connection then closes the descriptor too."""
    arrived = asyncio.Event()

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_TEXT)
        send(sock, attached(4), [memfd(b"wait")])
        arrived.set()
        await hold(sock)

    async def slow(event: object) -> None:
        await asyncio.Event().wait()  # never returns: the reading waits behind it

    async with fake_server(script) as path:
        connection = Connection(f"localhost:{path}", 7624, Model(), slow)
        task = asyncio.create_task(connection.run())
        await arrived.wait()
        await until(lambda: connection._writer is not None
                    and connection._writer._nfds == 1, 5, "the memfd received, not read")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert memfds_open() == []


async def test_a_large_inline_blob_streams_through_lent_reads_intact(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Inline BLOBs still stream on the socket, and a read that fills the stream's large
    buffer is lent to the framer (``Incoming.feed_lent``), as on TCP. (Reads that large
    need the server's socket buffer to hold them: forced here.)"""
    image = bytes(range(256)) * (24 * 1024)  # 6 MiB: 8 MiB of base64
    calls = {"lent": 0}
    feed_lent = Incoming.feed_lent

    def counted_lent(self: Incoming, data: bytearray) -> Iterator[Item]:
        calls["lent"] += 1
        return feed_lent(self, data)

    monkeypatch.setattr(Incoming, "feed_lent", counted_lent)

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_BLOB)
        # Room for the whole element at once (as root), so that the client's reads are
        # limited by its buffers rather than by this process writing between them.
        try:
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_SNDBUFFORCE", 32), 32 << 20)
        except PermissionError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 << 20)  # capped: wmem_max
        loop = asyncio.get_running_loop()
        body = base64.b64encode(image)
        await loop.sock_sendall(sock, b'<setBLOBVector device="Dev" name="IMAGE" state="Ok">'
                                b'<oneBLOB name="img" size="' + str(len(image)).encode()
                                + b'" format=".bin">' + body + b"</oneBLOB></setBLOBVector>\n")
        await hold(sock)

    async with fake_server(script) as path, \
            indipyclient.connect(f"localhost:{path}", 7624) as client:
        event = await first_blob(client, 20)
        assert event["img"] == image
        assert client.connection.attached_received == 0
    assert calls["lent"] > 0, calls


async def test_a_large_write_waits_for_the_peer_and_arrives_whole() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.setblocking(False)
    stream = ServerStream()
    transport = UnixTransport(asyncio.get_running_loop(), ours, stream)
    data = bytes(range(256)) * 8192  # 2 MiB: more than the socket holds
    received = bytearray()

    async def read_all() -> None:
        loop = asyncio.get_running_loop()
        while len(received) < len(data):
            received.extend(await loop.sock_recv(theirs, 1 << 16))

    try:
        stream.write(data)
        assert transport.get_write_buffer_size() > 0  # the socket took part of it
        reader = asyncio.create_task(read_all())
        async with asyncio.timeout(10):
            await stream.drain()
            await reader
        assert received == data and transport.get_write_buffer_size() == 0
    finally:
        transport.close()
        theirs.close()
        await stream.wait_closed()


async def test_what_waits_when_the_program_closes_is_written_before_the_end() -> None:
    """A close while the socket is full ends the connection only once the server has read
    what was written before it (the last newXVector of a program that stops reaches the
    server, as over TCP), and nothing is read after the close."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.setblocking(False)
    stream = ServerStream()
    transport = UnixTransport(asyncio.get_running_loop(), ours, stream)
    data = bytes(range(256)) * 8192  # 2 MiB: more than the socket holds
    try:
        stream.write(data)
        assert transport.get_write_buffer_size() > 0
        transport.close()
        assert transport.is_closing() and not transport.is_reading()
        loop = asyncio.get_running_loop()
        received = bytearray()
        async with asyncio.timeout(10):
            while chunk := await loop.sock_recv(theirs, 1 << 16):
                received.extend(chunk)
            await stream.wait_closed()
        assert received == data
    finally:
        theirs.close()


async def test_indipyclient_0_9_4_s_ipyclient_takes_the_same_host_name() -> None:
    """``IPyClient("localhost:PATH", port)`` (0.9.4's API) goes through the same connection:
    it learns the server's vectors and its attached BLOB's bytes reach ``rxevent``."""
    got: list[bytes] = []

    class Program(IPyClient):
        async def rxevent(self, event: events.Event) -> None:
            if isinstance(event, setBLOBVector):
                got.append(event["img"])

    async def script(sock: socket.socket) -> None:
        send(sock, DEF_BLOB + DEF_TEXT + text("hello"))
        send(sock, attached(5), [memfd(b"bytes")])
        await hold(sock)

    async with fake_server(script) as path:
        program = Program(f"localhost:{path}", 7624)
        await program.send_enableBLOB("Also", "Dev")
        task = asyncio.create_task(program.asyncrun())
        try:
            await until(lambda: got, 10, "the BLOB at rxevent")
            assert program["Dev"]["TEXT"]["t"] == "hello" and got == [b"bytes"]
        finally:
            program.shutdown()
            await asyncio.wait_for(task, 10)
    assert memfds_open() == []


async def test_a_member_attached_after_large_inline_data_reaches_the_program() -> None:
    """A vector whose inline member is large streams to the BLOB receiver in pieces; its
    attached member after it is read into the stream (``FrameAttached``): both arrive."""
    inline = bytes(range(256)) * 1024  # streamed: over 64 KiB of base64
    defs = (b'<defBLOBVector device="Dev" name="IMAGE" state="Idle" perm="ro">'
            b'<defBLOB name="img"/><defBLOB name="raw"/></defBLOBVector>\n')
    element = (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok"><oneBLOB name="img" size="'
               + str(len(inline)).encode() + b'" format=".bin">' + base64.b64encode(inline)
               + b'</oneBLOB><oneBLOB name="raw" size="7" format=".bin" len="7" '
               b'attached="true"/></setBLOBVector>\n')

    async def script(sock: socket.socket) -> None:
        send(sock, defs)
        send(sock, element[:100], [memfd(b"memfd!!")])  # with the element's first bytes
        await asyncio.get_running_loop().sock_sendall(sock, element[100:])
        await hold(sock)

    async with fake_server(script) as path, \
            indipyclient.connect(f"localhost:{path}", 7624) as client:
        event = await first_blob(client)
        assert (event["img"], event["raw"]) == (inline, b"memfd!!")
    assert memfds_open() == []
