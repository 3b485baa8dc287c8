"""An in-process driver's BLOBs as memory files, through the server (``IPyServer``).

While a client on the Unix socket wants the driver's BLOBs, the in-process link attaches
(``InProcessDriverConnection.attaches_blobs``): the driver puts each image in a memfd, that
client gets the memfd itself (nothing encoded anywhere), TCP clients base64 encoded by the
server (``blobs.attached``, with the driver's ``len``). Without such a client the driver
encodes the image itself, as before (no ``len``: the mark of inline base64). Protects the
order of what the driver sends after a BLOB, the ping pacing of the next one, the data that
snooping drivers and chained servers get, and that every memfd made is closed, and once
(no second close: `closed_once`): after delivery, after a client left in the middle, after the
driver stopped or the server shut down.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from contextlib import contextmanager
from typing import Any

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import open_memfds
from serverkit import recv_with_fds
from serverkit import running
from serverkit import send_blob
from serverkit import server
from waiting import until

import indipydriver.vectors
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipydriver import IPyDriver
from indipydriver.rxevents import setBLOBVector
from indipyserver.blobs import attached as attached_module
from indipyserver.drivers import inprocess

HELLO = '<getProperties version="1.7"/><enableBLOB device="Gadget">Also</enableBLOB>'
#: The driver's memfds and the server's duplicates of them (one process here).
MEMFD = "memfd:indipydriver-blob"
BODY = re.compile(rb"<oneBLOB([^>]*)>([^<]*)</oneBLOB>")


def driver_memfds() -> list[str]:
    return open_memfds("self", MEMFD)


class UnixClient:
    """A client on the server's Unix socket reading with ``recvmsg``, as libindiclient does:
    whole elements, and the descriptors that came beside them, in order (the test's own)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect("\0" + path)
        self.sock.setblocking(False)
        self.framer = Framer()
        self.frames: list[Frame] = []
        self.fds: list[int] = []

    async def send(self, text: str) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, text.encode())

    async def wait_for(self, tag: str, name: str | None = None, timeout: float = 15) -> Frame:
        """The first element `tag` (of vector `name`) read so far or next, taken out."""
        async with asyncio.timeout(timeout):
            while True:
                for i, frame in enumerate(self.frames):
                    if frame.tag == tag and name in (None, frame.name):
                        return self.frames.pop(i)
                data, fds = await recv_with_fds(self.sock)
                assert data, "the server closed the connection"
                self.fds += fds
                self.frames += [f for f in self.framer.feed(data) if isinstance(f, Frame)]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
        self.sock.close()


def inline_value(frame: Frame) -> tuple[bytes, bytes]:
    """(the oneBLOB's attributes, its value decoded) of a one-member BLOB set."""
    ((attrs, body),) = BODY.findall(frame.data)
    return attrs, base64.b64decode(b"".join(body.split()), validate=True)


@asynccontextmanager
async def serving(*drivers: IPyDriver, attached: bool = True) -> AsyncIterator[tuple[str, int]]:
    """The server running `drivers` in-process, on TCP and a Unix socket (BLOBs attached there
    unless `attached` is False): (its path, port)."""
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    srv = server(*drivers)
    srv.listen_unix(path, attached=attached)
    async with running(srv):
        yield path, srv.port


@asynccontextmanager
async def unix_client(path: str, hello: str = HELLO) -> AsyncIterator[UnixClient]:
    client = UnixClient(path)
    try:
        await client.send(hello)
        await client.wait_for("defBLOBVector")
        yield client
    finally:
        client.close()


async def tcp_client(port: int, hello: str = HELLO) -> RawClient:
    client = await RawClient.connect(port)
    await client.send(hello)
    await client.wait_for("defBLOBVector")
    return client


@contextmanager
def counting_memory_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times a vector made memory files (one entry per send)."""
    made: list[int] = []
    real = indipydriver.vectors.memory_files

    def counting(datas: Any) -> list[int]:
        made.append(len(datas))
        return real(datas)

    monkeypatch.setattr(indipydriver.vectors, "memory_files", counting)
    yield made


@pytest.fixture
def closed_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every descriptor closed during the test is closed once: a second ``os.close`` of one
    (EBADF, which the closers swallow) fails the test."""
    real = os.close
    twice: list[int] = []

    def close(fd: int) -> None:
        try:
            real(fd)
        except OSError as exc:
            if exc.errno == errno.EBADF:
                twice.append(fd)
            raise

    monkeypatch.setattr(os, "close", close)
    yield
    assert twice == [], f"descriptors closed twice: {twice}"


async def send_then_number(driver: IPyDriver, payload: bytes) -> None:
    """The BLOB, then a number set (what must not overtake it)."""
    await send_blob(driver, payload)  # type: ignore[arg-type]
    value = driver["Gadget"]["VALUE"]
    value["V"] = 7
    await value.send_setVector()


@pytest.mark.usefixtures("closed_once")
async def test_a_unix_client_gets_the_memfd_a_tcp_client_base64_encoded_by_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a Unix client taking BLOBs the driver attaches: that client gets the element
    attached and a memfd of exactly the image; the TCP client base64 of the same bytes, with
    the driver's ``len`` (encoded by the server from the memfd, not by the driver). The number
    set sent after the BLOB reaches both after it. No memfd is left open afterwards."""
    payload = os.urandom(1_000_003)
    driver = make_gadget()
    with counting_memory_files(monkeypatch) as made:
        async with serving(driver) as (path, port), unix_client(path) as unix:
            tcp = await tcp_client(port)
            assert driver.attaches_blobs
            await send_then_number(driver, payload)
            element = await unix.wait_for("setBLOBVector", "IMAGE")
            assert b'attached="true"' in element.data and b'len="1000003"' in element.data
            (fd,) = unix.fds
            assert os.pread(fd, len(payload) + 1, 0) == payload
            await unix.wait_for("setNumberVector", "VALUE")  # after the BLOB
            await tcp.wait_for("setNumberVector", name="VALUE")
            (blob,) = [f for f in tcp.frames if f.tag == "setBLOBVector"]
            assert tcp.frames.index(blob) < len(tcp.frames) - 1  # the number came after it
            attrs, value = inline_value(blob)
            assert value == payload
            assert b'len="1000003"' in attrs and b"attached" not in attrs
            await tcp.round_trip()
    assert made == [1]
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


async def test_with_no_unix_client_the_driver_encodes_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only TCP clients: no memory file is made (it would only be read back and encoded
    here, which costs more than encoding it at once); the client gets the driver's inline
    base64, without ``len``."""
    payload = os.urandom(300_000)
    driver = make_gadget()
    with counting_memory_files(monkeypatch) as made:
        async with serving(driver) as (_, port):
            tcp = await tcp_client(port)
            assert not driver.attaches_blobs
            await send_then_number(driver, payload)
            blob = await tcp.wait_for("setBLOBVector", name="IMAGE")
            attrs, value = inline_value(blob)
            assert value == payload and b"len=" not in attrs
    assert made == []


async def test_a_unix_client_that_takes_no_blobs_does_not_make_the_driver_attach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Unix client without enableBLOB (Never, the default) is no reason to attach: the
    driver encodes for the TCP client itself, and the Unix client gets no BLOB."""
    payload = os.urandom(200_000)
    driver = make_gadget()
    with counting_memory_files(monkeypatch) as made:
        async with serving(driver) as (path, port), \
                unix_client(path, '<getProperties version="1.7"/>') as unix:
            tcp = await tcp_client(port)
            assert not driver.attaches_blobs
            await send_then_number(driver, payload)
            await tcp.wait_for("setBLOBVector", name="IMAGE")
            await unix.wait_for("setNumberVector", "VALUE")
            assert not any(f.tag == "setBLOBVector" for f in unix.frames) and not unix.fds
    assert made == []


@pytest.mark.usefixtures("closed_once")
@pytest.mark.parametrize("size", [1, 1000, 3 * 64 * 1024])
async def test_a_small_blob_reaches_a_unix_client_as_a_memfd_too(size: int) -> None:
    """An image that fits in one step of the server's encoding still goes to the Unix
    client as a memfd (``AttachedBlobs(small_to_sink=True)``), and to TCP as base64."""
    payload = os.urandom(size)
    driver = make_gadget()
    async with serving(driver) as (path, port), unix_client(path) as unix:
        tcp = await tcp_client(port)
        await send_then_number(driver, payload)
        element = await unix.wait_for("setBLOBVector", "IMAGE")
        assert b'attached="true"' in element.data
        assert os.pread(unix.fds[0], size + 1, 0) == payload
        blob = await tcp.wait_for("setBLOBVector", name="IMAGE")
        assert inline_value(blob)[1] == payload
        await tcp.wait_for("setNumberVector", name="VALUE")
        assert tcp.frames.index(blob) < tcp.frames.index(tcp.frames[-1])
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


async def test_shared_blobs_off_and_a_short_blobsize_go_inline_to_the_unix_client() -> None:
    """``shared_blobs = False`` on the driver, and a ``set_blobsize`` below the data's
    length (indiserver would pass on only ``size`` bytes of a memfd), keep inline base64:
    the Unix client gets the value in the element and no descriptor."""
    payload = os.urandom(50_000)
    driver = make_gadget()
    async with serving(driver) as (path, _), unix_client(path) as unix:
        driver.shared_blobs = False
        await send_blob(driver, payload)  # type: ignore[arg-type]
        first = await unix.wait_for("setBLOBVector", "IMAGE")
        driver.shared_blobs = True
        vector = driver["Gadget"]["IMAGE"]
        vector["I"] = payload
        vector.set_blobsize("I", 10)
        await vector.send_setVector()
        second = await unix.wait_for("setBLOBVector", "IMAGE")
        for frame in (first, second):
            assert inline_value(frame)[1] == payload
        assert not unix.fds


async def test_with_unix_attached_off_the_unix_client_gets_base64(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``listen_unix(path, attached=False)`` (``--shared-blobs off``): the Unix client is served
    as a TCP one, so the driver makes no memfd and the client gets inline base64."""
    payload = os.urandom(100_000)
    driver = make_gadget()
    with counting_memory_files(monkeypatch) as made:
        async with serving(driver, attached=False) as (path, _), unix_client(path) as unix:
            assert not driver.attaches_blobs
            await send_blob(driver, payload)  # type: ignore[arg-type]
            element = await unix.wait_for("setBLOBVector", "IMAGE")
            assert inline_value(element)[1] == payload and not unix.fds
    assert made == []


@pytest.mark.usefixtures("closed_once")
async def test_a_never_unix_client_gets_nothing_and_every_memfd_is_closed() -> None:
    """Two Unix clients, one with BLOBs Never: the router gives only the other one the
    element and its memfd; nothing is made for the first, and once the other has closed its
    own, no memfd is open."""
    payload = os.urandom(400_000)
    driver = make_gadget()
    async with serving(driver) as (path, _), unix_client(path) as takes, \
            unix_client(path, '<getProperties version="1.7"/>') as never:
        await send_then_number(driver, payload)
        await takes.wait_for("setBLOBVector", "IMAGE")
        assert os.pread(takes.fds[0], len(payload) + 1, 0) == payload
        await never.wait_for("setNumberVector", "VALUE")
        assert not never.fds and not any(f.tag == "setBLOBVector" for f in never.frames)
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


@pytest.mark.usefixtures("closed_once")
async def test_out_of_descriptors_the_server_encodes_the_drivers_memfd_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server cannot duplicate the driver's memfd (EMFILE): it encodes the image from
    the driver's own descriptor before the driver closes it, so both clients get its bytes
    inline, in order, and nothing is left open."""
    payload = os.urandom(250_000)
    driver = make_gadget()

    def no_more(fds: object) -> list[int]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(inprocess, "duplicates", no_more)
    async with serving(driver) as (path, port), unix_client(path) as unix:
        tcp = await tcp_client(port)
        await send_then_number(driver, payload)
        for frame in (await unix.wait_for("setBLOBVector", "IMAGE"),
                      await tcp.wait_for("setBLOBVector", name="IMAGE")):
            assert inline_value(frame)[1] == payload
        assert not unix.fds
        await unix.wait_for("setNumberVector", "VALUE")
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server encodes 3 KiB a loop turn: a BLOB's conversion spans many turns."""
    monkeypatch.setattr(attached_module, "STEP", 3 * 1024)


@pytest.mark.usefixtures("closed_once", "small_steps")
async def test_two_blobs_in_a_row_reach_a_tcp_client_whole_and_in_order() -> None:
    """Two BLOBs sent back to back while the first is still being encoded for the TCP
    client: the second waits for the first one's pingReply (``_send_blob``), and the client
    gets both whole, in order, then the number set sent after them."""
    first, second = os.urandom(150_001), os.urandom(120_002)
    driver = make_gadget()
    async with serving(driver) as (path, port), unix_client(path) as unix:
        tcp = await tcp_client(port)
        await send_blob(driver, first)  # type: ignore[arg-type]
        await send_then_number(driver, second)
        await tcp.wait_for("setNumberVector", name="VALUE")
        blobs = [f for f in tcp.frames if f.tag == "setBLOBVector"]
        assert [inline_value(f)[1] for f in blobs] == [first, second]
        assert tcp.frames[-1].tag == "setNumberVector"
        await unix.wait_for("setNumberVector", "VALUE")
        assert [os.pread(fd, 200_000, 0) for fd in unix.fds] == [first, second]
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


@pytest.mark.usefixtures("closed_once", "small_steps")
async def test_a_tcp_client_leaving_in_the_middle_of_a_blob_leaves_no_memfd() -> None:
    """The TCP client goes while the server encodes the image for it (3 KiB a turn): the
    conversion ends, the Unix client still has its memfd, and none is left open."""
    payload = os.urandom(2_000_000)
    driver = make_gadget()
    async with serving(driver) as (path, port), unix_client(path) as unix:
        tcp = await tcp_client(port)
        await send_blob(driver, payload)  # type: ignore[arg-type]
        await unix.wait_for("setBLOBVector", "IMAGE")
        await tcp.reader.read(1 << 16)  # the encoding has started
        await tcp.close()
        assert os.pread(unix.fds[0], len(payload) + 1, 0) == payload
        unix.close()
        await until(lambda: not driver_memfds(), 10, lambda: f"memfds closed: {driver_memfds()}")


@pytest.mark.usefixtures("closed_once")
async def test_a_unix_client_leaving_with_its_memfd_queued_leaves_no_memfd() -> None:
    """A Unix client that reads nothing and goes: the elements and memfds queued for it
    are closed with its connection."""
    driver = make_gadget()
    async with serving(driver) as (path, _):
        async with unix_client(path) as unix:
            unix.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            for _ in range(3):
                await send_then_number(driver, os.urandom(100_000))
        await until(lambda: not driver_memfds(), 10, lambda: f"memfds closed: {driver_memfds()}")


@pytest.mark.usefixtures("closed_once", "small_steps")
async def test_a_driver_stopped_after_a_blob_still_delivers_it_and_closes_its_memfds() -> None:
    """The driver stops while the server encodes its last image for a TCP client: the image
    still reaches the client whole (as an executable driver's does), then its device is
    deleted, and no memfd is left."""
    payload = os.urandom(600_000)
    driver = make_gadget()
    async with serving(driver) as (path, port), unix_client(path):
        tcp = await tcp_client(port)
        await send_blob(driver, payload)  # type: ignore[arg-type]
        driver.shutdown()
        await tcp.wait_for("delProperty")
        (blob,) = [f for f in tcp.frames if f.tag == "setBLOBVector"]
        assert inline_value(blob)[1] == payload
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


@pytest.mark.usefixtures("closed_once", "small_steps")
async def test_a_server_shut_down_in_the_middle_of_a_blob_closes_every_memfd() -> None:
    """The server stops while the image is being encoded, its encoding held up by a
    congested client (so it would never end by itself): the conversion is given up and
    every memfd is closed."""
    driver = make_gadget()
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    srv = server(driver)
    srv.listen_unix(path)
    async with running(srv), unix_client(path):
        tcp = await tcp_client(srv.port)
        await send_blob(driver, os.urandom(3_000_000))  # type: ignore[arg-type]
        await tcp.reader.read(1 << 16)  # the encoding has started
        srv._congestion.congest(object())  # a client behind: encoding stops between steps
        assert driver_memfds()
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


class Snooper(IPyDriver):
    """Snoops Gadget's BLOBs; keeps each image it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[bytes] = []
        self.got = asyncio.Event()

    async def hardware(self) -> None:
        await self.send_getProperties("Gadget")
        await self.send_enableBLOB("Also", "Gadget")

    async def snoopevent(self, event: Any) -> None:
        if isinstance(event, setBLOBVector) and event.vectorname == "IMAGE":
            self.images.append(event["I"])
            self.got.set()


async def test_a_snooping_driver_gets_the_image_a_unix_client_wants_too() -> None:
    """A snooping driver that enabled the BLOBs gets the image's bytes: the server gives
    the image whole, inline, to it and to the Unix client alike."""
    payload = os.urandom(500_000)
    driver = make_gadget()
    snooper = Snooper()
    async with serving(driver, snooper) as (path, _), unix_client(path) as unix:
        await send_then_number(driver, payload)
        async with asyncio.timeout(15):
            await snooper.got.wait()
        assert snooper.images == [payload]
        # A BLOB a snooper takes is routed whole (``Router.route_head``): inline for all.
        element = await unix.wait_for("setBLOBVector", "IMAGE")
        assert inline_value(element)[1] == payload and not unix.fds
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")


async def test_a_chained_server_gets_the_image_as_base64() -> None:
    """A server chaining ours (``add_remote``) is a TCP client of it: its own client gets
    the driver's bytes while a Unix client of ours takes the memfd."""
    payload = os.urandom(700_000)
    driver = make_gadget()
    async with serving(driver) as (path, port), unix_client(path) as unix:
        upper = server()
        upper.add_remote("127.0.0.1", port)
        async with running(upper):
            client = await tcp_client(upper.port)
            await until(lambda: driver.attaches_blobs, 10, "the Unix client's BLOB mode")
            await send_then_number(driver, payload)
            blob = await client.wait_for("setBLOBVector", name="IMAGE")
            assert inline_value(blob)[1] == payload
            await unix.wait_for("setBLOBVector", "IMAGE")
            assert os.pread(unix.fds[0], len(payload) + 1, 0) == payload
    await until(lambda: not driver_memfds(), 5, lambda: f"memfds closed: {driver_memfds()}")
