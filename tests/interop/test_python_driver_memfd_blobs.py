"""A Python driver's BLOBs as memory files, under indilib's indiserver 1.9.9 and under ours.

indiserver starts the driver (tests/interop/baseclient/rig.py, an `IPyDriver`, through a
launcher importing this checkout) with stdout on a Unix socket, so it passes each BLOB's data
as a memfd beside ``<oneBLOB ... len attached>`` as libindi's drivers do; ours, the launcher
being a script, with stdout on a pipe, the memfds passed on the side channel
(``INDIPY_BLOB_FD``) before the elements. Protects, for each
server (``python -m indipyserver``, and Debian's ``indiserver``): a TCP client gets base64
decoding to exactly the driver's bytes, a client on the server's Unix socket (``-u``) gets the
element with the memfd itself holding those bytes, libindiclient there (the BaseClient probe)
gets them too, the second BLOB waits for nothing more than the server's pingReply, and the
driver keeps no memfd open.

That the driver sent a descriptor, under indiserver, which would also turn inline base64 into
a memfd for its Unix clients: indiserver passes on the driver's own attributes, and only an
attached member carries ``len`` (our inline members never do). The control case runs the same
driver with ``shared_blobs = False``: no ``len`` anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import stat
import sys
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from peers import BaseClientProbe
from peers import IndiServer
from peers import OurServer
from peers import baseclient_probe
from peers import hello
from serverkit import open_memfds
from serverkit import recv_with_fds
from waiting import until

from indipycore.protocol import NewNumberVector
from indipycore.protocol import Number
from indipycore.protocol import serialise
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.clients.unixsocket import unix_address

BASECLIENT = Path(__file__).resolve().parent / "baseclient"
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASECLIENT))

from rig import DEVICE
from rig import blob_bytes

SIZE = 1_500_000
#: A oneBLOB start tag, its attributes in group 1.
ONE_BLOB = re.compile(rb"<oneBLOB([^>]*)>")
ATTR = re.compile(rb"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def write_launcher(path: Path, rxlog: Path, shared: bool) -> Path:
    """An executable running the rig on stdin/stdout with this interpreter and checkout
    (servers start drivers with no arguments); ``shared=False``: ``shared_blobs`` off."""
    python = sys.executable if len(sys.executable) < 120 else "/usr/bin/env python3"
    path.write_text(
        f"#!{python}\n"
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        f"sys.path[:0] = [{str(REPO)!r}, {str(BASECLIENT)!r}]\n"
        "from rig import make_driver\n"
        f"driver = make_driver(Path({str(rxlog)!r}))\n"
        f"driver.shared_blobs = {shared!r}\n"
        "asyncio.run(driver.asyncrun())\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def blob_request(size: int, seed: int) -> bytes:
    return serialise(NewNumberVector(DEVICE, "BLOB_REQUEST", (
        Number("SIZE", str(size)), Number("SEED", str(seed)))))


def attrs_of(frame: Frame) -> dict[str, str]:
    """The attributes of the element's one oneBLOB."""
    tags = ONE_BLOB.findall(frame.data)
    assert len(tags) == 1, frame.data[:400]
    return {m[0].decode(): (m[1] or m[2]).decode() for m in ATTR.findall(tags[0])}


class RawClient:
    """A client reading whole elements with ``recvmsg``, as libindiclient does on a Unix
    socket: the descriptors passed beside them (SCM_RIGHTS) are kept in order."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.framer = Framer()
        self.frames: list[Frame] = []
        self.fds: list[int] = []

    @classmethod
    async def tcp(cls, port: int) -> RawClient:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        client = cls(sock)
        await client.send(hello(blobs_from=DEVICE))
        return client

    @classmethod
    async def unix(cls, path: str) -> RawClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(unix_address(path))
        except OSError:
            sock.close()  # (else collected unclosed later, failing another test)
            raise
        client = cls(sock)
        await client.send(hello(blobs_from=DEVICE))
        return client

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _read(self) -> None:
        data, fds = await recv_with_fds(self.sock)
        self.fds += fds
        assert data, "the server closed the connection"
        self.frames += [f for f in self.framer.feed(data) if isinstance(f, Frame)]

    async def next(self, tag: str, name: str, timeout: float = 20.0) -> Frame:
        """The next element `tag` of the rig's vector `name`."""
        async with asyncio.timeout(timeout):
            while True:
                while self.frames:
                    frame = self.frames.pop(0)
                    if frame.tag == tag and frame.name == name:
                        return frame
                await self._read()

    async def image(self) -> tuple[Frame, bytes, int]:
        """The next IMAGE set, its data (the memory file's, or the inline base64 decoded) and
        how many descriptors came with it."""
        frame = await self.next("setBLOBVector", "IMAGE")
        if b"attached" not in frame.data:
            m = re.search(rb"<oneBLOB[^>]*>([^<]*)</oneBLOB", frame.data)
            assert m is not None, frame.data[:400]
            body = b"".join(m.group(1).split())  # indiserver may end it with a newline
            return frame, base64.b64decode(body, validate=True), len(self.fds)
        came = len(self.fds)
        assert came, f"an attached BLOB without its descriptor: {frame.data[:400]!r}"
        fd = self.fds.pop(0)
        try:
            return frame, os.pread(fd, os.fstat(fd).st_size + 1, 0), came
        finally:
            os.close(fd)

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
        self.sock.close()


def driver_pids(launcher: Path) -> list[int]:
    """The processes running `launcher` (the interpreter its first line names, then it; not
    the server, which has it among its arguments)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[1:2] == [str(launcher).encode()]:
                pids.append(int(entry))
    return pids


def open_blob_memfds(pid: int) -> list[str]:
    """The driver's BLOB memory files process `pid` holds open."""
    return open_memfds(pid, "memfd:indipydriver-blob")


Start = Callable[..., IndiServer]


def fnv1a64(data: bytes) -> str:
    """64-bit FNV-1a as 16 hex digits, as the probe computes it over a BLOB's bytes."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def start_server(kind: str, launcher: Path, indiserver_factory: Start,
                 our_server: Callable[..., OurServer]) -> IndiServer:
    if kind == "indiserver":
        return indiserver_factory(str(launcher))
    return our_server(str(launcher))


@pytest.fixture(scope="module")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BaseClient probe (libindiclient 1.9.9), compiled once for this module."""
    return baseclient_probe(tmp_path_factory)


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def tcp_and_unix_clients(server: IndiServer | OurServer,
                               stack: AsyncExitStack) -> tuple[RawClient, RawClient]:
    """A raw TCP and a raw Unix-socket client of `server` (closed by `stack`), once each has
    seen the rig's definitions."""
    tcp = await RawClient.tcp(server.port)
    stack.callback(tcp.close)
    unix = await RawClient.unix(server.socket_path)
    stack.callback(unix.close)
    await tcp.next("defNumberVector", "BLOB_REQUEST")
    await unix.next("defBLOBVector", "IMAGE")
    return tcp, unix


@pytest.mark.parametrize(("kind", "shared"), [("indipyserver", True), ("indiserver", True),
                                              ("indiserver", False)],
                         ids=["indipyserver", "indiserver", "indiserver-shared_blobs-off"])
async def test_tcp_and_unix_clients_get_the_drivers_bytes(
    kind: str, shared: bool, tmp_path: Path, tmp_home: Path, stack: AsyncExitStack,
    indiserver_factory: Start, our_server: Callable[..., OurServer],
) -> None:
    """Two BLOBs of 1.5 MB: the TCP client decodes exactly the driver's bytes; the Unix
    client gets the memory file the driver attached, of exactly those bytes (indiserver's own,
    made from inline base64, are rounded up); ``len`` on both says the driver attached it
    (none when shared_blobs is off); the driver holds no memory file once both have them."""
    launcher = write_launcher(tmp_path / "indi_py_memfd_rig", tmp_path / "rxlog.jsonl", shared)
    server = start_server(kind, launcher, indiserver_factory, our_server)
    tcp, unix = await tcp_and_unix_clients(server, stack)
    (pid,) = driver_pids(launcher)
    kind_of_stdout = os.stat(f"/proc/{pid}/fd/1").st_mode
    # ours: a pipe beside the side channel; indiserver: its socketpair
    assert (stat.S_ISFIFO if kind == "indipyserver" else stat.S_ISSOCK)(kind_of_stdout)
    for seed in (3, 4):
        expected = blob_bytes(SIZE, seed)
        await tcp.send(blob_request(SIZE, seed))
        frame, data, fds = await tcp.image()
        assert data == expected and fds == 0
        attrs = attrs_of(frame)
        assert "attached" not in attrs and "enclen" not in attrs, attrs
        assert (attrs["size"], attrs["format"]) == (str(SIZE), ".bin"), attrs
        assert attrs.get("len") == (str(SIZE) if shared else None), (kind, attrs)
        frame, data, fds = await unix.image()
        if shared:
            assert data == expected, (kind, len(data))  # the driver's own, just the data
        else:
            # indiserver's own memory file of the inline data is rounded up: size bytes count
            assert data[:SIZE] == expected, (kind, len(data))
        attrs = attrs_of(frame)
        if shared or kind == "indiserver":  # indiserver turns inline base64 into a memfd
            assert attrs.get("attached") == "true" and fds == 1, (kind, attrs, fds)
        assert attrs.get("len") == (str(SIZE) if shared else None), (kind, attrs)
        await tcp.next("setNumberVector", "BLOB_COUNT")  # after the BLOB and its ping
    await until(lambda: not open_blob_memfds(pid), 5,
                lambda: f"the driver's memory files closed: {open_blob_memfds(pid)}")



@pytest.mark.parametrize("kind", ["indipyserver", "indiserver"])
async def test_a_small_attached_blob_reaches_a_unix_client_as_its_memfd(
    kind: str, tmp_path: Path, tmp_home: Path, stack: AsyncExitStack,
    indiserver_factory: Start, our_server: Callable[..., OurServer],
) -> None:
    """A 10 kB image (within one of our server's encoding steps) the driver attached: the Unix
    client gets the memory file with the element as the driver wrote it, as indiserver gives
    it, and the TCP client base64 of the same bytes; the BLOB_COUNT after it follows it."""
    size = 10_000
    launcher = write_launcher(tmp_path / "indi_py_memfd_rig", tmp_path / "rxlog.jsonl", True)
    server = start_server(kind, launcher, indiserver_factory, our_server)
    tcp, unix = await tcp_and_unix_clients(server, stack)
    for seed in (3, 4):
        await tcp.send(blob_request(size, seed))
        frame, data, fds = await unix.image()
        attrs = attrs_of(frame)
        assert attrs.get("attached") == "true" and fds == 1, (kind, attrs, fds)
        assert data == blob_bytes(size, seed) and attrs.get("len") == str(size), (kind, attrs)
        await unix.next("setNumberVector", "BLOB_COUNT")
        frame, data, fds = await tcp.image()
        assert data == blob_bytes(size, seed) and fds == 0
        await tcp.next("setNumberVector", "BLOB_COUNT")

@pytest.mark.parametrize("kind", ["indipyserver", "indiserver"])
async def test_libindiclient_on_the_unix_socket_gets_the_drivers_bytes(
    kind: str, probe_binary: Path, tmp_path: Path, tmp_home: Path, stack: AsyncExitStack,
    indiserver_factory: Start, our_server: Callable[..., OurServer],
) -> None:
    """libindiclient 1.9.9 (``localhost:PATH``) maps the memory file the Python driver
    attached and reports its size, length and bytes (FNV-1a of what the driver sent)."""
    launcher = write_launcher(tmp_path / "indi_py_memfd_rig", tmp_path / "rxlog.jsonl", True)
    server = start_server(kind, launcher, indiserver_factory, our_server)
    probe = BaseClientProbe(probe_binary, 1, host=f"localhost:{server.socket_path}",
                            log_path=tmp_path / "probe.log")
    stack.push_async_callback(probe.close)
    await probe_takes_two_images(probe)


async def probe_takes_two_images(
    probe: BaseClientProbe, after_each: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Start `probe`, ask for the rig's BLOBs (Also) and request two images (seeds 5 and 6):
    each is reported with the size, length and bytes (FNV-1a) the driver sent, then the
    BLOB_COUNT sent after it; `after_each(seed)` runs after each."""
    await probe.start()
    await probe.expect("newProperty", device=DEVICE, name="BLOB_REQUEST", timeout=15)
    await probe.command("blobmode", DEVICE, "Also")
    await probe.barrier()
    for seed in (5, 6):
        after = probe.mark()
        await probe.command("number", DEVICE, "BLOB_REQUEST", f"SIZE={SIZE}", f"SEED={seed}")
        blob = await probe.expect("newBLOB", after=after, device=DEVICE, name="IMAGE",
                                  timeout=15)
        assert (blob["size"], blob["bloblen"]) == (SIZE, SIZE), blob
        assert blob["fnv1a64"] == fnv1a64(blob_bytes(SIZE, seed)), blob
        count = await probe.expect("newNumber", after=after, device=DEVICE, name="BLOB_COUNT")
        assert {m["name"]: m["value"] for m in count["members"]} == {"COUNT": seed - 4}
        if after_each is not None:
            await after_each(seed)


PAIR_DRIVER = """\
import asyncio, sys
sys.path[:0] = [{repo!r}]
from indipydriver import BLOBMember, BLOBVector, Device, IPyDriver, SwitchMember, SwitchVector

class Pair(IPyDriver):
    async def rxevent(self, event):
        if event.vectorname == "GO":
            pair = self["Pair"]["PAIR"]
            pair["A"], pair["B"] = bytes(range(256)) * 1200, b"B" * 200_000
            await pair.send_setVector(state="Ok")

asyncio.run(Pair(Device("Pair", [
    SwitchVector("GO", "Go", "", "rw", "AnyOfMany", "Idle", [SwitchMember("NOW")]),
    BLOBVector("PAIR", "Pair", "", "ro", "Idle",
               [BLOBMember("A", blobformat=".a"), BLOBMember("B", blobformat=".b")]),
])).asyncrun())
"""


@pytest.mark.parametrize("kind", ["indipyserver", "indiserver"])
async def test_two_attached_members_of_one_vector_reach_a_tcp_client(
    kind: str, tmp_path: Path, tmp_home: Path, stack: AsyncExitStack,
    indiserver_factory: Start, our_server: Callable[..., OurServer],
) -> None:
    """A vector of two BLOBs goes with two descriptors in one message. libindi 1.9.9 passes
    only the first of several (its control message says one), and indiserver then drops the
    vector; ours says how many, and both servers give their clients both members."""
    launcher = tmp_path / "indi_py_pair"
    launcher.write_text(f"#!{sys.executable}\n" + PAIR_DRIVER.format(repo=str(REPO)))
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    server = start_server(kind, launcher, indiserver_factory, our_server)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    tcp = RawClient(sock)
    stack.callback(tcp.close)
    await tcp.send(hello(blobs_from="Pair", device="Pair"))
    await tcp.next("defBLOBVector", "PAIR")
    await tcp.send(b'<newSwitchVector device="Pair" name="GO">'
                   b'<oneSwitch name="NOW">On</oneSwitch></newSwitchVector>')
    frame = await tcp.next("setBLOBVector", "PAIR")
    found = re.findall(rb"<oneBLOB([^>]*)>([^<]*)</oneBLOB>", frame.data)
    values = [base64.b64decode(b"".join(body.split()), validate=True) for _, body in found]
    assert values == [bytes(range(256)) * 1200, b"B" * 200_000], [len(v) for v in values]
    assert all(b'len="' in head or b"len='" in head for head, _ in found), found[0][0]
