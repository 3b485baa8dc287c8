"""The Alpaca face under the server's access rules (``--acl``; issue 70, item 7).

Protects: the face's requests reach the rules as the identity ``alpaca`` (through its own
Unix socket, ``indipyserver.clients.faceport``), so an operator grants Alpaca clients what INDI
clients may not set; a PUT the rules refuse answers at once (within alpyca's 5 s request
timeout, not the face's 30 s wait for a device) with InvalidOperation carrying the server's
words, which name the device and the vector, whether the face runs in the server's loop or in
a process of its own, and from the command line, whose audit trail records ``alpaca``; and no
other process can use the face's socket to borrow its identity.
The devices are indilib's telescope simulator; the INDI client is indilib's ``indi_setprop``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from alpaca.exceptions import InvalidOperationException
from alpaca.telescope import Telescope
from facekit import number_of
from facekit import serving
from peers import OurServer
from peers import free_port
from peers import port_accepts
from peers import setprop
from waiting import wait_for

from indipyserver import IPyServer

MOUNT = "Telescope Simulator"

#: INDI clients (anonymous, over TCP) and the face may look; nobody may set anything.
READ_ONLY = """anonymous read *
alpaca read *
"""
#: The face may connect the mount and set nothing else; INDI clients still only look.
ALPACA_CONNECTS = f"""anonymous read *
alpaca read *
alpaca write {MOUNT}.CONNECTION
"""


def _server(tmp_path: Path, rules: str, *, process: bool) -> IPyServer:
    acl = tmp_path / "site.acl"
    acl.write_text(rules)
    server = IPyServer(port=free_port(), handle_signals=False, acl=str(acl))
    server.serve_alpaca(free_port(), discovery=0, registry=str(tmp_path / "ids.json"),
                        process=process)
    server.add_exdriver("indi_simulator_telescope")
    return server


def _telescope(server: IPyServer) -> Telescope:
    address = f"127.0.0.1:{server.alpaca_port}"
    return Telescope(address, number_of(address, MOUNT, "Telescope"))


@pytest.mark.parametrize("process", [False, True], ids=["in-loop", "own-process"])
def test_a_refused_put_answers_at_once_naming_device_and_vector(tmp_path: Path,
                                                                process: bool) -> None:
    """``alpaca read *`` only: PUT Connected is InvalidOperation with the server's refusal
    (not 0x4FF after 30 s), and the mount stays disconnected; Connect (Platform 7) returns,
    and Connecting then reads that refusal."""
    with serving(lambda: _server(tmp_path, READ_ONLY, process=process)) as server:
        scope = _telescope(server)
        with pytest.raises(InvalidOperationException) as refused:
            scope.Connected = True
        assert str(refused.value.message) == (
            f"permission denied: alpaca may not set {MOUNT}.CONNECTION")
        assert scope.Connected is False
        scope.Connect()  # Platform 7's: returns as the request goes out ...
        wait_for(lambda: _refusal_of_connecting(scope), 10, "Connecting never said no")
        assert scope.Connected is False


def _refusal_of_connecting(scope: Telescope) -> bool:
    """... and Connecting then reads the refusal (False while it has not arrived)."""
    try:
        _ = scope.Connecting
    except InvalidOperationException as refused:
        return bool(refused.message == f"permission denied: alpaca may not set {MOUNT}.CONNECTION")
    return False


@pytest.mark.parametrize("process", [False, True], ids=["in-loop", "own-process"])
def test_alpaca_may_set_what_its_rule_grants_and_no_more(tmp_path: Path, process: bool,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    """``alpaca write MOUNT.CONNECTION``: Alpaca connects the mount while indilib's
    ``indi_setprop`` (anonymous) is refused the same vector; a property write the rule does
    not grant (SiteElevation, GEOGRAPHIC_COORD: the face waits to read it back) is refused at
    once, naming that vector."""
    caplog.set_level(logging.WARNING, logger="indipyserver.access")
    with serving(lambda: _server(tmp_path, ALPACA_CONNECTS, process=process)) as server:
        scope = _telescope(server)
        scope.Connected = True
        assert scope.Connected is True
        result = setprop(server.port, f"{MOUNT}.CONNECTION.DISCONNECT=On")
        assert result.returncode == 0, result.stderr
        wait_for(lambda: "permission denied: anonymous may not set "
                         f"{MOUNT}.CONNECTION" in caplog.text, 10,
                 lambda: f"no refusal of indi_setprop logged: {caplog.text}")
        assert scope.Connected is True
        with pytest.raises(InvalidOperationException) as refused:
            scope.SiteElevation = scope.SiteElevation + 17.0
        assert str(refused.value.message) == (
            f"permission denied: alpaca may not set {MOUNT}.GEOGRAPHIC_COORD")


STRANGER = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
sock.connect("\\0" + sys.argv[1])
try:
    sock.sendall(b'<getProperties version="1.7"/>')
    got = sock.recv(65536)
except (BrokenPipeError, ConnectionResetError):
    got = b""
print("closed" if not got else repr(got))
"""


@pytest.mark.parametrize("process", [False, True], ids=["in-loop", "own-process"])
def test_a_stranger_on_the_face_socket_is_refused(tmp_path: Path, process: bool,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Another process that connects to the face's socket (its abstract name is visible to
    every local user) is closed before it reads a byte, and logged; the face still works."""
    caplog.set_level(logging.WARNING, logger="indipyserver.clients")
    with serving(lambda: _server(tmp_path, READ_ONLY, process=process)) as server:
        scope = _telescope(server)  # the face is in: it lists the mount
        door = server.face_door
        assert door is not None
        stranger = subprocess.run([sys.executable, "-c", STRANGER, door.path],
                                  check=False, capture_output=True, text=True, timeout=30)
        assert stranger.stdout.strip() == "closed", stranger
        wait_for(lambda: door.refused == 1, 10, lambda: f"refused {door.refused}")
        assert "refused a connection to the Alpaca face's socket" in caplog.text
        assert door.accepted == 1
        assert scope.Connected is False  # the face answers still


def test_the_command_with_acl_and_alpaca_process(tmp_path: Path) -> None:
    """``indipyserver --acl FILE --audit FILE --alpaca-process``: Alpaca connects the mount
    its rule lets it, and the audit trail records that command under ``alpaca``; a PUT of a
    vector the rule does not grant is refused with the server's words."""
    acl, audit, port = tmp_path / "site.acl", tmp_path / "audit.jsonl", free_port()
    acl.write_text(ALPACA_CONNECTS)
    args = ["--acl", str(acl), "--audit", str(audit), "--alpaca", str(port),
            "--alpaca-discovery", "0", "--alpaca-process", "--alpaca-devices",
            str(tmp_path / "ids.json"), "indi_simulator_telescope"]
    with OurServer(*args, workdir=tmp_path / "server") as server:
        wait_for(lambda: port_accepts(port), 20, lambda: server.log_text())
        address = f"127.0.0.1:{port}"
        scope = Telescope(address, number_of(address, MOUNT, "Telescope"))
        scope.Connected = True
        with pytest.raises(InvalidOperationException) as refused:
            scope.SiteElevation = scope.SiteElevation + 17.0
        assert str(refused.value.message) == (
            f"permission denied: alpaca may not set {MOUNT}.GEOGRAPHIC_COORD")
        wait_for(lambda: len(_audited(audit)) >= 2, 10, lambda: audit.read_text())
        lines = _audited(audit)
        assert [(line["identity"], line["vector"], line["allowed"]) for line in lines[:2]] == [
            ("alpaca", "CONNECTION", True), ("alpaca", "GEOGRAPHIC_COORD", False)]


def _audited(path: Path) -> list[dict[str, object]]:
    """The audit trail's lines so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
