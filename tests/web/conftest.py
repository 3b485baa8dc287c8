"""Fixtures for the web client: a real INDI server with the test driver, the app on it, users."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from discoverykit import avahi  # noqa: F401  (re-exported as a fixture: servers found)
from discoverykit import demo  # noqa: F401  (re-exported as a fixture: a server to find)
from peers import free_port
from starlette.testclient import TestClient
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import ROLES
from webpeers import Backend
from webpeers import HeldHashes
from webpeers import MemoryBackend
from webpeers import RealBackend
from webpeers import ServerThread
from webpeers import make_test_driver
from webpeers import wait_for

import indipyweb.users
from indipyweb.app import make_app
from indipyweb.users import UserDB


@pytest.fixture
def indi(tmp_home: Path) -> Iterator[ServerThread]:
    """Our INDI server serving the test driver (every vector kind) on a free port."""
    server = ServerThread(free_port(), make_test_driver()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _users_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The users' database with `PASSWORDS` and `ROLES`, made once a worker: each password is
    hashed with scrypt (~50 ms of CPU), three a test otherwise."""
    folder = tmp_path_factory.mktemp("users") / "db"
    db = UserDB(folder)
    for name, password in PASSWORDS.items():
        db.set_user(name, password, ROLES[name])
    db.close()
    return folder


@pytest.fixture
def dbfolder(tmp_path: Path, _users_made: Path) -> Path:
    """A test's own users' database (`_users_made`'s files copied, modes kept): the app
    writes its sessions and settings here."""
    folder = tmp_path / "db"
    shutil.copytree(_users_made, folder)
    return folder


@pytest.fixture
def blobfolder(tmp_path: Path) -> Path:
    folder = tmp_path / "blobs"
    folder.mkdir()
    return folder


@pytest.fixture
def real_web(indi: ServerThread, dbfolder: Path, blobfolder: Path) -> Iterator[TestClient]:
    """The app connected to the INDI server, through Starlette's test client (lifespan run),
    once the test device is known (for what only a real connection does: BLOBs saved, bursts
    through the server, reconnecting)."""
    app = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder,
                   blobfolder=blobfolder, max_upload_mb=1.0, set_timeout=5.0)
    with TestClient(app, base_url="http://testserver") as client:
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the test device")  # its last vector
        yield client


@pytest.fixture(params=["real", "memory"])
def backend(request: pytest.FixtureRequest, tmp_home: Path) -> Iterator[Backend]:
    """Where the app's devices come from: our INDI server and the test driver through a
    ClientSource ("real"), or a MemorySource holding the same device ("memory", one seam,
    as httpx's MockTransport is injected). The tests that take it run on both."""
    if request.param == "real":
        server = ServerThread(free_port(), make_test_driver()).start()
        yield RealBackend(server)
        server.stop()
    else:
        yield MemoryBackend()


@pytest.fixture
def web(backend: Backend, dbfolder: Path, blobfolder: Path) -> Iterator[TestClient]:
    """The app on `backend`'s source through Starlette's test client, once the test device is
    known."""
    app = make_app(backend.source(), indihost="localhost", indiport=backend.port,
                   dbfolder=dbfolder, blobfolder=blobfolder, max_upload_mb=1.0, set_timeout=5.0)
    with TestClient(app, base_url="http://testserver") as test_client:
        backend.started(test_client)
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the test device")
        yield test_client


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldHashes]:
    """`hash_password` wrapped by `HeldHashes`: every hash recorded, held once `hold` is set."""
    hashes = HeldHashes()
    monkeypatch.setattr(indipyweb.users, "hash_password", hashes)
    yield hashes
    hashes.go.set()
