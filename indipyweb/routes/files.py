"""The received BLOB files: the list, a download, an image preview, deleting one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from ..auth import READ
from ..auth import SET
from ..auth import requires
from ..blobfolder import BlobFolder
from ..site import Site
from ..site import site_of

__all__ = ["ROUTES"]


@requires(READ)
async def blob_list(request: Request) -> Response:
    site = site_of(request)
    return site.html(request, "blobs.html", title="BLOBs", page="blobs",
                     files=site.renderer.blob_files(), folder=site.blobs is not None,
                     stream_url=site.stream_url("blobs"))


def _folder_and_path(site: Site, name: str) -> tuple[BlobFolder, Path]:
    """404 unless `name` is a file in the folder (no traversal, no links, no dot files)."""
    path = site.blobs.path(name) if site.blobs is not None else None
    if site.blobs is None or path is None:
        raise HTTPException(404, "no such BLOB file")
    return site.blobs, path


@requires(READ)
async def blob_file(request: Request) -> Response:
    _, path = _folder_and_path(site_of(request), request.path_params["name"])
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")


@requires(READ)
async def blob_view(request: Request) -> Response:
    name = request.path_params["name"]
    folder, _ = _folder_and_path(site_of(request), name)
    preview = await asyncio.to_thread(folder.preview, name)
    if preview is None:
        raise HTTPException(415, "no preview for this file")
    data, media = preview
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@requires(SET)
async def blob_delete(request: Request) -> Response:
    site = site_of(request)
    name = request.path_params["name"]
    folder, _ = _folder_and_path(site, name)
    if folder.delete(name):
        site.hub.blobs_changed()
    return RedirectResponse(f"{site.base}/blobs", 303)


ROUTES = [
    Route("/blobs", blob_list),
    Route("/blobs/file/{name:path}", blob_file),
    Route("/blobs/view/{name:path}", blob_view),
    Route("/blobs/delete/{name:path}", blob_delete, methods=["POST"]),
]
