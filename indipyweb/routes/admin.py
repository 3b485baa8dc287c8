"""Users and settings, for admins: the users page, adding or changing a user, deleting one,
the public view. A new password is hashed off the event loop (`UserDB.aset_user`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import ADMIN, PUBLIC_VIEW, requires, viewer
from ..site import site_of
from ..users import Role

__all__ = ["ROUTES"]


def _users_page(request: Request, status: int = 200, **context: Any) -> Response:
    site = site_of(request)
    return site.html(request, "users.html", status, title="Users", page="users",
                     users=site.db.users(), roles=[str(r) for r in Role],
                     public_view=site.db.setting(PUBLIC_VIEW) == "1", **context)


@requires(ADMIN)
async def users(request: Request) -> Response:
    return _users_page(request)


@requires(ADMIN)
async def user_save(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("username", ""))
    try:
        await site_of(request).db.aset_user(name, str(form.get("password", "")),
                                            str(form.get("role", "")))
    except ValueError as exc:
        return _users_page(request, 400, error=str(exc))
    return _users_page(request, done=f"User {name} saved.")


@requires(ADMIN)
async def user_delete(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("username", ""))
    if name == viewer(request).user:
        return _users_page(request, 400, error="You cannot delete yourself.")
    site_of(request).db.delete_user(name)
    return _users_page(request, done=f"User {name} deleted.")


@requires(ADMIN)
async def settings(request: Request) -> Response:
    form = await request.form()
    site_of(request).db.set_setting(PUBLIC_VIEW, "1" if form.get("public_view") == "1" else "0")
    return _users_page(request, done="Settings saved.")


ROUTES = [
    Route("/users", users, methods=["GET"]),
    Route("/users", user_save, methods=["POST"]),
    Route("/users/delete", user_delete, methods=["POST"]),
    Route("/settings", settings, methods=["POST"]),
]
