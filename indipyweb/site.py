"""`Site`: the state every route reads (one per `make_app`, at ``app.state.web``).

The source, the users, the hub of open pages, the renderer and the settings of this app, and
the helpers the routes share: a page rendered for the request's viewer, cookie settings, the
SSE address of a page. Routes reach it with `site_of(request)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from starlette.requests import HTTPConnection
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .auth import Viewer
from .blobfolder import BlobFolder
from .discovered import DiscoveredServers
from .hub import Hub
from .imaging.store import ImageStore
from .render import Renderer
from .settings import TLSFiles
from .source import DeviceSource
from .switchsource import SwitchableSource
from .throttle import LoginThrottle
from .users import UserDB

__all__ = ["KEEPALIVE", "UPDATE_EVERY", "Site", "quoted", "site_of"]

KEEPALIVE = 15.0
#: The least time between two updates of one open page: a vector set ten times a second (an
#: agent's progress) reaches a phone four times a second, with its latest values each time.
UPDATE_EVERY = 0.25


class Site:
    """See the module docstring."""

    def __init__(self, source: DeviceSource, db: UserDB, blobs: BlobFolder | None, base: str,
                 indihost: str, indiport: int, securecookie: bool, max_upload: int,
                 set_timeout: float) -> None:
        self.source = source
        self.db = db
        self.blobs = blobs
        self.images = ImageStore() if blobs is not None else None
        self.base = base
        self.securecookie = securecookie
        self.max_upload = max_upload
        self.set_timeout = set_timeout
        self.keepalive = KEEPALIVE  # seconds between a stream's keep-alives and policy checks
        self.update_every = UPDATE_EVERY  # seconds at least between two updates of a page
        self.renderer = Renderer(source, blobs, base, indihost, indiport)
        #: The servers on the network, listed for the settings page (the browser cannot).
        self.discovered = DiscoveredServers()
        self.hub = Hub(source, self.renderer.part)
        self.renderer.hub = self.hub
        # Five failures lock a user name; fifty lock an address (behind a proxy every browser
        # has the proxy's address, so the address alone must not lock everyone out soon).
        self.throttle = LoginThrottle(max_failures=5)
        self.address_throttle = LoginThrottle(max_failures=50)
        #: The imager agent's image folder, whose nights ``/night`` draws (None: none).
        self.nights: Path | None = None

    @property
    def switchable(self) -> SwitchableSource | None:
        """The app's own source, which the admin may point elsewhere (None for a source
        handed to make_app)."""
        return self.source if isinstance(self.source, SwitchableSource) else None

    async def switch_server(self, host: str, port: int, blobfolder: Path | None,
                            tls: TLSFiles | None = None) -> None:
        """Connect to another INDI server (its TLS port with `tls`) and BLOB folder (the pages
        follow by themselves)."""
        switchable = self.switchable
        if switchable is None:
            raise RuntimeError("this app's source is not its own")
        if blobfolder is not None:
            blobfolder.mkdir(parents=True, exist_ok=True)
        await switchable.switch(host, port, blobfolder, tls)
        self.blobs = self.renderer.blobs = BlobFolder(blobfolder) if blobfolder else None
        if self.blobs is not None and self.images is None:
            self.images = ImageStore()
        self.renderer.indihost, self.renderer.indiport = host, port

    def secure(self, request: HTTPConnection) -> bool:
        return self.securecookie or request.url.scheme == "https"

    def cookie_path(self) -> str:
        return self.base or "/"

    def html(self, request: Request, template: str, code: int = 200, *, anonymous: bool = False,
             **context: Any) -> HTMLResponse:
        """A page for the request's viewer (as for nobody when `anonymous`: the login page)."""
        ctx: dict[str, Any] = {"user": None, "role": None, "session": None, "csrf": None,
                               "can_set": False, "stream_url": None, "title": ""}
        who = request.scope.get("user")
        if isinstance(who, Viewer) and not anonymous:
            ctx.update(user=who.user, role=str(who.role), session=who.session,
                       csrf=who.session.csrf if who.session else None, can_set=who.can_set)
        ctx.update(context)
        return HTMLResponse(self.renderer.page(template, **ctx), code)

    def stream_url(self, page: str, device: str | None = None) -> str:
        query = {"page": page} | ({"device": device} if device is not None else {})
        return f"{self.base}/stream?{urlencode(query)}"


def site_of(request: HTTPConnection) -> Site:
    site = request.app.state.web
    assert isinstance(site, Site)
    return site


def quoted(text: str) -> str:
    """`text` as one path segment."""
    return quote(text, safe="")
