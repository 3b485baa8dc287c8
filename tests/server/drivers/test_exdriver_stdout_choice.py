"""Under ``--shared-blobs auto`` a script chooses its stdout: the socket it is given, or a pipe.

Protects (``indipyserver.drivers.fdchannel``, issue 79 item 7): a script that writes its BLOBs
inline keeps the socket (on a pipe the server spent 1.5 to 2 times the CPU), and an
``IPyDriver`` run as an executable asks for a pipe on the side channel, writes its XML there
and passes its BLOBs' memfds beside it. Both deliver a BLOB of several MB whole and byte-exact
to a client that reads 64 KiB at a time, in one server under the default. The side channel's
reading of that request is tested without a driver too.
"""

from __future__ import annotations

import array
import base64
import os
import random
import re
import socket
import sys
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from peers import hello
from serverkit import ASK_FOR_PIPE
from serverkit import RawClient
from serverkit import blob_cam_script
from serverkit import blob_set_around
from serverkit import open_memfds
from serverkit import running
from serverkit import script_constants
from serverkit import stdio_driver

from indipycore.protocol import NewTextVector
from indipycore.protocol import Text
from indipycore.protocol import serialise
from indipycore.protocol.framing import Frame
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.sharedblobs import pass_fd
from indipycore.sharedblobs import pass_pipe
from indipyserver import IPyServer
from indipyserver.drivers.executable import ExDriverConnection
from indipyserver.drivers.fdchannel import FdChannel

REPO = Path(__file__).resolve().parents[3]
SIZE = 5_000_003  # several MB, not a multiple of 3, 4 or any read size
SEED = 79


# A script writing the same BLOB as base64 itself, in pieces of odd sizes, and then whether
# its stdout is a socket.
HEAD, TAIL = blob_set_around("Raw", "IMAGE", "I", SIZE)
INLINE_DRIVER = stdio_driver(
    setup=script_constants(HEAD=HEAD, TAIL=TAIL, SEED=SEED, SIZE=SIZE) + textwrap.dedent("""
    import random, stat
    DEFS = (b"<defBLOBVector device='Raw' name='IMAGE' perm='ro' state='Idle'>"
            b"<defBLOB name='I'/></defBLOBVector>"
            b"<defTextVector device='Raw' name='GO' perm='rw' state='Idle'>"
            b"<defText name='GO'/></defTextVector>")
    def send_blob():
        data = HEAD + base64.b64encode(random.Random(SEED).randbytes(SIZE)) + TAIL
        view = memoryview(data)
        while view:
            view = view[os.write(1, view[:65537]):]
        os.write(1, b"<message device='Raw' message='socket=%s'/>"
                 % str(stat.S_ISSOCK(os.fstat(1).st_mode)).encode())
    """),
    on_get_properties="os.write(1, DEFS)",
    on_new="send_blob()")


def executable(path: Path, text: str) -> Path:
    path.write_text(f"#!{sys.executable}\n" + text)
    path.chmod(0o755)
    return path


def go(device: str) -> bytes:
    """The client's set of GO that makes `device` send its BLOB (the serialiser's XML)."""
    return serialise(NewTextVector(device, "GO", (Text("GO", "x"),)))


def blob_bytes(data: bytes) -> tuple[bytes, bytes]:
    """The oneBLOB's attributes and its decoded body, from a whole setBLOBVector."""
    tag = re.search(rb"<oneBLOB([^>]*)>", data)
    assert tag is not None, data[:300]
    body = data[tag.end():data.index(b"</oneBLOB>")]
    return tag.group(1), base64.b64decode(body, validate=True)


async def test_auto_gives_a_script_the_socket_and_an_ipydriver_the_pipe_it_asks_for(
    tmp_path: Path,
) -> None:
    """One server, the default: the inline script's stdout stays a socket and its BLOB
    arrives byte-exact; the IPyDriver's is the pipe it asked for (its own fstat and the
    server's record), its link attaches, and its BLOB, passed as a memfd (only an attached
    member carries ``len``), arrives byte-exact; no memfd stays open in the server."""
    expected = random.Random(SEED).randbytes(SIZE)
    ipy = ExDriverConnection(str(executable(
        tmp_path / "cam.py", blob_cam_script(REPO, "random.Random(SEED).randbytes(SIZE)", shared=True,
                                        SEED=SEED, SIZE=SIZE))))
    raw = ExDriverConnection(str(executable(tmp_path / "raw.py", INLINE_DRIVER)))
    async with running(IPyServer(ipy, raw, port=0, handle_signals=False)) as srv:
        client = await RawClient.connect(srv.port)
        await client.send(hello() + b"<enableBLOB device='Cam'>Also</enableBLOB>"
                          b"<enableBLOB device='Raw'>Also</enableBLOB>")
        await client.wait_for("defTextVector", device="Raw", name="GO")
        await client.wait_for("defTextVector", device="Cam", name="REPORT")
        assert (raw.stdout_kind, ipy.stdout_kind) == ("socket", "pipe+fdchannel")

        await client.send(go("Raw"))
        said = await client.wait_for("message", 60, device="Raw")
        assert b"socket=True" in said.data
        (inline,) = [f for f in client.frames if f.tag == "setBLOBVector"]
        assert blob_bytes(inline.data)[1] == expected

        await client.send(go("Cam"))
        report = await client.wait_for("setTextVector", 60, device="Cam", name="REPORT")
        assert b"fifo=True attaches=True" in report.data
        (attached,) = [f for f in client.frames
                       if f.tag == "setBLOBVector" and f.attrs.get("device") == "Cam"]
        attrs, data = blob_bytes(attached.data)
        assert b'len="%d"' % SIZE in attrs and b"attached" not in attrs
        assert data == expected
        assert open_memfds("self", "indipydriver-blob") == []


async def test_an_ipydriver_sending_its_blobs_inline_keeps_the_socket(tmp_path: Path) -> None:
    """``shared_blobs = False``: the IPyDriver asks for no pipe, writes its BLOB as base64 on
    the socket (the cheaper for the server), and it arrives byte-exact, without ``len``."""
    ipy = ExDriverConnection(str(executable(
        tmp_path / "cam.py", blob_cam_script(REPO, "random.Random(SEED).randbytes(SIZE)", shared=False,
                                        SEED=SEED, SIZE=SIZE))))
    async with running(IPyServer(ipy, port=0, handle_signals=False)) as srv:
        client = await RawClient.connect(srv.port)
        await client.send(hello(blobs_from="Cam"))
        await client.wait_for("defTextVector", device="Cam", name="REPORT")
        assert ipy.stdout_kind == "socket"
        await client.send(go("Cam"))
        report = await client.wait_for("setTextVector", 60, device="Cam", name="REPORT")
        assert b"fifo=False attaches=False" in report.data
        (inline,) = [f for f in client.frames if f.tag == "setBLOBVector"]
        attrs, data = blob_bytes(inline.data)
        assert b"len=" not in attrs
        assert data == random.Random(SEED).randbytes(SIZE)


async def test_a_driver_on_the_pipe_it_asked_for_that_dies_is_restarted_and_asks_again(
    tmp_path: Path,
) -> None:
    """A driver that asked for a pipe and dies after its definitions is restarted as any
    driver, and the new process, on a pipe again, defines its device."""
    mark = tmp_path / "died"
    script = executable(tmp_path / "dies.py", stdio_driver(
        setup=ASK_FOR_PIPE + script_constants(MARK=str(mark)),
        on_get_properties="""
        os.write(1, b"<defTextVector device='Once' name='PID' perm='ro' state='Idle'>"
                 b"<defText name='P'>%d</defText></defTextVector>" % os.getpid())
        if not os.path.exists(MARK):
            with open(MARK + ".new", "w") as f:
                f.write(str(os.getpid()))
            os.rename(MARK + ".new", MARK)  # whole when seen
            os._exit(3)
        """))
    conn = ExDriverConnection(str(script), backoff=ExponentialBackoff(0.01, 0.05))

    def defined_again(frames: list[Frame]) -> bool:
        return mark.exists() and any(
            f.tag == "defTextVector" and b">%s<" % mark.read_bytes() not in f.data
            for f in frames)

    async with running(IPyServer(conn, port=0, handle_signals=False)) as srv:
        client = await RawClient.connect(srv.port)
        await client.send(hello())
        await client.read_until(defined_again)
        assert conn.stdout_kind == "pipe+fdchannel"


def memfd(payload: bytes) -> int:
    fd = os.memfd_create("test-blob")
    os.write(fd, payload)
    return fd


def test_the_side_channel_gives_the_pipe_a_driver_asks_for() -> None:
    """The request (`pass_pipe`) gives the read end of the driver's pipe: what is written on
    the pipe is read from it."""
    channel = FdChannel()
    with socket.socket(fileno=channel.child_fd) as child:
        channel.child_fd = -1
        read_end, write_end = os.pipe()
        pass_pipe(child, read_end)
        os.close(read_end)
        got = channel.take_stdout_pipe()
        assert got is not None
        os.write(write_end, b"<xml/>")
        assert os.read(got, 100) == b"<xml/>"
        os.close(got)
        os.close(write_end)
    channel.close_all()


def test_a_blob_descriptor_first_on_the_side_channel_is_kept_for_its_member() -> None:
    """A BLOB's message (`pass_fd`) where the request could be asks for no pipe, and its
    descriptor is the next one an attached member takes; nothing there asks for nothing."""
    channel = FdChannel()
    assert channel.take_stdout_pipe() is None
    with socket.socket(fileno=channel.child_fd) as child:
        channel.child_fd = -1
        fd = memfd(b"image")
        pass_fd(child, fd)
        os.close(fd)
        assert channel.take_stdout_pipe() is None
        held = channel.pop()
        assert held is not None
        assert os.pread(held, 10, 0) == b"image"
        os.close(held)
    channel.close_all()


def test_a_request_for_a_pipe_without_a_pipe_is_refused_and_its_descriptors_closed() -> None:
    """A request passing a memfd, not a pipe, gives no pipe and keeps nothing open."""
    channel = FdChannel()
    with socket.socket(fileno=channel.child_fd) as child:
        channel.child_fd = -1
        fd = memfd(b"not a pipe")
        child.sendmsg([b"p"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                array.array("i", [fd]).tobytes())])
        os.close(fd)
        before = set(os.listdir("/proc/self/fd"))
        assert channel.take_stdout_pipe() is None
        assert channel.pop() is None
        assert len(set(os.listdir("/proc/self/fd")) - before) == 0
    channel.close_all()


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([b"p", b"\0", b"x"]),
       st.lists(st.sampled_from(["pipe", "memfd"]), max_size=3))
def test_only_a_request_with_one_pipe_gives_a_pipe_and_nothing_leaks(
    byte: bytes, kinds: list[str],
) -> None:
    """Any first message: a pipe only for `STDOUT_PIPE` with exactly one pipe; the
    descriptors of any other are held for members (a BLOB's) or closed (a bad request), and
    once the channel is closed no descriptor of the message is left open."""
    before = open_fds()
    channel = FdChannel()
    with socket.socket(fileno=channel.child_fd) as child:
        channel.child_fd = -1
        sent: list[int] = []
        for kind in kinds:
            if kind == "pipe":
                read_end, write_end = os.pipe()
                os.close(write_end)
                sent.append(read_end)
            else:
                sent.append(memfd(b"x"))
        child.sendmsg([byte], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                array.array("i", sent).tobytes())] if sent else [])
        for fd in sent:
            os.close(fd)
        got = channel.take_stdout_pipe()
        assert (got is not None) == (byte == b"p" and kinds == ["pipe"])
        if got is not None:
            os.close(got)
        held = 0
        while (fd := channel.pop()) is not None:
            os.close(fd)
            held += 1
        assert held == (len(kinds) if byte != b"p" else 0)
    channel.close_all()
    assert open_fds() == before
