"""Who is asking, and what they may do: Starlette's authentication, with our sessions and roles.

`SessionBackend` is an `AuthenticationBackend` for Starlette's own `AuthenticationMiddleware`:
it reads the session cookie once per request and sets ``request.user`` (a `Viewer`) and
``request.auth`` (`AuthCredentials` with the scopes below). A route states the scope it needs
once, with `requires` (in the manner of Starlette's ``requires``, which cannot tell "log in
first" from "not allowed"): without any scope the answer is 401 (pages: a redirect to the login
page, made by the error handler), with too few 403.

One policy for pages, the SSE streams and the API: nothing is readable without a session unless
the admin turned on the public (read-only) view; setting needs operator or admin; users and
settings need admin. CSRF is checked in one place for every unsafe method (`csrf.guard`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass

from starlette.authentication import AuthCredentials
from starlette.authentication import AuthenticationBackend
from starlette.authentication import BaseUser
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.requests import Request
from starlette.responses import Response

from .users import Role
from .users import Session
from .users import UserDB

__all__ = ["ADMIN", "LOGIN_COOKIE", "PUBLIC_VIEW", "READ", "SESSION", "SESSION_COOKIE", "SET",
           "Endpoint", "NotLoggedIn", "SessionBackend", "Viewer", "requires", "set_cookie",
           "viewer"]

SESSION_COOKIE = "indipyweb_session"
LOGIN_COOKIE = "indipyweb_login"
PUBLIC_VIEW = "public_view"

# The scopes (``request.auth.scopes``): READ anyone who may look (a session or the public
# view); SESSION a logged-in user; SET an operator or admin; ADMIN an admin.
READ = "read"
SESSION = "session"
SET = "set"
ADMIN = "admin"

_DENIED = {READ: "log in first", SESSION: "log in first", SET: "may not set values or delete files",
           ADMIN: "only an admin manages users and settings"}

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Viewer(BaseUser):
    """The person behind a request: a logged-in user (with `session`) or the public."""

    user: str
    role: Role
    session: Session | None

    @property
    def can_set(self) -> bool:
        return self.session is not None and self.role.can_set

    @property
    def is_admin(self) -> bool:
        return self.session is not None and self.role is Role.ADMIN

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.user

    identity = display_name  # Starlette's other name for the same: the user's name

    def scopes(self) -> list[str]:
        scopes = [READ]
        if self.session is not None:
            scopes.append(SESSION)
        if self.can_set:
            scopes.append(SET)
        if self.is_admin:
            scopes.append(ADMIN)
        return scopes


class SessionBackend(AuthenticationBackend):
    """The session cookie (or the public view) -> (scopes, `Viewer`); None: nobody."""

    def __init__(self, db: UserDB) -> None:
        self.db = db

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        found = self.viewer_of(conn)
        return None if found is None else (AuthCredentials(found.scopes()), found)

    def viewer_of(self, conn: HTTPConnection) -> Viewer | None:
        session = self.db.session(conn.cookies.get(SESSION_COOKIE))
        if session is not None:
            return Viewer(session.user, session.role, session)
        if self.db.setting(PUBLIC_VIEW) == "1":
            return Viewer("public", Role.VIEWER, None)
        return None


class NotLoggedIn(HTTPException):
    """401: nobody is logged in (and no public view); pages answer it with the login page."""

    def __init__(self) -> None:
        super().__init__(401, "log in first")


def viewer(request: HTTPConnection) -> Viewer:
    """The request's `Viewer`; `NotLoggedIn` when there is none."""
    found = request.scope.get("user")
    if not isinstance(found, Viewer):
        raise NotLoggedIn
    return found


def requires(scope: str) -> Callable[[Endpoint], Endpoint]:
    """The endpoint needs `scope`: 401 for nobody, 403 (saying why) for a viewer without it."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def checked(request: Request) -> Response:
            who = viewer(request)
            if scope not in request.auth.scopes:
                raise HTTPException(403, f"{who.user} ({who.role}): {_DENIED[scope]}")
            return await endpoint(request)

        return checked

    return decorate


def set_cookie(response: Response, name: str, value: str, *, path: str, secure: bool,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, secure=secure, httponly=True,
                        samesite="strict")
