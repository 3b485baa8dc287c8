"""Fixtures for the web client: a real INDI server with the test driver, the app on it, users."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers import free_port
from starlette.testclient import TestClient
from webpeers import DEVICE, ServerThread, make_test_driver, wait_for

from indipyweb.app import make_app
from indipyweb.users import UserDB

PASSWORDS = {"admin": "admin-password", "op": "operator-password", "view": "viewer-password"}
ROLES = {"admin": "admin", "op": "operator", "view": "viewer"}


@pytest.fixture
def indi(tmp_home: Path) -> Iterator[ServerThread]:
    """Our INDI server serving the test driver (every vector kind) on a free port."""
    server = ServerThread(free_port(), make_test_driver()).start()
    yield server
    server.stop()


@pytest.fixture
def dbfolder(tmp_path: Path) -> Path:
    folder = tmp_path / "db"
    db = UserDB(folder)
    for name, password in PASSWORDS.items():
        db.set_user(name, password, ROLES[name])
    db.close()
    return folder


@pytest.fixture
def blobfolder(tmp_path: Path) -> Path:
    folder = tmp_path / "blobs"
    folder.mkdir()
    return folder


@pytest.fixture
def web(indi: ServerThread, dbfolder: Path, blobfolder: Path) -> Iterator[TestClient]:
    """The app connected to the INDI server, through Starlette's test client (lifespan run),
    once the test device is known."""
    app = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder,
                   blobfolder=blobfolder, max_upload_mb=1.0, set_timeout=5.0)
    with TestClient(app, base_url="http://testserver") as client:
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "UPLOAD"), what="the test device")
        yield client


def login(client: TestClient, user: str) -> str:
    """Log `user` in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    answer = client.post("/login", data={"username": user, "password": PASSWORDS[user],
                                         "csrf_token": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    session = client.get("/api/session").json()
    csrf: str = session["csrf"]
    return csrf


def received(indi: ServerThread) -> list[tuple[str, dict[str, Any]]]:
    assert indi.driver is not None
    result: list[tuple[str, dict[str, Any]]] = indi.driver.driverdata["received"]
    return result
