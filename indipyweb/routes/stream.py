"""The SSE stream of an open page: the parts of the page to swap in, rendered as they change.

Updates are sent at most once every `Site.update_every` seconds (the parts that changed
meanwhile merged, each sent with its latest values). It ends by itself when its viewer may
no longer read (logged out, user deleted, the public view turned off), checked at each
keep-alive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.responses import StreamingResponse
from starlette.routing import Route

from ..auth import PUBLIC_VIEW
from ..auth import READ
from ..auth import SESSION_COOKIE
from ..auth import requires
from ..auth import viewer
from ..render import sse_event
from ..site import site_of

__all__ = ["ROUTES"]

PAGES = ("devices", "messages", "device", "blobs")
AGE_EVERY = 1.0  # s between refreshes of the status line's age of the newest reading


@requires(READ)
async def stream(request: Request) -> Response:
    site = site_of(request)
    who = viewer(request)
    page = request.query_params.get("page", "devices")
    if page not in PAGES:
        raise HTTPException(400, "unknown page")
    device = request.query_params.get("device") if page == "device" else None
    if page == "device" and not device:
        raise HTTPException(400, "which device?")
    token = request.cookies.get(SESSION_COOKIE)
    hub = site.hub
    sub = hub.subscribe(page, device, who.can_set)

    def still_allowed() -> bool:
        """Logged out, user deleted, or the public view turned off: the stream ends."""
        if who.session is not None:
            return site.db.session(token) is not None
        return site.db.setting(PUBLIC_VIEW) == "1"

    # A source that tells its newest reading's age: the status line is refreshed this often.
    ages = getattr(hub.source, "reading_age", None) is not None
    wait = min(site.keepalive, AGE_EVERY) if ages else site.keepalive

    async def events() -> AsyncIterator[bytes]:
        checked = aged = time.monotonic()
        # what this page was last sent of each part: a part that has not changed is not sent
        # again (any driver's set redrew the whole BLOB list, four times a second beside a
        # telescope simulator, taking the keyboard focus and losing a click as it swapped)
        shown: dict[tuple[str, ...], str] = {}
        try:
            yield b"retry: 2000\n\n"
            while True:
                try:
                    async with asyncio.timeout(wait):
                        parts, overflowed = await sub.parts.get()
                except TimeoutError:
                    parts, overflowed = [], False
                if ages and time.monotonic() - aged >= AGE_EVERY:
                    aged = time.monotonic()
                    parts = [*parts, ("conn",)]
                if time.monotonic() - checked >= site.keepalive:
                    if not still_allowed():
                        return
                    checked = time.monotonic()
                if not parts and not overflowed:
                    yield b": keep-alive\n\n"
                    continue
                if overflowed:
                    parts = [("conn",), *sub.whole()]
                fresh = []
                for part in parts:
                    html = hub.render_part(part, sub.can_set)
                    if shown.get(part) != html:
                        shown[part] = html
                        fresh.append(html)
                        if part[0] == "device":  # its vectors' parts are redrawn with it
                            for old in [p for p in shown if p[0] == "vector" and p[1] == part[1]]:
                                del shown[old]
                if fresh:
                    yield sse_event("update", "\n".join(fresh))
                    # what changes meanwhile waits in `sub.parts`, merged per part: a vector
                    # set every 0.1 s is sent at this pace, its latest values each time,
                    # rather than flooding a phone with every one (and its plot's data)
                    await asyncio.sleep(site.update_every)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


ROUTES = [
    Route("/stream", stream),
]
