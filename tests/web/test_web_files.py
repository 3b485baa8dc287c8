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


def _guide_frame() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A 16-bit guide frame as a guide camera sends it: a sky of 1000 ADU with 20 ADU of
    noise, six faint stars (peaks of 150-600 ADU over the sky, sigma 1.5 px) and a hot pixel."""
    rng = np.random.default_rng(7)
    frame = rng.normal(1000, 20, (480, 640))
    yy, xx = np.mgrid[0:480, 0:640]
    stars = [(60, 100), (200, 320), (400, 500), (300, 80), (120, 560), (440, 240)]
    for n, (y, x) in enumerate(stars):
        frame += (150 + 90 * n) * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 1.5 ** 2))
    frame[10, 10] = 65535
    return np.clip(frame, 0, 65535).astype(np.uint16), stars


def test_a_guide_frame_preview_shows_its_faint_stars_on_a_dark_sky() -> None:
    """Issue 89 item 11: the guide-frame thumbnail is auto-stretched: the sky dark (its median
    at about a quarter), every star, even one 150 ADU over the sky, far brighter than the sky
    round it (a 0.5-99.5 percentile stretch put the sky at mid-grey, 196 of 255)."""
    frame, stars = _guide_frame()
    pixels = np.flipud(np.asarray(Image.open(io.BytesIO(fits_preview(_fits(frame))))))
    sky = float(np.median(pixels))
    assert 40 <= sky <= 90, sky
    for y, x in stars:
        assert pixels[y, x] >= sky + 80, (y, x, pixels[y, x], sky)
    assert (pixels > sky + 80).mean() < 0.01  # the stars stand out; the sky's noise does not
