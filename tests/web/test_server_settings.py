"""The admin points the app at another INDI server and BLOB folder from the Users page (issue 43
item 4): saved in the settings the UserDB keeps, the connection remade at once, the pages
following, and the saved server used at the next start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import free_port
from starlette.testclient import TestClient
from webpeers import DEVICE
from webpeers import ServerThread
from webpeers import login
from webpeers import wait_for

from indipyserver.demo import make_driver as make_thermostat
from indipyweb.app import make_app
from indipyweb.memorysource import MemorySource
from indipyweb.users import UserDB


@pytest.fixture
def second(tmp_home: Path) -> Iterator[ServerThread]:
    """Another INDI server, with the demo thermostat (its LOG BLOB every 0.4 s)."""
    server = ServerThread(free_port(), make_thermostat(interval=0.2, log_every=2)).start()
    yield server
    server.stop()


def test_the_admin_switches_the_indi_server_and_blob_folder(
        indi: ServerThread, second: ServerThread, dbfolder: Path, tmp_path: Path) -> None:
    """Saved and connected at once: the first server's device goes, the thermostat comes, the
    banner names the new server, BLOBs go to the new folder; wrong input is refused with a
    reason and changes nothing; the next start connects to the saved server."""
    app = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder,
                   blobfolder=tmp_path / "first-blobs")
    newfolder = tmp_path / "second-blobs"
    with TestClient(app, base_url="http://testserver") as web:
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the first server's device")
        csrf = login(web, "admin")
        page = web.get("/users")
        assert f'name="indiport" value="{indi.port}"' in page.text
        for form, why in (({"indihost": "localhost", "indiport": "seventy"}, "The port is"),
                          ({"indihost": "local host", "indiport": "7624"}, "The host is"),
                          ({"indihost": "localhost", "indiport": "7624", "blobfolder": "rel/dir"},
                           "full path")):
            refused = web.post("/settings/server", data={**form, "csrf_token": csrf})
            assert refused.status_code == 400 and why in refused.text
        assert source.vector(DEVICE, "DOOMED") is not None  # still on the first server
        assert web.post("/settings/server", data={"indihost": "localhost", "indiport": "99",
                                                  "blobfolder": ""}).status_code == 403  # no CSRF
        answer = web.post("/settings/server", data={
            "indihost": "127.0.0.1", "indiport": str(second.port), "blobfolder": str(newfolder),
            "csrf_token": csrf})
        assert answer.status_code == 200
        assert f"Connecting to the INDI server 127.0.0.1:{second.port}" in answer.text
        wait_for(lambda: source.vector("Thermostat", "TEMPERATURE"), what="the thermostat")
        assert DEVICE not in source.snapshot()["devices"]
        assert f"127.0.0.1:{second.port}" in web.get("/").text
        assert newfolder.is_dir()
        assert app.state.web.blobs.folder == newfolder.resolve()
        wait_for(lambda: any(p.suffix == ".csv" for p in newfolder.iterdir()),
                 what="the thermostat's LOG BLOB saved in the new folder")
        assert not any(p.suffix == ".csv" for p in (tmp_path / "first-blobs").iterdir())
    db = UserDB(dbfolder)
    assert (db.setting("indihost"), db.setting("indiport"), db.setting("blobfolder")) == \
        ("127.0.0.1", str(second.port), str(newfolder))
    db.close()
    again = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder)
    with TestClient(again, base_url="http://testserver"):
        wait_for(lambda: again.state.web.source.vector("Thermostat", "TEMPERATURE"),
                 what="the saved server at the next start")
        assert again.state.web.blobs.folder == newfolder.resolve()


def test_a_source_given_to_the_app_has_no_server_form(dbfolder: Path) -> None:
    """make_app(source=...) (a MemorySource, a RedisSource): the server is not the app's to
    change; the form is not shown and a post is refused."""
    app = make_app(MemorySource(), dbfolder=dbfolder)
    with TestClient(app, base_url="http://testserver") as web:
        csrf = login(web, "admin")
        assert 'name="indiport"' not in web.get("/users").text
        answer = web.post("/settings/server", data={"indihost": "localhost", "indiport": "7624",
                                                    "csrf_token": csrf})
        assert answer.status_code == 400 and "given its source" in answer.text
