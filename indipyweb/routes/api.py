"""The JSON API: the session, the snapshot (whole, a device, a vector), and setting a vector.

GET answers in indipyclient 0.9.4's snapshot shape; POST ``{"members": {...}, "timeout": s}``
answers with the driver's final state and the vector after it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import READ
from ..auth import SET
from ..auth import requires
from ..auth import viewer
from ..site import site_of
from ..source import InvalidValue
from ..values import check_members
from ..views import vector_view
from .setvector import send

__all__ = ["ROUTES", "json_body"]


@requires(READ)
async def api_session(request: Request) -> Response:
    who = viewer(request)
    return JSONResponse({"user": who.user, "role": str(who.role),
                         "csrf": who.session.csrf if who.session else None})


@requires(READ)
async def api_get(request: Request) -> Response:
    snap = site_of(request).source.snapshot()
    device = request.path_params.get("device")
    if device is None:
        return JSONResponse(snap)
    dev = _entry(snap["devices"], device, f"no device {device!r}")
    vector = request.path_params.get("vector")
    if vector is None:
        return JSONResponse(dev)
    return JSONResponse(_entry(dev["vectors"], vector, f"no vector {device}.{vector}"))


def _entry(table: dict[str, Any], name: str, missing: str) -> Any:
    """The snapshot's entry `name` (a device, a vector); 404 saying `missing` when absent."""
    found = table.get(name)
    if found is None:
        raise HTTPException(404, missing)
    return found


@requires(SET)
async def api_set(request: Request) -> Response:
    site = site_of(request)
    device, name = request.path_params["device"], request.path_params["vector"]
    body = await json_body(request)
    found = site.source.vector(device, name)
    if found is None:
        raise HTTPException(404, f"no vector {device}.{name}")
    vec = vector_view(found)
    members = body.get("members")
    timeout = body.get("timeout", site.set_timeout)
    if not isinstance(members, dict):
        raise HTTPException(400, 'send {"members": {"NAME": value, ...}}')
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise HTTPException(400, "timeout: seconds, more than 0 and at most 600")
    if vec.is_blob:
        raise HTTPException(400, "BLOBs are uploaded from the device page, not the JSON API")
    try:
        checked = check_members(vec, members)
    except InvalidValue as exc:
        raise HTTPException(400, str(exc)) from None
    result = await send(site, device, name, checked, float(timeout))
    return JSONResponse({"state": result.state, "message": result.message,
                         "timed_out": result.timed_out, "vector": site.source.vector(device, name)})


async def json_body(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object; 400 otherwise."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON") from None
    except RecursionError:  # "[[[[..." nested deeper than the parser goes
        raise HTTPException(400, "the body's JSON is nested too deeply") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


ROUTES = [
    Route("/api/session", api_session),
    Route("/api", api_get),
    Route("/api/{device}", api_get),
    Route("/api/{device}/{vector}", api_get, methods=["GET"]),
    Route("/api/{device}/{vector}", api_set, methods=["POST"]),
]
