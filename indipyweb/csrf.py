"""CSRF, checked in one place: `guard` wraps every route that takes an unsafe method.

A logged-in user's POST carries the session's token, as the form field ``csrf_token`` or the
``X-CSRF-Token`` header (htmx and API callers send the header). The login form, which has no
session yet, is checked against a double-submit cookie instead (`login_csrf`). The one route
without a token, the JSON log-in for scripts, says why (`csrf_exempt`). A request with no
viewer at all is answered "log in first" (401) before anything of its body is read.

The markers name the endpoint as the route table holds it: put them outermost (above
``auth.requires``). The check reads a form body once, with the app's upload limits, and keeps it open until the
endpoint has answered: the endpoint's own ``request.form()`` gets the same parsed form.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route

from .auth import LOGIN_COOKIE
from .auth import Endpoint
from .auth import viewer

__all__ = ["SAFE_METHODS", "csrf_exempt", "guard", "login_csrf"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_LOGIN: set[Endpoint] = set()
_EXEMPT: dict[Endpoint, str] = {}


def login_csrf(endpoint: Endpoint) -> Endpoint:
    """The endpoint is the login form's: its token is the double-submit cookie's."""
    _LOGIN.add(endpoint)
    return endpoint


def csrf_exempt(why: str) -> Callable[[Endpoint], Endpoint]:
    """The endpoint takes no token, for the reason given (kept for readers of the code)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _EXEMPT[endpoint] = why
        return endpoint

    return mark


def guard(routes: Iterable[BaseRoute], max_part_size: int) -> list[BaseRoute]:
    """The routes, each one that takes an unsafe method checked for its CSRF token first.
    `max_part_size`: the largest part of a multipart form (the app's upload limit)."""
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.methods and not route.methods <= SAFE_METHODS:
            endpoint = route.endpoint
            if endpoint not in _EXEMPT:
                route = Route(route.path, _checked(endpoint, max_part_size),
                              methods=list(route.methods), name=route.name)
        out.append(route)
    return out


def _checked(endpoint: Endpoint, max_part_size: int) -> Endpoint:
    login = endpoint in _LOGIN

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        if login:
            expected = request.cookies.get(LOGIN_COOKIE)
            advice = "reload the login page"
        else:
            session = viewer(request).session  # NotLoggedIn for nobody: nothing is read
            expected = session.csrf if session is not None else None
            advice = "reload the page and try again"
        supplied: object = request.headers.get("x-csrf-token")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if supplied is None and kind in _FORMS:
            async with request.form(max_files=64, max_fields=1000,
                                    max_part_size=max_part_size) as form:
                _compare(expected, form.get("csrf_token"), advice)
                return await endpoint(request)
        _compare(expected, supplied, advice)
        return await endpoint(request)

    return checked


def _compare(expected: str | None, supplied: object, advice: str) -> None:
    if (not expected or not isinstance(supplied, str)
            or not hmac.compare_digest(supplied.encode(), expected.encode())):
        raise HTTPException(403, f"missing or wrong CSRF token: {advice}")
