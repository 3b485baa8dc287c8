"""``indipy-discover`` run as its user runs it (a child process): the table and ``--json``
list what avahi publishes and what answers Alpaca's probe, problems under their service; an
interface this machine lacks is one line and status 2; and without python-zeroconf (a child
with no site-packages) the client library still imports, a DNS-SD listing says what to
install, and the command lists Alpaca servers alone, saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alpacakit import failing_api
from alpacakit import free_udp_port
from alpacakit import port_answer
from alpacakit import responder
from discoverykit import Avahi
from peers import free_port

from indipydiscovery.txt import server_txt

REPO = Path(__file__).resolve().parents[2]
#: Every child browses and probes the loopback interface only, whatever else it is given.
LOOPBACK = {"INDIPY_MDNS_INTERFACES": "lo"}


def run(*args: str, bare: bool = False, code: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m indipydiscovery.cli ARGS`` (or `code`); `bare`: without site-packages
    (``-S``), as where the extra [discovery] was never installed."""
    command = [sys.executable, *(["-S"] if bare else []),
               *(["-c", code] if code else ["-m", "indipydiscovery.cli", *args])]
    env = {"PYTHONPATH": str(REPO), "PATH": os.environ["PATH"], **LOOPBACK}
    if not bare:
        env = {**os.environ, **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=env, check=False)


def test_the_table_and_json_list_dns_sd_and_alpaca_servers(avahi: Avahi) -> None:
    """One INDI service with our TXT keys, one whose address refuses, and an Alpaca server:
    ``--json`` gives every field of each; the table a line each, the refusal under its
    service."""
    udp, closed = free_udp_port(), free_port()
    txt = server_txt(version="3.2", tls_port=7625, devices=["CCD Simulator"])
    with failing_api(404) as api, responder(udp, port_answer(api)), \
            avahi.publish("Backyard", "_indi._tcp", api, txt), \
            avahi.publish("Gone", "_indi._tcp", closed, txt):
        listed = run("--json", "--timeout", "3", "--alpaca-port", str(udp))
        shown = run("--timeout", "3", "--alpaca-port", str(udp), "--kind", "indi")
    assert listed.returncode == 0, listed.stderr
    services = {s["name"]: s for s in json.loads(listed.stdout)}
    backyard = services["Backyard"]
    assert (backyard["kind"], backyard["port"], backyard["tls_port"]) == ("indi", api, 7625)
    assert backyard["addresses"] == ["127.0.0.1"] and backyard["interfaces"] == ["lo"]
    assert backyard["devices"] == ["CCD Simulator"] and backyard["version"] == "3.2"
    assert backyard["txt"]["dev0"] == "CCD Simulator" and backyard["problems"] == []
    assert any("connection refused" in p for p in services["Gone"]["problems"])
    alpaca = [s for s in services.values() if s["kind"] == "alpaca"]
    assert [(s["port"], s["alpaca_port"]) for s in alpaca] == [(api, api)]
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "ADDRESS", "PORT", "TLS", "ALPACA", "WEB",
                                "DEVICES"]
    row = next(line for line in lines if "Backyard" in line)
    assert row.split()[:2] == ["indi", "Backyard"]
    assert [str(api), "7625", "CCD", "Simulator"] == [w for w in row.split() if w != "-"][3:]
    gone = lines.index(next(line for line in lines if "Gone" in line))
    assert lines[gone + 1].strip().startswith("! cannot connect") and "refused" in lines[gone + 1]
    assert not any("alpaca" == line.split()[0] for line in lines[1:] if line.strip()[:1] != "!")


def test_an_interface_this_machine_lacks_is_one_line_and_status_2() -> None:
    """``--mdns-interface nosuch0``: no traceback, the interfaces there are named."""
    out = run("--mdns-interface", "nosuch0", "--timeout", "0.2")
    assert out.returncode == 2
    assert "no network interface named 'nosuch0'" in out.stderr and " lo" in out.stderr
    assert "Traceback" not in out.stderr


def test_without_zeroconf_alpaca_is_listed_and_the_extra_named() -> None:
    """With no site-packages: ``indipyclient`` imports and exports the listing; a DNS-SD
    listing raises naming the extra; the command lists the Alpaca server alone and says
    what to install for the rest (status 0)."""
    udp = free_udp_port()
    code = (
        "import asyncio, sys\n"
        "assert 'zeroconf' not in sys.modules\n"
        "import indipyclient\n"
        f"found = indipyclient.discover(0.5, kinds=('alpaca',), alpaca_port={udp})\n"
        "print('alpaca', [s.port for s in found])\n"
        "try:\n"
        "    indipyclient.discover(0.1, kinds=('indi',))\n"
        "except ImportError as exc:\n"
        "    print('refused:', exc)\n")
    with failing_api(404) as api, responder(udp, port_answer(api)):
        library = run(bare=True, code=code)
        command = run("--json", "--timeout", "0.5", "--alpaca-port", str(udp), bare=True)
    assert f"alpaca [{api}]" in library.stdout, library.stderr
    assert 'refused: listing DNS-SD services needs the optional extra [discovery]' in \
        library.stdout and 'pip install ".[discovery]"' in library.stdout
    assert command.returncode == 0, command.stderr
    assert [s["port"] for s in json.loads(command.stdout)] == [api]
    assert 'pip install ".[discovery]"' in command.stderr
    assert "Alpaca servers only" in command.stderr and "Traceback" not in command.stderr
