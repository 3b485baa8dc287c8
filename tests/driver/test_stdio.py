"""asyncrun speaks INDI on stdin/stdout: over two pipes, and over ONE socketpair used as both
(as indiserver launches drivers), with a multi-MB BLOB, and exits when stdin closes."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from indipydriver.protocol.events import DefBLOBVector
from indipydriver.protocol.events import PingReply
from indipydriver.protocol.events import PingRequest
from indipydriver.protocol.events import SetBLOBVector
from indipydriver.protocol.events import SetSwitchVector
from indipydriver.protocol.framing import Frame
from indipydriver.protocol.framing import Framer
from indipydriver.protocol.parser import parse_element
from indipydriver.protocol.serialiser import serialise

SCRIPT = Path(__file__).with_name("stdio_driver.py")
BLOB_SIZE = 3 * 1024 * 1024
REQUEST = (b'<getProperties version="1.7"/>'
           b'<newSwitchVector device="Cam" name="GO"><oneSwitch name="NOW">On</oneSwitch>'
           b'</newSwitchVector>')


def _exchange(read, write) -> list:  # type: ignore[no-untyped-def]
    """Send the request, answer pings, return events until the GO acknowledgement."""
    write(REQUEST)
    framer = Framer()
    events = []
    while True:
        chunk = read(1 << 16)
        assert chunk, "driver closed its output early"
        for frame in framer.feed(chunk):
            assert isinstance(frame, Frame), frame
            event = parse_element(frame.data)
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


def test_asyncrun_over_two_pipes_and_exit_on_stdin_eof() -> None:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(BLOB_SIZE)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
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


def test_asyncrun_over_one_socketpair_as_stdin_and_stdout_with_a_multi_mb_blob() -> None:
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(BLOB_SIZE)],
                            stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    try:
        ours.settimeout(20)
        _check(_exchange(ours.recv, ours.sendall))
        ours.shutdown(socket.SHUT_WR)  # stdin EOF, as when indiserver closes the driver
        assert proc.wait(timeout=10) == 0
    finally:
        ours.close()
        proc.kill()
        proc.wait()


async def test_asyncrun_answers_getproperties_when_stdin_is_a_file(tmp_path: Path) -> None:
    infile = tmp_path / "in.xml"
    infile.write_bytes(b'<getProperties version="1.7"/>')
    outfile = tmp_path / "out.xml"
    # Real files (not pipes) are the point of the test; opening a tmp file does not block.
    with open(infile, "rb") as stdin, open(outfile, "wb") as stdout:  # noqa: ASYNC230
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), "256", stdin=stdin, stdout=stdout)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert b"<defBLOBVector" in outfile.read_bytes()
