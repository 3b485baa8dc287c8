"""`make_app`: the indipyweb ASGI application (Starlette), for uvicorn or any ASGI server.

Routes (all under the base path): ``/login`` ``/logout``; ``/`` instruments, ``/messages``,
``/device/{device}`` (POST ``/device/{device}/{vector}`` sets), ``/blobs`` (``file``, ``view``,
``delete``), ``/users`` and ``/settings`` for admins; ``/stream`` the SSE stream of a page;
``/api``, ``/api/{device}``, ``/api/{device}/{vector}`` (GET the snapshot shape, POST JSON to
set), ``/api/session`` and ``/api/login``; ``/night``, ``/night/{folder}`` and ``/api/night``,
``/api/night/{folder}`` the imager agent's nights (``nights``); ``/static`` the vendored htmx, SSE extension and uPlot.

The app is composed here: the routes (``routes/``, a module per concern, each route stating its
scope), Starlette's ``AuthenticationMiddleware`` with our `auth.SessionBackend`, the CSRF check
of every unsafe route (`csrf.guard`), the body limit and security headers (`middleware`), the
one error handler, and the `site.Site` the routes read.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute
from starlette.routing import Mount
from starlette.routing import Route

from .auth import SessionBackend
from .blobfolder import BlobFolder
from .middleware import BodyLimit
from .middleware import SecurityHeaders
from .routes import web_routes
from .routes.httperrors import http_error
from .settings import TLSFiles
from .settings import saved_server_settings
from .settings import saved_tls_files
from .site import Site
from .source import DeviceSource
from .users import UserDB

__all__ = ["make_app"]

logger = logging.getLogger(__name__)


def _basepath(basepath: str) -> str:
    return "/" + basepath.strip("/") if basepath.strip("/") else ""


def make_app(source: DeviceSource | None = None, *, indihost: str | None = None,
             indiport: int | None = None, dbfolder: str | Path | None = None,
             blobfolder: str | Path | None = None, basepath: str = "",
             securecookie: bool = False, max_upload_mb: float = 50.0,
             set_timeout: float = 10.0, saved_server: bool = True,
             indi_tls: TLSFiles | None = None,
             mdns_interfaces: Sequence[str] | None = None,
             nights: str | Path | None = None) -> Starlette:
    """The ASGI app. With no `source`, an indipyclient connection to `indihost`:`indiport` is made
    when the app starts (received BLOBs saved in `blobfolder`); tests pass their own source (an
    `indipyweb.memorysource.MemorySource`, say). The user database is ``indipyweb.db`` in
    `dbfolder`; with no user yet, an ``admin`` with a random password is created when the app
    starts and the password logged once (the ``indipyweb`` command prints it instead); no
    `dbfolder`: the user's data folder (`users.default_dbfolder`).
    `basepath` ("/telescope") serves every page under that prefix (behind a proxy);
    `securecookie` marks cookies Secure when a TLS proxy sits in front. The INDI server and
    BLOB folder an admin saved in the app (the Users page) win over `indihost`, `indiport` and
    `blobfolder` unless `saved_server` is False. `mdns_interfaces`: where the settings page's
    servers are listed (``discovered``; None: ``INDIPY_MDNS_INTERFACES``, else every one). With a `source` and no `indihost`/`indiport`,
    the pages name the INDI server the source's snapshot names (a `RedisSource` is told the one
    its bridge is connected to). `indi_tls`: the INDI server's TLS port is used, with these
    files (saved TLS files win as the server does). `nights`: the imager agent's image folder,
    whose nights ``/night`` draws (`routes.night`; None: none)."""
    db = UserDB(dbfolder)
    if source is not None and (indihost is None or indiport is None):
        snap = source.snapshot()
        indihost = indihost if indihost is not None else str(snap.get("indihost", "localhost"))
        indiport = indiport if indiport is not None else int(snap.get("indiport", 7624))
    indihost = indihost if indihost is not None else "localhost"
    indiport = indiport if indiport is not None else 7624
    if source is None:
        from .clientsource import ClientSource
        from .switchsource import SwitchableSource

        if saved_server:
            indihost, indiport, blobfolder = saved_server_settings(db, indihost, indiport,
                                                                   blobfolder)
            indi_tls = saved_tls_files(db, indi_tls)
        source = SwitchableSource(ClientSource, indihost, indiport,
                                  Path(blobfolder) if blobfolder is not None else None,
                                  indi_tls)
    base = _basepath(basepath)
    max_upload = int(max_upload_mb * 1024 * 1024)
    site = Site(source, db, BlobFolder(blobfolder) if blobfolder is not None else None, base,
                indihost, indiport, securecookie, max_upload, set_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        password = await db.aensure_admin()
        if password is not None:
            logger.warning("created the user 'admin' with the password %s (shown once)", password)
        async with site.source, site.hub.running(), site.discovered.running():
            yield
        if site.images is not None:
            site.images.close()
        db.close()

    routes: list[BaseRoute] = web_routes(max_upload)
    if base:
        routes = [Mount(base, routes=routes),
                  Route("/", lambda request: RedirectResponse(f"{base}/", 307))]
    middleware = [  # outermost first
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, limit=max_upload + 256 * 1024),
        Middleware(AuthenticationMiddleware, backend=SessionBackend(db)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware,
                    exception_handlers={HTTPException: http_error})
    site.discovered.interfaces = mdns_interfaces
    site.nights = Path(nights) if nights is not None else None
    app.state.web = site
    return app
