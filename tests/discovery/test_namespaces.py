"""Networks made for the test, in network namespaces of its own (``unshare -n``), where
the default interface choice and the real discovery port 32227 may be used (nothing leaves
the namespace): one whose only interface, loopback, is up with multicast off, where DNS-SD
cannot browse and the listing says so plainly (and what to do instead) while Alpaca's probe,
a broadcast, still finds the Alpaca server; and one with a second interface (a veth pair),
where the probe's broadcasts go only to the interfaces chosen."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: A second interface: the veth pair v0 (10.9.0.1/24) and v1, both up.
VETH = ("ip link add v0 type veth peer name v1 && "
        "ip addr add 10.9.0.1/24 brd 10.9.0.255 dev v0 && ip link set v0 up && "
        "ip link set v1 up")


def in_namespace(setup: str, child: str, interfaces: str | None,
                 timeout: float) -> subprocess.CompletedProcess[str]:
    """`child` (Python source) run in a network namespace of its own that the shell commands
    `setup` make, with INDIPY_MDNS_INTERFACES `interfaces` (None: unset); it must exit 0."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "unshare (util-linux) is needed to make the namespace"
    script = f"{setup} && exec {sys.executable} -c \"$CHILD\""
    env = {k: v for k, v in os.environ.items() if k != "INDIPY_MDNS_INTERFACES"}
    env.update(CHILD=child, PYTHONPATH=str(REPO))
    if interfaces is not None:
        env["INDIPY_MDNS_INTERFACES"] = interfaces
    out = subprocess.run([unshare, "-n", "sh", "-c", script], capture_output=True, text=True,
                         timeout=timeout, env=env, check=False)
    assert out.returncode == 0, out.stderr
    return out

CHILD = f"""
import sys
sys.path[:0] = [{str(HERE)!r}, {str(REPO / "tests")!r}]
from alpacakit import failing_api, port_answer, responder
from indipydiscovery.cli import main
with failing_api(404) as api, responder(32227, port_answer(api)):
    print("api", api, file=sys.stderr, flush=True)
    sys.exit(main(["--json", "--timeout", "1"]))
"""


def test_without_multicast_dns_sd_says_so_and_alpaca_is_still_listed() -> None:
    """In a namespace where lo has multicast off: ``indipy-discover`` (lo chosen by
    INDIPY_MDNS_INTERFACES) says DNS-SD cannot browse there and why, lists the Alpaca server
    its probe found, and exits 0."""
    out = in_namespace("ip link set lo up && ip link set lo multicast off", CHILD, "lo", 60)
    api = int(out.stderr.split("api ", 1)[1].split()[0])
    found = json.loads(out.stdout)
    assert [(s["kind"], s["port"], s["interfaces"]) for s in found] == [("alpaca", api, ["lo"])]
    assert "not browsing on lo, which has multicast off" in out.stderr
    assert "cannot be listed without multicast; connect to them by host:port" in out.stderr


PROBE_CHILD = f"""
import asyncio, sys
sys.path[:0] = [{str(HERE)!r}, {str(REPO / "tests")!r}]
from alpacakit import failing_api, port_answer, responder
from indipydiscovery.alpacaprobe import probe_alpaca
from indipydiscovery.interfaces import chosen_interfaces
with failing_api(404, host="0.0.0.0") as api, responder(32227, port_answer(api)) as heard:
    for names in (["lo"], ["v0"], ["lo", "v0"], None):
        heard.clear()
        found = asyncio.run(probe_alpaca(chosen_interfaces(names), 0.5))
        print(repr((names, sorted(set(heard)), sorted(s.interfaces for s in found))))
"""


def test_the_probe_broadcasts_only_on_the_chosen_interfaces() -> None:
    """With lo and v0 (10.9.0.1/24) up, the responder hears the probe only from the chosen
    interfaces' addresses, and each server found is on the interface it answered on; the
    default choice (no names) is the interfaces with multicast on: v0, not lo."""
    out = in_namespace(f"ip link set lo up && {VETH}", PROBE_CHILD, None, 60)
    rows = [ast.literal_eval(line) for line in out.stdout.splitlines()]
    assert rows == [
        (["lo"], ["127.0.0.1"], [("lo",)]),
        (["v0"], ["10.9.0.1"], [("v0",)]),
        (["lo", "v0"], ["10.9.0.1", "127.0.0.1"], [("lo",), ("v0",)]),
        (None, ["10.9.0.1"], [("v0",)]),
    ], out.stderr


TWO_ADDRESSES_CHILD = f"""
import asyncio, os, subprocess, sys, tempfile, time
sys.path[:0] = [{str(REPO / "tests")!r}]
from peers import free_port
from indipydiscovery.alpacaprobe import probe_alpaca
from indipydiscovery.interfaces import chosen_interfaces
work = tempfile.mkdtemp()
api = free_port()
server = subprocess.Popen([sys.executable, "-m", "indipyserver", "--host", "0.0.0.0",
                           "-p", str(free_port()), "-u", work + "/sock", "--alpaca", str(api),
                           "--alpaca-devices", work + "/ids.json", "indi_simulator_focus"],
                          cwd=work, env=dict(os.environ, HOME=work),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        found = asyncio.run(probe_alpaca(chosen_interfaces(["lo", "v0"]), 0.5))
        if found and all(s.devices for s in found) and len(found[0].addresses) > 1:
            break
    print(repr([(s.port == api, s.addresses, s.interfaces, s.devices) for s in found]))
finally:
    server.terminate()
    server.wait(20)
"""


def test_an_alpaca_server_answering_on_two_interfaces_is_listed_once() -> None:
    """Our server's face on 0.0.0.0 answers the probe on lo and on v0: one entry (the same
    port and the same devices' UniqueIDs) with both addresses and both interfaces."""
    out = in_namespace(f"ip link set lo up && {VETH}", TWO_ADDRESSES_CHILD, "lo,v0", 120)
    listed = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert listed == [(True, ("127.0.0.1", "10.9.0.1"), ("lo", "v0"), ("Focuser Simulator",))] \
        or listed == [(True, ("10.9.0.1", "127.0.0.1"), ("v0", "lo"), ("Focuser Simulator",))], \
        out.stdout + out.stderr


DNS_SD_CHILD = f"""
import os, subprocess, sys, tempfile, time
sys.path[:0] = [{str(REPO / "tests")!r}]
from peers import free_port
from indipydiscovery.browse import discover
work, port = tempfile.mkdtemp(), free_port()
server = subprocess.Popen([sys.executable, "-m", "indipyserver", "--host", "0.0.0.0",
                           "-p", str(port), "-u", work + "/sock", "--demo"], cwd=work,
                          env=dict(os.environ, HOME=work), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        mine = [s for s in discover(1.0, kinds=("indi",)) if s.port == port]
        if mine and len(mine[0].addresses) > 1:
            break
    print(repr([(sorted(s.addresses), sorted(s.interfaces), s.problems) for s in mine]))
finally:
    server.terminate()
    server.wait(20)
"""


def test_our_server_announced_on_two_interfaces_is_listed_once_with_both() -> None:
    """Our server on 0.0.0.0 announcing on lo and v0 (both with multicast on), listed on
    both: one entry, both addresses, both interfaces, nothing wrong."""
    out = in_namespace(f"ip link set lo up && ip link set lo multicast on && {VETH}",
                       DNS_SD_CHILD, "lo,v0", 120)
    assert ast.literal_eval(out.stdout.strip().splitlines()[-1]) == [
        (["10.9.0.1", "127.0.0.1"], ["lo", "v0"], ())], out.stdout + out.stderr
