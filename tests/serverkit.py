"""Helpers for the server's end-to-end tests: a small driver, a raw TCP client, a running server."""

from __future__ import annotations

import array
import asyncio
import contextlib
import importlib.util
import itertools
import os
import socket
import ssl as ssl_
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from indipycore.protocol.enums import State
from indipycore.protocol.escaping import escape
from indipycore.protocol.events import BLOB
from indipycore.protocol.events import Number
from indipycore.protocol.events import PingRequest
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import empty_element
from indipycore.protocol.serialiser import serialise
from indipycore.protocol.serialiser import text_element
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import newNumberVector
from indipyserver import IPyServer
from indipyserver.loop.flowcontrol import flow_for

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


class Reader:
    """A driver-side reader double for throttling tests: records whether it is paused."""

    def __init__(self) -> None:
        self.paused = False

    def throttle(self, paused: bool) -> None:
        self.paused = paused


class Gadget(IPyDriver):
    """Device `name`: VALUE (rw number, echoes what a client sets), STATIC (ro text), IMAGE (BLOB)."""

    async def rxevent(self, event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, newNumberVector) and "V" in event:
            event.vector["V"] = event["V"]
            event.vector.state = "Ok"
            await event.vector.send_setVector()


def make_gadget(name: str = "Gadget", kind: type[Gadget] = Gadget) -> Gadget:
    """A `kind` (Gadget or a subclass) with its device `name`."""
    device = Device(
        name,
        [
            NumberVector("VALUE", "Value", "Main", "rw", "Idle",
                         [NumberMember("V", "V", "%.2f", 0, 1000, 0, 1)]),
            TextVector("STATIC", "Static", "Main", "ro", "Ok",
                       [TextMember("T", "T", "constant")]),
            BLOBVector("IMAGE", "Image", "Main", "ro", "Idle", [BLOBMember("I", "I")]),
        ],
    )
    return kind(device)


async def send_blob(driver: Gadget, payload: bytes, name: str = "Gadget") -> None:
    vector = driver[name]["IMAGE"]
    vector["I"] = payload
    vector.set_blobformat("I", ".bin")
    await vector.send_setVector()


def stdio_driver(on_get_properties: str, on_new: str = "", setup: str = "") -> str:
    """The text of a small executable driver (a Python script) for tests: `setup` runs first,
    then it reads stdin until EOF and, for each element in the order it came, runs
    `on_get_properties` for a getProperties and `on_new` for a whole new*Vector (that element's
    bytes in `chunk`); each: Python statements at any indent.

    Element by element, not read by read: a driver slow to read (a loaded machine) gets a
    client's getProperties and the new*Vector behind it in one read, or a new*Vector split
    over two, and a script judging each read whole dropped the new*Vector (a wheel that never
    answered its turn, a whole-suite run of 2026-11-29)."""
    def block(code: str, indent: int) -> str:
        return textwrap.indent(textwrap.dedent(code).strip("\n"), " " * indent) + "\n"

    return (
        "import base64, os, re, sys\n"
        + (block(setup, 0) if setup else "")
        + 'ASKED = re.compile(rb"<(getProperties|new[A-Za-z]+Vector)\\b")\n'
        + 'buf = b""\n'
        + "while True:\n"
        + "    chunk = os.read(0, 65536)\n"
        + "    if not chunk:\n"
        + "        break\n"
        + "    buf += chunk\n"
        + "    while found := ASKED.search(buf):\n"
        + '        close = b">" if found[1] == b"getProperties" else b"</" + found[1] + b">"\n'
        + "        end = buf.find(close, found.end())\n"
        + "        if end < 0:\n"
        + "            break  # the rest of it in a later read\n"
        + "        end += len(close)\n"
        + "        chunk, buf = buf[found.start():end], buf[end:]\n"
        + '        if found[1] == b"getProperties":\n'
        + block(on_get_properties, 12)
        + ("        else:\n" + block(on_new, 12) if on_new else "")
    )


#: `setup` for a `stdio_driver` that does first what an IPyDriver's StdioLink does under our
#: server's ``--shared-blobs auto``: asks for a pipe for stdout on the side channel
#: (``indipycore.sharedblobs.pass_pipe``) and puts it on fd 1 in the socket's place.
ASK_FOR_PIPE = """\
import array, socket
side = socket.socket(fileno=int(os.environ["INDIPY_BLOB_FD"]))
read_end, write_end = os.pipe()
side.sendmsg([b"p"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [read_end]).tobytes())])
os.close(read_end)
os.dup2(write_end, 1)
os.close(write_end)
"""


# ---------------------------------------------------------------- elements the tests send
# Built by the protocol's serialiser (tests/test_xml_writers.py): a test that needs a peer's
# own spelling writes it as a literal constant.


def number_set(device: str, name: str, values: Mapping[str, object],
               state: State | None = None, **attrs: str) -> bytes:
    """A setNumberVector of `values` (member name -> value, written by str()) as the serialiser
    writes it, the newline after it included; `attrs`: timeout, timestamp, message."""
    members = tuple(Number(member, str(value)) for member, value in values.items())
    return serialise(SetNumberVector(device, name, members, state=state, **attrs))


def blob_set(device: str, name: str, member: str, data: bytes, fmt: str = ".bin",
             enclen: bool = False, state: State | None = State.OK) -> bytes:
    """A setBLOBVector of one member holding `data` as the serialiser writes it: its base64 on
    one line, or with `enclen` in lines of 72 columns (as indilib's drivers send BLOBs)."""
    b64len = (len(data) + 2) // 3 * 4
    blob = BLOB(member, data, len(data), fmt, enclen=b64len if enclen else None)
    return serialise(SetBLOBVector(device, name, (blob,), state=state))


def blob_set_around(device: str, name: str, member: str, size: int, fmt: str = ".bin",
                    state: State | None = State.OK) -> tuple[bytes, bytes]:
    """The serialiser's setBLOBVector of one member, cut where the member's base64 goes:
    (before, after), for a test that puts bytes of its own there (a body of an exact length, or
    base64 that a driver script encodes)."""
    whole = serialise(SetBLOBVector(device, name, (BLOB(member, b"", size, fmt),),
                                       state=state))
    cut = whole.index(b"</oneBLOB>")
    return whole[:cut], whole[cut:]


def memfd(data: bytes, size: int = 0) -> int:
    """A memfd holding `data`, grown to `size` bytes if larger (indilib rounds its own up)."""
    fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
    os.write(fd, data)
    if size > len(data):
        os.ftruncate(fd, size)
    return fd


def fd_closed(fd: int) -> bool:
    """Whether the descriptor `fd` is closed (in this process)."""
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def attached_member(name: str, size: int, body: str = "\n  ", closed: bool = False) -> str:
    """An attached oneBLOB as indilib's driverio sends one: `size` and `len`,
    ``attached="true"``, no value (only the whitespace `body`, or closed at once with
    `closed`); its bytes are in the memfd passed beside. Spelt by the serialiser's functions
    (double quotes, on one line), not in indilib's layout (single quotes, an attribute a line:
    test_attachedblobs.INDILIB_MEMBER, and the fake C driver of test_exdriver_shared_blobs)."""
    attrs = "".join(attribute(key, value) for key, value in (
        ("name", escape(name)), ("size", str(size)), ("format", ".fits"), ("len", str(size)),
        ("attached", "true")))
    return empty_element("oneBLOB", attrs, "") if closed else text_element("oneBLOB", attrs, body, "")


def script_constants(**values: object) -> str:
    """Python assignments of `values` (by repr), for a driver script's `setup`: how a script
    gets the test's numbers and the XML pieces the test serialised (bytes constants)."""
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


#: A Python driver run as an executable: device Cam sends IMAGE's BLOB (member I) when a
#: client sets GO, then REPORT says whether its stdout is a pipe and whether its link
#: attaches BLOBs (`blob_cam_script` fills in its constants and its BLOB's bytes).
_BLOB_CAM = """\
import asyncio, os, random, stat, sys
sys.path.insert(0, REPO)
from indipydriver import (BLOBMember, BLOBVector, Device, IPyDriver, TextMember, TextVector,
                          newTextVector)

class Cam(IPyDriver):
    shared_blobs = SHARED

    async def rxevent(self, event):
        if isinstance(event, newTextVector):
            vector = self["Cam"]["IMAGE"]
            vector["I"] = PAYLOAD_EXPRESSION
            vector.set_blobformat("I", ".bin")
            await vector.send_setVector()
            report = self["Cam"]["REPORT"]
            report["T"] = "fifo=%s attaches=%s" % (stat.S_ISFIFO(os.fstat(1).st_mode),
                                                   self.attaches_blobs)
            await report.send_setVector()

asyncio.run(Cam(Device("Cam", [
    BLOBVector("IMAGE", "Image", "G", "ro", "Idle", [BLOBMember("I", "I")]),
    TextVector("GO", "Go", "G", "rw", "Idle", [TextMember("GO", "GO")]),
    TextVector("REPORT", "Report", "G", "ro", "Idle", [TextMember("T", "T")]),
])).asyncrun())
"""


def blob_cam_script(repo: Path, payload: str, *, shared: bool = True, **constants: object) -> str:
    """The `_BLOB_CAM` driver's script, importing indipydriver from `repo`: its BLOB the
    Python expression `payload` (of `constants`, or of ``random``), its ``shared_blobs``
    `shared`."""
    return (script_constants(REPO=str(repo), SHARED=shared, **constants)
            + _BLOB_CAM.replace("PAYLOAD_EXPRESSION", payload))


async def recv_with_fds(sock: socket.socket, size: int = 1 << 20) -> tuple[bytes, list[int]]:
    """The next read (at most `size` bytes) of the non-blocking Unix socket `sock` with
    ``recvmsg``, as libindiclient reads a server's Unix socket: the bytes, and the descriptors
    passed beside them (SCM_RIGHTS, at most 16), which the caller owns. Waits until there is
    something to read."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            data, ancdata, _, _ = sock.recvmsg(size, socket.CMSG_SPACE(4 * 16))
            break
        except BlockingIOError:
            ready = asyncio.Event()
            loop.add_reader(sock, ready.set)
            try:
                await ready.wait()
            finally:
                loop.remove_reader(sock)
    fds = array.array("i")
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def open_memfds(pid: int | str = "self", name: str = "shm_anon") -> list[str]:
    """The memfds called `name` process `pid` holds (by default this one, where a server under
    test runs, and libindi's shared BLOBs' name): they must all be closed once inlined, sent
    or given up."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if name in target:
            out.append(target)
    return out


_OPEN: list[RawClient] = []
_UIDS = itertools.count(1)


async def socket_round_trip(sock: socket.socket, before: bytes = b"",
                            timeout: float = 15.0) -> bytes:
    """`RawClient.round_trip` on a bare non-blocking socket: send `before` and a
    ``pingRequest``, read until its ``pingReply``; what was read (the reply included)."""
    loop = asyncio.get_running_loop()
    uid = f"round-trip-{next(_UIDS)}".encode()
    await loop.sock_sendall(sock, before + b'<pingRequest uid="' + uid + b'"/>')
    got = b""

    async def read() -> None:
        nonlocal got
        while b'<pingReply uid="' + uid + b'"' not in got:
            data = await loop.sock_recv(sock, 65536)
            if not data:
                raise EOFError(f"server closed the connection; read {got[-300:]!r}")
            got += data

    await asyncio.wait_for(read(), timeout)
    return got


class RawClient:
    """A bare INDI client: writes text, collects whole elements as Frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.frames: list[Frame] = []
        self.errors: list[Exception] = []
        self._framer = Framer()

    @classmethod
    async def connect(cls, port: int, ssl: ssl_.SSLContext | None = None) -> RawClient:
        """Connect to 127.0.0.1:`port`; over TLS with `ssl` (tests/tlskit.py's contexts)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ssl)
        client = cls(reader, writer)
        _OPEN.append(client)
        return client

    async def send(self, text: str | bytes) -> None:
        self.writer.write(text.encode() if isinstance(text, str) else text)
        await self.writer.drain()

    async def read_until(self, done: Callable[[list[Frame]], bool], timeout: float = 15.0) -> list[Frame]:
        async def loop() -> None:
            while not done(self.frames):
                data = await self.reader.read(1 << 16)
                if not data:
                    raise EOFError("server closed the connection")
                for item in self._framer.feed(data):
                    if isinstance(item, Frame):
                        self.frames.append(item)
                    else:
                        self.errors.append(item)

        await asyncio.wait_for(loop(), timeout)
        return self.frames

    async def wait_for(self, tag: str, timeout: float = 15.0, **attrs: str) -> Frame:
        def match(f: Frame) -> bool:
            return f.tag == tag and all(f.attrs.get(k) == v for k, v in attrs.items())

        await self.read_until(lambda fs: any(match(f) for f in fs), timeout)
        return next(f for f in self.frames if match(f))

    async def round_trip(self, timeout: float = 15.0) -> Frame:
        """Send a ``pingRequest`` and wait for its ``pingReply`` (returned).

        The evidence that something did *not* happen: the server deals with one connection's
        messages in order and queues what it sends a client in order, so once the reply is in,
        everything this client sent before has been dealt with, and whatever the server had
        queued for it by then (an in-process driver's sends included) has been read."""
        uid = f"round-trip-{next(_UIDS)}"
        await self.send(serialise(PingRequest(uid)))
        return await self.wait_for("pingReply", timeout, uid=uid)

    def tags(self) -> list[str]:
        return [f.tag for f in self.frames]

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def server(*drivers: object, **kw: object) -> IPyServer:
    """Our server for a test: on 127.0.0.1, a port the system picks (``.port`` once started),
    no signal handlers; keyword arguments go to IPyServer. Run it with ``running``."""
    options: dict[str, object] = {"host": "127.0.0.1", "port": 0, "handle_signals": False, **kw}
    return IPyServer(*drivers, **options)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(server: IPyServer) -> AsyncIterator[IPyServer]:
    """Run one of our servers in-process for the body of the block (listening, its drivers
    started: indilib's simulators too), then shut it down and wait for it, whatever happens;
    the raw clients opened meanwhile are closed. The timeouts only bound a failure."""
    task = asyncio.create_task(server.asyncrun())
    try:
        await asyncio.wait_for(server.started(), 10)
        yield server
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 15)
        while _OPEN:
            await _OPEN.pop().close()


def library_elsewhere(folder: Path) -> Path:
    """`folder`/other holding this checkout's packages (linked): a library in another place,
    for a bench script's ``--ours-root DIR`` / ``ours=DIR`` to be pointed at."""
    other = folder / "other"
    other.mkdir()
    for package in ("indipyserver", "indipydriver"):
        (other / package).symlink_to(BENCH_DIR.parent / package)
    return other


def run_bench(script: str, *args: str, folder: Path, timeout: float
              ) -> subprocess.CompletedProcess[str]:
    """bench/`script` run whole with `args`, as a user would: its own process, the repository
    on its path, its temporary files in `folder` (not left in /tmp); its stdout printed (the
    figures, in the report of a run with -rA)."""
    done = subprocess.run([sys.executable, str(BENCH_DIR / script), *args],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "PYTHONPATH": str(BENCH_DIR.parent), "TMPDIR": str(folder)})
    print(done.stdout)
    return done


def load_bench(script: str, name: str | None = None) -> ModuleType:
    """bench/`script`.py (a script, not a package) loaded as a module, for the tests of its
    parts; registered as `name` (default ``<script>_bench``)."""
    spec = importlib.util.spec_from_file_location(name or f"{script}_bench",
                                                  BENCH_DIR / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it loads
    spec.loader.exec_module(module)
    return module


#: For a driver script run by a test: `wait_for(token)` reads stdin until `token` has come
#: (consumed; exits at EOF). Put at the marker line ``# wait_for`` of a dedented script.
#: (bench/processes.py's, which the benchmarks' scripted drivers use too.)
SCRIPT_WAIT_FOR: str = load_bench("processes").SCRIPT_WAIT_FOR


def _counting_transport() -> type[asyncio.Transport]:
    """bench/hotpath.py's stand-in transport (takes every write at once)."""
    return load_bench("hotpath").CountingTransport  # type: ignore[no-any-return]


class Recorder(_counting_transport()):  # type: ignore[misc]
    """Records every write, with whether a read batch was still open when it was made."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.in_batch: list[bool] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.in_batch.append(flow_for()._hold > 0)


class PausableReadTransport(asyncio.ReadTransport):
    """A read transport double that records whether it may deliver a read."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return False


class LoopTicks:
    """The turns of the event loop a task of its own got (`count`) while started: that the
    loop was never held up while something else worked."""

    def __init__(self) -> None:
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
