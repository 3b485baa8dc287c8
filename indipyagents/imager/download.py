"""indilib's DOWNLOAD: a client asks for a saved frame by group and image; the file is sent as
the IMAGE BLOB, then deleted (as indilib's agent does, so a client that downloads every frame
leaves none behind)."""

from __future__ import annotations

import asyncio

from indipydriver import BLOBVector
from indipydriver import NumberVector

from .files import frame_path

__all__ = ["send_frame"]


async def send_frame(folder: str, prefix: str, group: int, image: int, *,
                     download: NumberVector, blob: BLOBVector) -> None:
    """indilib's: DOWNLOAD Busy, the file ``folder/PREFIX_G_NNN.fits`` as IMAGE, the file
    deleted, DOWNLOAD Ok; a file that is not there: DOWNLOAD Alert."""
    path = frame_path(folder, prefix, group, image)
    download["GROUP"] = download["IMAGE"] = 0
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        await download.send_setVector(state="Alert", message="Download failed")
        return
    await download.send_setVector(state="Busy", message="Download initiated")
    blob["IMAGE"] = data
    blob.set_blobsize("IMAGE", len(data))
    blob.set_blobformat("IMAGE", path.suffix)
    await blob.send_setVectorMembers(state="Ok", members=["IMAGE"])
    path.unlink(missing_ok=True)
    await download.send_setVector(state="Ok", message="Download finished")
