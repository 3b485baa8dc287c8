"""indipy-getprop with BLOBs and with servers that misbehave.

A CCD image from indi_simulator_ccd is saved by indi_getprop and by us as the same file with the
same bytes, through indiserver and through our server; a ``.z`` BLOB is saved decompressed by
both; a name cannot leave the folder; garbage from a server is skipped (indi_getprop exits 2 on
it) and a server closing mid-element is exit 2 with one line, no traceback.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from blobwatch import EnableBlobWatch
from blobwatch import accept_each
from peers import IndiServer
from peers import OurServer
from peers import getprop
from peers import setprop
from toolkit import address
from toolkit import ours
from toolkit import run_tool
from toolkit import side_by_side
from waiting import wait_for

from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import Perm
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import State
from indipycore.protocol import serialise

pytestmark = pytest.mark.interop


@pytest.fixture(params=["ours", "indiserver"])
def ccd_port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    server: OurServer | IndiServer
    if request.param == "ours":
        server = OurServer("indi_simulator_ccd", workdir=tmp_path, verbosity=0).start()
    else:
        server = IndiServer("indi_simulator_ccd", workdir=tmp_path).start()
    try:
        assert getprop(server.port, "CCD Simulator.CONNECTION.CONNECT", timeout=15).returncode == 0
        assert setprop(server.port, "CCD Simulator.CONNECTION.CONNECT=On").returncode == 0
        assert getprop(server.port, "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE",
                       timeout=15).returncode == 0
        yield server.port
    finally:
        server.stop()


def test_a_ccd_image_is_saved_as_the_same_file_as_indi_getprop_saves(
    ccd_port: int, tmp_path: Path
) -> None:
    theirs_dir, ours_dir = tmp_path / "theirs", tmp_path / "mine"
    theirs_dir.mkdir()
    ours_dir.mkdir()
    watch = EnableBlobWatch(ccd_port)

    def expose_soon() -> None:
        # once both tools have seen the BLOB definition and sent enableBLOB (the server reads
        # it long before the 0.1 s exposure, started by a tool launched after it, ends)
        wait_for(lambda: watch.enabled == 2, timeout=30, what="both tools' enableBLOB")
        setprop(ccd_port, "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=0.1")

    exposer = threading.Thread(target=expose_soon)
    exposer.start()
    try:
        theirs, mine = side_by_side("indi_getprop", [*address(watch.port), "-t", "30",
                                                     "CCD Simulator.CCD1.CCD1"],
                                    cwd_theirs=theirs_dir, cwd_ours=ours_dir, together=True)
    finally:
        exposer.join()
        watch.close()
    assert theirs.returncode == mine.returncode == 0, theirs.describe() + "\n" + mine.describe()
    assert mine.stdout == theirs.stdout == ""
    name = "CCD Simulator.CCD1.CCD1.fits"
    assert [p.name for p in ours_dir.iterdir()] == [name]
    image = (ours_dir / name).read_bytes()
    assert image[:6] == b"SIMPLE" and len(image) > 100_000
    assert image == (theirs_dir / name).read_bytes()


class FakeServer:
    """A TCP server that answers each connection with ``script(conn)``: a scripted peer for
    what no well-behaved server sends."""

    def __init__(self, script: Callable[[socket.socket], object]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.thread = accept_each(self.sock, self._serve)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                conn.recv(4096)  # the getProperties
                self.script(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


def until_hung_up(conn: socket.socket) -> None:
    """A scripted server's quiet end: the connection stays open, nothing more is sent, until the
    tool hangs up (its own -t quiet period or its answer found), or the 10 s socket timeout."""
    while conn.recv(4096):
        pass


PAYLOAD = b"line of a log\n" * 500


def _blob_script(device: str) -> Callable[[socket.socket], None]:
    packed = zlib.compress(PAYLOAD)

    def script(conn: socket.socket) -> None:
        conn.sendall(serialise(DefBLOBVector(device, "LOG", State.IDLE, Perm.RO,
                                             (BLOB("DATA"),))))
        conn.recv(4096)  # the enableBLOB
        conn.sendall(serialise(SetBLOBVector(device, "LOG", (
            BLOB("DATA", packed, len(PAYLOAD), ".txt.z", enclen=len(base64.b64encode(packed))),),
            state=State.OK)))
        until_hung_up(conn)

    return script


def test_a_z_blob_is_saved_decompressed_without_the_z_as_indi_getprop_does(
    tmp_path: Path
) -> None:
    server = FakeServer(_blob_script("Logger"))
    theirs_dir, ours_dir = tmp_path / "theirs", tmp_path / "mine"
    theirs_dir.mkdir()
    ours_dir.mkdir()
    try:
        theirs, mine = side_by_side("indi_getprop", [*address(server.port), "-t", "5",
                                                     "Logger.LOG.DATA"],
                                    cwd_theirs=theirs_dir, cwd_ours=ours_dir)
    finally:
        server.close()
    assert theirs.returncode == mine.returncode == 0, theirs.describe() + "\n" + mine.describe()
    assert (theirs_dir / "Logger.LOG.DATA.txt").read_bytes() == PAYLOAD
    assert (ours_dir / "Logger.LOG.DATA.txt").read_bytes() == PAYLOAD


def test_a_blob_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    server = FakeServer(_blob_script("../../escape"))
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    try:
        # a wildcard: the tool waits its whole -t, which must hold the fake server's answer
        # on a loaded machine too (2 s once did not)
        result = run_tool([*ours("indi_getprop"), *address(server.port), "-t", "6",
                           "*.LOG.DATA"], cwd=folder)
    finally:
        server.close()
    assert result.returncode == 0, result.describe()
    assert [p.name for p in folder.iterdir()] == [".._.._escape.LOG.DATA.txt"]
    assert not list(tmp_path.glob("escape*")) and not list(tmp_path.glob("*/escape*"))


def test_garbage_from_the_server_is_skipped_and_the_good_elements_used(tmp_path: Path) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"<defTextVector device='D' name='P' state='Ok' perm='ro'><oops></nope>"
                     b"</defTextVector>\n<defNumberVector device='D'/>\n"
                     b"<defTextVector device='D' name='P' state='Ok' perm='ro'>"
                     b"<defText name='E'>fine</defText></defTextVector>\n")
        until_hung_up(conn)

    server = FakeServer(script)
    try:
        theirs, mine = side_by_side("indi_getprop", [*address(server.port), "-t", "3", "D.P.E"])
    finally:
        server.close()
    assert theirs.returncode == 2  # indi_getprop gives up at the first bad XML
    assert mine.returncode == 0, mine.describe()
    assert mine.stdout == "D.P.E=fine\n"
    assert "Traceback" not in mine.stderr


def test_a_server_closing_mid_element_is_exit_2_in_one_line(tmp_path: Path) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"<defTextVector device='D' name='P' state='Ok' perm='ro'><defText name=")

    server = FakeServer(script)
    try:
        theirs, mine = side_by_side("indi_getprop", [*address(server.port), "-t", "3", "D.P.E"])
    finally:
        server.close()
    assert theirs.returncode == mine.returncode == 2, theirs.describe() + "\n" + mine.describe()
    assert len(mine.stderr.splitlines()) == 1 and "closed the connection" in mine.stderr


def test_a_timeout_before_any_definition_is_exit_1(tmp_path: Path) -> None:
    server = FakeServer(until_hung_up)
    try:
        theirs, mine = side_by_side("indi_getprop", [*address(server.port), "-t", "1", "D.P.E"])
    finally:
        server.close()
    assert theirs.returncode == mine.returncode == 1
    assert mine.stderr == theirs.stderr


def test_setprop_wait_without_an_answer_is_exit_1_after_the_timeout(tmp_path: Path) -> None:
    """-w: a driver that never answers is a failure once -t seconds have passed. The server
    keeps the connection open until the tool has exited, so the tool's exit is its own
    giving up (not the server closing); and it waited at least the -t second."""
    released = threading.Event()
    server = FakeServer(lambda conn: released.wait(60))
    try:
        started = time.monotonic()
        result = run_tool([*ours("indi_setprop"), *address(server.port), "-w", "-t", "1", "-n",
                           "D.P.E=1"])
        elapsed = time.monotonic() - started
    finally:
        released.set()
        server.close()
    assert result.returncode == 1, result.describe()
    assert "D.P: no answer from the driver within 1 s" in result.stderr
    assert elapsed >= 1.0  # a lower bound, the tool's own -t: a busy machine only lengthens it


def test_getprop_reads_a_connection_given_as_a_file_descriptor(tmp_path: Path) -> None:
    """-d fd, as indi_getprop: the socket is already open to the server."""
    def script(conn: socket.socket) -> None:
        conn.sendall(b"<defTextVector device='D' name='P' state='Ok' perm='ro'>"
                     b"<defText name='E'>via fd</defText></defTextVector>\n")
        until_hung_up(conn)

    server = FakeServer(script)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            done = subprocess.run(
                [*ours("indi_getprop"), "-d", str(sock.fileno()), "-t", "3", "D.P.E"],
                pass_fds=[sock.fileno()], capture_output=True, text=True, timeout=20,
                check=False)
    finally:
        server.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "D.P.E=via fd\n"


@pytest.mark.parametrize(("args", "stdin", "status", "stderr"), [
    (["-i", "-f"], "2 * (3 + 4)\n", 0, "14\n"),  # -i: the expression from stdin
    (["-f"], "1 > 2", 1, "0\n"),  # no expression argument: stdin too, as indi_eval
    (["-b"], None, 0, "\a"),  # -b: the bell when true
    (["-e", "-f"], None, 0, "1\n"),  # -e prints each value; -f adds nothing then
])
def test_eval_reads_stdin_and_rings_the_bell_like_indi_eval(
    args: list[str], stdin: str | None, status: int, stderr: str
) -> None:
    server = FakeServer(until_hung_up)
    expression = [] if stdin is not None else ["pi > 3"]
    try:
        theirs = run_tool(["indi_eval", *address(server.port), *args, *expression], stdin=stdin)
        mine = run_tool([*ours("indi_eval"), *address(server.port), *args, *expression],
                        stdin=stdin)
    finally:
        server.close()
    assert (theirs.returncode, theirs.stderr) == (status, stderr), theirs.describe()
    assert (mine.returncode, mine.stderr) == (status, stderr), mine.describe()
