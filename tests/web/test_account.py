"""Within the app (issue 43 item 4): a user changes their own password, an admin resets
another user's, the favicon is there for everyone."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from webpeers import PASSWORDS
from webpeers import login


def _form_login(client: TestClient, user: str, password: str) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post("/login", data={"username": user, "password": password,
                                         "csrf_token": token.group(1)}, follow_redirects=False)
    return answer.status_code


def test_a_user_changes_their_own_password(web: TestClient) -> None:
    """The current password is asked first; the two new ones must match; after the change this
    browser stays logged in, the old password no longer works and the new one does."""
    csrf = login(web, "view")
    page = web.get("/password")
    assert page.status_code == 200 and 'name="current"' in page.text
    wrong = web.post("/password", data={"current": "nope", "new": "brand-new-pass",
                                        "again": "brand-new-pass", "csrf_token": csrf})
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    differ = web.post("/password", data={"current": PASSWORDS["view"], "new": "brand-new-pass",
                                         "again": "other-new-pass", "csrf_token": csrf})
    assert differ.status_code == 400 and "differ" in differ.text
    short = web.post("/password", data={"current": PASSWORDS["view"], "new": "short",
                                        "again": "short", "csrf_token": csrf})
    assert short.status_code == 400
    done = web.post("/password", data={"current": PASSWORDS["view"], "new": "brand-new-pass",
                                       "again": "brand-new-pass", "csrf_token": csrf})
    assert done.status_code == 200 and "Your password was changed" in done.text
    assert web.get("/api/session").json()["user"] == "view"  # still logged in, a new session
    web.cookies.clear()
    assert _form_login(web, "view", PASSWORDS["view"]) == 401
    assert _form_login(web, "view", "brand-new-pass") == 303


def test_changing_a_password_needs_the_csrf_token_and_a_session(web: TestClient) -> None:
    """No session: the form is not served; no CSRF token: refused, nothing changed."""
    assert web.get("/password", follow_redirects=False).status_code in (303, 307, 401)
    login(web, "view")
    forged = web.post("/password", data={"current": PASSWORDS["view"], "new": "brand-new-pass",
                                         "again": "brand-new-pass"})
    assert forged.status_code == 403
    web.cookies.clear()
    assert _form_login(web, "view", PASSWORDS["view"]) == 303


def test_an_admin_resets_another_users_password(web: TestClient) -> None:
    """On the Users page the admin sets a new password for op (its role kept as given); op's
    old password stops working, the new one works."""
    csrf = login(web, "admin")
    page = web.get("/users")
    assert "reset a user" in page.text
    answer = web.post("/users", data={"username": "op", "password": "reset-by-admin",
                                      "role": "operator", "csrf_token": csrf})
    assert answer.status_code == 200 and "User op saved" in answer.text
    web.cookies.clear()
    assert _form_login(web, "op", PASSWORDS["op"]) == 401
    assert _form_login(web, "op", "reset-by-admin") == 303
    assert web.get("/api/session").json()["role"] == "operator"


def test_the_favicon_is_served_to_everyone(web: TestClient) -> None:
    """/favicon.ico (browsers ask by themselves) and the page's icon link, without a login."""
    icon = web.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert 'rel="icon"' in web.get("/login").text
    assert web.get("/static/favicon.svg").status_code == 200
