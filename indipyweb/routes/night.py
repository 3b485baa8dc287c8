"""The imager agent's nights drawn (issue 93 item 5): ``/night`` the latest night, ``/night/{folder}``
one night by its plan folder, and the same as JSON at ``/api/night`` and ``/api/night/{folder}``.

The nights are read where the agent keeps them: its image folder (``indipyweb --nights DIR``,
the agent's IMAGE_FOLDER) holds a folder a night's plan (``<folder>/.journal/<plan>.journal``,
`indipyagents.imageragent.night`); the latest night is the folder whose journal was written
last, and a folder of several plans shows the one written last. The journal is read whole each
time (a night is a few hundred lines) by `indipyagents.journal.timeline`, and drawn by
`nightpicture` as inline SVG (our own text, every name in it escaped).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from indipyagents.journal.timeline import Timeline
from indipyagents.journal.timeline import timeline

from ..auth import READ
from ..auth import requires
from ..nightpicture import night_svg
from ..site import site_of

__all__ = ["ROUTES", "journals"]

#: How many other nights the page lists.
LISTED = 10


@dataclass(frozen=True)
class Night:
    """A night's plan folder, the journal drawn, and when it was written last."""

    folder: str
    journal: Path
    written: float


def journals(nights: Path) -> list[Night]:
    """Every plan folder of `nights` with a journal, the latest written first (each folder's
    journal written last)."""
    found: dict[str, Night] = {}
    for path in nights.glob("*/.journal/*.journal"):
        try:
            written = path.stat().st_mtime
        except OSError:
            continue
        folder = path.parent.parent.name
        if folder not in found or written > found[folder].written:
            found[folder] = Night(folder, path, written)
    return sorted(found.values(), key=lambda night: night.written, reverse=True)


def _nights(request: Request) -> Path:
    nights = site_of(request).nights
    if nights is None:
        raise HTTPException(404, "no nights folder: start indipyweb with --nights DIR (the "
                            "imager agent's image folder)")
    return nights


async def _night(request: Request) -> tuple[Night, list[Night], Timeline]:
    nights = _nights(request)
    listed = await asyncio.to_thread(journals, nights)
    wanted = request.path_params.get("folder")
    chosen = listed[0] if listed and wanted is None else \
        next((night for night in listed if night.folder == wanted), None)
    if chosen is None:
        raise HTTPException(404, "no night yet" if wanted is None else
                            f"no night in the folder {wanted!r}")
    data = await asyncio.to_thread(chosen.journal.read_bytes)
    return chosen, listed, timeline(data)


@requires(READ)
async def page(request: Request) -> Response:
    site = site_of(request)
    try:
        night, listed, drawn = await _night(request)
    except HTTPException as exc:
        return site.html(request, "night.html", title="The night", page="night",
                         empty=exc.detail, night=None, others=[], drawn=None, svg="",
                         code=exc.status_code)
    return site.html(request, "night.html", title=f"The night: {night.folder}", page="night",
                     night=night, others=listed[:LISTED], drawn=drawn, svg=night_svg(drawn),
                     empty="")


@requires(READ)
async def api(request: Request) -> Response:
    night, _, drawn = await _night(request)
    answer: dict[str, Any] = {"folder": night.folder, "journal": night.journal.name,
                              **drawn.as_json()}
    return JSONResponse(answer)


ROUTES = [
    Route("/night", page),
    Route("/night/{folder}", page),
    Route("/api/night", api),
    Route("/api/night/{folder}", api),
]
