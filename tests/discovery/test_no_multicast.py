"""A network without multicast, made for the test: a network namespace of its own
(``unshare -n``) whose only interface, loopback, is up with multicast off. There DNS-SD
cannot browse, and the listing says so plainly (and what to do instead), while Alpaca's probe,
a broadcast, still finds the Alpaca server on the real discovery port 32227 (the namespace's
own ports: nothing leaves it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

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
    unshare = shutil.which("unshare")
    assert unshare is not None, "unshare (util-linux) is needed to make the namespace"
    script = ("ip link set lo up && ip link set lo multicast off && "
              f"exec {sys.executable} -c \"$CHILD\"")
    env = {**os.environ, "CHILD": CHILD, "INDIPY_MDNS_INTERFACES": "lo",
           "PYTHONPATH": str(REPO)}
    out = subprocess.run([unshare, "-n", "sh", "-c", script], capture_output=True, text=True,
                         timeout=60, env=env, check=False)
    assert out.returncode == 0, out.stderr
    api = int(out.stderr.split("api ", 1)[1].split()[0])
    found = json.loads(out.stdout)
    assert [(s["kind"], s["port"], s["interfaces"]) for s in found] == [("alpaca", api, ["lo"])]
    assert "not browsing on lo, which has multicast off" in out.stderr
    assert "cannot be listed without multicast; connect to them by host:port" in out.stderr
