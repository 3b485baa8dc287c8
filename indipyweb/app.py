"""`make_app`: the indipyweb ASGI application (Starlette), for uvicorn or any ASGI server.

Routes (all under the base path): ``/login`` ``/logout``; ``/`` instruments, ``/messages``,
``/device/{device}`` (POST ``/device/{device}/{vector}`` sets), ``/blobs`` (``file``, ``view``,
``delete``), ``/users`` and ``/settings`` for admins; ``/stream`` the SSE stream of a page;
``/api``, ``/api/{device}``, ``/api/{device}/{vector}`` (GET the snapshot shape, POST JSON to
set), ``/api/session`` and ``/api/login``; ``/static`` the vendored htmx, SSE extension and uPlot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .auth import (
    LOGIN_COOKIE,
    PUBLIC_VIEW,
    SESSION_COOKIE,
    Viewer,
    check_csrf,
    set_cookie,
    viewer_of,
)
from .blobfolder import BlobFolder
from .hub import Hub
from .render import Renderer, sse_event
from .source import DeviceSource, InvalidValue, SetResult
from .throttle import LoginThrottle
from .users import SESSION_SECONDS, Role, UserDB
from .values import check_members, form_members

__all__ = ["make_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE = 15.0
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _BodyLimit:
    """413 for a request body over `limit` bytes, told by Content-Length or counted as it
    arrives (a chunked upload cannot sneak past), before any of it is parsed or sent on."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.limit:
                response = Response(f"request body over {self.limit} bytes", 413)
                await response(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


class _SecurityHeaders:
    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
         b"frame-ancestors 'none'; form-action 'self'"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


class WebApp:
    """The state behind the routes (one per `make_app`)."""

    def __init__(self, source: DeviceSource, db: UserDB, blobs: BlobFolder | None, base: str,
                 indihost: str, indiport: int, securecookie: bool, max_upload: int,
                 set_timeout: float) -> None:
        self.source = source
        self.db = db
        self.blobs = blobs
        self.base = base
        self.securecookie = securecookie
        self.max_upload = max_upload
        self.set_timeout = set_timeout
        self.keepalive = KEEPALIVE  # seconds between a stream's keep-alives and policy checks
        self.renderer = Renderer(source, blobs, base, indihost, indiport)
        self.hub = Hub(source, self.renderer.part)
        self.renderer.hub = self.hub
        # Five failures lock a user name; fifty lock an address (behind a proxy every browser
        # has the proxy's address, so the address alone must not lock everyone out soon).
        self.throttle = LoginThrottle(max_failures=5)
        self.address_throttle = LoginThrottle(max_failures=50)

    # -- helpers ---------------------------------------------------------------------------

    def secure(self, request: Request) -> bool:
        return self.securecookie or request.url.scheme == "https"

    def cookie_path(self) -> str:
        return self.base or "/"

    def viewer(self, request: Request, *, api: bool = False) -> Viewer:
        viewer = viewer_of(request, self.db)
        if viewer is None:
            if api or request.headers.get("hx-request"):
                raise HTTPException(401, "log in first")
            raise HTTPException(303, headers={"Location": f"{self.base}/login"})
        return viewer

    def html(self, request: Request, template: str, viewer: Viewer | None, code: int = 200,
             **context: Any) -> HTMLResponse:
        ctx: dict[str, Any] = {"user": None, "role": None, "session": None, "csrf": None,
                               "can_set": False, "stream_url": None, "title": ""}
        if viewer is not None:
            ctx.update(user=viewer.user, role=str(viewer.role), session=viewer.session,
                       csrf=viewer.session.csrf if viewer.session else None,
                       can_set=viewer.can_set)
        ctx.update(context)
        return HTMLResponse(self.renderer.page(template, **ctx), code)

    def stream_url(self, page: str, device: str | None = None) -> str:
        from urllib.parse import urlencode

        query = {"page": page} | ({"device": device} if device is not None else {})
        return f"{self.base}/stream?{urlencode(query)}"

    # -- login -----------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = self.html(request, "login.html", None, title="Log in", login_csrf=token)
        set_cookie(response, LOGIN_COOKIE, token, path=self.cookie_path(),
                   secure=self.secure(request))
        return response

    async def login(self, request: Request) -> Response:
        form = await request.form()
        name = str(form.get("username", ""))[:64]
        password = str(form.get("password", ""))
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        supplied = form.get("csrf_token")
        if not cookie or not isinstance(supplied, str) or not secrets.compare_digest(
                cookie.encode(), supplied.encode()):
            raise HTTPException(403, "missing or wrong CSRF token: reload the login page")
        token = self._check_login(request, name, password)
        if token is None:
            token_again = secrets.token_urlsafe(24)
            response = self.html(request, "login.html", None, 401, title="Log in",
                                 login_csrf=token_again, username=name,
                                 error="Wrong user name or password.")
            set_cookie(response, LOGIN_COOKIE, token_again, path=self.cookie_path(),
                       secure=self.secure(request))
            return response
        redirect = RedirectResponse(f"{self.base}/", 303)
        self._session_cookie(request, redirect, token)
        redirect.delete_cookie(LOGIN_COOKIE, path=self.cookie_path())
        return redirect

    def _check_login(self, request: Request, name: str, password: str) -> str | None:
        address = f"ip:{request.client.host if request.client else '?'}"
        user = f"user:{name}"
        if self.throttle.blocked(user) or self.address_throttle.blocked(address):
            raise HTTPException(429, "too many failed log-ins: wait a few minutes")
        if self.db.check_password(name, password) is None:
            self.throttle.failed(user)
            self.address_throttle.failed(address)
            logger.info("failed log-in for %r from %s", name, address)
            return None
        self.throttle.succeeded(user)
        return self.db.new_session(name)

    def _session_cookie(self, request: Request, response: Response, token: str) -> None:
        set_cookie(response, SESSION_COOKIE, token, path=self.cookie_path(),
                   secure=self.secure(request), max_age=SESSION_SECONDS)

    async def api_login(self, request: Request) -> Response:
        """JSON log-in for scripts ({"username", "password"}): a cross-site page cannot send
        JSON without a CORS preflight, which this app never answers, so no CSRF token here."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(415, "send JSON")
        body = await _json_body(request)
        token = self._check_login(request, str(body.get("username", ""))[:64],
                                  str(body.get("password", "")))
        if token is None:
            raise HTTPException(401, "wrong user name or password")
        session = self.db.session(token)
        assert session is not None
        response = JSONResponse({"user": session.user, "role": str(session.role),
                                 "csrf": session.csrf})
        self._session_cookie(request, response, token)
        return response

    async def logout(self, request: Request) -> Response:
        viewer = self.viewer(request)
        form = await request.form()
        check_csrf(viewer, form.get("csrf_token") or request.headers.get("x-csrf-token"))
        self.db.end_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{self.base}/login", 303)
        response.delete_cookie(SESSION_COOKIE, path=self.cookie_path())
        return response

    # -- pages -----------------------------------------------------------------------------

    async def devices(self, request: Request) -> Response:
        viewer = self.viewer(request)
        return self.html(request, "devices.html", viewer, title="Instruments", page="devices",
                         devices=self.renderer.devices(), stream_url=self.stream_url("devices"))

    async def messages(self, request: Request) -> Response:
        viewer = self.viewer(request)
        return self.html(request, "messages.html", viewer, title="Messages", page="messages",
                         messages=self.renderer.messages(),
                         stream_url=self.stream_url("messages"))

    async def device(self, request: Request) -> Response:
        viewer = self.viewer(request)
        device = request.path_params["device"]
        if device not in self.source.snapshot()["devices"]:
            raise HTTPException(404, f"no device {device!r} (yet)")
        return self.html(request, "device.html", viewer, title=device, page="device",
                         device=device, groups=self.renderer.groups(device),
                         devmessages=self.renderer.device_messages(device),
                         stream_url=self.stream_url("device", device))

    async def set_vector(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if not viewer.can_set:
            raise HTTPException(403, f"{viewer.user} ({viewer.role}) may not set values")
        device, name = request.path_params["device"], request.path_params["vector"]
        async with request.form(max_files=64, max_fields=1000,
                                max_part_size=self.max_upload) as form:
            result = await self._set_from_form(viewer, request, device, name, form)
        text = f"{result.state}{' (timed out)' if result.timed_out else ''}"
        if result.message:
            text += f": {result.message}"
        if request.headers.get("hx-request"):
            return HTMLResponse(self.renderer.env.from_string(
                '<span class="result state-{{ s|lower }}">{{ t }}</span>').render(
                    s=result.state, t=text))
        return RedirectResponse(f"{self.base}/device/{_q(device)}", 303)

    async def _set_from_form(self, viewer: Viewer, request: Request, device: str, name: str,
                             form: FormData) -> SetResult:
        check_csrf(viewer, form.get("csrf_token") or request.headers.get("x-csrf-token"))
        vec = self.source.vector(device, name)
        if vec is None:
            raise HTTPException(404, f"no vector {device}.{name}")
        uploads: dict[str, tuple[str, bytes]] = {}
        for key, value in form.multi_items():
            if key.startswith("f.") and isinstance(value, UploadFile) and value.filename:
                uploads[key[2:]] = (value.filename, await value.read(self.max_upload + 1))
        try:
            members = check_members(vec, form_members(vec, dict(form.items()), uploads,
                                                       compress=form.get("compress") == "1"))
            return await self.source.set(device, name, members, timeout=self.set_timeout)
        except InvalidValue as exc:
            raise HTTPException(400, str(exc)) from None
        except ConnectionError as exc:
            raise HTTPException(503, str(exc)) from None

    # -- BLOBs -----------------------------------------------------------------------------

    async def blob_list(self, request: Request) -> Response:
        viewer = self.viewer(request)
        return self.html(request, "blobs.html", viewer, title="BLOBs", page="blobs",
                         files=self.renderer.blob_files(), folder=self.blobs is not None,
                         stream_url=self.stream_url("blobs"))

    def _blob_path(self, name: str) -> Path:
        path = self.blobs.path(name) if self.blobs is not None else None
        if path is None:
            raise HTTPException(404, "no such BLOB file")
        return path

    async def blob_file(self, request: Request) -> Response:
        self.viewer(request)
        path = self._blob_path(request.path_params["name"])
        return FileResponse(path, filename=path.name, media_type="application/octet-stream")

    async def blob_view(self, request: Request) -> Response:
        self.viewer(request)
        name = request.path_params["name"]
        self._blob_path(name)
        assert self.blobs is not None
        preview = await asyncio.to_thread(self.blobs.preview, name)
        if preview is None:
            raise HTTPException(415, "no preview for this file")
        data, media = preview
        return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})

    async def blob_delete(self, request: Request) -> Response:
        viewer = self.viewer(request)
        form = await request.form()
        check_csrf(viewer, form.get("csrf_token") or request.headers.get("x-csrf-token"))
        if not viewer.can_set:
            raise HTTPException(403, f"{viewer.user} ({viewer.role}) may not delete BLOBs")
        self._blob_path(request.path_params["name"])
        assert self.blobs is not None
        self.blobs.delete(request.path_params["name"])
        return RedirectResponse(f"{self.base}/blobs", 303)

    # -- users and settings ----------------------------------------------------------------

    def _admin(self, request: Request) -> Viewer:
        viewer = self.viewer(request)
        if not viewer.is_admin:
            raise HTTPException(403, "only an admin manages users and settings")
        return viewer

    def _users_page(self, request: Request, viewer: Viewer, status: int = 200,
                    **context: Any) -> Response:
        return self.html(request, "users.html", viewer, status, title="Users", page="users",
                         users=self.db.users(), roles=[str(r) for r in Role],
                         public_view=self.db.setting(PUBLIC_VIEW) == "1", **context)

    async def users(self, request: Request) -> Response:
        return self._users_page(request, self._admin(request))

    async def user_save(self, request: Request) -> Response:
        viewer = self._admin(request)
        form = await request.form()
        check_csrf(viewer, form.get("csrf_token"))
        name = str(form.get("username", ""))
        try:
            self.db.set_user(name, str(form.get("password", "")), str(form.get("role", "")))
        except ValueError as exc:
            return self._users_page(request, viewer, 400, error=str(exc))
        return self._users_page(request, viewer, done=f"User {name} saved.")

    async def user_delete(self, request: Request) -> Response:
        viewer = self._admin(request)
        form = await request.form()
        check_csrf(viewer, form.get("csrf_token"))
        name = str(form.get("username", ""))
        if name == viewer.user:
            return self._users_page(request, viewer, 400, error="You cannot delete yourself.")
        self.db.delete_user(name)
        return self._users_page(request, viewer, done=f"User {name} deleted.")

    async def settings(self, request: Request) -> Response:
        viewer = self._admin(request)
        form = await request.form()
        check_csrf(viewer, form.get("csrf_token"))
        self.db.set_setting(PUBLIC_VIEW, "1" if form.get("public_view") == "1" else "0")
        return self._users_page(request, viewer, done="Settings saved.")

    # -- the SSE stream --------------------------------------------------------------------

    async def stream(self, request: Request) -> Response:
        viewer = self.viewer(request, api=True)
        page = request.query_params.get("page", "devices")
        if page not in ("devices", "messages", "device", "blobs"):
            raise HTTPException(400, "unknown page")
        device = request.query_params.get("device") if page == "device" else None
        if page == "device" and not device:
            raise HTTPException(400, "which device?")
        token = request.cookies.get(SESSION_COOKIE)
        sub = self.hub.subscribe(page, device, viewer.can_set)

        def still_allowed() -> bool:
            """Logged out, user deleted, or the public view turned off: the stream ends."""
            if viewer.session is not None:
                return self.db.session(token) is not None
            return self.db.setting(PUBLIC_VIEW) == "1"

        async def events() -> AsyncIterator[bytes]:
            checked = time.monotonic()
            try:
                yield b"retry: 2000\n\n"
                while True:
                    try:
                        async with asyncio.timeout(self.keepalive):
                            parts, overflowed = await sub.parts.get()
                    except TimeoutError:
                        parts, overflowed = [], False
                    if time.monotonic() - checked >= self.keepalive:
                        if not still_allowed():
                            return
                        checked = time.monotonic()
                    if not parts and not overflowed:
                        yield b": keep-alive\n\n"
                        continue
                    if overflowed:
                        parts = [("conn",), *sub.whole()]
                    html = "\n".join(self.hub.render_part(p, sub.can_set) for p in parts)
                    yield sse_event("update", html)
            finally:
                self.hub.unsubscribe(sub)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # -- the JSON API ----------------------------------------------------------------------

    async def api_session(self, request: Request) -> Response:
        viewer = self.viewer(request, api=True)
        return JSONResponse({"user": viewer.user, "role": str(viewer.role),
                             "csrf": viewer.session.csrf if viewer.session else None})

    async def api_get(self, request: Request) -> Response:
        self.viewer(request, api=True)
        snap = self.source.snapshot()
        device = request.path_params.get("device")
        if device is None:
            return JSONResponse(snap)
        dev = snap["devices"].get(device)
        if dev is None:
            raise HTTPException(404, f"no device {device!r}")
        vector = request.path_params.get("vector")
        if vector is None:
            return JSONResponse(dev)
        vec = dev["vectors"].get(vector)
        if vec is None:
            raise HTTPException(404, f"no vector {device}.{vector}")
        return JSONResponse(vec)

    async def api_set(self, request: Request) -> Response:
        viewer = self.viewer(request, api=True)
        check_csrf(viewer, request.headers.get("x-csrf-token"))
        if not viewer.can_set:
            raise HTTPException(403, f"{viewer.user} ({viewer.role}) may not set values")
        device, name = request.path_params["device"], request.path_params["vector"]
        body = await _json_body(request)
        vec = self.source.vector(device, name)
        if vec is None:
            raise HTTPException(404, f"no vector {device}.{name}")
        members = body.get("members")
        timeout = body.get("timeout", self.set_timeout)
        if not isinstance(members, dict):
            raise HTTPException(400, 'send {"members": {"NAME": value, ...}}')
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            raise HTTPException(400, "timeout: seconds, more than 0 and at most 600")
        if vec["vectortype"] == "BLOBVector":
            raise HTTPException(400, "BLOBs are uploaded from the device page, not the JSON API")
        try:
            checked = check_members(vec, members)
            result = await self.source.set(device, name, checked, timeout=float(timeout))
        except InvalidValue as exc:
            raise HTTPException(400, str(exc)) from None
        except ConnectionError as exc:
            raise HTTPException(503, str(exc)) from None
        return JSONResponse({"state": result.state, "message": result.message,
                             "timed_out": result.timed_out,
                             "vector": self.source.vector(device, name)})

    # -- errors ----------------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (301, 302, 303, 307):
            return Response(status_code=exc.status_code, headers=exc.headers)
        path = request.url.path[len(self.base):]
        if path.startswith(("/api", "/stream")):
            return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)
        if request.headers.get("hx-request"):
            return HTMLResponse(self.renderer.env.from_string(
                '<span class="error" role="alert">{{ m }}</span>').render(m=exc.detail),
                exc.status_code)
        return self.html(request, "error.html", viewer_of(request, self.db), exc.status_code,
                         title="Error", status=exc.status_code, message=exc.detail)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.devices),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/messages", self.messages),
            Route("/device/{device}", self.device),
            Route("/device/{device}/{vector}", self.set_vector, methods=["POST"]),
            Route("/blobs", self.blob_list),
            Route("/blobs/file/{name:path}", self.blob_file),
            Route("/blobs/view/{name:path}", self.blob_view),
            Route("/blobs/delete/{name:path}", self.blob_delete, methods=["POST"]),
            Route("/users", self.users, methods=["GET"]),
            Route("/users", self.user_save, methods=["POST"]),
            Route("/users/delete", self.user_delete, methods=["POST"]),
            Route("/settings", self.settings, methods=["POST"]),
            Route("/stream", self.stream),
            Route("/api/session", self.api_session),
            Route("/api/login", self.api_login, methods=["POST"]),
            Route("/api", self.api_get),
            Route("/api/{device}", self.api_get),
            Route("/api/{device}/{vector}", self.api_get, methods=["GET"]),
            Route("/api/{device}/{vector}", self.api_set, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _basepath(basepath: str) -> str:
    base = "/" + basepath.strip("/") if basepath.strip("/") else ""
    return base


def make_app(source: DeviceSource | None = None, *, indihost: str = "localhost",
             indiport: int = 7624, dbfolder: str | Path = ".",
             blobfolder: str | Path | None = None, basepath: str = "",
             securecookie: bool = False, max_upload_mb: float = 50.0,
             set_timeout: float = 10.0) -> Starlette:
    """The ASGI app. With no `source`, an indipyclient connection to `indihost`:`indiport` is made
    when the app starts (received BLOBs saved in `blobfolder`). The user database is
    ``indipyweb.db`` in `dbfolder`; with no user yet, an ``admin`` with a random password is
    created and the password logged once (the ``indipyweb`` command prints it instead).
    `basepath` ("/telescope") serves every page under that prefix (behind a proxy);
    `securecookie` marks cookies Secure when a TLS proxy sits in front."""
    if source is None:
        from .clientsource import ClientSource

        source = ClientSource(indihost, indiport, blobfolder)
    db = UserDB(dbfolder)
    password = db.ensure_admin()
    if password is not None:
        logger.warning("created the user 'admin' with the password %s (shown once)", password)
    base = _basepath(basepath)
    web = WebApp(source, db, BlobFolder(blobfolder) if blobfolder is not None else None, base,
                 indihost, indiport, securecookie, int(max_upload_mb * 1024 * 1024),
                 set_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with source, web.hub.running():
            yield
        db.close()

    routes: list[BaseRoute] = web.routes()
    if base:
        routes = [Mount(base, routes=routes),
                  Route("/", lambda request: RedirectResponse(f"{base}/", 307))]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: web.http_error})
    app.state.web = web
    app.add_middleware(_BodyLimit, limit=int(max_upload_mb * 1024 * 1024) + 256 * 1024)
    app.add_middleware(_SecurityHeaders)
    return app
