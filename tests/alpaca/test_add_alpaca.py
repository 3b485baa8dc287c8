"""`IPyServer.add_alpaca`, the Python form of ``alpaca://``: in-process, beside `add_remote`;
and the clear error without the extra."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alpaca import management
from alpacapeers import AlpacaSimulators
from facekit import serving
from peers import REPO
from peers import free_port
from peers import getprop_holding
from waiting import wait_for

import indipyclient
from indipyserver import IPyServer
from indipysimulators.focus import make_driver

FOCUSER = "Simulator Focuser"
WHEEL = "Simulator Filter Wheel"


async def test_add_alpaca_serves_named_devices(alpaca_sim: AlpacaSimulators) -> None:
    """``add_alpaca(url, devices=[...])`` on a running-to-be IPyServer: the named Alpaca
    devices become INDI devices of that server, and a focuser move through our client lands
    on the Alpaca focuser."""
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_alpaca(f"alpaca://127.0.0.1:{alpaca_sim.port}",
                      devices=["focuser/0", "filterwheel/0"])
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(server.asyncrun())
        try:
            await asyncio.wait_for(server.started(), 10)
            async with indipyclient.connect("127.0.0.1", server.port) as client:
                await client.wait_for(FOCUSER, "CONNECTION", timeout=15)
                await client.wait_for(WHEEL, "CONNECTION", timeout=15)
                assert (await client.set(FOCUSER, "CONNECTION", {"CONNECT": "On"},
                                         timeout=15)).ok
                await client.wait_for(FOCUSER, "ABS_FOCUS_POSITION", timeout=15)
                result = await client.set(FOCUSER, "ABS_FOCUS_POSITION",
                                          {"FOCUS_ABSOLUTE_POSITION": 27000}, timeout=15)
                assert result.ok, result
            assert alpaca_sim.get("focuser/0/position") == 27000
        finally:
            server.shutdown()
        await task


def test_bad_address_and_missing_extra_are_clear_errors(tmp_path: Path) -> None:
    """A malformed address is a ValueError at once; without httpx (the extra) add_alpaca
    raises ImportError saying what to install, and the server's other drivers are unharmed."""
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    with pytest.raises(ValueError, match="give the host and the port"):
        server.add_alpaca("alpaca://nohost")
    with pytest.raises(ValueError, match="not both"):
        server.add_alpaca("alpaca://h:1/camera/0", devices=["focuser/0"])
    code = ("import sys; sys.modules['httpx'] = None\n"
            "from indipyserver import IPyServer\n"
            "try:\n"
            "    IPyServer(port=0).add_alpaca('alpaca://127.0.0.1:1/focuser/0')\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert 'pip install ".[alpaca]"' in done.stdout, done.stdout


def test_an_alpaca_server_listing_no_device_yet_is_asked_again(tmp_path: Path) -> None:
    """A server whose management API lists no device yet (our face, over an INDI server whose
    devices come from a remote server not started yet) is asked again, as an unanswering one
    is: once its devices exist, ``add_alpaca`` serves them (it used to give up for good on
    the first empty list, so an ``alpaca://`` started a moment early served nothing)."""

    remote_port, alpaca_port = free_port(), free_port()

    def server_a() -> IPyServer:
        server = IPyServer(port=free_port(), handle_signals=False)
        server.serve_alpaca(alpaca_port, discovery=0, registry=str(tmp_path / "ids.json"))
        server.add_remote("127.0.0.1", remote_port)
        return server

    def server_b() -> IPyServer:
        server = IPyServer(port=free_port(), handle_signals=False)
        server.add_alpaca(f"alpaca://127.0.0.1:{alpaca_port}")
        return server

    address = f"127.0.0.1:{alpaca_port}"
    with serving(server_a), serving(server_b) as b:
        assert management.configureddevices(address) == []
        with serving(lambda: IPyServer(make_driver(), port=remote_port, handle_signals=False)):
            wait_for(lambda: len(management.configureddevices(address)) == 2, 30,
                     "A's face listing the focuser and the wheel")
            getprop_holding(b.port, "Python Focuser.CONNECTION.*", cwd=tmp_path,
                            within=60)  # B serving A's focuser
