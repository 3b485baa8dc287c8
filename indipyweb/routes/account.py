"""A user's own account: changing their password (the current one asked first). Hashing is off
the event loop (`UserDB.acheck_password`, `aset_user`); the user's other sessions end, this
browser gets a new one."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import SESSION
from ..auth import SESSION_COOKIE
from ..auth import requires
from ..auth import set_cookie
from ..auth import viewer
from ..site import site_of
from ..users import SESSION_SECONDS

__all__ = ["ROUTES"]


def _page(request: Request, status: int = 200, **context: Any) -> Response:
    return site_of(request).html(request, "password.html", status, title="Password",
                                 page="password", **context)


@requires(SESSION)
async def password_form(request: Request) -> Response:
    return _page(request, done="Your password was changed." if "done" in request.query_params
                 else None)


@requires(SESSION)
async def password_change(request: Request) -> Response:
    site = site_of(request)
    who = viewer(request)
    form = await request.form()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    role = await site.db.acheck_password(who.user, current)
    if role is None:
        return _page(request, 400, error="The current password is not right.")
    if new != again:
        return _page(request, 400, error="The two new passwords differ.")
    try:
        await site.db.aset_user(who.user, new, role)
    except ValueError as exc:
        return _page(request, 400, error=str(exc))
    response = RedirectResponse(f"{site.base}/password?done", 303)
    set_cookie(response, SESSION_COOKIE, site.db.new_session(who.user), path=site.cookie_path(),
               secure=site.secure(request), max_age=SESSION_SECONDS)
    return response


ROUTES = [
    Route("/password", password_form, methods=["GET"]),
    Route("/password", password_change, methods=["POST"]),
]
