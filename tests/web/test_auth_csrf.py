"""Roles, CSRF and nonsense from a browser, held where they now live: Starlette's
authentication middleware with our SessionBackend, `requires(scope)` on each route, and the one
CSRF guard the router puts before every unsafe route. Runs on both sources (`backend`).
"""

from __future__ import annotations

import json

from starlette.routing import Mount
from starlette.routing import Route
from starlette.testclient import TestClient
from webpeers import DEVICE
from webpeers import Backend
from webpeers import login

from indipyweb.csrf import SAFE_METHODS


def only_a_good_set_arrives(web: TestClient, backend: Backend, csrf: str) -> None:
    """The evidence that the refused sets were never sent (no sleep): a valid set made after
    them is answered with the driver's state, and it is all the driver got (one connection:
    an earlier send would be in front of it)."""
    answer = web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 7}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert backend.received() == [("LEVEL", {"LEVEL": 7.0})]


def _unsafe_routes(web: TestClient) -> list[tuple[str, str]]:
    """(method, path with every parameter filled in) of each route taking an unsafe method."""
    found = []
    for route in web.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount) or not isinstance(route, Route) or route.methods is None:
            continue
        for method in sorted(route.methods - SAFE_METHODS):
            path = route.path.replace("{device}", DEVICE).replace("{vector}", "LEVEL")
            found.append((method, path.replace("{name:path}", "frame.fits")))
    return found


def test_every_unsafe_route_is_refused_without_its_csrf_token(web: TestClient,
                                                            backend: Backend) -> None:
    """No route taking POST is left out of the CSRF guard: an admin (every scope) posting to
    each without a token, or with a wrong one, gets 403 and nothing is sent or changed; only
    the JSON log-in takes no token (it refuses forms: 415)."""
    csrf = login(web, "admin")
    routes = _unsafe_routes(web)
    assert ("POST", f"/device/{DEVICE}/LEVEL") in routes and ("POST", "/users") in routes
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": "x" * 43}):
            answer = web.request(method, path, data={"m.LEVEL": "10", "username": "admin"},
                                 headers=headers)
            expected = 415 if path == "/api/login" else 403
            assert answer.status_code == expected, (method, path, headers, answer.text)
            if expected == 403:
                assert "CSRF" in answer.text, (path, answer.text)
    assert web.get("/api/session").json()["csrf"] == csrf  # still logged in: logout refused
    only_a_good_set_arrives(web, backend, csrf)
    assert [name for name, _ in web.app.state.web.db.users()] == ["admin", "op", "view"]  # type: ignore[attr-defined]


def test_roles_are_stated_once_per_route_and_answered_401_303_or_403(web: TestClient,
                                                                    backend: Backend) -> None:
    """Nobody: pages redirect to the login page, htmx and the API get 401; a viewer gets 403
    on a set and on the admin pages; an operator 403 on the admin pages, saying who they are."""
    assert web.get(f"/device/{DEVICE}", follow_redirects=False).headers["location"] == \
        f"/login?next=/device/{DEVICE}"  # back there once logged in
    assert web.get("/blobs", headers={"HX-Request": "true"}).status_code == 401
    assert web.post("/logout", follow_redirects=False).status_code == 303  # log in first
    assert web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 1}}).status_code == 401
    csrf = login(web, "view")
    answer = web.post(f"/api/{DEVICE}/LEVEL", json={"members": {"LEVEL": 1}},
                      headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 403 and "view (viewer)" in answer.json()["error"]
    assert web.get("/users").status_code == 403
    web.cookies.clear()
    csrf = login(web, "op")
    answer = web.post("/settings", data={"public_view": "1", "csrf_token": csrf})
    assert answer.status_code == 403 and "only an admin" in answer.text
    only_a_good_set_arrives(web, backend, csrf)


def test_nonsense_from_a_browser_gets_a_clear_status_and_the_app_keeps_serving(
        web: TestClient, backend: Backend) -> None:
    """Missing fields, unknown devices and vectors, huge bodies, bodies that are not what they
    claim, a stream for no page: each a 4xx with a message (never a 500); afterwards the app
    still serves pages and a good set still reaches the driver."""
    csrf = login(web, "op")
    h = {"X-CSRF-Token": csrf}
    checks: list[tuple[str, str, dict[str, object], int, str]] = [
        ("GET", "/device/NoSuchDevice", {}, 404, "no device"),
        ("GET", "/api/NoSuchDevice", {}, 404, "no device"),
        ("GET", f"/api/{DEVICE}/NOPE", {}, 404, "no vector"),
        ("GET", "/stream?page=bogus", {}, 400, "unknown page"),
        ("GET", "/stream?page=device", {}, 400, "which device"),
        ("GET", "/blobs/file/nothing-here.fits", {}, 404, "no such BLOB"),
        ("POST", "/device/NoSuchDevice/LEVEL", {"data": {"m.LEVEL": "1"}, "headers": h}, 404,
         "no vector"),
        ("POST", f"/device/{DEVICE}/LEVEL", {"data": {}, "headers": h}, 400,
         "no member values given"),
        ("POST", f"/api/{DEVICE}/LEVEL", {"content": b"\xff\xfe{", "headers": h}, 400,
         "not JSON"),
        ("POST", f"/api/{DEVICE}/LEVEL", {"content": json.dumps({"members": {}}),
                                          "headers": h}, 400, "no member values given"),
        ("POST", f"/api/{DEVICE}/LEVEL", {"content": b"[" * 100_000, "headers": h}, 400,
         "JSON"),
        ("POST", f"/api/{DEVICE}/LEVEL", {"content": b"x" * (2 * 1024 * 1024), "headers": h},
         413, "over"),
        ("POST", f"/device/{DEVICE}/LEVEL", {
            "content": b"--b\r\nbroken", "headers": {
                **h, "Content-Type": "multipart/form-data; boundary=b"}}, 400, ""),
        ("POST", "/api/login", {"content": b"{}", "headers": {
            "Content-Type": "application/json"}}, 401, "wrong user name"),
        ("POST", "/users", {"data": {"csrf_token": csrf}}, 403, "only an admin"),
    ]
    for method, path, kwargs, status, text in checks:
        answer = web.request(method, path, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        assert text in answer.text, (method, path, answer.text)
    assert web.get(f"/device/{DEVICE}").status_code == 200
    only_a_good_set_arrives(web, backend, csrf)


def test_an_admin_with_the_public_view_on_sees_the_login_page_as_nobody(
        web: TestClient) -> None:
    """The login page never shows a user bar, even when the public view makes everyone a
    reader; the public reader can read the API but has no CSRF token to post with."""
    csrf = login(web, "admin")
    assert web.post("/settings", data={"public_view": "1", "csrf_token": csrf}).status_code == 200
    web.cookies.clear()
    assert web.get("/api/session").json() == {"user": "public", "role": "viewer", "csrf": None}
    page = web.get("/login")
    assert page.status_code == 200 and 'class="who"' not in page.text
