"""Hosting the Alpaca face: ``indipyserver --alpaca PORT`` and a clear error without the extra.

Protects: the command serves its drivers (here indilib's focuser simulator, an executable
driver) as Alpaca devices that alpyca can connect and move; and a server asked for Alpaca
without starlette/uvicorn installed refuses at once, in one line naming the extra, instead
of failing later inside the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from alpaca import management
from alpaca.focuser import Focuser
from peers import HOST
from peers import REPO
from peers import OurServer
from peers import free_port
from peers import port_accepts
from serverkit import running
from serverkit import server
from waiting import until
from waiting import wait_for

from indipyalpaca.face.hosting import AlpacaFace
from indipysimulators.focus import make_driver as make_focuser

# A child without site-packages (``python -S``): the standard library and this checkout only,
# as on a machine where the [alpaca] extra was never installed.
BLOCKER = "import sys\nassert 'starlette' not in sys.modules\n"


def test_the_command_serves_indilib_focuser_as_alpaca(tmp_path: Path) -> None:
    """indilib's indi_simulator_focus behind `indipyserver --alpaca`: listed, connected and
    moved through alpyca, its position read back from the INDI device."""
    port = free_port()
    args = ["--alpaca", str(port), "--alpaca-discovery", "0",
            "--alpaca-devices", str(tmp_path / "ids.json"), "indi_simulator_focus"]
    with OurServer(*args, workdir=tmp_path / "server") as server:
        address = f"127.0.0.1:{port}"
        wait_for(lambda: port_accepts(port), 20, lambda: server.log_text())
        devices = wait_for(lambda: management.configureddevices(address), 20, "the focuser")
        assert [(d["DeviceName"], d["DeviceType"]) for d in devices] == [
            ("Focuser Simulator", "Focuser")]
        focuser = Focuser(address, 0)
        focuser.Connected = True
        assert focuser.Connected
        assert focuser.Absolute is True
        start = focuser.Position
        target = start + 1000 if start + 1000 <= focuser.MaxStep else start - 1000
        focuser.Move(target)
        wait_for(lambda: not focuser.IsMoving and focuser.Position == target, 30,
                 lambda: f"position {focuser.Position}")
        focuser.Connected = False


def test_without_the_extra_the_server_says_what_to_install(tmp_home: Path) -> None:
    """serve_alpaca(...) raises at once; the command exits 1 with one line, no traceback."""
    code = BLOCKER + (
        "from indipyserver import IPyServer\n"
        "try:\n"
        "    IPyServer(port=0).serve_alpaca(0)\n"
        "except ValueError as exc:\n"
        "    print('refused:', exc)\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=REPO, env={"PYTHONPATH": str(REPO)}, check=False)
    assert "refused:" in out.stdout and 'pip install ".[alpaca]"' in out.stdout, out.stderr
    code = BLOCKER + ("import sys\nfrom indipyserver.cli import main\n"
                      f"sys.exit(main(['-p', '{free_port()}', '--alpaca', '{free_port()}', "
                      "'--demo']))\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=REPO, env={"PYTHONPATH": str(REPO),
                                                    "HOME": str(tmp_home)}, check=False)
    assert out.returncode == 1, out.stderr
    assert 'pip install ".[alpaca]"' in out.stderr and "Traceback" not in out.stderr


def test_without_v_the_command_says_where_alpaca_listens(tmp_path: Path) -> None:
    """``--alpaca`` at the default log level (no ``-v``) says where the face listens and on
    which UDP port discovery answers, as it says the INDI port (issue 70 item 4); with
    ``--alpaca-discovery 0`` it says there is none."""
    alpaca, discovery = free_port(), free_port()
    with OurServer("--alpaca", str(alpaca), "--alpaca-discovery", str(discovery), "--demo",
                   workdir=tmp_path, verbosity=0) as server:
        wait_for(lambda: port_accepts(alpaca), 20, "the Alpaca port")
        assert server.wait_for_log(f"serving Alpaca on 127.0.0.1:{alpaca}, discovery "
                                   f"answering on UDP {discovery}"), server.log_tail()
        assert f"serving INDI on localhost:{server.port}" in server.log_text()
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    with OurServer("--alpaca", str(free_port()), "--alpaca-discovery", "0", "--demo", workdir=quiet,
                   verbosity=0) as server:
        assert server.wait_for_log("no discovery (--alpaca-discovery 0)"), server.log_tail()


async def test_the_faces_blob_folder_is_removed_on_every_way_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The face's folder for camera images is gone after it stops, after it is cancelled
    while its INDI client cannot connect, and after a second cancel during its close (runs
    left 566 empty ``indipyalpaca-*`` folders in /tmp: the removal was the last line of a
    ``finally`` that a cancel or a failed start skipped)."""
    folders = tmp_path / "tmp"
    folders.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folders))
    left = lambda: sorted(p.name for p in folders.glob("indipyalpaca-*"))

    # Stopped: a real server, the face serving it, then stop().
    async with running(server(make_focuser())) as indi:
        face = AlpacaFace(HOST, indi.port, port=0, discovery_port=0, registry=False)
        task = asyncio.create_task(face.run())
        await until(lambda: bool(left()), timeout=10, what="the face's folder made")
        face.stop()
        await asyncio.wait_for(task, 20)
    assert left() == []

    # Cancelled before its client connects (nothing listens there).
    face = AlpacaFace(HOST, free_port(), port=0, discovery_port=0, registry=False)
    task = asyncio.create_task(face.run())
    await until(lambda: bool(left()), timeout=10, what="the face's folder made")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert left() == []

    # Cancelled while serving, and again while it closes.
    async with running(server(make_focuser())) as indi:
        face = AlpacaFace(HOST, indi.port, port=0, discovery_port=0, registry=False)
        task = asyncio.create_task(face.run())
        await until(lambda: bool(left()), timeout=10, what="the face's folder made")
        await until(lambda: port_accepts(face.port), timeout=10, what="the face serving")
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert left() == []
