"""A script run as an executable driver: stdout on a pipe, its BLOBs' memfds on the side channel.

Protects (``indipyserver.drivers.fdchannel``): a Python ``IPyDriver`` run by our server as an
executable (a script, not an ELF program) asks for stdout on a pipe on the side channel
(``INDIPY_BLOB_FD``) and still sends its BLOB as a memfd, passed there before its element, and
a client gets exactly its bytes; a driver on such a pipe that writes an attached member without
passing a descriptor gets an error logged, the element dropped and nothing else lost. (A script
that does not ask keeps its socket: test_exdriver_stdout_choice.py; indilib's ELF simulator
has no side channel: tests/interop/test_shared_blobs.py.)
"""

from __future__ import annotations

import base64
import logging
import re
import sys
from pathlib import Path

import pytest
from peers import hello
from serverkit import ASK_FOR_PIPE
from serverkit import RawClient
from serverkit import attached_member
from serverkit import blob_cam_script
from serverkit import blob_set_around
from serverkit import number_set
from serverkit import open_memfds
from serverkit import running
from serverkit import script_constants
from serverkit import stdio_driver

from indipyserver import IPyServer
from indipyserver.drivers.executable import ExDriverConnection

REPO = Path(__file__).resolve().parents[3]
PAYLOAD = bytes(range(256)) * 1200 + b"end"  # more than one encoding step of the server


GO = ("<newTextVector device='Cam' name='GO'><oneText name='GO'>x</oneText>"
      "</newTextVector>")


def executable(path: Path, text: str) -> Path:
    path.write_text(f"#!{sys.executable}\n" + text)
    path.chmod(0o755)
    return path


async def defined(conn: ExDriverConnection, port: int, device: str, tag: str,
                  name: str) -> RawClient:
    """A client taking `device`'s BLOBs, once it has the definition `tag` `name`; the
    driver's stdout was a pipe beside the side channel."""
    client = await RawClient.connect(port)
    await client.send(hello(blobs_from=device))
    await client.wait_for(tag, name=name)
    assert conn.stdout_kind == "pipe+fdchannel"
    return client


async def test_a_python_driver_on_a_pipe_sends_its_blob_as_a_memfd_on_the_side_channel(
    tmp_path: Path,
) -> None:
    """The IPyDriver script's stdout is a pipe (the server's record and the driver's own
    fstat), its link attaches, and the TCP client gets the BLOB with ``len`` (only an
    attached member carries it: inline ones never do) decoding to exactly its bytes; no
    memfd stays open in the server."""
    script = executable(tmp_path / "cam.py", blob_cam_script(REPO, "PAYLOAD", PAYLOAD=PAYLOAD))
    conn = ExDriverConnection(str(script))
    async with running(IPyServer(conn, port=0, handle_signals=False)) as srv:
        client = await defined(conn, srv.port, "Cam", "defTextVector", "REPORT")
        await client.send(GO)
        report = await client.wait_for("setTextVector", name="REPORT")
        assert b"fifo=True attaches=True" in report.data
        (blob,) = [f for f in client.frames if f.tag == "setBLOBVector"]
        tag = re.search(rb"<oneBLOB([^>]*)>", blob.data)
        assert tag is not None and b'len="%d"' % len(PAYLOAD) in tag.group(1), blob.data[:300]
        assert b"attached" not in tag.group(1)
        body = blob.data[tag.end():blob.data.index(b"</oneBLOB>")]
        assert base64.b64decode(body, validate=True) == PAYLOAD
        assert open_memfds("self", "indipydriver-blob") == []


async def test_an_attached_member_without_its_descriptor_is_dropped_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """A broken script on the side channel (it asks for a pipe as an IPyDriver does) writes
    an attached member but passes no descriptor: the element is dropped with an error naming
    the missing shared buffer, and what it sends before and after still reaches the client."""
    before, after = blob_set_around("Bad", "IMAGE", "I", 100)
    bad = before[: before.rindex(b"<oneBLOB")] + attached_member("I", 100).encode() + after[
        after.index(b"</oneBLOB>") + len(b"</oneBLOB>"):]
    script = executable(tmp_path / "bad.py", stdio_driver(
        setup=script_constants(BAD=bad, FIRST=number_set("Bad", "N", {"V": 1}),
                               THEN=number_set("Bad", "N", {"V": 2}),
                               DEFS=b"<defBLOBVector device='Bad' name='IMAGE' perm='ro' "
                                    b"state='Idle'><defBLOB name='I'/></defBLOBVector>"
                                    b"<defNumberVector device='Bad' name='N' perm='ro' "
                                    b"state='Idle'><defNumber name='V' format='%g' min='0' "
                                    b"max='9' step='1'>0</defNumber></defNumberVector>")
              + ASK_FOR_PIPE,
        on_get_properties="os.write(1, DEFS)",
        on_new="os.write(1, FIRST + BAD + THEN)"))
    conn = ExDriverConnection(str(script))
    caplog.set_level(logging.ERROR, "indipyserver")
    async with running(IPyServer(conn, port=0, handle_signals=False)) as srv:
        client = await defined(conn, srv.port, "Bad", "defNumberVector", "N")
        await client.send("<newNumberVector device='Bad' name='N'><oneNumber name='V'>1"
                          "</oneNumber></newNumberVector>")
        await client.read_until(lambda frames: any(
            f.tag == "setNumberVector" and b">2" in f.data for f in frames))
        assert [f.tag for f in client.frames if f.tag.startswith("set")] == [
            "setNumberVector", "setNumberVector"]
        assert "missing shared buffer" in caplog.text, caplog.text
        await client.round_trip()  # still served
