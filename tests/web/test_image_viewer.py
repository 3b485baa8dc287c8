"""The image viewer (issue 43 item 2): frames read from FITS (mono, Bayer, three planes, .fz)
and PNG, stretched and measured on the server (`indipyweb.imaging`), and the viewer in Debian's
chromium: a camera's last image beside its controls, the stretches, zoom, the histogram, the
value under the cursor, the header, colour, and an 8000 x 6000 frame that does not stall the
page."""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from peers import free_port
from PIL import Image
from playwright.sync_api import Browser
from playwright.sync_api import Route
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import expose_from_page
from test_browser import log_in
from test_browser import open_device
from test_browser import shoot
from test_browser import site  # noqa: F401
from webpeers import DEVICE
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

from indipyweb.imaging import store as store_module
from indipyweb.imaging.decoding import debayer
from indipyweb.imaging.decoding import read_frame
from indipyweb.imaging.store import ImageStore
from indipyweb.imaging.store import View
from indipyweb.imaging.stretch import histogram
from indipyweb.imaging.stretch import limits
from indipyweb.imaging.stretch import stretch_to_bytes
from indipyweb.render import vector_id

REPO = Path(__file__).resolve().parents[2]


# -- files as cameras write them -------------------------------------------------------------

def mono_fits(path: Path, width: int = 300, height: int = 200) -> Path:
    """A 16-bit frame with a gradient and one bright star at column 50, row 40 (top-down)."""
    data = np.tile(np.arange(width, dtype=np.uint16) * 10 + 1000, (height, 1))
    data[height - 1 - 40, 50] = 60000  # FITS rows bottom-up: row 40 from the top
    hdu = fits.PrimaryHDU(data)
    hdu.header["INSTRUME"] = "Test camera"
    hdu.writeto(path)
    return path


def bayer_fits(path: Path) -> Path:
    """An RGGB mosaic of a red left half and a blue right half, bottom-up as FITS keeps it."""
    h, w = 64, 96
    mosaic = np.full((h, w), 100, dtype=np.uint16)
    mosaic[0::2, 0:w // 2:2] = 50000   # R sites on the left
    mosaic[1::2, w // 2 + 1::2] = 50000  # B sites on the right
    hdu = fits.PrimaryHDU(mosaic)
    hdu.header["BAYERPAT"] = "RGGB"
    hdu.header["ROWORDER"] = "TOP-DOWN"
    hdu.writeto(path)
    return path


def rgb_fits(path: Path) -> Path:
    """Three planes: green everywhere, a red square in the top-left corner."""
    cube = np.zeros((3, 60, 80), dtype=np.float32)
    cube[1] = 1.0
    cube[0, -20:, :20] = 1.0  # bottom-up: the last rows are the top
    cube[1, -20:, :20] = 0.0
    fits.PrimaryHDU(cube).writeto(path)
    return path


def fz_fits(path: Path) -> Path:
    data = np.arange(128 * 96, dtype=np.int32).reshape(96, 128)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1")]).writeto(path)
    return path


def png(path: Path) -> Path:
    picture = Image.new("RGB", (40, 30), (10, 200, 30))
    picture.putpixel((5, 6), (255, 0, 0))
    picture.save(path)
    return path


# -- pure: reading and stretching --------------------------------------------------------------

def test_a_fits_frame_is_read_top_down_with_its_header(tmp_path: Path) -> None:
    """FITS rows are stored bottom-up: the frame is turned top-down, the value at (50, 40)
    is the star's, and the header's cards come along."""
    frame = read_frame(mono_fits(tmp_path / "m.fits"))
    assert (frame.width, frame.height, frame.colour) == (300, 200, "")
    assert frame.pixel(50, 40) == [60000.0]
    assert frame.pixel(0, 0) == [1000.0]
    assert frame.pixel(300, 0) is None
    assert ("INSTRUME", "Test camera", "") in frame.header


def test_bayer_rggb_becomes_colour_and_three_planes_are_colour(tmp_path: Path) -> None:
    """BAYERPAT RGGB: the red half comes out red, the blue half blue (super-pixels, half the
    size); a three-plane cube is RGB, its top-left square red."""
    frame = read_frame(bayer_fits(tmp_path / "b.fits"))
    assert frame.colour == "RGGB" and frame.scale == 2 and frame.display.shape == (32, 48, 3)
    left, right = frame.display[10, 5], frame.display[10, 40]
    assert left[0] > 10 * left[2] and right[2] > 10 * right[0]
    rgb = read_frame(rgb_fits(tmp_path / "c.fits"))
    assert rgb.colour == "RGB"
    assert list(rgb.display[0, 0]) == [1.0, 0.0, 0.0] and list(rgb.display[59, 79]) == [0.0, 1.0, 0.0]
    for pattern, red_at in (("BGGR", (1, 1)), ("GRBG", (0, 1)), ("GBRG", (1, 0))):
        mosaic = np.zeros((4, 4), dtype=np.uint16)
        mosaic[red_at[0]::2, red_at[1]::2] = 9
        assert debayer(mosaic, pattern)[0, 0].tolist() == [9.0, 0.0, 0.0], pattern


def test_fz_and_png_are_read(tmp_path: Path) -> None:
    """A tile-compressed .fz (astropy CompImageHDU) and a PNG give their pixels."""
    frame = read_frame(fz_fits(tmp_path / "f.fits.fz"))
    assert (frame.width, frame.height) == (128, 96)
    assert frame.pixel(1, 95) == [1.0]  # the first stored row is the bottom one
    picture = read_frame(png(tmp_path / "p.png"))
    assert picture.colour == "RGB" and picture.pixel(5, 6) == [255.0, 0.0, 0.0]


def test_limits_and_stretches() -> None:
    """min-max spans the data, percentile cuts the tails, zscale sits inside; linear, log and
    asinh map the low limit to 0 and the high to 255, log and asinh lift the faint end."""
    data = np.linspace(0, 1000, 10001, dtype=np.float32).reshape(1, -1)
    assert limits(data, "minmax") == [(0.0, 1000.0)]
    (low, high), = limits(data, "percentile", 99.0)
    assert 4 < low < 6 and 994 < high < 996
    (zlow, zhigh), = limits(data, "zscale")
    assert 0 <= zlow < zhigh <= 1000
    probe = np.array([[0, 100, 1000]], dtype=np.float32)
    lin = stretch_to_bytes(probe, [(0, 1000)], "linear")[0].tolist()
    log = stretch_to_bytes(probe, [(0, 1000)], "log")[0].tolist()
    asinh = stretch_to_bytes(probe, [(0, 1000)], "asinh")[0].tolist()
    assert lin == [0, 26, 255] and log[0] == asinh[0] == 0 and log[2] == asinh[2] == 255
    assert log[1] > asinh[1] > lin[1]
    counts = histogram(data, bins=10)
    assert sum(counts["counts"]) == data.size and counts["low"] == 0 and counts["high"] == 1000
    with pytest.raises(ValueError):
        limits(data, "nonsense")


@settings(max_examples=60, deadline=None)
@given(st.floats(100, 20000), st.floats(2, 200), st.integers(0, 2**32 - 1))
def test_the_sky_and_midtones_stretch_puts_any_sky_dark_and_stars_bright(
        level: float, noise: float, seed: int) -> None:
    """Issue 89 item 11 (the guide-frame thumbnail): whatever the sky's level and noise, "sky"
    limits and the "midtones" stretch put the sky's median at about a quarter (64) and a star
    ten noise sigmas over the sky far above it; any NaN or a hot pixel changes nothing."""
    rng = np.random.default_rng(seed)
    frame = rng.normal(level, noise, (120, 160)).astype(np.float32)
    frame[60, 80] = level + 10 * noise  # a faint star's peak
    frame[5, 5] = 65535.0  # a hot pixel
    frame[0, 0] = np.nan
    lims = limits(frame, "sky")
    out = stretch_to_bytes(frame, lims, "midtones")
    assert 58 <= np.median(out) <= 70
    assert int(out[60, 80]) >= 140  # over twice the sky
    assert int(out[5, 5]) == 255


async def test_a_large_frame_is_shown_from_a_downsampled_level_and_zoomed_at_full_resolution(
        tmp_path: Path) -> None:
    """8000 x 6000 16-bit: the whole-frame view is drawn from a small level, a zoomed region
    from the full frame, each pixel of the region its own."""
    data = (np.arange(6000, dtype=np.uint64)[:, None] + np.arange(8000, dtype=np.uint64) * 1000) % 65536
    fits.PrimaryHDU(data.astype(np.uint16)).writeto(tmp_path / "big.fits")
    store = ImageStore()
    try:
        info = await store.info(tmp_path / "big.fits")
        assert (info["width"], info["height"], info["levels"]) == (8000, 6000, 5)
        whole = Image.open(io.BytesIO(await store.render(tmp_path / "big.fits",
                                                          View(0, 0, 8000, 6000, 800, 600))))
        assert whole.size == (800, 600)
        zoomed = Image.open(io.BytesIO(await store.render(
            tmp_path / "big.fits", View(100, 200, 110, 204, 10, 4, "linear", "minmax"))))
        assert zoomed.size == (10, 4)
        row = np.asarray(zoomed)[0]
        assert len(set(row.tolist())) == 10  # ten stored pixels, ten different values
        assert await store.pixel(tmp_path / "big.fits", 7999, 0) == [float((7999 * 1000 + 5999) % 65536)]
    finally:
        store.close()


# -- in the browser ---------------------------------------------------------------------------

@pytest.fixture
def camera_site(browser: Browser, tmp_home: Path, dbfolder: Path,  # noqa: F811
                blobfolder: Path):  # type: ignore[no-untyped-def]
    """Our server with examples/ccd_simulator.py and the web app connected to it."""
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from ccd_simulator import DEVICE as CAMERA
        from ccd_simulator import make_driver
    finally:
        sys.path.pop(0)
    indi = ServerThread(free_port(), make_driver()).start()
    try:
        with WebThread(indi.port, dbfolder, blobfolder) as web:
            wait_for(lambda: web.app.state.web.source.vector(CAMERA, "CONNECTION"), timeout=15,
                     what="the camera")
            yield web, CAMERA
    finally:
        indi.stop()


def test_the_cameras_image_is_beside_its_controls_and_opens_in_the_viewer(
        browser: Browser, camera_site, blobfolder: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Our CCD simulator: connect (one click) and expose (Enter) from the page; the FITS
    image appears in the page's image column while the exposure controls are on screen; a
    click opens the viewer: each stretch and limit draws, zoom goes to full resolution, the
    value under the cursor and the FITS header show, the histogram is drawn."""
    web, camera = camera_site
    page = log_in(browser, web, "op")
    open_device(page, web, camera)
    exposure, thumb = expose_from_page(page, web, camera, "0.2")
    expect(exposure).to_be_in_viewport()
    expect(thumb).to_be_in_viewport()
    shoot(page, "web_camera.png")
    thumb.click()
    viewer = page.locator("dialog.viewer-dialog .viewer")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=20000)
    expect(viewer).to_have_attribute("data-histogram", "drawn")
    expect(viewer.get_by_role("img", name="Histogram")).to_be_visible()
    expect(viewer.locator(".v-status")).to_contain_text("1280 x 1024")
    for stretch in ("linear", "log", "asinh"):
        for lims in ("minmax", "percentile", "zscale"):
            viewer.get_by_label("Limits").select_option(lims)
            viewer.get_by_label("Stretch").select_option(stretch)
            expect(viewer).to_have_attribute("data-ready", "yes")
            src = viewer.locator("img.v-img").get_attribute("src") or ""
            assert f"stretch={stretch}" in src and f"limits={lims}" in src
            if (stretch, lims) == ("asinh", "zscale"):
                shoot(page, "web_image_viewer.png")
    viewer.locator(".v-header summary").click()
    expect(viewer.locator(".v-cards")).to_contain_text("NAXIS1")
    viewer.get_by_label("Zoom").select_option("4")
    expect(viewer).to_have_attribute("data-ready", "yes")
    view = json.loads(viewer.get_attribute("data-view") or "{}")
    region = view["region"]
    assert view["zoom"] == 4 and view["w"] == (region["x1"] - region["x0"]) * 4  # full resolution
    box = viewer.locator(".v-stage").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(viewer.locator(".v-where")).to_contain_text(":")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 200, box["y"] + box["height"] / 2)
    page.mouse.up()
    def panned() -> bool:  # the region drawn after the drag: 200 screen px = 50 pixels on
        drawn = json.loads(viewer.get_attribute("data-view") or "{}")["region"]
        return bool(drawn["x0"] == region["x0"] + 50 and drawn["y0"] == region["y0"])

    wait_for(panned, timeout=15, what="the panned region drawn")
    expect(viewer).to_have_attribute("data-ready", "yes")
    shoot(page, "web_image_zoomed.png")


def test_colour_fz_and_png_in_the_viewer(browser: Browser, site: WebThread,  # noqa: F811
                                         blobfolder: Path) -> None:
    """A Bayer frame is shown in colour (red left, blue right), an RGB cube and a PNG in
    colour, an .fz is read."""
    bayer_fits(blobfolder / "bayer.fits")
    rgb_fits(blobfolder / "rgb.fits")
    fz_fits(blobfolder / "frame.fits.fz")
    png(blobfolder / "picture.png")
    page = log_in(browser, site, "view")
    for name, status in (("bayer.fits", "Bayer RGGB"), ("rgb.fits", "colour (RGB)"),
                         ("frame.fits.fz", "128 x 96"), ("picture.png", "colour (RGB)")):
        page.goto(f"{site.url}/image/{name}")
        viewer = page.locator("main .viewer")
        expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
        expect(viewer.locator(".v-status")).to_contain_text(status)
        if name == "bayer.fits":
            shot = Image.open(io.BytesIO(viewer.locator("img.v-img").screenshot())).convert("RGB")
            w, h = shot.size
            left, right = shot.getpixel((w // 4, h // 2)), shot.getpixel((3 * w // 4, h // 2))
            assert left[0] > 150 > left[2] and right[2] > 150 > right[0], (left, right)
            shoot(page, "web_image_bayer.png")


def test_a_large_frame_does_not_stall_the_page(browser: Browser, site: WebThread,  # noqa: F811
                                               indi: ServerThread, blobfolder: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """An 8000 x 6000 16-bit frame opened in the device page's viewer: while the server is
    still reading it (held until the test lets it go), a driver's update reaches the page
    over SSE and a click on the page is handled; then the preview is drawn."""
    data = (np.random.default_rng(1).integers(0, 65535, (6000, 8000))).astype(np.uint16)
    fits.PrimaryHDU(data).writeto(blobfolder / "big.fits")
    reading, release = threading.Event(), threading.Event()
    real_load = store_module._load

    def held_load(path: Path):  # type: ignore[no-untyped-def]
        reading.set()
        release.wait(60)
        return real_load(path)

    monkeypatch.setattr(store_module, "_load", held_load)
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    page.evaluate("""() => { const a = document.createElement('a'); a.className = 'open-viewer';
        a.dataset.image = 'big.fits'; a.id = 'bigfile'; a.textContent = 'big';
        document.querySelector('main').prepend(a); }""")
    page.click("#bigfile")
    wait_for(reading.is_set, timeout=15, what="the server reading the frame")

    async def send() -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = 4242.0
        await vec.send_setVector()

    indi.call(send)
    expect(page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")).to_have_text("4242.000")
    viewer = page.locator("dialog.viewer-dialog .viewer")
    expect(viewer).to_have_attribute("data-ready", "loading")
    viewer.get_by_label("Stretch").select_option("log")  # a click handled meanwhile
    expect(viewer.get_by_label("Stretch")).to_have_value("log")
    release.set()
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=60000)
    expect(viewer.locator(".v-status")).to_contain_text("8000 x 6000")
    view = json.loads(viewer.get_attribute("data-view") or "{}")
    assert view["w"] < 2000  # a downsampled preview, not 8000 pixels across


def test_a_phone_pinches_to_zoom(browser: Browser, site: WebThread,  # noqa: F811
                                 blobfolder: Path) -> None:
    """On a touch screen two fingers spread apart zoom in (the frame drawn at a larger scale,
    fewer of its pixels in view), through the pointer events the browser makes of touches."""
    mono_fits(blobfolder / "m.fits")
    page = log_in(browser, site, "view")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/image/m.fits")
    viewer = page.locator("main .viewer")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    before = json.loads(viewer.get_attribute("data-view") or "{}")
    box = viewer.locator(".v-stage").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for spread in (40, 60, 80):
        touch("touchMove", spread)
    touch("touchEnd", 0)

    def zoomed_in() -> bool:
        view = json.loads(viewer.get_attribute("data-view") or "{}")
        return bool(view["zoom"] > before["zoom"] * 3 and viewer.get_attribute("data-ready") == "yes")

    wait_for(zoomed_in, timeout=15, what="the pinch to zoom in")
    shoot(page, "web_image_phone.png")


def test_a_cleared_percentile_or_a_failed_view_leaves_the_viewer_true(
        browser: Browser, site: WebThread, blobfolder: Path) -> None:  # noqa: F811
    """The percentile field emptied (or outside 50 .. 100) keeps the last good percentile: no
    view or limits asked with it (they answered 400, and the histogram's script threw on the
    error page), and the status still tells the frame. A view that failed once (here the
    network) does not leave "could not be drawn" under the next view that is drawn."""
    mono_fits(blobfolder / "m.fits")
    page = log_in(browser, site, "view")
    failures: list[str] = []
    page.on("pageerror", lambda e: failures.append(f"page error {e}"))
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{site.url}/image/m.fits")
    viewer = page.locator("main .viewer")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    viewer.get_by_label("Limits").select_option("percentile")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    for typed in ("", "30"):
        viewer.get_by_label("Percentile").fill(typed)
        viewer.get_by_label("Percentile").dispatch_event("change")
        expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
        expect(viewer.locator(".v-histo-caption")).to_contain_text("limits")
    expect(viewer.locator(".v-status")).to_contain_text("300 x 200")
    assert failures == []
    # one view lost on the way: the status says so, and the next view drawn clears it
    page.route("**/render?*", lambda route: route.abort(), times=1)
    viewer.get_by_label("Stretch").select_option("log")
    expect(viewer).to_have_attribute("data-ready", "error", timeout=15000)
    expect(viewer.locator(".v-status")).to_contain_text("could not be drawn")
    viewer.get_by_label("Stretch").select_option("linear")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    expect(viewer.locator(".v-status")).to_contain_text("300 x 200")


def test_a_view_asked_before_a_change_never_shows_as_ready(
        browser: Browser, site: WebThread, blobfolder: Path) -> None:  # noqa: F811
    """A view still loading when the stretch changes is one of the old settings: once it
    arrives the viewer must not say ready (data-ready "yes") with it, only with the view of the
    new stretch. It did while the new view waited its 60 ms before being asked, and
    test_the_cameras_image_is_beside_its_controls... read "stretch=asinh" for "linear".
    The page's clock is held so that the old view lands inside that wait every time."""
    mono_fits(blobfolder / "m.fits")
    page = log_in(browser, site, "view")
    page.clock.install()
    page.goto(f"{site.url}/image/m.fits")
    viewer = page.locator("main .viewer")
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    # every (data-ready, src) the viewer shows as ready from now on
    page.evaluate("""() => {
        const root = document.querySelector("main .viewer");
        window.readySeen = [];
        new MutationObserver(() => {
            if (root.dataset.ready === "yes")
                window.readySeen.push(root.querySelector("img.v-img").getAttribute("src"));
        }).observe(root, {attributes: true, attributeFilter: ["data-ready"]});
    }""")
    held: list[Route] = []
    page.route("**/render?*", lambda route: held.append(route)
               if "limits=percentile" in route.request.url and "stretch=asinh" in route.request.url
               else route.continue_())
    viewer.get_by_label("Limits").select_option("percentile")
    page.clock.run_for(200)  # the view of (asinh, percentile) is asked, and held on its way
    wait_for(lambda: held or page.wait_for_timeout(20), 15, "the old view asked")
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    viewer.get_by_label("Stretch").select_option("linear")  # its view waits for the clock
    old = held[0].request.url
    with page.expect_request_finished(lambda request: request.url == old):
        held[0].continue_()
    for _ in range(2):  # the old view decoded, then shown in the page's image (the same URL)
        page.evaluate("url => { const i = new Image(); i.src = url; return i.decode(); }", old)
    page.clock.run_for(200)  # now the new view is asked
    expect(viewer).to_have_attribute("data-ready", "yes", timeout=15000)
    seen = page.evaluate("window.readySeen")
    assert seen and all("stretch=linear" in src for src in seen), seen
