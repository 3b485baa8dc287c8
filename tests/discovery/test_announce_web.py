"""indipyweb announced by DNS-SD (issue 73 item 1): ``_http._tcp`` with ``path=``, and with
``--demo`` its server's ``_indi._tcp`` whose TXT record names the web client (``web=``); the
goodbyes on a clean stop. Seen by avahi on the loopback interface."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from discoverykit import Avahi
from peers import free_port
from waiting import wait_for

from indipydiscovery.announce import instance_name

REPO = Path(__file__).resolve().parents[2]


def test_the_web_client_and_its_demo_server_are_announced_and_say_goodbye(
        avahi: Avahi, tmp_path: Path) -> None:
    """``indipyweb --demo --basepath /scope``: avahi resolves ``HOST INDI web PORT`` as
    ``_http._tcp`` on the web port with ``path=/scope``, and the demo server as
    ``_indi._tcp`` with ``web=http://127.0.0.1:PORT/scope/``; after SIGTERM both are
    dropped (the goodbyes). An ``indipyweb --demo --no-announce`` started beside it
    serves and is never announced, nor says anything of DNS-SD."""
    port, quiet_port = free_port(), free_port()
    log, quiet_log = tmp_path / "web.log", tmp_path / "quiet.log"
    with avahi.watch("_http._tcp") as http, avahi.watch("_indi._tcp") as indi, \
            log.open("w") as out, quiet_log.open("w") as quiet_out:
        quiet = subprocess.Popen(
            [sys.executable, "-m", "indipyweb", "--demo", "--no-announce", "--port",
             str(quiet_port), "--dbfolder", str(tmp_path / "quiet")], stdout=quiet_out,
            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        process = subprocess.Popen(
            [sys.executable, "-m", "indipyweb", "--demo", "--port", str(port), "--basepath",
             "/scope", "--dbfolder", str(tmp_path / "db")], stdout=out,
            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            wait_for(lambda: "indipyweb: open" in quiet_log.read_text(), 30, "the quiet one")
            web = wait_for(lambda: http.resolved_on(port), 30,
                           lambda: f"the web client resolved; log:\n{log.read_text()}")[0][1]
            assert web.name == instance_name("INDI web", port)
            assert web.txt_dict == {"txtvers": "1", "path": "/scope"}
            server = wait_for(lambda: [r for _, r in indi.resolved
                                       if r.txt_dict.get("web", "").endswith(f":{port}/scope/")],
                              10, "the demo server with web=")[0]
            assert server.txt_dict["web"] == f"http://127.0.0.1:{port}/scope/"
            wait_for(lambda: log.read_text().count("announced by DNS-SD as") == 2, 10,
                     lambda: f"both said in the output:\n{log.read_text()}")
            assert http.resolved_on(quiet_port) == []
            assert all("web" not in r.txt_dict or f":{quiet_port}/" not in r.txt_dict["web"]
                       for _, r in indi.resolved)
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0, log.read_text()
        finally:
            for each in (process, quiet):
                if each.poll() is None:
                    each.send_signal(signal.SIGTERM)
                    each.wait(30)
        wait_for(lambda: http.removed_name(web.name, stopping)
                 and indi.removed_name(server.name, stopping), 3.0,
                 "both dropped after the goodbyes")
    assert "DNS-SD" not in quiet_log.read_text()
