"""The BLOB folder as the browser sees it: listing, safe look-up by name, deletion, previews.

A name from a URL is accepted only when it is a plain file name (no separator, no leading dot,
not ``..``) and the file it names resolves inside the folder (a symlink pointing out is
refused), so no request reaches outside the folder. Previews: PNG/JPEG/GIF are shown as they
are; FITS (what indilib cameras send) becomes a stretched PNG through astropy, numpy and Pillow.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["IMAGE_TYPES", "BlobFile", "BlobFolder", "auto_stretch", "fits_preview"]

logger = logging.getLogger(__name__)

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif"}
FITS_SUFFIXES = (".fits", ".fit", ".fts")
PREVIEW_SIZE = 1024


@dataclass(frozen=True, slots=True)
class BlobFile:
    name: str
    size: int
    mtime: float

    @property
    def is_image(self) -> bool:
        return self.name.lower().endswith(tuple(IMAGE_TYPES))

    @property
    def is_fits(self) -> bool:
        return self.name.lower().endswith(FITS_SUFFIXES)

    @property
    def previewable(self) -> bool:
        return self.is_image or self.is_fits


class BlobFolder:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).resolve()

    def list(self) -> list[BlobFile]:
        """Newest first; temporary files (``.name.part``) left out."""
        if not self.folder.is_dir():
            return []
        files = []
        for path in self.folder.iterdir():
            if path.name.startswith(".") or not path.is_file():
                continue
            stat = path.stat()
            files.append(BlobFile(path.name, stat.st_size, stat.st_mtime))
        return sorted(files, key=lambda f: (-f.mtime, f.name))

    def path(self, name: str) -> Path | None:
        """The file `name` names inside the folder, or None when the name is not a plain file
        name or the file is not (really) inside the folder."""
        if (not name or name != Path(name).name or name.startswith(".") or "\\" in name
                or "\0" in name or len(name) > 255):
            return None
        path = self.folder / name
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if real.parent != self.folder or not real.is_file():
            return None
        return real

    def delete(self, name: str) -> bool:
        path = self.path(name)
        if path is None:
            return False
        path.unlink(missing_ok=True)
        return True

    def preview(self, name: str) -> tuple[bytes, str] | None:
        """(image bytes, media type) for an image or FITS file, else None."""
        path = self.path(name)
        if path is None:
            return None
        suffix = path.suffix.lower()
        if suffix in IMAGE_TYPES:
            return path.read_bytes(), IMAGE_TYPES[suffix]
        if suffix in FITS_SUFFIXES:
            stat = path.stat()
            png = _cached_fits_preview(str(path), stat.st_mtime_ns, stat.st_size)
            return (png, "image/png") if png is not None else None
        return None


def auto_stretch(pixels: Any) -> Any:
    """Pixels (any numbers, NaN allowed) as 0..1 by the automatic screen stretch
    (`imaging.stretch`'s "sky" limits and "midtones"): a percentile stretch put a guide frame's
    sky, mostly noise, at mid-grey and its few star pixels gained nothing (issue 89 item 11)."""
    import numpy as np

    from .imaging.stretch import midtones
    from .imaging.stretch import sky_limits

    finite = pixels[np.isfinite(pixels)]
    low, high = sky_limits(finite) if finite.size else (0.0, 1.0)
    scaled = np.clip((np.nan_to_num(pixels, nan=low) - low) / max(high - low, 1e-12), 0, 1)
    return midtones(scaled, float(np.median(scaled)))


@lru_cache(maxsize=16)
def _cached_fits_preview(path: str, mtime_ns: int, size: int) -> bytes | None:
    try:
        return fits_preview(Path(path).read_bytes())
    except Exception as exc:  # noqa: BLE001  (a broken file is the camera's problem, not a 500)
        logger.warning("no preview of %s: %s", path, exc)
        return None


def fits_preview(data: bytes, size: int = PREVIEW_SIZE) -> bytes:
    """A PNG of the first image in a FITS file, auto-stretched (`auto_stretch`) so a guide
    frame's faint stars show on a dark sky, the largest side at most `size` pixels; colour
    cubes (3 planes) in colour."""
    import numpy as np
    from astropy.io import fits  # type: ignore[import-untyped]
    from PIL import Image

    with fits.open(io.BytesIO(data), memmap=False) as hdus:
        image = next((h.data for h in hdus if h.data is not None and h.data.ndim >= 2), None)
        if image is None:
            raise ValueError("no image in the FITS file")
        pixels = np.asarray(image, dtype=np.float32)
    colour = pixels.ndim == 3 and pixels.shape[0] == 3
    if pixels.ndim > 2 and not colour:
        pixels = pixels.reshape(-1, *pixels.shape[-2:])[0]
    grey = (auto_stretch(pixels) * 255).astype(np.uint8)
    # FITS rows run bottom to top; images top to bottom
    picture = (Image.fromarray(np.flipud(np.moveaxis(grey, 0, -1)), "RGB") if colour
               else Image.fromarray(np.flipud(grey), "L"))
    picture.thumbnail((size, size))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
