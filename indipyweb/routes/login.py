"""Logging in and out: the login form (double-submit CSRF cookie), the JSON log-in for
scripts, and log-out. Passwords are checked off the event loop (`UserDB.acheck_password`)."""

from __future__ import annotations

import logging
import math
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import LOGIN_COOKIE
from ..auth import SESSION
from ..auth import SESSION_COOKIE
from ..auth import requires
from ..auth import set_cookie
from ..csrf import csrf_exempt
from ..csrf import login_csrf
from ..site import Site
from ..site import site_of
from ..users import SESSION_SECONDS
from .api import json_body

__all__ = ["ROUTES"]

logger = logging.getLogger(__name__)


def local_next(value: object) -> str:
    """A page of this site to go back to after logging in (``?next=``), "" for anything
    else: a path below the base, never another host (``//host``, ``/\\host``, a scheme)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith(("//", "/\\")) or len(text) > 2000 \
            or any(ord(c) < 32 or c == "\\" for c in text):
        return ""
    return text


def _login_page(request: Request, code: int = 200, **context: str) -> Response:
    site = site_of(request)
    token = secrets.token_urlsafe(24)
    context.setdefault("next", local_next(request.query_params.get("next")))
    response = site.html(request, "login.html", code, anonymous=True, title="Log in",
                         login_csrf=token, **context)
    set_cookie(response, LOGIN_COOKIE, token, path=site.cookie_path(),
               secure=site.secure(request))
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request)


class LockedOut(Exception):
    """Too many failed log-ins: for `seconds` more, for `what` ("this user name")."""

    def __init__(self, seconds: float, what: str) -> None:
        super().__init__(seconds, what)
        self.seconds = seconds
        self.what = what

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    def text(self) -> str:
        return (f"Too many failed log-ins for {self.what}: it is locked for {self.minutes} "
                f"more minute{'s' if self.minutes != 1 else ''}. Wait, then log in again; "
                "an admin can reset a forgotten password.")


@login_csrf
async def login(request: Request) -> Response:
    site = site_of(request)
    form = await request.form()
    name = str(form.get("username", ""))[:64]
    back = local_next(form.get("next"))
    try:
        token = await _check_login(site, request, name, str(form.get("password", "")))
    except LockedOut as locked:
        response = _login_page(request, 429, username=name, error=locked.text(),
                               locked=str(locked.minutes), next=back)
        response.headers["Retry-After"] = str(math.ceil(locked.seconds))
        return response
    if token is None:
        return _login_page(request, 401, username=name, error="Wrong user name or password.",
                           next=back)
    redirect = RedirectResponse(f"{site.base}{back or '/'}", 303)
    _session_cookie(site, request, redirect, token)
    redirect.delete_cookie(LOGIN_COOKIE, path=site.cookie_path())
    return redirect


@csrf_exempt("JSON only: a cross-site page cannot send JSON without a CORS preflight, which "
             "this app never answers")
async def api_login(request: Request) -> Response:
    """JSON log-in for scripts ({"username", "password"})."""
    site = site_of(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send JSON")
    body = await json_body(request)
    try:
        token = await _check_login(site, request, str(body.get("username", ""))[:64],
                                   str(body.get("password", "")))
    except LockedOut as locked:
        return JSONResponse({"error": locked.text()}, 429,
                            headers={"Retry-After": str(math.ceil(locked.seconds))})
    if token is None:
        raise HTTPException(401, "wrong user name or password")
    session = site.db.session(token)
    assert session is not None
    response = JSONResponse({"user": session.user, "role": str(session.role),
                             "csrf": session.csrf})
    _session_cookie(site, request, response, token)
    return response


@requires(SESSION)
async def logout(request: Request) -> Response:
    site = site_of(request)
    site.db.end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{site.base}/login", 303)
    response.delete_cookie(SESSION_COOKIE, path=site.cookie_path())
    return response


async def _check_login(site: Site, request: Request, name: str, password: str) -> str | None:
    """A new session's token, or None for a wrong name or password; `LockedOut` when too many
    failed (no password is checked then)."""
    address = f"ip:{request.client.host if request.client else '?'}"
    user = f"user:{name}"
    wait = max(site.throttle.retry_after(user), site.address_throttle.retry_after(address))
    if wait > 0:
        raise LockedOut(wait, "this user name" if site.throttle.blocked(user)
                        else "this address")
    if await site.db.acheck_password(name, password) is None:
        site.throttle.failed(user)
        site.address_throttle.failed(address)
        logger.info("failed log-in for %r from %s", name, address)
        return None
    site.throttle.succeeded(user)
    return site.db.new_session(name)


def _session_cookie(site: Site, request: Request, response: Response, token: str) -> None:
    set_cookie(response, SESSION_COOKIE, token, path=site.cookie_path(),
               secure=site.secure(request), max_age=SESSION_SECONDS)


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/api/login", api_login, methods=["POST"]),
]
