"""A file from the BLOB folder decoded into a `Frame`: the pixels as stored (for the value under
the cursor), what is shown (grey, or colour from a Bayer pattern or three planes), and the header.

FITS (``.fits``, ``.fit``, ``.fts``, tile-compressed ``.fz``) through astropy; PNG, JPEG and GIF
through Pillow. Rows are turned top-down here (FITS stores them bottom-up unless ``ROWORDER``
says ``TOP-DOWN``), so every later step, and the browser, works top-down.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FITS_SUFFIXES", "IMAGE_SUFFIXES", "Frame", "debayer", "read_frame", "viewable"]

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
BAYER_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")

Pixels = npt.NDArray[Any]


@dataclass(slots=True)
class Frame:
    """`raw` as stored, top-down: (h, w) or (h, w, 3); `display` what is shown, float32 (h', w')
    or (h', w', 3), `scale` raw pixels per displayed pixel (2 for a Bayer frame shown as
    super-pixels); `header` (keyword, value, comment) cards; `colour` how colour was found."""

    raw: Pixels
    display: npt.NDArray[np.float32]
    scale: int
    header: list[tuple[str, str, str]] = field(default_factory=list)
    colour: str = ""  # "", "RGB", or the Bayer pattern ("RGGB"...)

    @property
    def width(self) -> int:
        return int(self.raw.shape[1])

    @property
    def height(self) -> int:
        return int(self.raw.shape[0])

    def pixel(self, x: int, y: int) -> list[float] | None:
        """The stored value(s) at column `x`, row `y` (0-based, top-down), or None outside."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return None
        value = self.raw[y, x]
        return [float(v) for v in np.atleast_1d(value)]


def viewable(name: str) -> bool:
    return name.lower().endswith(FITS_SUFFIXES + IMAGE_SUFFIXES)


def read_frame(path: Path) -> Frame:
    """The file's first image as a `Frame`; ValueError when there is none."""
    if path.name.lower().endswith(FITS_SUFFIXES):
        return _fits_frame(path)
    if path.name.lower().endswith(IMAGE_SUFFIXES):
        return _picture_frame(path)
    raise ValueError(f"{path.name}: not an image this viewer reads")


def _fits_frame(path: Path) -> Frame:
    from astropy.io import fits  # type: ignore[import-untyped]

    with fits.open(path, memmap=False) as hdus:
        hdu = next((h for h in hdus if h.data is not None and h.data.ndim >= 2), None)
        if hdu is None:
            raise ValueError(f"{path.name}: no image in the FITS file")
        data = np.asarray(hdu.data)
        header = [(card.keyword, str(card.value), str(card.comment)) for card in hdu.header.cards]
        cards = {key: value for key, value, _ in header}
    top_down = cards.get("ROWORDER", "").strip().upper() == "TOP-DOWN"
    if data.ndim == 3 and data.shape[0] == 3:  # three planes: R, G, B
        raw = np.moveaxis(data, 0, -1)
        if not top_down:
            raw = raw[::-1]
        return Frame(raw, raw.astype(np.float32), 1, header, "RGB")
    if data.ndim > 2:
        data = data.reshape(-1, *data.shape[-2:])[0]
    pattern = cards.get("BAYERPAT", "").strip().upper()
    if pattern in BAYER_PATTERNS and data.shape[0] >= 2 and data.shape[1] >= 2:
        # the pattern is counted from the first stored row, shifted by XBAYROFF/YBAYROFF
        xoff, yoff = _offset(cards.get("XBAYROFF")), _offset(cards.get("YBAYROFF"))
        colour = debayer(data[yoff:, xoff:], pattern)
        raw = data if top_down else data[::-1]
        return Frame(raw, colour if top_down else colour[::-1], 2, header, pattern)
    raw = data if top_down else data[::-1]
    return Frame(raw, raw.astype(np.float32), 1, header, "")


def _offset(value: str | None) -> int:
    try:
        return int(float(value or 0)) % 2
    except ValueError:
        return 0


def debayer(data: Pixels, pattern: str) -> npt.NDArray[np.float32]:
    """Super-pixel demosaic: each 2x2 cell of the mosaic becomes one RGB pixel (its red, the mean
    of its two greens, its blue): half the size, no invented values."""
    h, w = data.shape[0] // 2 * 2, data.shape[1] // 2 * 2
    cells: dict[str, list[npt.NDArray[np.float32]]] = {"R": [], "G": [], "B": []}
    for i, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        cells[pattern[i]].append(data[dy:h:2, dx:w:2].astype(np.float32))
    red, blue = cells["R"][0], cells["B"][0]
    green = (cells["G"][0] + cells["G"][1]) / 2
    return np.stack([red, green, blue], axis=-1).astype(np.float32)


def _picture_frame(path: Path) -> Frame:
    from PIL import Image

    with Image.open(path) as picture:
        info = [(str(k), str(v)[:200], "") for k, v in picture.info.items()
                if isinstance(v, str | int | float)]
        header = [("FORMAT", str(picture.format), ""), ("MODE", picture.mode, ""),
                  ("SIZE", f"{picture.width} x {picture.height}", ""), *info]
        if picture.mode in ("I;16", "I;16B", "I", "F", "L"):
            raw = np.asarray(picture)
            return Frame(raw, raw.astype(np.float32), 1, header, "")
        raw = np.asarray(picture.convert("RGB"))
    return Frame(raw, raw.astype(np.float32), 1, header, "RGB")
