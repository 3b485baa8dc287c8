"""The web client says at once that the server refused a set (issue 70 item 1).

Our server under ``--acl`` answers a refused new*Vector with its "permission denied" message
(``indipycore.protocol.refusals``) and passes nothing on. The web client's set used to wait its
whole timeout and then show the vector still Busy; now the answer is Alert with the server's
words, in the JSON API and on the device page's form, at once. indilib's telescope simulator
runs under our server; the web client is an anonymous TCP client, which the rules let read
everything and set nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from peers import OurServer
from peers import getprop
from starlette.testclient import TestClient
from webpeers import login
from webpeers import wait_for

from indipyweb.app import make_app

MOUNT = "Telescope Simulator"


def test_a_refused_set_answers_alert_with_the_servers_message_at_once(
        our_server: Callable[..., OurServer], tmp_path: Path, dbfolder: Path,
        blobfolder: Path) -> None:
    """The API's set and the page's form both end within seconds (the app waits up to 60 s),
    Alert, with "permission denied", the device and the vector."""
    acl = tmp_path / "site.acl"
    acl.write_text("anonymous read *\n")
    server = our_server("indi_simulator_telescope", "--acl", str(acl))
    assert getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=10)
    app = make_app(indihost="127.0.0.1", indiport=server.port, dbfolder=dbfolder,
                   blobfolder=blobfolder, set_timeout=60.0)
    with TestClient(app, base_url="http://testserver") as web:
        source = app.state.web.source
        wait_for(lambda: source.vector(MOUNT, "CONNECTION"), what="the mount's CONNECTION")
        csrf = login(web, "op")
        started = time.monotonic()
        answer = web.post(f"/api/{MOUNT}/CONNECTION", json={"members": {"CONNECT": "On"}},
                          headers={"X-CSRF-Token": csrf})
        assert time.monotonic() - started < 10, answer.text
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] == "Alert" and not body["timed_out"], body
        assert f"permission denied: anonymous may not set {MOUNT}.CONNECTION" in body["message"]
        started = time.monotonic()
        form = web.post(f"/device/{MOUNT}/CONNECTION",
                        data={"switch": "CONNECT", "csrf_token": csrf},
                        headers={"HX-Request": "true"})
        assert time.monotonic() - started < 10, form.text
        assert form.status_code == 200, form.text
        assert "Alert" in form.text and "permission denied" in form.text, form.text
