"""Chains of servers, ours (`python -m indipyserver`) and indilib's `indiserver`, mixed.

Protects: devices are visible through every hop in both directions (indilib above ours and
ours above indilib); a new value set at the top reaches the bottom driver and its reply comes
back; a remote that stops gives delProperty and its devices return when it is back; duplicate
device names and a loop of two servers are refused without killing either server or making
traffic circulate.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

from peers import IndiServer
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import getprop_holding
from peers import indi_eval
from peers import setprop
from peers import tcp_socket_fds
from waiting import wait_for

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer

DOME = "Dome Simulator"
THERMOSTAT = "Thermostat"


def wait_getprop(port: int, spec: str, timeout: float = 15.0) -> dict[str, str]:
    """indi_getprop until `spec` (no wildcard) is found, for servers that are still connecting."""
    got = getprop(port, spec)

    def found() -> bool:
        nonlocal got
        got = getprop(port, spec)
        return got.returncode == 0

    if got.returncode != 0:
        wait_for(found, timeout, lambda: got.result.describe(), interval=0.2)
    return got


def connections_to(pid: int, port: int) -> set[str]:
    """The descriptors of process `pid` that are established TCP connections to `port` on this
    machine (from /proc/PID/net/tcp*)."""
    return tcp_socket_fds(pid, lambda _, remote, state: remote == port and state == "01")


class Watcher:
    """A raw INDI client that records (tag, device) of everything the server sends."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        self.sock.sendall(b'<getProperties version="1.7"/>')
        self.framer = Framer()
        self.seen: list[tuple[str, str | None]] = []

    def pump(self) -> None:
        """One read into ``seen``, or nothing after the socket's 0.2 s timeout."""
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            raise AssertionError("server closed the connection")
        self.seen += [(f.tag, f.device) for f in self.framer.feed(chunk) if isinstance(f, Frame)]

    def wait_for(self, tag: str, device: str | None, after: int = 0,
                 timeout: float = 15.0) -> int:
        """The index in ``seen`` of the first (tag, device) from ``after`` on, reading until
        it comes."""

        def found() -> tuple[int] | None:
            with contextlib.suppress(ValueError):
                return (self.seen.index((tag, device), after),)
            self.pump()
            return None

        (index,) = wait_for(found, timeout, lambda: f"{tag} for {device}; saw {self.seen[-10:]}",
                            interval=0)
        return index

    def close(self) -> None:
        self.sock.close()


def test_chain_both_ways_values_travel_down_and_replies_come_up(
    our_server: Callable[..., OurServer], indiserver_factory: Callable[..., IndiServer]
) -> None:
    """indiserver -> ours -> ours -> indiserver(dome): all devices at the top, set/reply works."""
    bottom = indiserver_factory("indi_simulator_dome")
    middle = our_server("--demo", f"@127.0.0.1:{bottom.port}")
    top = our_server(f"@127.0.0.1:{middle.port}")
    above = indiserver_factory(f"@127.0.0.1:{top.port}")

    for port in (top.port, above.port):
        wait_getprop(port, f"{DOME}.CONNECTION.CONNECT")
        wait_getprop(port, f"{THERMOSTAT}.TARGET.TARGET")

    # Set at our top server: reaches the C dome driver three hops down; its reply comes back.
    result = setprop(top.port, f"{DOME}.CONNECTION.CONNECT=On")
    assert result.returncode == 0, result.describe()
    ok = indi_eval(top.port, f'"{DOME}.CONNECTION.CONNECT"==1', timeout=10)
    assert ok.returncode == 0, ok.describe()

    # Set at indilib's server above ours: reaches the Python driver in the middle server.
    result = setprop(above.port, f"{THERMOSTAT}.TARGET.TARGET=31.5")
    assert result.returncode == 0, result.describe()
    ok = indi_eval(above.port, f'"{THERMOSTAT}.TARGET.TARGET"==31.5', timeout=10)
    assert ok.returncode == 0, ok.describe()
    ok = indi_eval(middle.port, f'"{THERMOSTAT}.TARGET.TARGET"==31.5', timeout=5)
    assert ok.returncode == 0, ok.describe()
    assert bottom.running and above.running


def test_remote_server_stop_gives_delproperty_and_restart_brings_devices_back(
    our_server: Callable[..., OurServer], indiserver_factory: Callable[..., IndiServer]
) -> None:
    """A lost remote never stops our server: delProperty now, devices again on reconnect."""
    remote = indiserver_factory("indi_simulator_dome", port=free_port())  # same port on restart
    ours = our_server(f"@127.0.0.1:{remote.port}")
    wait_getprop(ours.port, f"{DOME}.CONNECTION.CONNECT")
    watcher = Watcher(ours.port)
    try:
        watcher.wait_for("defSwitchVector", DOME)
        remote.stop()
        deleted = watcher.wait_for("delProperty", DOME)
        assert ours.running
        remote.start()  # same port again
        watcher.wait_for("defSwitchVector", DOME, after=deleted, timeout=20)
    finally:
        watcher.close()
    wait_getprop(ours.port, f"{DOME}.CONNECTION.CONNECT")


def test_duplicate_device_names_are_refused_and_the_server_lives(
    our_server: Callable[..., OurServer],
) -> None:
    """Two dome simulators: the second 'Dome Simulator' is refused, the first keeps working."""
    ours = our_server("indi_simulator_dome", "indi_simulator_dome")
    wait_getprop(ours.port, f"{DOME}.CONNECTION.CONNECT")
    # A wildcard, to see every property of the dome: each exactly once (counted in the text,
    # as the answer's dict would fold a repeat): one dome, not two interleaved.
    names = getprop_holding(ours.port, f"{DOME}.*.*", f"{DOME}.CONNECTION.CONNECT")
    assert names.stdout.count(f"{DOME}.CONNECTION.CONNECT=") == 1, names.stdout
    assert "refused" in ours.log_text() and "duplicate" in ours.log_text()
    result = setprop(ours.port, f"{DOME}.CONNECTION.CONNECT=On")
    assert result.returncode == 0
    ok = indi_eval(ours.port, f'"{DOME}.CONNECTION.CONNECT"==1', timeout=10)
    assert ok.returncode == 0, ok.describe()
    assert ours.running


def test_a_loop_of_two_servers_is_refused_and_traffic_does_not_circulate(
    our_server: Callable[..., OurServer],
) -> None:
    """A remote of B and B remote of A: each device stays with its owner, each server refuses
    its own device coming back round the loop and says so, and both go on answering. (How much
    traffic follows a set, and that it stops, is counted in a window by
    ``bench/server_loop.py``: a storm has no event that marks its absence; the refusals
    checked here are what prevents one.)"""
    port_a, port_b = free_port(), free_port()
    a = our_server("--demo", f"@127.0.0.1:{port_b}", port=port_a, wait=False)
    b = our_server("indi_simulator_dome", f"@127.0.0.1:{port_a}", port=port_b, wait=False)
    wait_getprop(port_a, f"{DOME}.CONNECTION.CONNECT")
    wait_getprop(port_b, f"{THERMOSTAT}.TARGET.TARGET")
    # Each server refused its own device coming back round the loop, and said so.
    wait_for(lambda: f"Device {THERMOSTAT!r}" in a.log_text() and "refused" in a.log_text(),
             15, lambda: f"A to refuse its own thermostat from B:\n{a.log_text()[-2000:]}")
    wait_for(lambda: f"Device {DOME!r}" in b.log_text() and "refused" in b.log_text(),
             15, lambda: f"B to refuse its own dome from A:\n{b.log_text()[-2000:]}")
    # A set at A reaches the dome at B; the reply comes back to both.
    result = setprop(port_a, f"{DOME}.CONNECTION.CONNECT=On")
    assert result.returncode == 0, result.describe()
    for port in (port_b, port_a):
        ok = indi_eval(port, f'"{DOME}.CONNECTION.CONNECT"==1', timeout=10)
        assert ok.returncode == 0, ok.describe()
    # Each device once at each server: one dome and one thermostat, not copies come round.
    for port in (port_a, port_b):
        for spec in (f"{DOME}.CONNECTION.CONNECT", f"{THERMOSTAT}.TARGET.TARGET"):
            got = getprop(port, spec)
            assert got.stdout.count(f"{spec}=") == 1, got.result.describe()
    # The requests that used to bounce between the two (a chained server's device="*",
    # device-less enableBLOB, a request for a device nobody has) are answered: the cache
    # replay comes, and a ping sent after them is answered after it.
    watcher = Watcher(port_a)
    try:
        watcher.wait_for("defNumberVector", THERMOSTAT)
        mark = len(watcher.seen)
        watcher.sock.sendall(
            b'<getProperties device="*" version="1.7"/><enableBLOB>Also</enableBLOB>'
            b'<getProperties device="Nowhere" version="1.7"/><pingRequest uid="after"/>'
        )
        replayed = watcher.wait_for("defSwitchVector", DOME, after=mark)
        watcher.wait_for("pingReply", None, after=replayed)
    finally:
        watcher.close()
    assert a.running and b.running


def test_indiserver_in_front_with_one_connection_per_device_sees_every_device(
    our_server: Callable[..., OurServer], indiserver_factory: Callable[..., IndiServer]
) -> None:
    """indiserver chaining two of our devices as ``"Dome Simulator"@ours`` and
    ``"Thermostat"@ours`` passes a client's device-less getProperties to only one of those
    connections (one per host:port) and learns the other device from what its other connection
    receives meanwhile: every client of ours interested in named devices only gets its devices'
    definitions again, as an indiserver's drivers re-send them. Before, a client of that
    indiserver saw the first device's definitions only."""
    ours = our_server("--demo", "indi_simulator_dome")
    wait_getprop(ours.port, f"{DOME}.CONNECTION.CONNECT")
    above = indiserver_factory(f"{DOME}@127.0.0.1:{ours.port}",
                               f"{THERMOSTAT}@127.0.0.1:{ours.port}")
    # both of its connections are up (indiserver asks for the device as it connects)
    assert above.process is not None
    pid = above.process.pid
    wait_for(lambda: len(connections_to(pid, ours.port)) == 2, what="indiserver's two connections")
    watcher = Watcher(above.port)
    try:
        watcher.wait_for("defSwitchVector", DOME)
        watcher.wait_for("defNumberVector", THERMOSTAT)
    finally:
        watcher.close()
    assert above.running and ours.running
