"""The image viewer: a page for one image of the BLOB folder, and what its script asks for:
the frame's size, header and histogram (``info``), a region drawn with a stretch (``render``,
a PNG) and the value under the cursor (``pixel``). The work is `imaging.store.ImageStore`'s,
in its thread pool."""

from __future__ import annotations

import math
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import READ
from ..auth import requires
from ..imaging.decoding import viewable
from ..imaging.store import ImageStore
from ..imaging.store import View
from ..imaging.stretch import LIMITS
from ..imaging.stretch import STRETCHES
from ..site import site_of

__all__ = ["ROUTES"]


def _image(request: Request) -> tuple[ImageStore, Path]:
    """404 unless the name is a viewable file in the BLOB folder."""
    site = site_of(request)
    name = request.path_params["name"]
    path = site.blobs.path(name) if site.blobs is not None else None
    if path is None or site.images is None or not viewable(path.name):
        raise HTTPException(404, "no such image")
    return site.images, path


def _number(request: Request, key: str, default: float) -> float:
    text = request.query_params.get(key)
    try:
        value = float(text) if text is not None else default
    except ValueError:
        raise HTTPException(400, f"{key} must be a number") from None
    if not math.isfinite(value):
        raise HTTPException(400, f"{key} must be a finite number")
    return value


def _choice(request: Request, key: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(key, default)
    if value not in choices:
        raise HTTPException(400, f"{key} is one of {', '.join(choices)}")
    return value


@requires(READ)
async def viewer(request: Request) -> Response:
    site = site_of(request)
    _, path = _image(request)
    return site.html(request, "image.html", title=path.name, page="blobs", name=path.name,
                     stretches=STRETCHES, limits=LIMITS)


@requires(READ)
async def info(request: Request) -> Response:
    store, path = _image(request)
    try:
        return JSONResponse(await store.info(path))
    except (ValueError, OSError) as exc:
        raise HTTPException(415, f"cannot read {path.name}: {exc}") from None


@requires(READ)
async def render(request: Request) -> Response:
    store, path = _image(request)
    big = 1e9
    view = View(_number(request, "x0", 0), _number(request, "y0", 0),
                _number(request, "x1", big), _number(request, "y1", big),
                int(_number(request, "w", 640)), int(_number(request, "h", 0)) or 0,
                _choice(request, "stretch", STRETCHES, "asinh"),
                _choice(request, "limits", LIMITS, "zscale"),
                _number(request, "percent", 99.5))
    try:
        if view.height <= 0:  # the whole frame, `w` wide, its own aspect
            meta = await store.info(path)
            w = max(1, view.width)
            h = max(1, round(w * meta["height"] / meta["width"]))
            view = View(0, 0, meta["width"], meta["height"], w, h, view.stretch, view.limits,
                        view.percent)
        png = await store.render(path, view)
    except (ValueError, OSError) as exc:
        raise HTTPException(415, f"cannot read {path.name}: {exc}") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@requires(READ)
async def limits(request: Request) -> Response:
    """The display limits a method gives, per channel (the histogram's markers)."""
    store, path = _image(request)
    try:
        lims = await store.limits(path, _choice(request, "limits", LIMITS, "zscale"),
                                  _number(request, "percent", 99.5))
    except (ValueError, OSError) as exc:
        raise HTTPException(415, f"cannot read {path.name}: {exc}") from None
    return JSONResponse({"limits": lims})


@requires(READ)
async def pixel(request: Request) -> Response:
    store, path = _image(request)
    x, y = int(_number(request, "x", 0)), int(_number(request, "y", 0))
    try:
        value = await store.pixel(path, x, y)
    except (ValueError, OSError) as exc:
        raise HTTPException(415, f"cannot read {path.name}: {exc}") from None
    return JSONResponse({"x": x, "y": y, "value": value})


ROUTES = [
    Route("/image/{name}", viewer),
    Route("/image/{name}/info", info),
    Route("/image/{name}/render", render),
    Route("/image/{name}/pixel", pixel),
    Route("/image/{name}/limits", limits),
]
