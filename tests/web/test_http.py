"""The web client over HTTP (Starlette's test client): log-in and log-out, roles, CSRF, BLOB
names, upload limits, the API, bad input.

The tests taking `web` run twice (the `backend` fixture): on our real INDI server and driver
through a ClientSource, and on a MemorySource holding the same device; those taking `real_web`
test what only a real connection does. Each refusal is checked twice: the status code, and
that the driver (or the memory source) received nothing.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from peers import free_port
from starlette.testclient import TestClient
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import Backend
from webpeers import ServerThread
from webpeers import login
from webpeers import make_test_driver
from webpeers import received
from webpeers import wait_for

from indipyweb.app import make_app
from indipyweb.blobfolder import BlobFolder
from indipyweb.clientsource import ClientSource
from indipyweb.render import vector_id


def test_pages_redirect_to_login_and_the_api_and_stream_answer_401_without_a_session(
        web: TestClient) -> None:
    """Nothing is readable without logging in: pages redirect (to the login page, which is
    told the page to come back to), API and SSE stream say 401."""
    for path in ("/", "/messages", f"/device/{DEVICE}", "/blobs", "/users"):
        answer = web.get(path, follow_redirects=False)
        back = "" if path == "/" else f"?next={quote(path)}"
        assert answer.status_code == 303 and answer.headers["location"] == f"/login{back}", path
    for path in ("/api", f"/api/{DEVICE}", f"/api/{DEVICE}/LEVEL", "/api/session",
                 "/stream?page=devices"):
        answer = web.get(path)
        assert answer.status_code == 401, path
        assert "error" in answer.json()


def test_login_comes_back_to_the_page_asked_and_never_to_another_host(web: TestClient) -> None:
    """A page opened logged out (as the link a night's end notification sends,
    ``/night/<folder>``) leads through the login page back to that page (the guide's night
    landed on ``/``); a ``next`` naming another host (``//evil``, a scheme, a backslash) is
    dropped."""
    asked = f"/device/{DEVICE}?x=1"
    answer = web.get(asked, follow_redirects=False)
    assert answer.headers["location"] == f"/login?next={quote(asked)}"
    page = web.get(answer.headers["location"])
    assert f'name="next" value="{asked}"' in page.text

    def post(next_page: str, password: str = PASSWORDS["view"]) -> Any:
        web.cookies.clear()
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text)
        assert token
        return web.post("/login", data={"username": "view", "password": password,
                                         "csrf_token": token.group(1), "next": next_page},
                        follow_redirects=False)

    wrong = post("/blobs", "no")
    assert wrong.status_code == 401 and 'name="next" value="/blobs"' in wrong.text
    for bad in ("//evil.example/", "/\\evil.example", "https://evil.example/", "blobs"):
        assert 'name="next"' not in web.get("/login", params={"next": bad}).text, bad
        answer = post(bad)
        assert (answer.status_code, answer.headers["location"]) == (303, "/"), bad
    answer = post(asked)
    assert (answer.status_code, answer.headers["location"]) == (303, asked)
    assert web.get(answer.headers["location"]).status_code == 200


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(web: TestClient) -> None:
    """The session cookie is HttpOnly and SameSite=Strict; after logout it no longer works."""
    page = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = web.post("/login", data={"username": "view", "password": PASSWORDS["view"],
                                      "csrf_token": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = next(v for k, v in answer.headers.multi_items()
                  if k == "set-cookie" and v.startswith("indipyweb_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert web.get("/").status_code == 200
    csrf = web.get("/api/session").json()["csrf"]
    stolen = web.cookies.get("indipyweb_session")
    assert web.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    web.cookies.set("indipyweb_session", stolen)  # the old cookie, replayed
    assert web.get("/api").status_code == 401


def test_secure_cookie_when_told_it_sits_behind_tls(indi: ServerThread, dbfolder: Path) -> None:
    """--securecookie (a TLS proxy in front) marks the session cookie Secure."""
    from indipyweb.app import make_app

    app = make_app(indiport=indi.port, dbfolder=dbfolder, securecookie=True)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        answer = client.post("/login", data={"username": "view", "password": PASSWORDS["view"],
                                             "csrf_token": token.group(1)},
                             follow_redirects=False)
        assert "Secure" in answer.headers["set-cookie"]


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(web: TestClient) -> None:
    """Five wrong passwords for a name lock it out (429), even with the right password, on a
    page that says why and for how long; other names from the same address still log in.
    Retry-After is the window (300 s) less the time since the first failure, which a loaded
    machine stretches (32 s once, with twelve workers on two cores): the bound is bracketed
    by this test's own clock around the requests, not a fixed 10 s."""
    first_sent = time.monotonic()  # before the first failure is counted
    for _ in range(5):
        page = web.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        answer = web.post("/login", data={"username": "op", "password": "wrong-password",
                                          "csrf_token": token.group(1)})
        assert answer.status_code == 401
        assert "Wrong user name or password" in answer.text
    page = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = web.post("/login", data={"username": "op", "password": PASSWORDS["op"],
                                      "csrf_token": token.group(1)})
    answered = time.monotonic()  # after the lock-out's Retry-After was reckoned
    assert answer.status_code == 429
    # a page that says why and for how long, with the log-in form to try again later
    assert "Too many failed log-ins for this user name" in answer.text
    retry = int(answer.headers["retry-after"])
    assert 300 - (answered - first_sent) <= retry <= 300, (retry, answered - first_sent)
    assert f"locked for {math.ceil(retry / 60)} more minutes" in answer.text
    assert 'name="password"' in answer.text
    # another user from the same address (a proxy's, say) is not locked out with them
    assert login(web, "view")


def test_login_without_its_csrf_token_is_refused(web: TestClient) -> None:
    """The login form's double-submit token must match its cookie."""
    web.get("/login")
    answer = web.post("/login", data={"username": "op", "password": PASSWORDS["op"],
                                      "csrf_token": "forged"})
    assert answer.status_code == 403
    assert web.get("/api").status_code == 401


def only_the_next_good_set_arrives(web: TestClient, backend: Backend) -> None:
    """The evidence that refused sets were never sent: an operator's valid set made after them
    is answered with the driver's state (so the driver has it), and it is all the driver got.
    The web app talks to the server on one connection, so an earlier send would be in front."""
    web.cookies.clear()
    csrf = login(web, "op")
    answer = web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 7}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert [(name, values["LEVEL"]) for name, values in backend.received()] == [("LEVEL", 7.0)]


def test_operator_sets_a_number_and_the_driver_receives_it(web: TestClient,
                                                          backend: Backend) -> None:
    """A form set (sexagesimal accepted) reaches the driver; the answer is its final state."""
    csrf = login(web, "op")
    answer = web.post(f"/device/{DEVICE}/LEVEL", data={"m.LEVEL": "42.5", "m.RA": "12:30:00",
                                                       "csrf_token": csrf},
                      headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.text
    assert "Ok" in answer.text
    assert ("LEVEL", {"LEVEL": 42.5, "RA": 12.5}) in backend.received()
    vec = web.get(f"/api/{DEVICE}/LEVEL").json()
    assert vec["members"]["LEVEL"]["value"] == "42.5"


def test_viewer_cannot_set_403_and_nothing_is_sent(web: TestClient, backend: Backend) -> None:
    """A viewer's set, by form or API, is 403 and never reaches the driver; the device page
    shows no write controls to a viewer."""
    csrf = login(web, "view")
    page = web.get(f"/device/{DEVICE}")
    assert page.status_code == 200
    assert "setform" not in page.text and 'type="file"' not in page.text
    answer = web.post(f"/device/{DEVICE}/LEVEL", data={"m.LEVEL": "10", "csrf_token": csrf})
    assert answer.status_code == 403
    answer = web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 10}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 403
    only_the_next_good_set_arrives(web, backend)


def test_a_set_without_or_with_a_wrong_csrf_token_is_403_and_not_sent(
        web: TestClient, backend: Backend) -> None:
    """Form and API sets need the session's CSRF token."""
    login(web, "op")
    assert web.post(f"/device/{DEVICE}/LEVEL", data={"m.LEVEL": "10"}).status_code == 403
    assert web.post(f"/device/{DEVICE}/LEVEL",
                    data={"m.LEVEL": "10", "csrf_token": "x" * 43}).status_code == 403
    assert web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 10}}).status_code == 403
    assert web.post("/logout").status_code == 403  # logout too
    only_the_next_good_set_arrives(web, backend)


def test_malformed_and_out_of_range_input_is_4xx_never_500_never_sent(
        web: TestClient, backend: Backend) -> None:
    """Bad numbers, unknown members/vectors/devices, broken switch rules, read-only vectors and
    bad JSON are refused with a message and a 4xx; the driver receives nothing."""
    csrf = login(web, "op")
    hx = {"HX-Request": "true"}
    cases = [
        (f"/device/{DEVICE}/LEVEL", {"m.LEVEL": "12abc"}, 400, "not a number"),
        (f"/device/{DEVICE}/LEVEL", {"m.LEVEL": "nan"}, 400, "number"),
        (f"/device/{DEVICE}/LEVEL", {"m.LEVEL": "1e999"}, 400, "number"),
        (f"/device/{DEVICE}/LEVEL", {"m.LEVEL": "101"}, 400, "outside"),
        (f"/device/{DEVICE}/LEVEL", {"m.NOPE": "1"}, 400, "unknown member"),
        (f"/device/{DEVICE}/LEVEL", {}, 400, "no member values given"),
        (f"/device/{DEVICE}/READING", {"m.VALUE": "1"}, 400, "read-only"),
        (f"/device/{DEVICE}/STATUS", {"m.POWER": "Ok"}, 400, "read-only"),
        (f"/device/{DEVICE}/MODE", {"switch": "NOPE"}, 400, "unknown member"),
        (f"/device/{DEVICE}/NOPE", {"m.X": "1"}, 404, "no vector"),
        ("/device/NoSuchDevice/LEVEL", {"m.X": "1"}, 404, "no vector"),
    ]
    for path, data, status, text in cases:
        answer = web.post(path, data={**data, "csrf_token": csrf}, headers=hx)
        assert answer.status_code == status, (path, data, answer.text)
        assert text in answer.text, (path, data, answer.text)
    api = [
        ({"members": {"LEVEL": "abc"}}, 400),
        ({"members": {"LEVEL": True}}, 400),
        ({"members": {"LEVEL": [1]}}, 400),
        ({"members": "LEVEL=1"}, 400),
        ({"members": {"LEVEL": 1}, "timeout": -1}, 400),
        ([1, 2], 400),
    ]
    for body, status in api:
        answer = web.post(f"/api/{DEVICE}/LEVEL", content=json.dumps(body),
                          headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert answer.status_code == status, (body, answer.text)
    answer = web.post(f"/api/{DEVICE}/LEVEL", content=b"{not json",
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 400
    answer = web.post(f"/api/{DEVICE}/MODE", json={"members": {"FAST": "On", "SLOW": "On"}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 400 and "OneOfMany" in answer.json()["error"]
    only_the_next_good_set_arrives(web, backend)


def test_api_returns_the_snapshot_shape_and_sets_with_the_drivers_final_state(
        web: TestClient, backend: Backend) -> None:
    """GET /api has the 0.9.4 snapshot shape; POST answers with the driver's state."""
    csrf = login(web, "op")
    snap = web.get("/api").json()
    assert snap["connected"] is True and snap["indiport"] == backend.port
    level = snap["devices"][DEVICE]["vectors"]["LEVEL"]
    assert level["vectortype"] == "NumberVector" and level["perm"] == "rw"
    assert level["members"]["RA"]["formattedvalue"].strip() == "1:30:00"
    assert snap["devices"][DEVICE]["vectors"]["MODE"]["rule"] == "OneOfMany"
    assert web.get(f"/api/{DEVICE}").json()["devicename"] == DEVICE
    assert web.get(f"/api/{DEVICE}/NOPE").status_code == 404
    answer = web.post(f"/api/{DEVICE}/MODE", json={"members": {"SLOW": "On"}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "Ok" and body["timed_out"] is False
    assert body["vector"]["members"]["SLOW"]["value"] == "On"
    assert body["vector"]["members"]["FAST"]["value"] == "Off"
    assert ("MODE", {"SLOW": "On"}) in backend.received()


def test_api_login_for_scripts(web: TestClient) -> None:
    """POST /api/login with JSON gives a session and its CSRF token; wrong passwords 401."""
    answer = web.post("/api/login", json={"username": "op", "password": "nope-nope"})
    assert answer.status_code == 401
    answer = web.post("/api/login", json={"username": "op", "password": PASSWORDS["op"]})
    assert answer.status_code == 200 and answer.json()["role"] == "operator"
    assert web.get("/api").status_code == 200
    form = web.post("/api/login", data={"username": "op", "password": PASSWORDS["op"]})
    assert form.status_code == 415  # a cross-site form post cannot log anyone in


def test_blob_names_cannot_escape_the_folder(web: TestClient, blobfolder: Path,
                                             tmp_path: Path) -> None:
    """Traversal by .., encoded slashes, absolute paths, dot files and symlinks: 404."""
    login(web, "op")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (blobfolder / "ok.txt").write_text("fine")
    (blobfolder / "link.txt").symlink_to(secret)
    (blobfolder / ".hidden").write_text("hidden")
    assert web.get("/blobs/file/ok.txt").text == "fine"
    folder = BlobFolder(blobfolder)
    for name in ("..", ".", "../secret.txt", "", "a/b", "/etc/passwd", "link.txt", ".hidden"):
        assert folder.path(name) is None, name
    for name in ("../secret.txt", "..%2Fsecret.txt", "%2E%2E/secret.txt",
                 f"{tmp_path}/secret.txt", "link.txt", ".hidden", "ok.txt%00.png",
                 "..\\secret.txt"):
        for kind in ("file", "view"):
            answer = web.get(f"/blobs/{kind}/{name}")
            assert answer.status_code in (404, 400), (kind, name, answer.status_code)
            assert "secret" not in answer.text
    csrf = web.get("/api/session").json()["csrf"]
    answer = web.post("/blobs/delete/..%2Fsecret.txt", data={"csrf_token": csrf})
    assert answer.status_code == 404 and secret.exists()
    listing = web.get("/blobs").text
    assert "ok.txt" in listing and ".hidden" not in listing


def test_received_blob_is_saved_listed_downloaded_and_deleted(
        real_web: TestClient, indi: ServerThread, blobfolder: Path) -> None:
    """A BLOB uploaded through the form reaches the driver (size, format, bytes); one the
    driver sends is saved in the folder, listed, downloadable, and deletable by an operator."""
    web = real_web
    csrf = login(web, "op")
    answer = web.post(f"/device/{DEVICE}/UPLOAD", data={"csrf_token": csrf},
                      files={"f.FILE": ("notes.txt", b"hello blob", "text/plain")},
                      headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.text
    assert ("UPLOAD", {"FILE": (b"hello blob", 10, ".txt")}) in received(indi)
    answer = web.post(f"/device/{DEVICE}/UPLOAD", data={"csrf_token": csrf, "compress": "1"},
                      files={"f.FILE": ("data.bin", b"z" * 1000, "application/octet-stream")})
    assert answer.status_code in (200, 303), answer.text
    sent = [v for name, v in received(indi) if name == "UPLOAD"][-1]["FILE"]
    assert sent[1:] == (1000, ".bin.z")  # the driver gets it compressed, as asked

    async def send_blob() -> None:
        vec = indi.driver["WebTest"]["UPLOAD"]  # type: ignore[index]
        vec["FILE"] = b"\x89PNG fake"
        vec.set_blobsize("FILE", 9)
        vec.set_blobformat("FILE", ".dat")
        await vec.send_setVector()

    indi.call(send_blob)
    saved = wait_for(lambda: list(blobfolder.glob("WebTest_UPLOAD_FILE_*.dat")), what="BLOB")
    name = saved[0].name
    assert name in web.get("/blobs").text
    assert web.get(f"/blobs/file/{name}").content == b"\x89PNG fake"
    assert web.get(f"/blobs/view/{name}").status_code == 415
    answer = web.post(f"/blobs/delete/{name}", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and not saved[0].exists()


def test_oversized_upload_is_413_and_not_sent(web: TestClient, backend: Backend) -> None:
    """An upload over --maxupload (1 MB here) is refused before it is parsed or sent."""
    csrf = login(web, "op")
    big = b"x" * (2 * 1024 * 1024)
    answer = web.post(f"/device/{DEVICE}/UPLOAD", data={"csrf_token": csrf},
                      files={"f.FILE": ("big.bin", big, "application/octet-stream")},
                      headers={"HX-Request": "true"})
    assert answer.status_code == 413

    def chunks() -> object:  # no Content-Length: counted as it arrives
        boundary = b"--b\r\n"
        yield boundary + b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
        yield csrf.encode() + b"\r\n" + boundary
        yield b'Content-Disposition: form-data; name="f.FILE"; filename="big.bin"\r\n\r\n'
        for _ in range(40):
            yield b"y" * 65536
        yield b"\r\n--b--\r\n"

    answer = web.post(f"/device/{DEVICE}/UPLOAD", content=chunks(),  # type: ignore[arg-type]
                      headers={"Content-Type": "multipart/form-data; boundary=b",
                               "HX-Request": "true"})
    assert answer.status_code == 413
    only_the_next_good_set_arrives(web, backend)


def test_only_an_admin_manages_users_and_the_public_view(web: TestClient) -> None:
    """An operator gets 403 on /users; the admin adds a user who can then log in, and turning
    the public view on lets anyone read (but never set)."""
    login(web, "op")
    assert web.get("/users").status_code == 403
    web.cookies.clear()
    csrf = login(web, "admin")
    answer = web.post("/users", data={"username": "newbie", "password": "newbie-pass",
                                      "role": "viewer", "csrf_token": csrf})
    assert answer.status_code == 200 and "newbie" in answer.text
    assert web.post("/users", data={"username": "x", "password": "short", "role": "viewer",
                                    "csrf_token": csrf}).status_code == 400
    assert web.post("/settings", data={"public_view": "1", "csrf_token": csrf}).status_code == 200
    web.cookies.clear()
    assert web.get("/api").status_code == 200
    assert web.get("/").status_code == 200
    answer = web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 1}},
                      headers={"X-CSRF-Token": "anything"})
    assert answer.status_code == 403



def test_an_admin_deletes_a_user_but_not_themself(web: TestClient) -> None:
    """The admin deletes the operator: the operator's open session ends at once and the
    password no longer logs in; the admin's own name is refused with "You cannot delete
    yourself." (400) and the admin stays; an operator cannot delete anyone (403)."""
    op_csrf = login(web, "op")
    assert web.post("/users/delete", data={"username": "view", "csrf_token": op_csrf}
                    ).status_code == 403
    op_cookies = dict(web.cookies)
    web.cookies.clear()
    csrf = login(web, "admin")
    answer = web.post("/users/delete", data={"username": "admin", "csrf_token": csrf})
    assert answer.status_code == 400 and "You cannot delete yourself." in answer.text
    assert web.get("/users").status_code == 200  # still the admin
    answer = web.post("/users/delete", data={"username": "op", "csrf_token": csrf})
    assert answer.status_code == 200 and "User op deleted." in answer.text
    listed = web.get("/users").text
    assert "view" in listed and "admin" in listed
    web.cookies.clear()
    for name, value in op_cookies.items():
        web.cookies.set(name, value)
    assert web.get("/users", follow_redirects=False).status_code in (303, 401, 403)
    assert web.get("/api/session").json().get("user") in (None, "")  # the session is gone
    web.cookies.clear()
    page = web.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = web.post("/login", data={"username": "op", "password": PASSWORDS["op"],
                                       "csrf_token": token}, follow_redirects=False)
    assert refused.status_code != 303, refused.text

def test_every_answer_carries_the_security_headers(web: TestClient) -> None:
    """No framing, no sniffing, scripts only from the app itself (the vendored files)."""
    answer = web.get("/login")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert web.get("/static/htmx-2.0.11.min.js").status_code == 200
    assert "cdn" not in answer.text.lower() and "https://" not in answer.text


def test_a_base_path_serves_every_page_under_it(indi: ServerThread, dbfolder: Path) -> None:
    """--basepath /obs (behind a proxy): pages, links, static files and the API live under
    /obs; the login redirect and the cookie path say /obs."""
    from indipyweb.app import make_app

    app = make_app(indiport=indi.port, dbfolder=dbfolder, basepath="/obs/")
    with TestClient(app, base_url="http://testserver") as client:
        answer = client.get("/obs/", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/obs/login"
        page = client.get("/obs/login")
        assert page.status_code == 200
        assert 'src="/obs/static/htmx-2.0.11.min.js"' in page.text
        assert 'action="/obs/login"' in page.text
        assert client.get("/obs/static/indipyweb.js").status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        answer = client.post("/obs/login", data={"username": "view", "csrf_token": token.group(1),
                                                  "password": PASSWORDS["view"]},
                             follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/obs/"
        assert "Path=/obs" in answer.headers["set-cookie"]
        assert client.get("/obs/api").json()["connected"] is True
        assert client.get("/login").status_code == 404


def test_a_page_that_stops_reading_holds_one_entry_per_vector(real_web: TestClient,
                                                               indi: ServerThread) -> None:
    """A device page's stream queue, not read while the driver sends 300 sets of one vector
    and 300 of another, holds two entries (the latest of each is rendered when it reads):
    every further notice is merged into them."""
    web = real_web
    hub = web.app.state.web.hub  # type: ignore[attr-defined]
    sub = hub.subscribe("device", DEVICE, False)
    sub.parts.take()  # the whole page, as on connecting
    seen_before = hub.changes_seen

    async def burst() -> None:
        level, reading = indi.driver[DEVICE]["LEVEL"], indi.driver[DEVICE]["READING"]  # type: ignore[index]
        for i in range(300):
            level["LEVEL"] = i % 100
            reading["VALUE"] = i
            await level.send_setVector()
            await reading.send_setVector()

    indi.call(burst)
    source = web.app.state.web.source  # type: ignore[attr-defined]

    def hub_done() -> bool:
        """The hub (on the web app's own loop) has dealt with the last set, READING = 299,
        down to its subscribers: the model is updated before the hub hears of it, so the
        model alone is not the evidence. Every notice after the first of each vector was
        merged (how many reach the web client depends on the INDI server, which may itself
        coalesce for a client behind)."""
        readings = hub.history.series(DEVICE, "READING", "VALUE")
        seen = hub.changes_seen - seen_before
        return (bool(readings) and readings[-1] == 299 and len(sub.parts) == 2
                and seen > 2 and sub.parts.coalesced == seen - 2)

    wait_for(lambda: source.vector(DEVICE, "READING")["members"]["VALUE"]["floatvalue"] == 299,
             what="the last set")
    wait_for(hub_done, what="the hub merging every notice into two entries")
    parts, overflowed = sub.parts.take()
    hub.unsubscribe(sub)
    assert not overflowed
    assert sorted(parts) == [("vector", DEVICE, "LEVEL"), ("vector", DEVICE, "READING")]


def test_the_stream_carries_rendered_html_and_ends_at_logout(web: TestClient,
                                                             backend: Backend) -> None:
    """The SSE stream's events carry the re-rendered part itself (an out-of-band swap of the
    vector's live values, not an event name to fetch), and the stream ends once its session
    is logged out."""
    import threading

    web.app.state.web.keepalive = 0.3  # type: ignore[attr-defined]
    csrf = login(web, "view")
    lines: list[str] = []
    ended = threading.Event()

    def read() -> None:
        with web.stream("GET", f"/stream?page=device&device={DEVICE}") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines.extend(stream.iter_lines())  # as they arrive
        ended.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(lambda: any("device-body" in line for line in lines), what="the whole page part")

    backend.send_set("READING", VALUE=12.125)
    wait_for(lambda: any("12.125" in line for line in lines), what="the set's part")
    part = [line for line in lines if "12.125" in line or 'id="live-' in line]
    assert any('hx-swap-oob="outerHTML"' in line for line in part), part
    assert "event: update" in lines
    assert not ended.is_set()
    assert web.post("/logout", data={"csrf_token": csrf}).status_code == 200  # to /login
    assert ended.wait(5), "the stream outlived its session"


def test_a_vector_set_ten_times_a_second_reaches_a_page_at_the_streams_pace(
        web: TestClient, backend: Backend) -> None:
    """A vector the driver sets every 0.1 s or faster (an agent's progress) was sent to every
    open page at each set, its plot's data with it: a phone watching a night took every one.
    A page now gets an update at most every `update_every` seconds, each with the latest
    values: 40 sets in about a second at a pace of 0.5 s arrive as a few updates, the last
    value among them."""
    import threading
    import time

    web.app.state.web.update_every = 0.5  # type: ignore[attr-defined]
    web.app.state.web.keepalive = 0.3  # type: ignore[attr-defined]
    csrf = login(web, "view")
    lines: list[tuple[float, str]] = []

    def read() -> None:
        with web.stream("GET", f"/stream?page=device&device={DEVICE}") as stream:
            for line in stream.iter_lines():
                lines.append((time.monotonic(), line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(lambda: any("device-body" in line for _, line in lines), what="the whole page")
    start = time.monotonic()
    for value in range(1, 41):
        backend.send_set("READING", VALUE=value)
        time.sleep(0.025)
    wait_for(lambda: any(">40.000<" in line for _, line in lines), what="the last value")
    live = f'id="live-{vector_id(DEVICE, "READING")}"'
    updates = [at for at, line in lines if at >= start and live in line]
    elapsed = max(updates) - start
    # one update at once, then at most one every 0.5 s: never one a set
    assert web.post("/logout", data={"csrf_token": csrf}).status_code == 200  # the stream ends
    reader.join(5)
    assert len(updates) <= elapsed / 0.5 + 1, (len(updates), elapsed)


def test_on_the_servers_unix_socket_the_app_saves_images_passed_as_memory_files(
        tmp_home: Path, dbfolder: Path, blobfolder: Path) -> None:
    """``--indihost localhost:PATH``: the app reaches our server's Unix socket, so the
    in-process driver attaches its image as a memory file (no base64 made or decoded) and the
    app saves it, lists it and serves its bytes as for one sent inline."""
    path = f"/tmp/indipyweb-test-{uuid.uuid4().hex}"
    indi = ServerThread(free_port(), make_test_driver(), unix_path=path).start()
    try:
        app = make_app(indihost=f"localhost:{path}", indiport=0, dbfolder=dbfolder,
                       blobfolder=blobfolder, max_upload_mb=1.0, set_timeout=5.0)
        with TestClient(app, base_url="http://testserver") as web:
            source = app.state.web.source
            wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the test device")
            image = bytes(range(256)) * 4096  # 1 MiB

            async def send_blob() -> None:
                vec = indi.driver["WebTest"]["UPLOAD"]  # type: ignore[index]
                vec["FILE"] = image
                vec.set_blobformat("FILE", ".dat")
                await vec.send_setVector()

            indi.call(send_blob)
            saved = wait_for(lambda: list(blobfolder.glob("WebTest_UPLOAD_FILE_*.dat")),
                             what="the image saved")
            inner = source.inner
            assert isinstance(inner, ClientSource)
            assert inner.client.connection.attached_received == 1  # the memory file
            login(web, "view")
            assert saved[0].name in web.get("/blobs").text
            assert web.get(f"/blobs/file/{saved[0].name}").content == image
    finally:
        indi.stop()


def test_a_viewer_can_neither_delete_blobs_nor_see_a_delete_button(
        web: TestClient, blobfolder: Path) -> None:
    """Deleting a received file is a write: 403 for a viewer, and the file stays."""
    (blobfolder / "frame.fits").write_bytes(b"not really")
    csrf = login(web, "view")
    listing = web.get("/blobs").text
    assert "frame.fits" in listing and "Delete" not in listing
    answer = web.post("/blobs/delete/frame.fits", data={"csrf_token": csrf})
    assert answer.status_code == 403 and (blobfolder / "frame.fits").exists()
