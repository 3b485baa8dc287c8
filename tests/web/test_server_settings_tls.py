"""The web client's INDI server settings over TLS (issue 60 item 6): ``--indi-tls-*``
(``make_app(indi_tls=)``) and the TLS fields of the admin's server form, against our server's TLS
port requiring client certificates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from peers import OurServer
from peers import free_port
from starlette.testclient import TestClient
from tlskit import Pki
from webpeers import login
from webpeers import wait_for

from indipyweb.app import make_app
from indipyweb.settings import TLSFiles
from indipyweb.users import UserDB


def files(pki: Pki, name: str) -> TLSFiles:
    cert, key = pki.client(name)
    return TLSFiles(str(pki.ca), str(cert), str(key))


def test_the_web_client_reaches_a_tls_port_and_the_admin_sets_its_files(
    our_server: Callable[..., OurServer], tls_pki: Pki, dbfolder: Path, tmp_path: Path,
) -> None:
    """Given TLS files the app connects to the TLS port (the server knows it by its CN) and
    shows the thermostat; the admin's form shows the files, refuses a CA file that is not
    there (nothing changes) and switches to another client certificate, saved and used again
    at the next start."""
    tls_port = free_port()
    indi = our_server("--demo", "--tls-port", str(tls_port), "--tls-cert",
                      str(tls_pki.server_cert), "--tls-key", str(tls_pki.server_key),
                      "--tls-client-ca", str(tls_pki.ca))
    app = make_app(indihost="localhost", indiport=tls_port, dbfolder=dbfolder,
                   indi_tls=files(tls_pki, "operator"))
    with TestClient(app, base_url="http://testserver") as web:
        source = app.state.web.source
        wait_for(lambda: source.vector("Thermostat", "TARGET"), what="the thermostat over TLS")
        wait_for(lambda: "connected as operator" in indi.log(), what="the server's log")
        csrf = login(web, "admin")
        assert f'value="{tls_pki.ca}"' in web.get("/users").text
        form = {"indihost": "localhost", "indiport": str(tls_port), "blobfolder": "",
                "csrf_token": csrf, "indi_tls_ca": str(tmp_path / "nowhere-ca.crt")}
        refused = web.post("/settings/server", data=form)
        assert refused.status_code == 400 and "nowhere-ca.crt" in refused.text
        observer = files(tls_pki, "observer")
        form.update(indi_tls_ca=observer.ca, indi_tls_cert=observer.cert,
                    indi_tls_key=observer.key)
        answer = web.post("/settings/server", data=form)
        assert answer.status_code == 200 and "over TLS" in answer.text
        wait_for(lambda: "connected as observer" in indi.log(), what="the new certificate")
        wait_for(lambda: source.vector("Thermostat", "TARGET"), what="the thermostat again")
    db = UserDB(dbfolder)
    assert db.setting("indi_tls_cert") == observer.cert
    db.close()
    again = make_app(indihost="localhost", indiport=tls_port, dbfolder=dbfolder)
    with TestClient(again, base_url="http://testserver"):
        wait_for(lambda: again.state.web.source.vector("Thermostat", "TARGET"),
                 what="the saved TLS files at the next start")
    assert indi.log().count("connected as observer") >= 2
