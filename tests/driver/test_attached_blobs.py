"""A driver whose stdout is a Unix socket sends its BLOBs as memory files, as libindi does.

Under indiserver (one socketpair as stdin and stdout) and under our server (stdout a socket,
stdin a pipe), libindi's drivers put each BLOB's data in a memfd passed with SCM_RIGHTS beside
``<oneBLOB name size format len attached='true'>`` and no body. Protects: an `IPyDriver` does the
same (one descriptor per member holding data, in document order, on the element's first
bytes, holding exactly the member's bytes), in order with what it sends before and after, with
the pingRequest back-pressure after each BLOB; it keeps no descriptor open afterwards (a
cancelled send included); beside our server's side channel (stdout a pipe, ``INDIPY_BLOB_FD``)
each memfd goes there before its element, in order even while the side channel is full; and it
sends inline base64 as before on pipes, with ``shared_blobs = False``, and for a vector a
memory file cannot carry faithfully.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import threading
from collections.abc import AsyncIterator
from collections.abc import Sequence
from contextlib import asynccontextmanager

import pytest
from driverkit import RecordingDriver
from serverkit import recv_with_fds
from waiting import until

from indipycore.protocol.events import BLOB
from indipycore.protocol.events import PingReply
from indipycore.protocol.events import PingRequest
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import Serialiser
from indipycore.protocol.serialiser import serialise
from indipycore.sharedblobs import BLOB_FD_ENV
from indipycore.sharedblobs import attachable
from indipycore.sharedblobs import memory_files
from indipycore.sharedblobs import received_fds
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import vectors
from indipydriver.links import AttachingLink
from indipydriver.links import MemoryLink
from indipydriver.links import StdioLink
from indipydriver.wire import escape

DEV = "Cam"
#: The attributes of an attached member, in libindi's order (indiuserio.c,
#: IUUserIOBLOBContextOne on a Unix socket): name, size, format, len, attached; no body.
ATTACHED = re.compile(rb'<oneBLOB name="([^"]*)" size="(\d+)" format="([^"]*)" len="(\d+)" '
                      rb'attached="true"></oneBLOB>')


def make_camera() -> Device:
    return Device(DEV, [
        BLOBVector("IMAGES", "Images", "G", "ro", "Idle", [
            BLOBMember("RED", blobformat=".fits"),
            BLOBMember("GREEN", blobformat=".fits.z"),
            BLOBMember("BLUE", blobformat=".bin"),
        ]),
        NumberVector("TEMP", "Temperature", "G", "ro", "Idle", [NumberMember("T")]),
    ])


def blob_memfds() -> list[int]:
    """This process's open descriptors that are a driver's BLOB memory files."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if "memfd:indipydriver-blob" in os.readlink(f"/proc/self/fd/{name}"):
                found.append(int(name))
        except OSError:
            pass
    return found


class Peer:
    """The server's end of the driver's socket, read with ``recvmsg`` as indiserver reads it:
    whole elements, and each descriptor with the count of bytes read before it came."""

    def __init__(self, sock: socket.socket, chunk: int = 1 << 20) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.chunk = chunk  # bytes asked for by each recvmsg
        self.framer = Framer()
        self.frames: list[Frame] = []
        self.fds: list[tuple[int, int]] = []  # (bytes read before the read it came with, fd)
        self.read_bytes = 0

    async def _read(self) -> None:
        data, fds = await recv_with_fds(self.sock, self.chunk)
        assert data, "the driver closed its socket"
        self.fds += [(self.read_bytes, fd) for fd in fds]
        self.read_bytes += len(data)
        self.frames += [f for f in self.framer.feed(data) if isinstance(f, Frame)]

    async def next(self, tag: str, timeout: float = 10.0) -> Frame:
        """The next element with this tag (those before it are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                while self.frames:
                    frame = self.frames.pop(0)
                    if frame.tag == tag:
                        return frame
                await self._read()

    async def round_trip(self, timeout: float = 10.0) -> list[str]:
        """Ping the driver and wait for its reply: the tags of what it sent before the reply
        (all it had to send by then, since it answers in order), none of them dropped."""
        await asyncio.get_running_loop().sock_sendall(self.sock,
                                                      serialise(PingRequest("probe")))
        before: list[str] = []
        async with asyncio.timeout(timeout):
            while True:
                while self.frames:
                    frame = self.frames.pop(0)
                    if frame.tag == "pingReply" and frame.attrs.get("uid") == "probe":
                        return before
                    before.append(frame.tag)
                await self._read()

    async def answer_ping(self) -> None:
        ping = await self.next("pingRequest")
        await asyncio.get_running_loop().sock_sendall(
            self.sock, serialise(PingReply(ping.attrs["uid"])))

    def idle(self) -> bool:
        """Nothing unread in the socket (nothing more was sent)."""
        try:
            return not self.sock.recv(1, socket.MSG_PEEK)  # b"": the driver closed it
        except BlockingIOError:
            return True

    def take_fds(self) -> list[int]:
        fds = [fd for _, fd in self.fds]
        self.fds.clear()
        return fds

    def close(self) -> None:
        for fd in self.take_fds():
            os.close(fd)
        self.sock.close()


@asynccontextmanager
async def served(driver: RecordingDriver, infd: int, outfd: int) -> AsyncIterator[None]:
    task = asyncio.create_task(driver.serve(StdioLink(infd, outfd)))
    try:
        await until(lambda: driver._link is not None, 5, "the driver served")
        yield
    finally:
        driver.shutdown()
        await asyncio.wait_for(task, 5)


@asynccontextmanager
async def on_socketpair(driver: RecordingDriver, chunk: int = 1 << 20) -> AsyncIterator[Peer]:
    """`driver` served as indiserver serves it: one socketpair as stdin and stdout."""
    ours, theirs = socket.socketpair()
    peer = Peer(ours, chunk)
    try:
        async with served(driver, theirs.fileno(), theirs.fileno()):
            yield peer
    finally:
        peer.close()
        theirs.close()


def content(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size + 1, 0)


async def test_a_blob_goes_as_a_memory_file_with_libindis_attributes() -> None:
    """One member: ``<oneBLOB name size format len attached>`` with no body, one descriptor
    that came with the element's first bytes (read 32 bytes at a time: the first read), a
    memory file of exactly the data."""
    driver = RecordingDriver(make_camera())
    data = os.urandom(100_000)
    async with on_socketpair(driver, chunk=32) as peer:
        vector = driver[DEV].vector("IMAGES", BLOBVector)
        vector["RED"] = data
        vector.set_blobsize("RED", 250_000)  # the size before compression, announced as is
        sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        frame = await peer.next("setBLOBVector")
        await peer.answer_ping()
        await asyncio.wait_for(sending, 5)
        assert frame.data.startswith(b"<setBLOBVector")
        members = ATTACHED.findall(frame.data)
        assert members == [(b"RED", b"250000", b".fits", b"100000")], frame.data
        assert frame.data.count(b"<oneBLOB") == 1
        # the element is the first thing the driver sent: its first bytes were read first
        assert [at for at, _ in peer.fds] == [0], "the descriptor came with the first bytes"
        (fd,) = peer.take_fds()
        try:
            assert os.fstat(fd).st_size == len(data)
            assert content(fd) == data
        finally:
            os.close(fd)
    assert blob_memfds() == []  # the driver's own copies are closed


async def test_the_pingrequest_goes_in_the_elements_own_write() -> None:
    """As libindi sends it: the element and its pingRequest in one ``sendmsg`` with the
    descriptor, so a server reads them together and answers in the same turn (a separate
    write made the server's pace with small BLOBs jump between two rates)."""
    driver = RecordingDriver(make_camera())
    async with on_socketpair(driver, chunk=1 << 20) as peer:
        vector = driver[DEV].vector("IMAGES", BLOBVector)
        vector["RED"] = os.urandom(10_000)
        sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        await peer._read()  # one recvmsg: a stream returns at most one sendmsg with descriptors
        assert [f.tag for f in peer.frames] == ["setBLOBVector", "pingRequest"], peer.frames
        await peer.answer_ping()
        await asyncio.wait_for(sending, 5)
        for fd in peer.take_fds():
            os.close(fd)


async def test_each_member_holding_data_takes_the_next_descriptor_in_document_order() -> None:
    """Three members, one of them empty: the two with data are attached and take the two
    descriptors in document order; the empty one is written inline, size 0, as before."""
    driver = RecordingDriver(make_camera())
    red, blue = b"R" * 5000, bytes(range(256)) * 40
    async with on_socketpair(driver) as peer:
        vector = driver[DEV]["IMAGES"]
        vector["RED"], vector["GREEN"], vector["BLUE"] = red, b"", blue
        sending = asyncio.create_task(vector.send_setVector())
        frame = await peer.next("setBLOBVector")
        await peer.answer_ping()
        await asyncio.wait_for(sending, 5)
        assert ATTACHED.findall(frame.data) == [(b"RED", b"5000", b".fits", b"5000"),
                                                (b"BLUE", b"10240", b".bin", b"10240")]
        assert b'<oneBLOB name="GREEN" size="0" format=".fits.z"></oneBLOB>' in frame.data
        fds = peer.take_fds()
        try:
            assert [content(fd) for fd in fds] == [red, blue]
        finally:
            for fd in fds:
                os.close(fd)
    assert blob_memfds() == []


async def test_a_blob_and_the_vectors_around_it_arrive_in_order() -> None:
    """A number before, the BLOB, its ping, a number after: in that order on the socket."""
    driver = RecordingDriver(make_camera())
    async with on_socketpair(driver) as peer:
        temp, images = driver[DEV]["TEMP"], driver[DEV]["IMAGES"]
        temp["T"] = 1
        await temp.send_setVector()
        images["RED"] = b"x" * 70_000
        await images.send_setVectorMembers(members=["RED"])
        temp["T"] = 2
        await temp.send_setVector()
        tags: list[str] = []
        while len(tags) < 4:
            await peer._read()
            tags += [f.tag for f in peer.frames if f.tag != "defNumberVector"]
            peer.frames.clear()
        assert tags[:4] == ["setNumberVector", "setBLOBVector", "pingRequest",
                            "setNumberVector"]
        assert len(peer.fds) == 1
    assert blob_memfds() == []


async def test_the_next_blob_still_waits_for_the_pingreply_to_the_previous_one() -> None:
    """indilib's back-pressure is unchanged: the second attached BLOB is held until the
    server answers the ping that followed the first."""
    driver = RecordingDriver(make_camera())
    driver.blob_ping_timeout = 60.0
    async with on_socketpair(driver) as peer:
        vector = driver[DEV]["IMAGES"]
        vector["RED"] = b"first"
        await vector.send_setVectorMembers(members=["RED"])
        vector["RED"] = b"second"
        second = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        await peer.next("setBLOBVector")
        ping = await peer.next("pingRequest")
        # a ping round trip: a second BLOB that did not wait would have come before its reply
        assert await peer.round_trip() == []
        assert not second.done() and not peer.frames and peer.idle() and len(peer.fds) == 1
        await asyncio.get_running_loop().sock_sendall(
            peer.sock, serialise(PingReply(ping.attrs["uid"])))
        await peer.next("setBLOBVector")
        await asyncio.wait_for(second, 5)
        fds = peer.take_fds()
        try:
            assert [content(fd) for fd in fds] == [b"first", b"second"]
        finally:
            for fd in fds:
                os.close(fd)
    assert blob_memfds() == []


async def test_stdout_a_unix_socket_and_stdin_a_pipe_attach_too() -> None:
    """Our server's layout (stdin a pipe, stdout a socket) attaches as indiserver's does:
    libindi looks at fd 1 alone."""
    driver = RecordingDriver(make_camera())
    ours, theirs = socket.socketpair()
    read_end, write_end = os.pipe()
    peer = Peer(ours)
    try:
        async with served(driver, read_end, theirs.fileno()):
            vector = driver[DEV]["IMAGES"]
            vector["BLUE"] = b"\0\1\2" * 1000
            sending = asyncio.create_task(vector.send_setVectorMembers(members=["BLUE"]))
            frame = await peer.next("setBLOBVector")
            await peer.next("pingRequest")  # answered by nobody: the send itself returns
            await asyncio.wait_for(sending, 5)
            assert ATTACHED.findall(frame.data) == [(b"BLUE", b"3000", b".bin", b"3000")]
            (fd,) = peer.take_fds()
            assert content(fd) == b"\0\1\2" * 1000
            os.close(fd)
    finally:
        peer.close()
        theirs.close()
        os.close(read_end)
        os.close(write_end)
    assert blob_memfds() == []


def inline_value(frame: Frame) -> bytes:
    m = re.search(rb"<oneBLOB[^>]*>([A-Za-z0-9+/=]*)</oneBLOB>", frame.data)
    assert m is not None, frame.data[:300]
    return base64.b64decode(m.group(1), validate=True)


async def test_shared_blobs_off_sends_inline_base64_on_the_socketpair() -> None:
    driver = RecordingDriver(make_camera())
    driver.shared_blobs = False
    async with on_socketpair(driver) as peer:
        vector = driver[DEV]["IMAGES"]
        vector["RED"] = b"inline please"
        sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        frame = await peer.next("setBLOBVector")
        await asyncio.wait_for(sending, 5)
        assert b"attached" not in frame.data and b"len=" not in frame.data
        assert inline_value(frame) == b"inline please"
        assert peer.fds == []


async def test_pipes_send_inline_base64() -> None:
    """On pipes (a launcher other than indiserver) nothing can be attached."""
    driver = RecordingDriver(make_camera())
    to_driver_r, to_driver_w = os.pipe()
    from_driver_r, from_driver_w = os.pipe()
    try:
        link = StdioLink(to_driver_r, from_driver_w)
        assert not link.attaches_blobs
        async with served(driver, to_driver_r, from_driver_w):
            vector = driver[DEV]["IMAGES"]
            vector["RED"] = b"over a pipe"
            await vector.send_setVectorMembers(members=["RED"])
            loop = asyncio.get_running_loop()
            framer, frames = Framer(), list[Frame]()
            while not any(f.tag == "setBLOBVector" for f in frames):
                chunk = await loop.run_in_executor(None, os.read, from_driver_r, 1 << 16)
                frames += [f for f in framer.feed(chunk) if isinstance(f, Frame)]
            frame = next(f for f in frames if f.tag == "setBLOBVector")
            assert b"attached" not in frame.data
            assert inline_value(frame) == b"over a pipe"
    finally:
        for fd in (to_driver_r, to_driver_w, from_driver_r, from_driver_w):
            os.close(fd)


def test_only_a_stdio_link_on_a_unix_socket_or_beside_a_side_channel_attaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, theirs = socket.socketpair()
    side, side_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    tcp = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(tcp.getsockname())
    read_end, write_end = os.pipe()
    try:
        assert isinstance(StdioLink(theirs.fileno(), theirs.fileno()), AttachingLink)
        assert StdioLink(theirs.fileno(), theirs.fileno()).attaches_blobs
        assert StdioLink(read_end, theirs.fileno()).attaches_blobs
        assert not StdioLink(theirs.fileno(), write_end).attaches_blobs
        assert not StdioLink(client.fileno(), client.fileno()).attaches_blobs
        assert not isinstance(MemoryLink(), AttachingLink)
        monkeypatch.setenv(BLOB_FD_ENV, str(side_theirs.fileno()))
        assert StdioLink(read_end, write_end).attaches_blobs  # a pipe beside the side channel
        assert not StdioLink(read_end, tcp.fileno()).attaches_blobs  # stdout no pipe
        monkeypatch.setenv(BLOB_FD_ENV, str(theirs.fileno()))  # a stream socket: not ours
        assert not StdioLink(read_end, write_end).attaches_blobs
        monkeypatch.setenv(BLOB_FD_ENV, "not a number")
        assert not StdioLink(read_end, write_end).attaches_blobs
    finally:
        for s in (ours, theirs, tcp, client, side, side_theirs):
            s.close()
        os.close(read_end)
        os.close(write_end)


async def test_beside_the_side_channel_each_memfd_goes_there_first_even_when_it_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """stdout a pipe and ``INDIPY_BLOB_FD`` a SEQPACKET socket (our server's layout for a
    script): the BLOB's element goes on the pipe attached, its memfd alone in a message of its
    own on the side channel. With the side channel full (a server far behind), the element
    and a vector sent after it wait, and come in order once the server reads the side
    channel; the driver keeps no memory file."""
    side, side_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    monkeypatch.setenv(BLOB_FD_ENV, str(side_theirs.fileno()))
    filler = side_theirs.dup()
    filler.setblocking(False)
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    os.set_blocking(from_r, False)
    framer = Framer()

    async def pipe_frames(until_tag: str) -> list[Frame]:
        frames: list[Frame] = []
        async with asyncio.timeout(10):
            while until_tag not in [f.tag for f in frames]:
                try:
                    chunk = os.read(from_r, 1 << 16)
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                    continue
                frames += [f for f in framer.feed(chunk) if isinstance(f, Frame)]
        return frames

    driver = RecordingDriver(make_camera())
    try:
        async with served(driver, to_r, from_w):
            vector = driver[DEV]["IMAGES"]
            vector["RED"] = b"first"
            sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
            frames = await pipe_frames("pingRequest")
            assert ATTACHED.findall(frames[-2].data) == [(b"RED", b"5", b".fits", b"5")]
            os.write(to_w, serialise(PingReply(frames[-1].attrs["uid"])))
            await asyncio.wait_for(sending, 5)
            data, anc, _, _ = side.recvmsg(16, socket.CMSG_SPACE(4 * 16))
            (fd,) = received_fds(anc)
            assert len(data) == 1 and content(fd) == b"first"
            os.close(fd)
            junk = 0
            while True:  # the side channel full
                try:
                    filler.send(b"x")
                    junk += 1
                except BlockingIOError:
                    break
            vector["RED"] = b"second"
            sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
            link = driver._link
            assert isinstance(link, StdioLink)
            await until(lambda: link.held == 1, 5, "the BLOB held behind the full side channel")
            temp = driver[DEV]["TEMP"]
            temp["T"] = 5
            after = asyncio.create_task(temp.send_setVector())
            await until(lambda: link.held == 2, 5, "the vector after it held as well")
            with pytest.raises(BlockingIOError):  # nothing goes while the descriptor waits
                os.read(from_r, 1)
            for _ in range(junk):
                side.recv(16)
            tags = [f.tag for f in await pipe_frames("setNumberVector")]
            assert tags.index("setBLOBVector") < tags.index("setNumberVector"), tags
            data, anc, _, _ = side.recvmsg(16, socket.CMSG_SPACE(4 * 16))  # sent before
            (fd,) = received_fds(anc)
            assert content(fd) == b"second"
            os.close(fd)
            await asyncio.wait_for(asyncio.gather(sending, after), 5)
    finally:
        for s in (side, side_theirs, filler):
            s.close()
        for fd in (to_r, to_w, from_r, from_w):
            os.close(fd)
    assert blob_memfds() == []


def test_a_vector_goes_inline_when_a_memory_file_would_change_what_arrives() -> None:
    """indiserver 1.9.9 passes on only ``size`` bytes of a memory file: a member announcing
    less than its length goes inline; so does a vector of more members with data than one
    message carries descriptors (16), or one with no data at all."""
    assert attachable([(0, b"abc"), (10, b"defg"), (0, b"")])
    assert not attachable([(2, b"abc")])
    assert not attachable([(0, b"")])
    assert attachable([(0, b"x")] * 16)
    assert not attachable([(0, b"x")] * 17)


def test_the_attached_writer_spells_members_as_libindi_without_a_body() -> None:
    event = SetBLOBVector(DEV, "IMAGES", (BLOB("A", b"12345", 9, ".fits"), BLOB("B", b"", 0, "")),
                          state=None, timestamp="2024-01-02T03:04:05")
    assert Serialiser(escape, COMPACT).attached(event) == (
        b'<setBLOBVector device="Cam" name="IMAGES" timestamp="2024-01-02T03:04:05">'
        b'<oneBLOB name="A" size="9" format=".fits" len="5" attached="true"></oneBLOB>'
        b'<oneBLOB name="B" size="0" format=""></oneBLOB></setBLOBVector>')


async def test_a_send_cancelled_while_the_socket_is_full_leaks_no_descriptor() -> None:
    """The socket is full (the server reads nothing yet): the BLOB's element waits behind
    what is queued; its sender is cancelled. The element still goes out whole with its
    memory file, and once the peer has read everything and closed what it got, no memory
    file of the driver is open."""
    driver = RecordingDriver(make_camera())
    async with on_socketpair(driver) as peer:
        link = driver._link
        assert link is not None
        big = b"<message>" + b"A" * (4 << 20) + b"</message>"
        filling = asyncio.create_task(link.write(big))
        for _ in range(5):
            await asyncio.sleep(0)  # loop turns: the socket took what it could, no more
        assert not filling.done()
        vector = driver[DEV]["IMAGES"]
        vector["RED"] = b"cancelled but whole"
        sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        # the vector's memory file, and the link's duplicate queued behind the large write
        await until(lambda: len(blob_memfds()) == 2, 5, "the BLOB queued in the link")
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        frame = await peer.next("setBLOBVector")
        await until(lambda: filling.done(), 5, "the large write to finish")
        assert ATTACHED.findall(frame.data) == [(b"RED", b"19", b".fits", b"19")]
        (fd,) = peer.take_fds()
        assert content(fd) == b"cancelled but whole"
        os.close(fd)
    assert blob_memfds() == []


async def test_a_link_that_stops_attaching_meanwhile_gets_the_data_inline() -> None:
    """The element was made for a link that attached, but the driver is served anew on one
    that does not before it goes: the data is read back from the memory files and sent inline."""
    driver = RecordingDriver(make_camera())
    ours, theirs = MemoryLink.pair()
    task = asyncio.create_task(driver.serve(theirs))
    try:
        await until(lambda: driver._link is theirs, 5, "the driver served")
        event = SetBLOBVector(DEV, "IMAGES", (BLOB("RED", b"late", 4, ".fits"),))
        fd = os.memfd_create("test")
        os.write(fd, b"late")
        try:
            await driver._send_blob(Serialiser(escape, COMPACT).attached(event), [fd])
        finally:
            os.close(fd)
        got = b""
        while b"</setBLOBVector>" not in got:
            got += await asyncio.wait_for(ours.read(), 5)
        assert b"attached" not in got and base64.b64encode(b"late") in got
    finally:
        driver.shutdown()
        await asyncio.wait_for(task, 5)



async def test_a_send_cancelled_while_a_thread_writes_its_memory_files_closes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large BLOB's memory files are written in a thread, which a cancelled send cannot
    stop: the files it makes are closed when it ends, and nothing is sent."""
    driver = RecordingDriver(make_camera())
    started, release, made = threading.Event(), threading.Event(), threading.Event()

    def slow_memory_files(datas: Sequence[bytes]) -> list[int]:
        started.set()
        release.wait(10)
        try:
            return memory_files(datas)
        finally:
            made.set()

    monkeypatch.setattr(vectors, "memory_files", slow_memory_files)
    async with on_socketpair(driver) as peer:
        vector = driver[DEV]["IMAGES"]
        vector["RED"] = b"R" * (2 << 20)  # above the size written in a thread
        sending = asyncio.create_task(vector.send_setVectorMembers(members=["RED"]))
        await until(started.is_set, 5, "the thread writing the memory file")
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        release.set()
        await until(made.is_set, 5, "the thread done")  # its memory file exists now
        await until(lambda: not blob_memfds(), 5,
                    lambda: f"the memory file closed: {blob_memfds()}")
        assert peer.idle() and not peer.fds
