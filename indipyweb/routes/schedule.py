"""Tonight's schedule as a picture (issue 82 item 5): the page of an agent that publishes
AGENT_SCHEDULE_PICTURE (the imager agent running a scheduled plan: each target's altitude
through the night with its blocks, the twilight, the Moon, the block in hand), and the
picture itself.

The SVG is a device's text: it is served as an image only (``<img>``: no script in it runs,
and the response's Content-Security-Policy forbids any, as a file opened alone would run),
never put into the page's own markup."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import READ
from ..auth import requires
from ..site import site_of

__all__ = ["PICTURE", "ROUTES"]

#: The vector and member an agent draws tonight in.
PICTURE = ("AGENT_SCHEDULE_PICTURE", "SVG")
#: The picture's answer may hold no script, no link out: drawing and its own styles only.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def _svg(request: Request) -> str:
    site = site_of(request)
    device = request.path_params["device"]
    vector = site.source.vector(device, PICTURE[0])
    svg = "" if vector is None else str(vector["members"].get(PICTURE[1], {}).get("value", ""))
    if not svg.lstrip().startswith("<svg"):
        raise HTTPException(404, f"{device!r} shows no schedule (yet): load a plan with a "
                            "[schedule] and start it")
    return svg


@requires(READ)
async def page(request: Request) -> Response:
    site = site_of(request)
    device = request.path_params["device"]
    vector = site.source.vector(device, "AGENT_SCHEDULE")
    members = {} if vector is None else vector["members"]
    blocks = str(members.get("BLOCKS", {}).get("value", ""))
    return site.html(request, "schedule.html", title=f"{device}: tonight", page="device",
                     device=device, blocks=blocks.splitlines(),
                     in_hand=str(members.get("IN_HAND", {}).get("value", "")),
                     drawn=_drawn(request))


def _drawn(request: Request) -> bool:
    try:
        _svg(request)
    except HTTPException:
        return False
    return True


@requires(READ)
async def picture(request: Request) -> Response:
    return Response(_svg(request), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": SVG_POLICY,
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


ROUTES = [
    Route("/schedule/{device}", page),
    Route("/schedule/{device}/tonight.svg", picture),
]
