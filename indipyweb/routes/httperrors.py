"""The one error handler: every `HTTPException` answered as the asker reads it -- JSON for the
API and the stream, an htmx fragment for htmx, the error page otherwise; a page asked for by
nobody (401) is a redirect to the login page, which comes back to that page once logged in
(``?next=``: the link a night's end notification sends, ``/night/<folder>``)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response

from ..site import site_of

__all__ = ["http_error"]

_FRAGMENT = '<span class="error" role="alert">{{ m }}</span>'


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    site = site_of(request)
    if exc.status_code in (301, 302, 303, 307):
        return Response(status_code=exc.status_code, headers=exc.headers)
    path = request.url.path[len(site.base):]
    if path.startswith(("/api", "/stream")):
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)
    if request.headers.get("hx-request"):
        return HTMLResponse(site.renderer.env.from_string(_FRAGMENT).render(m=exc.detail),
                            exc.status_code)
    if exc.status_code == 401:
        back = path + (f"?{request.url.query}" if request.url.query else "")
        asked = f"?next={quote(back)}" if request.method == "GET" and path not in ("", "/") \
            else ""
        return RedirectResponse(f"{site.base}/login{asked}", 303)
    return site.html(request, "error.html", exc.status_code, title="Error",
                     status=exc.status_code, message=exc.detail)
