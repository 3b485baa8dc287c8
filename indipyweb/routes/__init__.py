"""The web app's routes, a module per concern; `web_routes` composes them for `make_app`.

``pages`` the instruments, messages and device pages; ``login`` log-in and log-out (form and
JSON); ``account`` a user's own password; ``setvector`` setting a vector from its form; ``files`` the received files; ``images`` the image viewer; ``admin``
users and settings; ``stream`` the SSE stream of an open page; ``api`` the JSON API; ``night`` the imager agent's nights drawn;
``httperrors`` the one error handler. Each route states the scope it needs once (`auth.requires`);
every route that takes an unsafe method gets its CSRF check from `csrf.guard`, here.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..csrf import guard
from . import account
from . import admin
from . import api
from . import files
from . import images
from . import login
from . import night
from . import pages
from . import schedule
from . import setvector
from . import stream

__all__ = ["STATIC", "web_routes"]

STATIC = Path(__file__).resolve().parent.parent / "static"


def web_routes(max_upload: int) -> list[BaseRoute]:
    """Every route (under the base path), in matching order: ``/api/login`` and
    ``/api/session`` before ``/api/{device}``."""
    routes = [*pages.ROUTES, *login.ROUTES, *account.ROUTES, *setvector.ROUTES, *files.ROUTES, *images.ROUTES, *admin.ROUTES, *schedule.ROUTES, *night.ROUTES,
              *stream.ROUTES, *api.ROUTES]
    return [*guard(routes, max_upload),
            Mount("/static", StaticFiles(directory=STATIC), name="static")]
