"""Users and settings, for admins: the users page, adding or changing a user (resetting their
password), deleting one, the public view, the INDI server and BLOB folder, and the servers found
on the network to pick it from (``/discovered`` as JSON, ``/settings/discovered`` the page's
part, which htmx reloads). A new password is hashed off the event loop (`UserDB.aset_user`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from indipydiscovery.service import Service

from ..auth import ADMIN
from ..auth import PUBLIC_VIEW
from ..auth import requires
from ..auth import viewer
from ..discovered import Listing
from ..settings import BLOBFOLDER
from ..settings import INDIHOST
from ..settings import INDIPORT
from ..settings import TLS_SETTINGS
from ..settings import TLSFiles
from ..site import site_of
from ..users import Role

__all__ = ["ROUTES"]


def _users_page(request: Request, status: int = 200, **context: Any) -> Response:
    site = site_of(request)
    own = site.switchable
    server = None if own is None else {
        "host": own.host, "port": own.port,
        "blobfolder": str(own.blobfolder) if own.blobfolder is not None else "",
        "tls": dict(zip(TLS_SETTINGS, (own.tls.ca, own.tls.cert, own.tls.key)
                        if own.tls is not None else ("", "", ""), strict=True))}
    return site.html(request, "users.html", status, title="Users", page="users",
                     users=site.db.users(), roles=[str(r) for r in Role],
                     public_view=site.db.setting(PUBLIC_VIEW) == "1", server=server, **context)


def _tls_form(form: Any) -> TLSFiles | None:
    """The TLS files from the server form (full paths; no CA: plain TCP), checked by making
    their context; ValueError says which file is wrong and why."""
    files = TLSFiles(*(str(form.get(name, "")).strip() for name in TLS_SETTINGS))
    if not files.ca:
        if files.cert or files.key:
            raise ValueError("A client certificate is for a TLS port: give the CA file too.")
        return None
    if not all(Path(p).is_absolute() for p in (files.ca, files.cert, files.key) if p):
        raise ValueError("The TLS files are full paths, such as /home/me/tls/ca.crt.")
    files.context()
    return files


def _server_form(form: Any) -> tuple[str, int, Path | None]:
    """The INDI server's host and port and the BLOB folder from the form; ValueError says why
    one is wrong."""
    host = str(form.get("indihost", "")).strip()
    if not host or len(host) > 253 or any(c.isspace() or c in "/\\@" for c in host):
        raise ValueError("The host is a name or an address, such as localhost or 192.168.1.20.")
    try:
        port = int(str(form.get("indiport", "")).strip())
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ValueError("The port is a number from 1 to 65535 (INDI's is 7624).")
    folder = str(form.get("blobfolder", "")).strip()
    if folder and not Path(folder).is_absolute():
        raise ValueError("The BLOB folder is a full path, such as /home/me/indi-blobs "
                         "(or empty: BLOBs are not asked for).")
    return host, port, Path(folder) if folder else None


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


@requires(ADMIN)
async def server_settings(request: Request) -> Response:
    """Point the app at another INDI server or BLOB folder: saved, and connected at once."""
    site = site_of(request)
    if site.switchable is None:
        return _users_page(request, 400, error="This app was given its source: the INDI "
                           "server is not set here.")
    form = await request.form()
    try:
        host, port, folder = _server_form(form)
        tls = _tls_form(form)
        await site.switch_server(host, port, folder, tls)
    except (ValueError, OSError) as exc:
        return _users_page(request, 400, error=str(exc))
    site.db.set_setting(INDIHOST, host)
    site.db.set_setting(INDIPORT, str(port))
    site.db.set_setting(BLOBFOLDER, str(folder) if folder is not None else "")
    for name, value in zip(TLS_SETTINGS, (tls.ca, tls.cert, tls.key) if tls else ("", "", ""),
                           strict=True):
        site.db.set_setting(name, value)
    return _users_page(request, done=f"Connecting to the INDI server {host}:{port}"
                       f"{' over TLS' if tls else ''}"
                       f"{f'; BLOBs saved in {folder}' if folder else '; BLOBs not asked for'}.")


@requires(ADMIN)
async def discovered(request: Request) -> Response:
    """The servers the web client's server found on the network (``Listing.as_json``)."""
    return JSONResponse((await site_of(request).discovered.current()).as_json())


def _pick(service: Service, tls: dict[str, str]) -> dict[str, str] | None:
    """The server form's fields that connect to `service` (its TLS port, keeping the TLS
    files, when they are set and it announces one; else its port, plain TCP); None for what
    the web client cannot connect to (an Alpaca server)."""
    if service.kind == "alpaca":
        return None
    fields = {"indihost": service.address, "indiport": str(service.port)}
    if tls.get(TLS_SETTINGS[0]) and service.tls_port:
        return fields | {"indiport": str(service.tls_port)} | tls
    return fields | dict.fromkeys(TLS_SETTINGS, "")


@requires(ADMIN)
async def discovered_part(request: Request) -> Response:
    """The settings page's list of servers found, each INDI or INDIGO one with a button that
    connects to it (the server form's POST, with the BLOB folder kept)."""
    site = site_of(request)
    own = site.switchable
    listing: Listing = await site.discovered.current()
    tls = dict(zip(TLS_SETTINGS, (own.tls.ca, own.tls.cert, own.tls.key), strict=True)) \
        if own is not None and own.tls is not None else {}
    folder = str(own.blobfolder) if own is not None and own.blobfolder is not None else ""
    rows = [(s, _pick(s, tls)) for s in listing.services]
    who = viewer(request)
    html = site.renderer.page("_discovered.html", listing=listing, rows=rows, blobfolder=folder,
                              csrf=who.session.csrf if who.session else None,
                              current=(own.host, own.port) if own is not None else None)
    return HTMLResponse(html)


ROUTES = [
    Route("/discovered", discovered, methods=["GET"]),
    Route("/settings/discovered", discovered_part, methods=["GET"]),
    Route("/settings/server", server_settings, methods=["POST"]),
    Route("/users", users, methods=["GET"]),
    Route("/users", user_save, methods=["POST"]),
    Route("/users/delete", user_delete, methods=["POST"]),
    Route("/settings", settings, methods=["POST"]),
]
