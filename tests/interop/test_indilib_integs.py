"""indilib's own integration tests of ``indiserver`` (indilib/indi ``integs/``), redone in
Python as transcripts checked against indilib's ``indiserver`` 1.9.9 and against ours.

indilib pins its server down with a fake driver whose stdin/stdout the test itself reads and
writes, and raw client sockets (``TestIndiserverSingleDriver.cpp``, ``TestClientQueries.cpp``,
``TestIndiSetProp.cpp``). The same scenarios, written anew here, each run on both servers:

==========================================  ================================================
indilib integs test                          test here
==========================================  ================================================
MissingDriver                                test_driver_program_that_does_not_exist
ReplyToPing                                  test_first_message_to_a_driver_and_pings_both_ways
DontLeakFds (TCP part)                       test_client_connections_leave_no_descriptor_behind
DontForwardUnaskedBlobDefToClient,           test_blob_reaches_a_client_only_as_enable_blob_says
DontForwardOtherBlobDefToClient,
ForwardBase64BlobToIPClient
DropMisbehavingDriver                        test_attached_blob_without_a_descriptor
ForwardAttachedBlobToIPClient                test_attached_blob_reaches_a_tcp_client_as_base64
ForwardAttachedBlobToDriver                  test_snooping_driver_gets_blobs_after_enable_blob
ServerForwardRequest                         test_client_requests_reach_the_driver
ServerForwardRequestOfHalfDeadClient (TCP)   test_client_that_stopped_reading_is_still_heard
TestIndiSetProperties.* (4 tests)            test_indi_setprop_reaches_the_driver
==========================================  ================================================

Not redone: the Unix-socket client tests (ForwardBase64BlobToUnixClient,
ForwardAttachedBlobToUnixClient, the Unix part of DontLeakFds: indiserver's ``-u`` clients get
BLOBs as memfds, an indilib extension beyond INDI 1.7; ours has no Unix-socket listener for
clients), and ``TestIndiClient.cpp`` (it tests libindiclient's ``BaseClient`` against a mock
server, no server behaviour; ``test_baseclient.py`` runs BaseClient against ours).

The fake driver is a throwaway Python script (``FAKE_DRIVER``) that connects back to the test
over an abstract Unix socket, hands over its stdin and stdout (SCM_RIGHTS) and waits. The test
then *is* the driver: it reads exactly what the server writes to the driver and writes the
scripted answers, on the very descriptors the server gave (a socketpair under indiserver, pipes
under ours, stdout on a Unix socket with ``--shared-blobs on``), so it can attach memfds to
BLOBs as indilib's C drivers do. Closing them and the control socket ends the driver.

Barriers are ping round trips: both servers answer ``pingRequest`` on the connection it came
from, after everything that connection sent before it, so "nothing else arrived" is checked by
requiring the ``pingReply`` to be the *next* element, never by sleeping. Every wait is bounded.

Where ours differs from indiserver 1.9.9 on purpose, each test says so and asserts each
server's own behaviour. Redoing them found one bug of ours, fixed since: an attached BLOB with
``size`` and no ``len`` was dropped, where indiserver sends ``size`` bytes.
"""

from __future__ import annotations

import array
import base64
import os
import select
import socket
import stat
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peers import IndiServer
from peers import OurServer
from peers import enable_blob
from peers import free_port
from peers import setprop
from peers import tcp_socket_fds
from peers import terminate
from waiting import wait_for

from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import GetProperties
from indipycore.protocol import NewNumberVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import PingRequest
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipycore.protocol.escaping import escape
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import empty_element
from indipycore.protocol.serialiser import start_tag

INDISERVER = "indiserver"
OURS = "indipyserver"
SERVERS = [INDISERVER, OURS]
# The checkout under test: the child `python -m indipyserver` imports it.
REPO = Path(__file__).resolve().parents[2]
ENV_ADDRESS = "INDIPY_INTEG_DRIVER"
TIMEOUT = 5.0
DEV = "integ_dev"

FAKE_DRIVER = """\
#!{python}
# Fake INDI driver for tests/interop/test_indilib_integs.py: hands its stdin and stdout to the
# test (SCM_RIGHTS over an abstract Unix socket), then waits until the test closes that socket.
import os
import socket
import sys

control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
control.connect("\\0" + os.environ["{env}"])
socket.send_fds(control, [os.path.basename(sys.argv[0]).encode()], [0, 1])
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
control.recv(1)
"""

# What the fake driver and the clients send is written by the protocol's serialiser
# (tests/test_xml_writers.py); an attached member, whose `len` and `attached` it has no field
# for, by its spelling functions.
BLOB_DEF = serialise(DefBLOBVector(
    DEV, "image", State.IDLE, Perm.RO, (BLOB("frame", label="Frame"),), label="Image",
    group="Camera", timeout="60", timestamp="2024-05-01T10:00:00")).decode()
PAYLOAD = b"a small frame, not a FITS\n"
PAYLOAD_B64 = base64.b64encode(PAYLOAD).decode()
BLOB_SET = serialise(SetBLOBVector(
    DEV, "image", (BLOB("frame", PAYLOAD, len(PAYLOAD), ".fits", enclen=len(PAYLOAD_B64)),),
    state=State.OK, timestamp="2024-05-01T10:00:05")).decode()
# What a C driver's memfd holds: data, then the rest of the (rounded-up) memory file.
MEMFD_BYTES = bytes(ord("A") + i % 26 for i in range(1 << 16))
ATTACHED_SIZE = 40


def number_defs(count: int) -> str:
    """`count` writable number vectors value0..value<count-1>, one member `x` each."""
    member = Number("x", "50", "X", "%.1f", "0", "100", "1")
    return "".join(
        serialise(DefNumberVector(DEV, f"value{i}", State.IDLE, Perm.RW, (member,),
                                  label=f"Value {i}", group="Main", timeout="30",
                                  timestamp="2024-05-01T10:00:00")).decode()
        for i in range(count)
    )


def attached_blob(timestamp: str, size: int, with_len: bool, state: State | None) -> str:
    """The start tag and the member of a setBLOBVector of `image` whose data a C driver
    passes in a memfd beside it (``attached="true"``, `size` and, `with_len`, ``len``); its
    end tag is sent after it."""
    head = [("device", DEV), ("name", "image"), ("state", state), ("timestamp", timestamp)]
    member = [("name", "frame"), ("size", str(size)), ("format", ".fits"),
              ("len", str(size) if with_len else None), ("attached", "true")]
    return (start_tag("setBLOBVector", spelt(head), "\n")
            + empty_element("oneBLOB", spelt(member), "\n"))


def spelt(attributes: list[tuple[str, str | None]]) -> str:
    """The attributes that have a value, escaped, in order."""
    return "".join(attribute(name, escape(value)) for name, value in attributes
                   if value is not None)


Shape = tuple[str, dict[str, str], str, tuple[Any, ...]]


def shape(element: ET.Element) -> Shape:
    """An element as (tag, attributes, stripped text, children): what a parser sees, without
    the layout (indiserver re-indents, ours passes bytes on) or the quoting."""
    return (element.tag, dict(element.attrib), (element.text or "").strip(),
            tuple(shape(child) for child in element))


def shapes_of(text: str) -> list[Shape]:
    """The shapes of the top-level elements in `text`."""
    return [shape(e) for e in ET.fromstring(f"<all>{text}</all>")]


def show(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode").strip()


def _socket_of(fd: int) -> socket.socket | None:
    return socket.socket(fileno=fd) if stat.S_ISSOCK(os.fstat(fd).st_mode) else None


class Wire:
    """One INDI byte stream the test reads and writes: a raw client, or a fake driver's
    stdin/stdout. Everything read is kept (``raw``) and parsed into top-level elements, in
    order; descriptors that arrive with it (SCM_RIGHTS) are kept in ``fds``."""

    def __init__(self, label: str, rfd: int, wfd: int) -> None:
        self.label = label
        self._rfd, self._wfd = rfd, wfd
        self._rsock = _socket_of(rfd)
        self._wsock = self._rsock if wfd == rfd else _socket_of(wfd)
        self.raw = bytearray()
        self.elements: list[ET.Element] = []
        self.fds: list[int] = []
        self.eof = False
        self.closed = False
        self._next = 0
        self._depth = 0
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._parser.feed(b"<stream>")

    # -- writing

    def send(self, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if self._wsock is not None:
            self._wsock.sendall(raw)
            return
        view = memoryview(raw)
        while view:
            view = view[os.write(self._wfd, view):]

    def send_with_fd(self, data: str, fd: int) -> None:
        """Send `data` with `fd` attached (SCM_RIGHTS), as a C driver passes a BLOB's memfd."""
        if self._wsock is None:
            pytest.fail(f"{self.label}: its output is a pipe, it cannot pass descriptors",
                        pytrace=False)
        sent = socket.send_fds(self._wsock, [data.encode()], [fd])
        assert sent == len(data.encode())

    def ping(self, uid: str) -> None:
        """A round trip: the next element must be the reply, so nothing else came before it."""
        self.send(serialise(PingRequest(uid)))
        self.expect("pingReply", {"uid": uid})

    def until_ping(self, uid: str) -> list[ET.Element]:
        """A round trip: the elements that arrived before its reply (other replies included)."""
        self.send(serialise(PingRequest(uid)))
        before = []
        while not ((element := self.next()).tag == "pingReply"
                   and dict(element.attrib) == {"uid": uid}):
            before.append(element)
        return before

    # -- reading

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._rfd], [], [], max(timeout, 0))
        if not ready:
            return
        try:
            if self._rsock is not None:
                data, ancillary, _flags, _addr = self._rsock.recvmsg(
                    1 << 20, socket.CMSG_SPACE(16 * array.array("i").itemsize))
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds = array.array("i")
                        fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                        self.fds.extend(fds)
            else:
                data = os.read(self._rfd, 1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return
        self.raw += data
        try:
            self._parser.feed(data)
            events = list(self._parser.read_events())
        except ET.ParseError as exc:
            pytest.fail(f"{self.label}: not well-formed XML ({exc})\n{self.describe()}",
                        pytrace=False)
        for item in events:  # ("start" | "end", element): the only events asked for
            if item[0] == "start":
                self._depth += 1
            else:
                self._depth -= 1
                element = item[-1]
                if self._depth == 1 and isinstance(element, ET.Element):
                    self.elements.append(element)

    def next(self, timeout: float = TIMEOUT) -> ET.Element:
        """The next element not yet taken; fails the test if none comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while self._next >= len(self.elements):
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                state = "closed" if self.eof else f"nothing within {timeout:.0f} s"
                pytest.fail(f"{self.label}: expected another element, {state}\n"
                            f"{self.describe()}", pytrace=False)
            self._read(left)
        element = self.elements[self._next]
        self._next += 1
        return element

    def expect(self, tag: str, attrs: dict[str, str] | None = None,
               timeout: float = TIMEOUT) -> ET.Element:
        """The next element, which must be a `tag` with exactly `attrs` (if given)."""
        element = self.next(timeout)
        if element.tag != tag or (attrs is not None and dict(element.attrib) != attrs):
            pytest.fail(f"{self.label}: expected <{tag} {attrs or ''}>, got {show(element)}\n"
                        f"{self.describe()}", pytrace=False)
        return element

    def wait_eof(self, timeout: float = TIMEOUT) -> bool:
        """Read until the other end closes; False if it is still open after `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.eof and (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.eof

    def describe(self) -> str:
        text = bytes(self.raw[-4000:]).decode(errors="replace")
        return f"--- {self.label} received ({len(self.raw)} bytes, last 4000) ---\n{text}"

    def shutdown_read(self) -> None:
        assert self._rsock is not None
        self._rsock.shutdown(socket.SHUT_RD)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._rsock is not None:
            self._rsock.close()
        else:
            os.close(self._rfd)
        if self._wfd != self._rfd:
            if self._wsock is not None:
                self._wsock.close()
            else:
                os.close(self._wfd)
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


class FakeDrivers:
    """Writes fake driver scripts and takes the stdin/stdout they hand back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.address = f"indipy-integ-{uuid.uuid4().hex}"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + self.address)
        self.listener.listen(16)
        self._arrived: dict[str, list[Wire]] = {}
        self._controls: dict[int, socket.socket] = {}
        self._wires: list[Wire] = []

    def script(self, name: str) -> str:
        """An executable fake driver called `name` (the name it reports when it calls back)."""
        path = self.folder / name
        path.write_text(FAKE_DRIVER.format(python=sys.executable, env=ENV_ADDRESS))
        path.chmod(0o755)
        return str(path)

    def accept(self, name: str, timeout: float = 10.0) -> Wire:
        """The next driver `name` the server started (its stdin/stdout as a Wire)."""
        deadline = time.monotonic() + timeout
        while not self._arrived.get(name):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"fake driver {name} did not start within {timeout:.0f} s",
                            pytrace=False)
            self.listener.settimeout(left)
            try:
                control, _ = self.listener.accept()
            except TimeoutError:
                continue
            control.settimeout(TIMEOUT)
            message, fds, _flags, _addr = socket.recv_fds(control, 256, 2)
            assert len(fds) == 2, (message, fds)
            wire = Wire(f"driver {message.decode()}", fds[0], fds[1])
            self._controls[id(wire)] = control
            self._wires.append(wire)
            self._arrived.setdefault(message.decode(), []).append(wire)
        return self._arrived[name].pop(0)

    def terminate(self, wire: Wire) -> None:
        """Close the driver's stdin/stdout and let the script exit."""
        wire.close()
        control = self._controls.pop(id(wire), None)
        if control is not None:
            control.close()

    def close(self) -> None:
        for wire in self._wires:
            self.terminate(wire)
        self.listener.close()


@dataclass
class Server:
    """A running server of either kind."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Rig:
    """Servers, fake drivers and raw clients for one test; all closed and reaped at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.drivers = FakeDrivers(tmp_path)
        self._indiservers: list[IndiServer] = []
        self._ours: list[OurServer] = []
        self._clients: list[Wire] = []

    def start(self, kind: str, *drivers: str, restarts: int = 0,
              shared_blobs: bool | None = None) -> Server:
        """indiserver (``-r restarts``, own -p/-u/HOME) or ``python -m indipyserver`` (same
        ``-r``; ``--shared-blobs on`` if `shared_blobs`) serving `drivers`, listening."""
        env = {ENV_ADDRESS: self.drivers.address}
        workdir = self.tmp / f"{kind}-{len(self._indiservers) + len(self._ours)}"
        running: IndiServer
        if kind == INDISERVER:
            running = IndiServer(*drivers, workdir=workdir, env=env,
                                 extra_args=["-r", str(restarts)])
            self._indiservers.append(running)
        else:
            blobs = [] if shared_blobs is None else ["--shared-blobs", "on" if shared_blobs else "off"]
            running = OurServer(*drivers, workdir=workdir, env=env,
                                extra_args=["--host", "127.0.0.1", "-r", str(restarts), *blobs])
            self._ours.append(running)
        running.start()
        assert running.process is not None
        return Server(kind, running.port, running.process, running.log_path)

    def client(self, server: Server) -> Wire:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        sock.settimeout(None)  # blocking: reads wait in select() with their own timeouts
        fd = sock.detach()
        wire = Wire(f"client of {server.kind}", fd, fd)
        self._clients.append(wire)
        return wire

    def close(self) -> None:
        for wire in self._clients:
            wire.close()
        self.drivers.close()  # the fake drivers exit: servers then stop without waiting on them
        for indiserver in self._indiservers:
            indiserver.stop()
        codes = [terminate(ours.process, 10) for ours in self._ours if ours.process is not None]
        for ours in self._ours:
            ours.stop()  # the socket and the process group as well
        assert all(code == 0 for code in codes), f"our servers' exit codes: {codes}"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path)
    try:
        yield rig
    finally:
        rig.close()


def start_with_device(rig: Rig, kind: str, defs: str, *, driver: str = "fakedriver",
                      restarts: int = 0, shared_blobs: bool | None = None) -> tuple[Server, Wire]:
    """A server with one fake driver that has sent `defs` in answer to the server's first
    getProperties, and the server has read them (a ping round trip)."""
    server = rig.start(kind, rig.drivers.script(driver), restarts=restarts,
                       shared_blobs=shared_blobs)
    wire = rig.drivers.accept(driver)
    wire.expect("getProperties", {"version": "1.7"})
    wire.send(defs)
    wire.ping("defined")
    return server, wire


def get_properties(kind: str, driver: Wire, client: Wire, defs: str) -> None:
    """A client's ``<getProperties version='1.7'/>`` and the definitions it gets, exactly `defs`
    in order.

    indiserver forwards the request to the driver, which answers with its definitions. Ours
    (deliberately, docs/interoperability.rst "getProperties answered from the server's cache")
    answers from its cache and does not pass the request on to a driver that has defined
    something: the driver's next element is the reply to a ping.
    """
    client.send("<getProperties version='1.7'/>")
    if kind == INDISERVER:
        driver.expect("getProperties", {"version": "1.7"})
        driver.send(defs)
    expected = shapes_of(defs)
    got = [shape(client.next()) for _ in expected]
    assert got == expected, client.describe()
    if kind == OURS:
        driver.ping("not asked")


def members(element: ET.Element) -> list[tuple[str, dict[str, str], str]]:
    return [(m.tag, dict(m.attrib), (m.text or "").strip()) for m in element]


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def client_sockets(pid: int, port: int) -> set[str]:
    """The descriptors of process `pid` that are accepted connections on `port` (from
    /proc/PID/net/tcp*, any state but listening)."""
    return tcp_socket_fds(pid, lambda local, _, state: local == port and state != "0A")


def idle_fd_count(pid: int, port: int) -> int:
    """The process's open descriptors once it holds no client connection (the probe connection
    of wait_listening may still be closing)."""
    wait_for(lambda: not client_sockets(pid, port), what="the server to close every client socket")
    return fd_count(pid)


def wait_fd_count(pid: int, expected: int) -> int:
    """The process's open descriptors once they number `expected` (or an AssertionError)."""
    wait_for(lambda: fd_count(pid) == expected,
             what=lambda: f"{expected} descriptors, not {fd_count(pid)}")
    return fd_count(pid)


def memfd_with(data: bytes) -> int:
    fd = os.memfd_create("integ-blob")
    os.write(fd, data)
    return fd


# ---------------------------------------------------------------------------------------------
# TestIndiserverSingleDriver


@pytest.mark.parametrize("kind", SERVERS)
def test_driver_program_that_does_not_exist(rig: Rig, kind: str) -> None:
    """MissingDriver: the only driver's program does not exist.

    indiserver (``-r 0``) has no driver left and exits with status 1. Ours refuses it before
    serving anything: one line saying so, exit status 1 (with or without other drivers, as any
    other bad argument; ``tests/server/test_missing_driver.py``).
    """
    missing = str(rig.tmp / "no-such-driver")
    workdir = rig.tmp / f"{kind}-missing"
    if kind == INDISERVER:
        indiserver = IndiServer(missing, workdir=workdir, extra_args=["-r", "0"])
        indiserver.home.mkdir(parents=True)
        args, home = indiserver.args, indiserver.home
    else:
        workdir.mkdir()
        args, home = [sys.executable, "-m", "indipyserver", "-p", str(free_port()), missing], workdir
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(args, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=15, check=False,
                          env={**os.environ, "HOME": str(home), "PYTHONPATH": pythonpath})
    said = done.stderr.decode(errors="replace")
    assert done.returncode == 1, said
    if kind != INDISERVER:
        assert said.splitlines() == [said.rstrip()], said
        assert said.rstrip().endswith(f"driver {missing}: no such file"), said


@pytest.mark.parametrize("kind", SERVERS)
def test_first_message_to_a_driver_and_pings_both_ways(rig: Rig, kind: str) -> None:
    """ReplyToPing: a driver's first message from the server is a device-less
    ``<getProperties version="1.7"/>`` (exactly that attribute); ``pingRequest`` from the driver
    and from a client, interleaved, are each answered with a ``pingReply`` of the same uid on the
    connection it came from and go nowhere else (each side's next element is its own reply).

    When that only driver's stdout closes, indiserver (``-r 0``) exits with status 1; ours keeps
    serving (deliberate: the command-line guide, ``-r``).
    """
    server = rig.start(kind, rig.drivers.script("fakedriver"))
    driver = rig.drivers.accept("fakedriver")
    driver.expect("getProperties", {"version": "1.7"})
    client = rig.client(server)
    for i in range(1, 5):
        (driver if i % 2 else client).ping(str(i))
    driver.ping("driver last")
    client.ping("client last")

    rig.drivers.terminate(driver)
    if kind == INDISERVER:
        assert server.process.wait(timeout=10) == 1
    else:
        client.ping("after the driver")
        assert server.process.poll() is None


@pytest.mark.parametrize("kind", SERVERS)
def test_client_connections_leave_no_descriptor_behind(rig: Rig, kind: str) -> None:
    """DontLeakFds, over TCP: each client connection holds one more descriptor in the server
    process while it is open, and the count is back to the idle one after it closes, again
    and again."""
    server, driver = start_with_device(rig, kind, BLOB_DEF)
    pid = server.process.pid
    idle = idle_fd_count(pid, server.port)
    for i in range(3):
        client = rig.client(server)
        client.ping(f"connected {i}")
        assert wait_fd_count(pid, idle + 1) == idle + 1
        client.close()
        driver.ping(f"closed {i}")
        assert wait_fd_count(pid, idle) == idle, f"after connection {i} closed"


ENABLE_CASES = {
    # DontForwardUnaskedBlobDefToClient
    "no-enableBLOB": (b"", False),
    # DontForwardOtherBlobDefToClient
    "other-property-Also": (enable_blob(DEV, name="other"), False),
    # ForwardBase64BlobToIPClient
    "this-property-Also": (enable_blob(DEV, name="image"), True),
    "device-Also": (enable_blob(DEV), True),
}


@pytest.mark.parametrize("case", ENABLE_CASES)
@pytest.mark.parametrize("kind", SERVERS)
def test_blob_reaches_a_client_only_as_enable_blob_says(rig: Rig, kind: str, case: str) -> None:
    """DontForwardUnaskedBlobDefToClient, DontForwardOtherBlobDefToClient,
    ForwardBase64BlobToIPClient: a client that asked for everything gets the driver's
    ``defBLOBVector`` as sent (every attribute, the member); a ``setBLOBVector`` reaches it only
    if it sent ``enableBLOB Also`` for that property or its whole device, not with no
    ``enableBLOB`` (the default is Never) nor with ``Also`` for another property of the device.
    When it does, it is the driver's element (attributes incl. ``enclen``, base64 text)."""
    enable, delivered = ENABLE_CASES[case]
    server, driver = start_with_device(rig, kind, BLOB_DEF)
    client = rig.client(server)
    get_properties(kind, driver, client, BLOB_DEF)
    client.send(enable)
    client.ping("enabled")

    driver.send(BLOB_SET)
    driver.ping("sent")
    got = [shape(element) for element in client.until_ping("after")]
    assert got == (shapes_of(BLOB_SET) if delivered else []), client.describe()


BAD_ATTACHED = (attached_blob("2024-05-01T10:00:05", len(PAYLOAD), False, State.OK)
                + "</setBLOBVector>\n")


@pytest.mark.parametrize(("kind", "shared_blobs"), [
    pytest.param(INDISERVER, None, id="indiserver"),
    *(pytest.param(OURS, shared, id=f"indipyserver-{stdout}") for shared, stdout in (
        (True, "socket"), (None, "side-channel"), (False, "pipe"))),
])
def test_attached_blob_without_a_descriptor(rig: Rig, kind: str,
                                            shared_blobs: bool | None) -> None:
    """DropMisbehavingDriver: a driver sends ``<oneBLOB ... attached='true'/>`` but passes no
    descriptor. No client ever gets that element.

    indiserver 1.9.9 ("Missing shared buffer...") drops the driver: its connection closes, the
    client gets ``<delProperty device=.../>`` and the driver is started again (``-r 1``; the
    integs test uses ``-r 0`` and sees the server exit). Ours, deliberately
    (docs/interoperability.rst "BLOB encoding"), drops the vector with an error logged and keeps
    the driver, which still answers pings, both with the driver's stdout on a Unix socket
    (``--shared-blobs on``), on a pipe beside the side channel (``auto``, a script's default)
    that passed none, and on a pipe alone (``--shared-blobs off``), where no descriptor can
    come at all (a client would get an empty image).
    """
    server, driver = start_with_device(rig, kind, BLOB_DEF, restarts=1,
                                       shared_blobs=shared_blobs)
    client = rig.client(server)
    get_properties(kind, driver, client, BLOB_DEF)
    client.send(enable_blob(DEV, name="image"))
    client.ping("enabled")

    driver.send(BAD_ATTACHED)
    if kind == INDISERVER:
        assert driver.wait_eof(10), driver.describe()
        client.expect("delProperty", {"device": DEV})
        again = rig.drivers.accept("fakedriver")
        again.expect("getProperties", {"version": "1.7"})
        assert "Missing shared buffer" in server.log()
    else:
        driver.ping("kept")
        expected = ("with no shared buffer" if shared_blobs is False and kind == OURS
                    else "missing shared buffer")
        assert expected in server.log(), server.log()
    assert [shape(element) for element in client.until_ping("after")] == [], client.describe()


@pytest.mark.parametrize(
    ("kind", "with_len"),
    [
        pytest.param(INDISERVER, True, id="indiserver-len"),
        pytest.param(INDISERVER, False, id="indiserver-size-only"),
        pytest.param(OURS, True, id="indipyserver-len"),
        pytest.param(OURS, False, id="indipyserver-size-only"),
    ],
)
def test_attached_blob_reaches_a_tcp_client_as_base64(rig: Rig, kind: str,
                                                      with_len: bool) -> None:
    """ForwardAttachedBlobToIPClient: a driver on a Unix socket passes each BLOB as a memfd
    (``attached='true'``, SCM_RIGHTS) larger than the data, as C drivers round it up; a TCP
    client that enabled the property gets, image after image, the vector with the member's
    ``name``, ``size``, ``format`` (and ``len`` when the driver sent it), no ``attached`` and
    no ``enclen``, and the base64 of exactly the first ``size`` bytes. Ours needs
    ``--shared-blobs on`` to give a Python driver the socket (docs: "BLOB encoding")."""
    server, driver = start_with_device(rig, kind, BLOB_DEF,
                                       shared_blobs=True if kind == OURS else None)
    client = rig.client(server)
    get_properties(kind, driver, client, BLOB_DEF)
    client.send(enable_blob(DEV, name="image"))
    expected_member = {"name": "frame", "size": str(ATTACHED_SIZE), "format": ".fits"}
    if with_len:
        expected_member["len"] = str(ATTACHED_SIZE)
    for i in range(3):
        client.ping(f"ready {i}")
        fd = memfd_with(MEMFD_BYTES)
        try:
            # The descriptor travels with the start of the vector, the rest follows.
            driver.send_with_fd(
                attached_blob(f"2024-05-01T10:0{i}:00", ATTACHED_SIZE, with_len, None), fd)
        finally:
            os.close(fd)
        driver.send("</setBLOBVector>\n")
        driver.ping(f"sent {i}")
        got = client.until_ping(f"received {i}")
        assert [(e.tag, dict(e.attrib)) for e in got] == [("setBLOBVector", {
            "device": DEV, "name": "image", "timestamp": f"2024-05-01T10:0{i}:00"})], \
            client.describe()
        ((tag, attrs, text),) = members(got[0])
        assert (tag, attrs) == ("oneBLOB", expected_member)
        assert base64.b64decode(text, validate=True) == MEMFD_BYTES[:ATTACHED_SIZE]


@pytest.mark.parametrize(
    ("kind", "source", "enable"),
    [
        pytest.param(kind, source, enable, id=f"{kind}-{source}-{'Also' if enable else 'none'}")
        for kind in SERVERS
        for source, enable in (("inline", True), ("attached", True), ("inline", False))
    ],
)
def test_snooping_driver_gets_blobs_after_enable_blob(rig: Rig, kind: str, source: str,
                                                      enable: bool) -> None:
    """ForwardAttachedBlobToDriver, and BLOB snooping in general: a driver's
    ``<getProperties device name version/>`` is passed to the owner of the device, whose
    definition reaches the snooper; the owner's BLOBs (base64, or attached memfds) reach the
    snooper only after it sent ``enableBLOB Also``.

    How they arrive differs on purpose. indiserver 1.9.9 gives a snooping driver on its
    socketpair every BLOB as a memfd (``attached='true'``, ``enclen`` removed), even one the
    owner sent as base64 (indilib issue #1822; HEAD sends base64, which the integs test
    expects). Ours sends drivers base64 only (docs/interoperability.rst "BLOB encoding"): the owner's
    element as sent, or the memfd's first ``len`` bytes. Ours answers the snoop with the cached
    definition (docs: "getProperties answered from the server's cache") and does not ask the
    owner, whose answer would reach every client of the device again; indiserver asks it.
    """
    shared = True if (kind == OURS and source == "attached") else None
    rig.start(kind, rig.drivers.script("owner"), rig.drivers.script("snooper"),
              shared_blobs=shared)
    owner, snooper = rig.drivers.accept("owner"), rig.drivers.accept("snooper")
    for wire in (owner, snooper):
        wire.expect("getProperties", {"version": "1.7"})
    owner.send(BLOB_DEF)
    owner.ping("defined")

    snooper.send(serialise(GetProperties("1.7", DEV, "image")))
    if enable:
        snooper.send(enable_blob(DEV, name="image"))
    if kind == INDISERVER:
        owner.expect("getProperties", {"version": "1.7", "device": DEV, "name": "image"})
        owner.send(BLOB_DEF)
    owner.ping("answered")  # ours: nothing came before the reply, so the owner was not asked
    assert shape(snooper.expect("defBLOBVector")) == shapes_of(BLOB_DEF)[0]
    snooper.ping("snooping")

    sent: Shape | None = None
    if source == "inline":
        owner.send(BLOB_SET)
        size, data = len(PAYLOAD), PAYLOAD
        sent = shapes_of(BLOB_SET)[0]
    else:
        fd = memfd_with(MEMFD_BYTES)
        try:
            owner.send_with_fd(attached_blob("2024-05-01T10:00:05", ATTACHED_SIZE, True,
                                             State.OK) + "</setBLOBVector>\n", fd)
        finally:
            os.close(fd)
        size, data = ATTACHED_SIZE, MEMFD_BYTES[:ATTACHED_SIZE]
    owner.ping("sent")
    got = snooper.until_ping("after")
    assert [(e.tag, dict(e.attrib)) for e in got] == ([("setBLOBVector", {
        "device": DEV, "name": "image", "state": "Ok", "timestamp": "2024-05-01T10:00:05"})]
        if enable else []), snooper.describe()
    if enable:
        vector = got[0]
        ((tag, attrs, text),) = members(vector)
        assert tag == "oneBLOB"
        if kind == INDISERVER:
            expected = {"name": "frame", "size": str(size), "format": ".fits", "attached": "true"}
            if source == "attached":
                expected["len"] = str(size)
            assert (attrs, text) == (expected, "")
            assert len(snooper.fds) == 1, "one memfd with the vector"
            assert os.pread(snooper.fds[0], size, 0) == data
        elif source == "inline":
            assert shape(vector) == sent
        else:
            assert attrs == {"name": "frame", "size": str(size), "format": ".fits",
                             "len": str(size)}
            assert base64.b64decode(text, validate=True) == data
            assert snooper.fds == []


# ---------------------------------------------------------------------------------------------
# TestClientQueries


@pytest.mark.parametrize("kind", SERVERS)
def test_client_requests_reach_the_driver(rig: Rig, kind: str) -> None:
    """ServerForwardRequest: a client's getProperties gives it the driver's five definitions,
    in order, as sent (indiserver asks the driver, ours answers from its cache: see
    get_properties); its ``newNumberVector`` reaches the driver with ``device``, ``name`` and
    ``timestamp`` and the value, whitespace around it aside (indiserver re-serialises the
    element, ours passes the bytes on), also for a property the driver never defined."""
    defs = number_defs(5)
    server, driver = start_with_device(rig, kind, defs)
    client = rig.client(server)
    get_properties(kind, driver, client, defs)
    for name in ("never_defined", "value3"):
        client.send(serialise(NewNumberVector(DEV, name, (Number("x", " 51 "),),
                                              timestamp="2024-05-01T10:01:00")))
        vector = driver.expect("newNumberVector", {
            "device": DEV, "name": name, "timestamp": "2024-05-01T10:01:00"})
        assert members(vector) == [("oneNumber", {"name": "x"}, "51")]
    driver.ping("nothing else")


@pytest.mark.parametrize("kind", SERVERS)
def test_client_that_stopped_reading_is_still_heard(rig: Rig, kind: str) -> None:
    """ServerForwardRequestOfHalfDeadClient, over TCP: a client that shut down its reading side
    (``SHUT_RD``) after asking for the properties, while the server goes on writing to it, still
    has its ``newNumberVector`` passed to the driver. (indilib's test uses a Unix-socket client,
    whose SHUT_RD makes the server's writes fail; indiserver 1.9.9 then closes only its writing
    side. Over TCP the writes succeed, and ours has no Unix-socket clients.)"""
    defs = number_defs(5)
    server, driver = start_with_device(rig, kind, defs)
    client = rig.client(server)
    get_properties(kind, driver, client, defs)
    client.shutdown_read()
    driver.send(serialise(SetNumberVector(DEV, "value0", (Number("x", "60"),), state=State.OK)))
    driver.ping("written to the client")
    client.send(serialise(NewNumberVector(DEV, "value2", (Number("x", "52"),),
                                          timestamp="2024-05-01T10:02:00")))
    vector = driver.expect("newNumberVector", {
        "device": DEV, "name": "value2", "timestamp": "2024-05-01T10:02:00"})
    assert members(vector) == [("oneNumber", {"name": "x"}, "52")]


# ---------------------------------------------------------------------------------------------
# TestIndiSetProp


@pytest.mark.parametrize("which", ["first", "last"])
@pytest.mark.parametrize("typed", [False, True], ids=["untyped", "typed"])
@pytest.mark.parametrize("kind", SERVERS)
def test_indi_setprop_reaches_the_driver(rig: Rig, kind: str, typed: bool, which: str) -> None:
    """TestIndiSetProperties (SetFirstPropertyUntyped/Typed, SetLastProperty/Typed): with 100
    number properties defined, ``indi_setprop [-n] dev.valueN.x=8`` for the first or the last
    one exits 0 and the driver gets ``<newNumberVector device name>`` (no other attribute) with
    ``x`` = 8 and nothing else. An untyped indi_setprop first asks for the properties: indiserver
    passes that getProperties to the driver, which answers with all 100 definitions (indilib
    uses that many so that the server may still have output queued for indi_setprop when it
    has sent its value and goes); ours answers from its cache (see get_properties). A typed one sends its value at once, and the
    driver gets no getProperties from either server."""
    defs = number_defs(100)
    server, driver = start_with_device(rig, kind, defs)
    name = "value0" if which == "first" else "value99"
    spec = [*(["-n"] if typed else []), f"{DEV}.{name}.x=8"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(setprop, server.port, *spec, timeout=5)
        if kind == INDISERVER and not typed:
            driver.expect("getProperties", {"version": "1.7"}, timeout=10)
            driver.send(defs)
        vector = driver.expect("newNumberVector", {"device": DEV, "name": name}, timeout=10)
        result = running.result(timeout=30)
    assert result.returncode == 0, result.describe()
    assert members(vector) == [("oneNumber", {"name": "x"}, "8")]
    driver.ping("nothing else")
