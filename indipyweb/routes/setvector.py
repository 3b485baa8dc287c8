"""Setting a vector from its form on the device page (numbers, switches, texts, BLOB files).

The values are checked against the vector by `values.check_members` (nothing is sent when
they do not fit); the answer is the driver's final state, as an htmx fragment or a redirect.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import SET
from ..auth import requires
from ..site import Site
from ..site import quoted
from ..site import site_of
from ..source import InvalidValue
from ..source import SetResult
from ..values import check_members
from ..values import form_members
from ..views import vector_view

__all__ = ["ROUTES", "answer_text", "send"]

_RESULT = ('<span class="result state-{{ s|lower }}"{% if follow %} data-follow="busy"{% endif %}>'
           '{{ t }}</span>')


@requires(SET)
async def set_vector(request: Request) -> Response:
    site = site_of(request)
    device, name = request.path_params["device"], request.path_params["vector"]
    form = await request.form()  # parsed (with the upload limits) by the CSRF check
    found = site.source.vector(device, name)
    if found is None:
        raise HTTPException(404, f"no vector {device}.{name}")
    vec = vector_view(found)
    uploads: dict[str, tuple[str, bytes]] = {}
    for key, value in form.multi_items():
        if key.startswith("f.") and isinstance(value, UploadFile) and value.filename:
            uploads[key[2:]] = (value.filename, await value.read(site.max_upload + 1))
    try:
        members = check_members(vec, form_members(vec, dict(form.items()), uploads,
                                                   compress=form.get("compress") == "1"))
    except InvalidValue as exc:
        raise HTTPException(400, str(exc)) from None
    result = await send(site, device, name, members, site.set_timeout)
    text, follow = answer_text(result)
    if request.headers.get("hx-request"):
        return HTMLResponse(site.renderer.env.from_string(_RESULT).render(
            s=result.state, t=text, follow=follow))
    return RedirectResponse(f"{site.base}/device/{quoted(device)}", 303)


def answer_text(result: SetResult) -> tuple[str, bool]:
    """What the page says under the form, and whether it is a Busy that the vector's live
    state takes over (indipyweb.js clears it once the vector leaves Busy). A driver still Busy
    when the page stops waiting is at work, not failing: the imager agent's START stays Busy
    for the whole night, and "Busy (timed out)" under the button read as a failure."""
    if result.timed_out and result.state == "Busy":
        text = "Busy: under way; the state above shows when it ends"
        return (f"{text} ({result.message})" if result.message else text), True
    text = result.state if not result.timed_out else f"{result.state} (no answer in time)"
    return (f"{text}: {result.message}" if result.message else text), False


async def send(site: Site, device: str, name: str, members: dict[str, object],
               timeout: float) -> SetResult:
    """Send checked values and wait for the driver: 400 for what the source refuses, 503 when
    it cannot reach its server."""
    try:
        return await site.source.set(device, name, members, timeout=timeout)
    except InvalidValue as exc:
        raise HTTPException(400, str(exc)) from None
    except ConnectionError as exc:
        raise HTTPException(503, str(exc)) from None


ROUTES = [
    Route("/device/{device}/{vector}", set_vector, methods=["POST"]),
]
