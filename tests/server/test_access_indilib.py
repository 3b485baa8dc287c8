"""Access rules and the audit trail on our server's command, with indilib's tools and
simulators as the peers (issue 60, items 2-4).

indilib's ``indi_getprop`` and ``indi_setprop`` connect over TCP: they are ``anonymous``. The
operator is a raw client on the Unix socket (``-u``), identified as ``unix:<user>`` by the
kernel; indilib's tools cannot use a Unix socket. The devices are indilib's telescope and
weather simulators.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from peers import HOST
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import getprop_holding
from peers import setprop
from peers import switch_on
from waiting import wait_for

from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import GetProperties
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise

MOUNT = "Telescope Simulator"
WEATHER = "Weather Simulator"
ME = "unix:" + pwd.getpwuid(os.getuid()).pw_name

PUBLIC = f"""# the public may see the weather; the operator (on the Unix socket) everything
anonymous  read  "{WEATHER}"
{ME}  write *
"""
OBSERVER = f"""# anonymous observers may look at everything and set nothing
anonymous  read  *
{ME}  write *
"""


class Peer:
    """A raw INDI client on a socket (TCP or the server's Unix socket), reading whole
    elements."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(0.2)
        self.framer = Framer()
        self.frames: list[Frame] = []

    @classmethod
    def unix(cls, path: str) -> Peer:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect("\0" + path)  # abstract, as indiserver's -u
        except OSError:
            sock.close()
            raise
        return cls(sock)

    @classmethod
    def tcp(cls, port: int) -> Peer:
        return cls(socket.create_connection((HOST, port), timeout=5))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self) -> None:
        try:
            data = self.sock.recv(1 << 16)
        except TimeoutError:
            return
        for item in self.framer.feed(data):
            if isinstance(item, Frame):
                self.frames.append(item)

    def wait(self, match: Callable[[Frame], bool], timeout: float = 20.0) -> Frame:
        def found() -> Frame | None:
            self._read()
            return next((f for f in self.frames if match(f)), None)

        return wait_for(found, timeout, what=lambda: f"an element; got {[f.tag for f in self.frames][-20:]}")

    def close(self) -> None:
        self.sock.close()


def _connected(frame: Frame) -> bool:
    if not (frame.tag == "setSwitchVector" and frame.attrs.get("device") == MOUNT
            and frame.attrs.get("name") == "CONNECTION"):
        return False
    event = parse_element(bytes(frame.data))
    return any(m.name == "CONNECT" and m.value is SwitchState.ON
               for m in getattr(event, "members", ()))


def _serve(our_server: Callable[..., OurServer], tmp_path: Path, rules: str,
           *more: str) -> tuple[OurServer, Path, Path]:
    acl = tmp_path / "site.acl"
    acl.write_text(rules)
    audit = tmp_path / "audit.jsonl"
    server = our_server("indi_simulator_telescope", "indi_simulator_weather",
                        "--acl", str(acl), "--audit", str(audit), *more)
    return server, acl, audit


def _operator_connects_the_mount(server: OurServer) -> None:
    """The operator, on the Unix socket, connects the mount and sees it connected."""
    operator = Peer.unix(server.socket_path)
    try:
        operator.send(serialise(GetProperties("1.7", MOUNT)))
        operator.wait(lambda f: f.tag == "defSwitchVector" and f.attrs.get("name") == "CONNECTION")
        operator.send(switch_on(MOUNT, "CONNECTION", "CONNECT"))
        operator.wait(_connected)
    finally:
        operator.close()


def _audit_lines(audit: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in audit.read_text().splitlines()]


def test_public_sees_only_the_weather_and_the_operator_sets_the_mount(
        our_server: Callable[..., OurServer], tmp_path: Path) -> None:
    """indi_getprop (anonymous, TCP) gets the weather simulator's properties and none of the
    mount's; the operator on the Unix socket connects the mount, and the audit trail has the
    operator's command, allowed, with its identity and the socket."""
    server, _acl, audit = _serve(our_server, tmp_path, PUBLIC)
    seen = getprop_holding(server.port, "*.*.*", f"{WEATHER}.CONNECTION.CONNECT", timeout=3,
                           within=30)
    assert not any(key.startswith(MOUNT) for key in seen), sorted(seen)[:10]
    _operator_connects_the_mount(server)
    # An absence is awaited: a short bound of its own, not the named members' long default.
    again = getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=2)
    assert again == {}, "the public still sees nothing of the mount"
    (entry,) = wait_for(lambda: audit.exists() and _audit_lines(audit), 10)
    assert entry["identity"] == ME and entry["allowed"] is True
    assert entry["peer"] == "@" + server.socket_path
    assert (entry["device"], entry["vector"]) == (MOUNT, "CONNECTION")
    assert entry["values"] == {"CONNECT": "On"}
    assert str(entry["time"]).endswith("Z")


def test_an_observer_is_refused_and_sighup_reloads(
        our_server: Callable[..., OurServer], tmp_path: Path) -> None:
    """SIGHUP with a good file: the anonymous public becomes an observer who sees the mount
    (indi_getprop); its indi_setprop never reaches the driver (the mount stays connected), is
    logged and audited as refused, and a raw TCP client doing the same is told "permission
    denied" with the device and vector. SIGHUP with a malformed file: the server logs the
    file, the line and why, keeps running and keeps the rules in force."""
    server, acl, audit = _serve(our_server, tmp_path, PUBLIC)
    _operator_connects_the_mount(server)
    # An absence is awaited: a short bound of its own, not the named members' long default.
    assert getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=2) == {}

    acl.write_text(OBSERVER)
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGHUP)
    assert server.wait_for_log("access rules reloaded", 10), server.log_tail()
    seen = getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=5)
    assert seen == {f"{MOUNT}.CONNECTION.CONNECT": "On"}, seen.result.describe()

    done = setprop(server.port, f"{MOUNT}.CONNECTION.DISCONNECT=On", timeout=5)
    assert done.returncode == 0, done.describe()  # sent: indi_setprop does not wait for more
    assert server.wait_for_log(f"permission denied: anonymous may not set {MOUNT}.CONNECTION",
                               10), server.log_tail()
    observer = Peer.tcp(server.port)
    try:
        observer.send(switch_on(MOUNT, "CONNECTION", "DISCONNECT"))
        told = observer.wait(lambda f: f.tag == "message")
        assert told.attrs["message"] == f"permission denied: anonymous may not set {MOUNT}.CONNECTION"
    finally:
        observer.close()
    assert getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=5) == {
        f"{MOUNT}.CONNECTION.CONNECT": "On"}

    acl.write_text(OBSERVER + "anonymous  maybe  *\n")
    os.kill(server.process.pid, signal.SIGHUP)
    assert server.wait_for_log(f"the old ones stay in force: {acl}, line 4: expected 'read' or "
                               "'write' after the identity, not 'maybe'", 10), server.log_tail()
    assert server.running
    assert getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=5) == {
        f"{MOUNT}.CONNECTION.CONNECT": "On"}

    entries = wait_for(lambda: len(lines := _audit_lines(audit)) >= 3 and lines, 10)
    assert [(e["identity"], e["values"], e["allowed"]) for e in entries] == [
        (ME, {"CONNECT": "On"}, True),
        ("anonymous", {"DISCONNECT": "On"}, False),
        ("anonymous", {"DISCONNECT": "On"}, False)]
    assert str(entries[1]["peer"]).startswith("127.0.0.1:")


def test_a_malformed_acl_stops_the_server_at_start(tmp_path: Path) -> None:
    """The command exits with status 1 and one line naming the file, the line and the reason,
    before it listens."""
    acl = tmp_path / "bad.acl"
    acl.write_text("# fine so far\nanonymous read *\nobserver read\n")
    done = subprocess.run(
        [sys.executable, "-m", "indipyserver", "--demo", "-p", str(free_port()),
         "--acl", str(acl)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 1, done.stderr
    assert f"{acl}, line 3: expected DEVICE[.VECTOR] after 'read'" in done.stderr
    assert "serving INDI" not in done.stderr
