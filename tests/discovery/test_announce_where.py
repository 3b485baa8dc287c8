"""Where the server announces, and what it does when it cannot (issue 73 items 3 and 5).

The default -- every interface up with multicast on -- and the interfaces chosen by
``--mdns-interface`` and ``INDIPY_MDNS_INTERFACES`` are looked at inside a network namespace
made here (``unshare --net``: a veth pair v0 10.9.0.1 / v1 10.8.0.1, lo with multicast off),
so nothing here multicasts on this machine's own interfaces. There a sniffer joined on v0 and
v1 keeps every mDNS packet; the interface a packet left by is told by its source address
(each copy a host sends is looped back to its own sockets on that interface). Each run also
makes an INDI round trip: the server serves whatever the announcing did.

Without zeroconf (hidden from the server's interpreter) the server says once why it announces
nothing and serves; that run sends nothing, so it runs on this machine's loopback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from peers import free_port
from peers import getprop
from peers import wait_listening
from waiting import wait_for

from indipydiscovery.announce import instance_name
from indipydiscovery.interfaces import ENV

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"

_VETH = """set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.9.0.1/24 dev v0
ip addr add 10.8.0.1/24 dev v1
ip link set v0 up
ip link set v1 up
"""
_LO_ONLY = "set -e\nip link set lo up\n"

# Run inside the namespace: the sniffer, our server (its arguments in argv[1]), a round trip,
# what the sniffer saw. JSON on stdout.
_RUN = r"""
import json, os, socket, subprocess, sys, time
from discoverykit import sniffing
from zeroconf import DNSIncoming, DNSAddress
server_args, join = json.loads(sys.argv[1])
log_path = os.path.join(os.environ["WORK"], "server.log")

def log():
    with open(log_path) as f:
        return f.read()

def wait(check, timeout):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True

def round_trip():
    with socket.create_connection(("127.0.0.1", 7624), timeout=10) as sock:
        sock.sendall(b'<getProperties version="1.7"/>')
        got = b""
        while b"Thermostat" not in got:
            got += sock.recv(65536)
    return True

with sniffing(join) as sniffer, open(log_path, "wb") as out:
    server = subprocess.Popen([sys.executable, "-m", "indipyserver", "-p", "7624", "--demo",
                               *server_args], stdout=out, stderr=subprocess.STDOUT)
    answered = wait(lambda: "serving INDI on" in log(), 30) and round_trip()
    said = wait(lambda: "announced by DNS-SD" in log(), 10)
    if "not announced" not in log():
        wait(lambda: any(b"INDI 7624" in p for _, _, p in sniffer.packets), 10)
    time.sleep(1.0)  # what else comes: other interfaces' copies, stray packets
    answered = answered and round_trip()
    server.send_signal(2)
    status = server.wait(20)
sources, addresses = set(), set()
for _, source, data in sniffer.packets:
    message = DNSIncoming(data)
    if message.is_response() and any("INDI 7624" in a.name for a in message.answers()):
        sources.add(source)
        addresses |= {socket.inet_ntoa(a.address) for a in message.answers()
                      if isinstance(a, DNSAddress)}
print(json.dumps({"log": log(), "sources": sorted(sources), "addresses": sorted(addresses),
                  "answered": answered, "status": status}))
"""


def in_namespace(tmp_path: Path, setup: str, server_args: list[str], join: list[str],
                 env: str | None) -> dict[str, object]:
    """Our server run in a network namespace of its own (set up by `setup`), with
    ``INDIPY_MDNS_INTERFACES`` set to `env` (None: unset, the default)."""
    environment = {k: v for k, v in os.environ.items() if k != ENV}
    environment.update(PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS)]), WORK=str(tmp_path),
                       RUN=_RUN)
    if env is not None:
        environment[ENV] = env
    script = setup + f'exec "{sys.executable}" -c "$RUN" "$@"\n'
    done = subprocess.run(["unshare", "--net", "sh", "-c", script, "sh",
                           json.dumps([server_args, join])], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    assert result["answered"] and result["status"] == 0, result["log"]
    return result


@pytest.mark.parametrize(("args", "env", "sources"), [
    (["--host", "0.0.0.0"], None, ["10.8.0.1", "10.9.0.1"]),
    (["--host", "0.0.0.0", "--mdns-interface", "v0"], None, ["10.9.0.1"]),
    (["--host", "0.0.0.0"], "v1", ["10.8.0.1"]),
    (["--host", "0.0.0.0", "--mdns-interface", "v0"], "v1", ["10.9.0.1"]),
], ids=["default-every-multicast-interface", "option", "environment", "option-over-environment"])
def test_the_server_announces_on_the_interfaces_chosen_and_no_others(
        tmp_path: Path, args: list[str], env: str | None, sources: list[str]) -> None:
    """By default every interface up with multicast on carries the announcement (v0 and v1,
    not lo, whose multicast is off); ``--mdns-interface v0`` or ``INDIPY_MDNS_INTERFACES=v1``
    only that one (the option over the variable), and only that interface's address is
    announced."""
    result = in_namespace(tmp_path, _VETH, args, ["10.9.0.1", "10.8.0.1"], env)
    assert result["sources"] == sources, result["log"]
    assert result["addresses"] == sources, result["log"]
    said = f"announced by DNS-SD as {instance_name('INDI', 7624)!r}"
    assert str(result["log"]).count(said) == 1, result["log"]


def test_a_network_without_multicast_is_said_once_and_the_server_serves(
        tmp_path: Path) -> None:
    """INDIPY_MDNS_INTERFACES=lo where lo has multicast off: one line says nothing is
    announced and why (with the command that turns it on); no packet is sent; clients are
    served before and after."""
    result = in_namespace(tmp_path, _VETH, [], ["10.9.0.1", "10.8.0.1"], "lo")
    log = str(result["log"])
    assert log.count("not announced by DNS-SD") == 1, log
    assert "lo has multicast off (ip link set lo multicast on)" in log
    assert result["sources"] == []


def test_no_interface_with_multicast_at_all_is_said_and_the_server_serves(
        tmp_path: Path) -> None:
    """The default in a namespace whose only interface (lo) has no multicast: said once."""
    result = in_namespace(tmp_path, _LO_ONLY, [], [], None)
    log = str(result["log"])
    assert log.count("not announced by DNS-SD") == 1, log
    assert "no network interface is up with multicast on" in log


def test_a_server_on_localhost_is_not_announced_where_it_cannot_be_reached(
        tmp_path: Path) -> None:
    """The default --host (localhost) with only v0 and v1 to announce on: announcing
    10.9.0.1 would send clients to a port that is closed there, so nothing is announced, and
    the log says why and what to change."""
    result = in_namespace(tmp_path, _VETH, [], ["10.9.0.1", "10.8.0.1"], None)
    log = str(result["log"])
    assert re.search(r"not announced by DNS-SD \(port 7624\): the server listens on localhost "
                     r"only, which (v0, v1|v1, v0) cannot reach: serve on 0\.0\.0\.0", log), log
    assert result["sources"] == []


_HIDDEN = """
import sys
class NoZeroconf:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "zeroconf":
            raise ModuleNotFoundError("No module named 'zeroconf' (hidden by the test)")
        return None
sys.meta_path.insert(0, NoZeroconf())
from indipyserver.cli import main
status = main(sys.argv[1:])
assert "zeroconf" not in sys.modules
sys.exit(status)
"""


def test_without_zeroconf_the_server_serves_and_says_once_why_it_announces_nothing(
        tmp_path: Path) -> None:
    """zeroconf hidden from the server's interpreter: it starts, serves indi_getprop, says
    once (at INFO, no warning) that nothing is announced and what to install, and stops
    cleanly; zeroconf was never imported."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-c", _HIDDEN, "-p", str(port), "--demo"],
                                  stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert wait_listening(server, port, 30), log_path.read_text()
        # Named, not Thermostat.*.* (a wildcard waits out its fixed timeout and says what
        # came, however late the server answers): indi_getprop ends as soon as it came.
        result = getprop(port, "Thermostat.TARGET.TARGET", timeout=20)
        assert result.returncode == 0, result.result.describe() + log_path.read_text()
        assert any(key.startswith("Thermostat.") for key in result), log_path.read_text()
        wait_for(lambda: "not announced" in log_path.read_text(), 10, "the reason")
        server.send_signal(signal.SIGTERM)
        assert server.wait(20) == 0, log_path.read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log = log_path.read_text()
    assert log.count("not announced by DNS-SD") == 1, log
    assert "INFO indipyserver.announcehost: not announced by DNS-SD: DNS-SD needs the " \
           "optional extra [discovery]" in log, log
    assert 'pip install ".[discovery]"' in log
    assert "WARNING" not in log and "ERROR" not in log, log


def test_an_unknown_mdns_interface_stops_the_command_naming_those_there_are() -> None:
    """``--mdns-interface nope0``: exit status 2 before anything starts, the message naming
    the interfaces this machine has."""
    done = subprocess.run([sys.executable, "-m", "indipyserver", "--demo", "--mdns-interface",
                           "nope0", "-p", str(free_port())], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert done.returncode == 2
    assert "--mdns-interface: no network interface named 'nope0'; this machine has" in \
        done.stderr and "lo" in done.stderr.rsplit("has", 1)[1]
