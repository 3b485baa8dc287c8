"""Who is asking: the session cookie, the public view, roles and CSRF checks for each request.

One policy for pages, the SSE streams and the API: nothing is readable without a session
unless the admin turned on the public (read-only) view; setting needs operator or admin; users
and settings need admin. Every POST carries the session's CSRF token (a form field
``csrf_token`` or the ``X-CSRF-Token`` header htmx and API callers send); the login form, which
has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .users import Role, Session, UserDB

__all__ = ["LOGIN_COOKIE", "SESSION_COOKIE", "Viewer", "check_csrf", "set_cookie", "viewer_of"]

SESSION_COOKIE = "indipyweb_session"
LOGIN_COOKIE = "indipyweb_login"
PUBLIC_VIEW = "public_view"


@dataclass(frozen=True, slots=True)
class Viewer:
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


def viewer_of(request: Request, db: UserDB) -> Viewer | None:
    session = db.session(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        return Viewer(session.user, session.role, session)
    if db.setting(PUBLIC_VIEW) == "1":
        return Viewer("public", Role.VIEWER, None)
    return None


def check_csrf(viewer: Viewer, supplied: object) -> None:
    """403 unless `supplied` is this session's token."""
    expected = viewer.session.csrf if viewer.session is not None else None
    if (expected is None or not isinstance(supplied, str)
            or not hmac.compare_digest(supplied.encode(), expected.encode())):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def set_cookie(response: Response, name: str, value: str, *, path: str, secure: bool,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, secure=secure, httponly=True,
                        samesite="strict")
