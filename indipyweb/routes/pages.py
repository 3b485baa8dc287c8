"""The pages a browser reads: the instruments, the messages, one device; the favicon."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import READ
from ..auth import requires
from ..site import site_of

__all__ = ["ROUTES"]

FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.svg"


@requires(READ)
async def devices(request: Request) -> Response:
    site = site_of(request)
    return site.html(request, "devices.html", title="Instruments", page="devices",
                     devices=site.renderer.devices(), stream_url=site.stream_url("devices"))


@requires(READ)
async def messages(request: Request) -> Response:
    site = site_of(request)
    return site.html(request, "messages.html", title="Messages", page="messages",
                     messages=site.renderer.messages(), stream_url=site.stream_url("messages"))


@requires(READ)
async def device(request: Request) -> Response:
    site = site_of(request)
    name = request.path_params["device"]
    if name not in site.source.snapshot()["devices"]:
        raise HTTPException(404, f"no device {name!r} (yet)")
    return site.html(request, "device.html", title=name, page="device", device=name,
                     groups=site.renderer.groups(name),
                     devmessages=site.renderer.device_messages(name),
                     stream_url=site.stream_url("device", name),
                     schedule=site.source.vector(name, "AGENT_SCHEDULE_PICTURE") is not None)


async def favicon(request: Request) -> Response:
    """For every browser, logged in or not (they ask for /favicon.ico by themselves)."""
    return FileResponse(FAVICON, media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


ROUTES = [
    Route("/favicon.ico", favicon),
    Route("/", devices),
    Route("/messages", messages),
    Route("/device/{device}", device),
]
