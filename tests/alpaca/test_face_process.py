"""The Alpaca face in a process of its own (``alpaca_process=True``, ``--alpaca-process``).

Protects: the face served by a child process works as the one in the server's loop does
(alpyca lists, connects and moves a focuser, discovery answers with the port); a child that
dies is started again on the same port, the device keeping its number and UniqueID; the child
never outlives the server, whether the server stops or is killed; and the server itself
imports nothing of Starlette or uvicorn for it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from alpaca import management
from alpaca.focuser import Focuser
from facekit import alpaca_server
from facekit import free_udp_port
from facekit import serving
from peers import REPO
from peers import OurServer
from peers import free_port
from peers import port_accepts
from test_face_focuser_wheel import address_of
from test_face_focuser_wheel import number_of
from waiting import wait_for

from indipysimulators.focus import make_driver

NAME = "Python Focuser"


def _face_pid(server: object) -> int:
    process = server.alpaca_face.process  # type: ignore[attr-defined]
    assert process is not None
    return int(process.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return state != "Z"


def test_a_face_in_its_own_process_serves_alpyca_and_answers_discovery(tmp_path: Path) -> None:
    """Listed, connected and moved through alpyca; discovery (on its own UDP port) answers
    with the HTTP port; the requests are served by another process than the server's."""
    udp = free_udp_port()
    with serving(alpaca_server(make_driver(speed=5000), registry=tmp_path / "ids.json",
                               discovery=udp, process=True)) as server:
        address = address_of(server)
        number = number_of(address, NAME, "Focuser")
        pid = _face_pid(server)
        assert pid != os.getpid() and _alive(pid)
        focuser = Focuser(address, number)
        focuser.Connected = True
        target = focuser.Position + 500
        focuser.Move(target)
        wait_for(lambda: not focuser.IsMoving and focuser.Position == target, 30,
                 lambda: f"position {focuser.Position}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(5)
            probe.sendto(b"alpacadiscovery1", ("127.0.0.1", udp))
            reply, _ = probe.recvfrom(1024)
        assert json.loads(reply) == {"AlpacaPort": server.alpaca_port}
    assert not _alive(pid), "the face's process outlived the server"


def test_a_face_that_dies_is_restarted_on_the_same_port(tmp_path: Path) -> None:
    """SIGKILL the child: a new one serves the same port within seconds, the focuser under
    the same number and UniqueID."""
    with serving(alpaca_server(make_driver(speed=5000), registry=tmp_path / "ids.json",
                               process=True)) as server:
        address = address_of(server)
        number = number_of(address, NAME, "Focuser")
        before = management.configureddevices(address)
        first = _face_pid(server)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: _face_pid(server) != first, 20, "a new face process")
        assert number_of(address, NAME, "Focuser") == number
        assert management.configureddevices(address) == before
        focuser = Focuser(address, number)
        focuser.Connected = True
        assert focuser.MaxStep > 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def test_the_face_stops_when_the_command_is_killed(tmp_path: Path) -> None:
    """`indipyserver --alpaca-process` killed with SIGKILL (no chance to stop its child):
    the child sees its stdin end and exits by itself."""
    port = free_port()
    args = ["--alpaca", str(port), "--alpaca-discovery", "0", "--alpaca-process",
            "--alpaca-devices", str(tmp_path / "ids.json"), "--demo"]
    with OurServer(*args, workdir=tmp_path / "server") as server:
        wait_for(lambda: port_accepts(port), 20, lambda: server.log_text())
        children = wait_for(lambda: _children(server.process.pid), 10, "the face's process")
        assert children
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        for child in children:
            wait_for(lambda child=child: not _alive(child), 10,  # type: ignore[misc]
                     f"process {child} still running after its server was killed")


def test_the_server_imports_no_web_stack_for_a_face_in_its_own_process(tmp_path: Path) -> None:
    """The server binds the face's sockets and starts its process with the standard library:
    Starlette and uvicorn are loaded in the child only."""
    indi, alpaca = free_port(), free_port()
    code = (
        "import asyncio, sys, urllib.request\n"
        "from indipyserver import IPyServer\n"
        "async def main():\n"
        f"    server = IPyServer(port={indi}, alpaca={alpaca}, alpaca_discovery=0,\n"
        f"                       alpaca_registry={str(tmp_path / 'ids.json')!r},\n"
        "                       alpaca_process=True, handle_signals=False)\n"
        "    task = asyncio.create_task(server.asyncrun())\n"
        "    await server.started()\n"
        "    for _ in range(200):\n"
        "        try:\n"
        f"            body = await asyncio.to_thread(lambda: urllib.request.urlopen("
        f"'http://127.0.0.1:{alpaca}/management/apiversions', timeout=2).read())\n"
        "            break\n"
        "        except OSError:\n"
        "            await asyncio.sleep(0.1)\n"
        "    print(body.decode(), str([m for m in ('starlette', 'uvicorn') if m in sys.modules]).replace(' ', ''))\n"
        "    server.shutdown()\n"
        "    await task\n"
        "asyncio.run(main())\n")
    said = subprocess.check_output([sys.executable, "-c", code], text=True, timeout=60,
                                   cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    served, imported = said.rsplit(" ", 1)
    assert json.loads(served)["Value"] == [1] and imported.strip() == "[]", said
