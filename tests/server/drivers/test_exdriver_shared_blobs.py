"""Shared BLOBs end to end: a fake C driver passes memfds on its stdout socket, clients get
one line of base64 (the real indi_simulator_ccd is in tests/interop/test_shared_blobs.py)."""

from __future__ import annotations

import base64
import sys
import textwrap
from pathlib import Path

import pytest
from serverkit import SCRIPT_WAIT_FOR
from serverkit import RawClient
from serverkit import open_memfds as memfds
from serverkit import running
from waiting import until

from indipyserver import IPyServer
from indipyserver.drivers.executable import ExDriverConnection

# Behaves as indilib's driverio in unix mode: each element (and its fds) in one sendmsg, and
# every BLOB followed by a pingRequest whose reply is awaited before the next BLOB.
FAKE_C_DRIVER = textwrap.dedent(
    """
    import os, socket, stat, sys
    out = socket.socket(fileno=1) if stat.S_ISSOCK(os.fstat(1).st_mode) else None
    def send(data):
        if out is None:
            os.write(1, data)
        else:
            out.sendall(data)
    # wait_for
    def blob(n, payload):
        fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
        os.write(fd, payload)
        os.ftruncate(fd, 1 << 20)
        xml = ("<?xml version='1.0'?>\\n<setBLOBVector\\n  device='Fake'\\n  name='CCD1'\\n"
               "  state='Ok'\\n>\\n  <oneBLOB\\n    name='CCD1'\\n    size='%d'\\n"
               "    format='.fits'\\n    len='%d'\\n    attached='true'>\\n  </oneBLOB>\\n"
               "</setBLOBVector>\\n<pingRequest uid='SetBLOB/%d' />\\n" % (len(payload), len(payload), n))
        out.sendmsg([xml.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(
            __import__("array").array("i", [fd]))))])
        os.close(fd)
        wait_for(b"SetBLOB/%d" % n)
    kinds = "%s %s" % (stat.S_ISFIFO(os.fstat(0).st_mode), stat.S_ISSOCK(os.fstat(1).st_mode))
    wait_for(b"getProperties")
    send(("<defBLOBVector device='Fake' name='CCD1' state='Idle' perm='ro'>"
                 "<defBLOB name='CCD1'/></defBLOBVector>\\n"
                 "<defTextVector device='Fake' name='GO' state='Idle' perm='rw'>"
                 "<defText name='GO'>%s</defText></defTextVector>\\n" % kinds).encode())
    wait_for(b"newTextVector")
    blob(1, bytes(range(256)) * 40 + b"first")
    blob(2, b"SIMPLE  = T" * 3000)
    send(b"<message device='Fake' message='done'/>\\n")
    wait_for(b"never")
    """
).replace("# wait_for\n", SCRIPT_WAIT_FOR)


async def test_attached_blobs_reach_client_inline(tmp_path: Path) -> None:
    script = tmp_path / "fake_c_driver.py"
    script.write_text(FAKE_C_DRIVER)
    conn = ExDriverConnection(sys.executable, str(script))  # the interpreter is ELF: a socket
    server = IPyServer(conn, port=0, handle_signals=False)
    async with running(server) as srv:
        client = await RawClient.connect(srv.port)
        await client.send("<getProperties version='1.7'/><enableBLOB device='Fake'>Also</enableBLOB>")
        go = await client.wait_for("defTextVector", name="GO")
        assert b">True True<" in go.data  # stdin a pipe, stdout a socket
        assert conn.stdout_kind == "socket"
        await client.send("<newTextVector device='Fake' name='GO'><oneText name='GO'>x</oneText>"
                          "</newTextVector>")
        await client.wait_for("message", message="done")
        sets = [f for f in client.frames if f.tag == "setBLOBVector"]
        expected = [bytes(range(256)) * 40 + b"first", b"SIMPLE  = T" * 3000]
        assert len(sets) == 2
        for frame, payload in zip(sets, expected, strict=True):
            _, _, rest = frame.data.partition(b"<oneBLOB")
            attrs, _, rest = rest.partition(b">")
            body = rest.split(b"</oneBLOB>")[0]
            assert b"\n" not in body  # one line
            assert b"enclen" not in attrs and b"attached" not in attrs
            assert f"len='{len(payload)}'".encode() in attrs
            assert base64.b64decode(body, validate=True) == payload
        assert not any(f.tag.startswith("ping") for f in client.frames)
        assert memfds() == []  # each memfd closed once inlined
    assert memfds() == []


@pytest.mark.parametrize(("shared", "kinds", "stdout"), [
    (None, b">True True<", "socket"), (True, b">True True<", "socket"),
    (False, b">True False<", "pipe")])
async def test_a_script_keeps_the_socket_unless_it_asks_for_a_pipe_or_is_told_otherwise(
    tmp_path: Path, shared: bool | None, kinds: bytes, stdout: str
) -> None:
    """A script (not an ELF program: no indilib driver) that does not ask for a pipe on the
    side channel (as an IPyDriver does: test_exdriver_stdout_choice.py) keeps the socket
    indiserver gives every driver by default, as with ``shared_blobs=True`` (``--shared-blobs
    on``); ``shared_blobs=False`` (``off``) gives it a pipe alone. stdin is a pipe either
    way."""
    script = tmp_path / "fake_c_driver.py"
    script.write_text(f"#!{sys.executable}\n" + FAKE_C_DRIVER)
    script.chmod(0o755)
    conn = ExDriverConnection(str(script), shared_blobs=shared)
    server = IPyServer(conn, port=0, handle_signals=False)
    async with running(server) as srv:
        client = await RawClient.connect(srv.port)
        await client.send("<getProperties version='1.7'/>")
        go = await client.wait_for("defTextVector", name="GO")
        assert kinds in go.data  # stdin a pipe; stdout a socket, or a pipe
        assert conn.stdout_kind == stdout


STRAY_FD_DRIVER = textwrap.dedent(
    """
    import array, os, socket
    fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
    socket.socket(fileno=1).sendmsg([b"<message message='stray'/>\\n"], [(socket.SOL_SOCKET,
        socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())])
    """
)


async def test_unclaimed_fds_closed_when_driver_exits(tmp_path: Path) -> None:
    script = tmp_path / "stray.py"
    script.write_text(STRAY_FD_DRIVER)
    conn = ExDriverConnection(sys.executable, str(script), shared_blobs=True, max_restarts=0)
    server = IPyServer(conn, port=0, handle_signals=False)
    async with running(server):
        await until(lambda: conn.exited_for_good, what="the driver to exit for good")
        assert memfds() == []


# A C driver on its socket that sends a BLOB inline (one it did not allocate as shared memory):
# base64 in 72-column lines with enclen, in libindi's 64 KiB sendmsg pieces; half of it, then
# (told to go on) the rest, an attached one, and the first again.
INLINE_C_DRIVER = textwrap.dedent(
    """
    import array, base64, os, socket, sys
    out = socket.socket(fileno=1)
    # wait_for
    raw = bytes(range(256)) * 6000
    b64 = base64.b64encode(raw)
    lines = b"\\n".join(b64[i : i + 72] for i in range(0, len(b64), 72))
    inline = (b"<setBLOBVector device='Fake' name='CCD1' state='Ok'>\\n  <oneBLOB name='CCD1'"
              b" size='%d' format='.fits' enclen='%d'>\\n" % (len(raw), len(b64))
              + lines + b"\\n  </oneBLOB>\\n</setBLOBVector>\\n")
    def send(data):
        for i in range(0, len(data), 65536):
            out.sendall(data[i : i + 65536])
    wait_for(b"getProperties")
    send(b"<defBLOBVector device='Fake' name='CCD1' state='Idle' perm='ro'>"
         b"<defBLOB name='CCD1'/></defBLOBVector>\\n"
         b"<defTextVector device='Fake' name='GO' state='Idle' perm='rw'>"
         b"<defText name='GO'>x</defText></defTextVector>\\n")
    wait_for(b"START")
    half = len(inline) // 2
    send(inline[:half])
    wait_for(b"HALF")
    send(inline[half:])
    fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
    os.write(fd, b"attached data")
    out.sendmsg([b"<setBLOBVector device='Fake' name='CCD1' state='Ok'><oneBLOB name='CCD1'"
                 b" size='13' format='.fits' len='13' attached='true'/></setBLOBVector>\\n"],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())])
    os.close(fd)
    send(inline + b"<message device='Fake' message='done'/>\\n")
    wait_for(b"never")
    """
).replace("# wait_for\n", SCRIPT_WAIT_FOR)


async def test_an_inline_blob_from_a_c_driver_streams_through_its_socket(tmp_path: Path) -> None:
    """What a C driver sends inline on its socket is passed on as it arrives (cut-through, as
    from a pipe): half of a BLOB reaches the client while the driver waits to send the rest.
    Its attached BLOB next is inlined in turn, and every image arrives whole and in order."""
    import asyncio

    from indipycore.protocol import NewTextVector
    from indipycore.protocol import Text
    from indipycore.protocol import serialise
    from indipycore.protocol.framing import Framer

    script = tmp_path / "inline_c_driver.py"
    script.write_text(INLINE_C_DRIVER)
    server = IPyServer(ExDriverConnection(sys.executable, str(script), shared_blobs=True),
                       port=0, handle_signals=False)
    async with running(server) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        received = bytearray()

        async def read_until(token: bytes, at_least: int = 0) -> None:
            async with asyncio.timeout(15):
                while token not in received or len(received) < at_least:
                    data = await reader.read(1 << 16)
                    assert data, "the server closed the connection"
                    received.extend(data)

        def say(text: str) -> bytes:
            return serialise(NewTextVector("Fake", "GO", (Text("GO", text),)))

        writer.write(b"<getProperties version='1.7'/><enableBLOB device='Fake'>Also</enableBLOB>")
        await read_until(b"defTextVector")
        writer.write(say("START"))
        await read_until(b"<setBLOBVector", 1_000_000)  # half of it, and the driver waits
        assert received.count(b"</setBLOBVector>") == 0
        writer.write(say("HALF"))
        await read_until(b"message='done'")
        writer.close()
    sets = [f for f in Framer().feed(bytes(received)) if f.tag == "setBLOBVector"]
    values = []
    for frame in sets:
        body = bytes(frame.data).split(b">", 2)[2].split(b"</oneBLOB>")[0]
        values.append(base64.b64decode(body))
    raw = bytes(range(256)) * 6000
    assert values == [raw, b"attached data", raw]
    assert memfds() == []
