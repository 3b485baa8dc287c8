"""What indipyweb ships and shows beside its code: the package data a wheel must carry (the
templates and the vendored browser files), and FITS previews of real-shaped images."""

from __future__ import annotations

import fnmatch
import io
import tomllib
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

from indipyweb.blobfolder import BlobFolder
from indipyweb.blobfolder import fits_preview

REPO = Path(__file__).resolve().parents[2]


def test_every_template_and_static_file_is_package_data() -> None:
    """pyproject.toml's package-data globs cover every file the app serves or renders, so an
    installed indipyweb is not missing a page or htmx (no CDN to fall back on)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["indipyweb"]
    package = REPO / "indipyweb"
    files = [p.relative_to(package).as_posix() for folder in ("templates", "static")
             for p in (package / folder).rglob("*") if p.is_file()]
    assert "static/htmx-2.0.11.min.js" in files and "templates/base.html" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert missing == []
    # the package and its sub-packages (routes/) by pattern
    assert "indipyweb*" in config["tool"]["setuptools"]["packages"]["find"]["include"]


def _fits(data: np.ndarray) -> bytes:
    out = io.BytesIO()
    fits.PrimaryHDU(data).writeto(out)
    return out.getvalue()


def test_a_16_bit_camera_frame_becomes_a_stretched_png_the_right_way_up() -> None:
    """A 16-bit frame (as indilib's CCD simulator sends) with a bright band in its first rows:
    the PNG is greyscale, at most 1024 px, uses the full range, and the band is at the bottom
    (FITS rows run bottom to top, images top to bottom)."""
    rng = np.random.default_rng(1)
    frame = rng.normal(1000, 20, (1024, 1280)).astype(np.uint16)
    frame[:100] = 60000  # FITS rows 0..99: the bottom of the picture
    image = Image.open(io.BytesIO(fits_preview(_fits(frame))))
    assert image.mode == "L" and max(image.size) <= 1024 and image.size[0] > image.size[1]
    pixels = np.asarray(image)
    assert pixels.min() < 30 and pixels.max() == 255
    tenth = pixels.shape[0] // 10
    assert pixels[-tenth + 5:].mean() > 250 and pixels[:tenth].mean() < 200


def test_colour_cubes_nans_and_broken_files() -> None:
    """A 3-plane cube is shown in colour; NaN pixels do not break the stretch; a file that is
    not FITS gets no preview (None), never an exception."""
    cube = np.zeros((3, 50, 60), dtype=np.float32)
    cube[0] += 1.0
    cube[:, 5, 5] = np.nan
    image = Image.open(io.BytesIO(fits_preview(_fits(cube))))
    assert image.mode == "RGB" and image.size == (60, 50)
    folder = BlobFolder(Path(__file__).parent)
    assert folder.preview("conftest.py") is None  # not an image


def test_a_broken_fits_file_in_the_folder_has_no_preview(tmp_path: Path) -> None:
    (tmp_path / "broken.fits").write_bytes(b"SIMPLE  = not really")
    assert BlobFolder(tmp_path).preview("broken.fits") is None
