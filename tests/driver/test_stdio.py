"""asyncrun speaks INDI on stdin/stdout: over two pipes, and over ONE socketpair used as both
(as indiserver launches drivers), with a multi-MB BLOB (on the socketpair a memory file passed
beside its element, or inline base64 with ``shared_blobs = False``), and exits when stdin
closes. The driver is a child process importing this checkout."""

from __future__ import annotations

import array
import asyncio
import os
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indipycore.protocol.events import DefBLOBVector
from indipycore.protocol.events import PingReply
from indipycore.protocol.events import PingRequest
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise
from indipycore.sharedblobs import inline_attached

SCRIPT = Path(__file__).with_name("stdio_driver.py")
REPO = Path(__file__).resolve().parents[2]
#: The child imports this checkout, not whatever indipydriver is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
BLOB_SIZE = 3 * 1024 * 1024
REQUEST = (b'<getProperties version="1.7"/>'
           b'<newSwitchVector device="Cam" name="GO"><oneSwitch name="NOW">On</oneSwitch>'
           b'</newSwitchVector>')


def _exchange(read, write, fds: deque[int] | None = None) -> list:  # type: ignore[no-untyped-def]
    """Send the request, answer pings, return events until the GO acknowledgement; a BLOB
    attached as a memory file is read from the descriptors `read` put in `fds`."""
    write(REQUEST)
    framer = Framer()
    events = []
    while True:
        chunk = read(1 << 16)
        assert chunk, "driver closed its output early"
        for frame in framer.feed(chunk):
            assert isinstance(frame, Frame), frame
            data = frame.data
            if fds is not None and b'attached="true"' in data:
                data = inline_attached(data, fds)
            event = parse_element(data)
            events.append(event)
            if isinstance(event, PingRequest):
                write(serialise(PingReply(event.uid)))
            if isinstance(event, SetSwitchVector):
                return events


def _check(events: list) -> None:  # type: ignore[no-untyped-def]
    assert any(isinstance(e, DefBLOBVector) for e in events)
    blob = next(e for e in events if isinstance(e, SetBLOBVector))
    assert blob["IMAGE"].size == BLOB_SIZE
    assert blob["IMAGE"].data == bytes(range(256)) * (BLOB_SIZE // 256)


def _recvmsg(sock: socket.socket, fds: deque[int],
             received: list[int] | None = None) -> Callable[[int], bytes]:
    """`sock`'s reads with the descriptors that come with them put in `fds` (and noted in
    `received`)."""
    def read(size: int) -> bytes:
        data, ancdata, _, _ = sock.recvmsg(size, socket.CMSG_SPACE(4 * 16))
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array("i")
                got.frombytes(payload[: len(payload) - len(payload) % got.itemsize])
                fds.extend(got)
                if received is not None:
                    received.extend(got)
        return data
    return read


def test_asyncrun_over_two_pipes_and_exit_on_stdin_eof() -> None:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(BLOB_SIZE)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENV)
    assert proc.stdin is not None and proc.stdout is not None

    def write(data: bytes) -> None:
        proc.stdin.write(data)  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    try:
        _check(_exchange(proc.stdout.read1, write))
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@contextmanager
def _driver_on_socketpair(*args: str) -> Iterator[tuple[socket.socket, subprocess.Popen[bytes],
                                                        deque[int]]]:
    """The driver with one end of a socketpair as both stdin and stdout, as indiserver runs
    it: our end, the process, and the descriptors received; all closed or killed after."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(BLOB_SIZE), *args],
                            stdin=theirs.fileno(), stdout=theirs.fileno(), env=ENV)
    theirs.close()
    fds: deque[int] = deque()
    try:
        ours.settimeout(20)
        yield ours, proc, fds
    finally:
        for fd in fds:
            os.close(fd)
        ours.close()
        proc.kill()
        proc.wait()


def test_asyncrun_over_one_socketpair_as_stdin_and_stdout_with_a_multi_mb_blob() -> None:
    """As indiserver runs it: the 3 MB BLOB comes as one memory file beside its element."""
    received: list[int] = []
    with _driver_on_socketpair() as (ours, proc, fds):
        _check(_exchange(_recvmsg(ours, fds, received), ours.sendall, fds))
        assert len(received) == 1 and not fds  # one descriptor came, and the BLOB took it
        ours.shutdown(socket.SHUT_WR)  # stdin EOF, as when indiserver closes the driver
        assert proc.wait(timeout=10) == 0


def test_asyncrun_over_one_socketpair_with_shared_blobs_off_sends_inline_base64() -> None:
    with _driver_on_socketpair("inline") as (ours, proc, fds):
        _check(_exchange(_recvmsg(ours, fds), ours.sendall))  # inline: parsed as it came
        assert not fds
        ours.shutdown(socket.SHUT_WR)
        assert proc.wait(timeout=10) == 0


async def test_asyncrun_answers_getproperties_when_stdin_is_a_file(tmp_path: Path) -> None:
    infile = tmp_path / "in.xml"
    infile.write_bytes(b'<getProperties version="1.7"/>')
    outfile = tmp_path / "out.xml"
    # Real files (not pipes) are the point of the test; opening a tmp file does not block.
    with open(infile, "rb") as stdin, open(outfile, "wb") as stdout:  # noqa: ASYNC230
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), "256", stdin=stdin, stdout=stdout, env=ENV)
        # 30 s only bounds a failure: a loaded CI machine once took over 10 s to start Python
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert b"<defBLOBVector" in outfile.read_bytes()


def test_asyncrun_with_stdin_on_dev_null_says_what_to_do_and_ends() -> None:
    """Issue 58, 4d: a stdio driver started as a background job or under ``nohup`` (stdin
    /dev/null, which epoll refuses) once printed asyncio's PermissionError traceback and then
    neither served nor exited. It now ends at once with one error saying why and what to do."""
    done = subprocess.run([sys.executable, str(SCRIPT), "256"], stdin=subprocess.DEVNULL,
                          capture_output=True, env=ENV, timeout=30, check=False)
    said = done.stderr.decode(errors="replace")
    assert done.returncode == 0, said
    assert "Traceback" not in said and "PermissionError" not in said, said
    assert "standard input is /dev/null" in said and "IPyServer(driver).run()" in said, said
    assert done.stdout == b""


async def test_a_link_on_dev_null_reads_eof_and_writes_away() -> None:
    """StdioLink on /dev/null (what asyncrun refuses, but a program may build its own link
    on): reads EOF and takes writes, through a thread, instead of failing inside the event
    loop and hanging the reader."""
    from indipydriver.links import StdioLink

    with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:  # noqa: ASYNC230
        link = StdioLink(null_in.fileno(), null_out.fileno())
        assert await asyncio.wait_for(link.read(), 5) == b""
        await asyncio.wait_for(link.write(b"<delProperty/>"), 5)
        await link.close()
