"""The one way the tests launch Chromium (issue 90 item 3): Debian's /usr/bin/chromium, headless,
through Playwright (sync or async; never `playwright install`), with the tests' own fontconfig
(tests/data/fonts/fonts.conf: only fonts-dejavu-core's files, DejaVu Sans for sans-serif and
system-ui, DejaVu Sans Mono for monospace) so a stored picture is drawn with the same fonts on
any machine scripts/run-tests prepared, whatever else that machine has installed.

Each pytest process (an xdist worker) launches its sync Chromium once, at its first use, and
keeps it to the end of its session (`launched`, the `chromium` fixture of tests/conftest.py,
`close_worker_chromium` from its ``pytest_sessionfinish``): a launch costs ~1.7 s of CPU, and
each test's pages have browser contexts of their own (cookies, storage, cache), closed after
it, so no test sees another's. Its fontconfig cache is one folder for the process's life.
A browser that went away (crashed, closed) is launched again at the next use."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser as AsyncBrowser
from playwright.async_api import async_playwright
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
#: The two sizes a page is looked at (issue 93 item 5: "readable at 390 x 844 and on a desktop").
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
FONTS_CONF = Path(__file__).resolve().parent / "data" / "fonts" / "fonts.conf"
#: What every launch passes: no sandbox (root in a container), no GPU, nothing fetched.
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--disable-extensions", "--no-first-run")


def font_env(cache: Path) -> dict[str, str]:
    """The environment with the tests' fontconfig, its cache in `cache` (a temporary folder:
    the conf's ``<cachedir prefix="xdg">``), for Chromium or ``fc-match``."""
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "XDG_CACHE_HOME": str(cache)}


def launch_options(cache: Path) -> dict[str, Any]:
    """Playwright's ``chromium.launch`` keywords; a missing chromium fails, it does not skip."""
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), \
        "chromium is missing: apt-get install chromium (scripts/run-tests does it)"
    return {"executable_path": CHROMIUM, "headless": True, "args": list(ARGS),
            "env": font_env(cache)}


class _Worker:
    """This process's one sync Playwright and Chromium, and its fontconfig cache."""

    def __init__(self) -> None:
        self.cache = tempfile.TemporaryDirectory(prefix="chromium-fonts-")
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(**launch_options(Path(self.cache.name)))

    def close(self) -> None:
        try:
            if self.browser.is_connected():
                self.browser.close()
        finally:
            self.playwright.stop()
            self.cache.cleanup()


_worker: _Worker | None = None


def worker_chromium() -> Browser:
    """This process's Chromium (sync Playwright), launched at its first use, or again once the
    one before went away."""
    global _worker
    if _worker is not None and not _worker.browser.is_connected():
        close_worker_chromium()
    if _worker is None:
        before = asyncio._get_running_loop()
        _worker = _Worker()
        asyncio._set_running_loop(before)  # the mark the start left (see `launched`)
    return _worker.browser


def close_worker_chromium() -> None:
    """Close this process's Chromium and its Playwright, if launched (the session's end)."""
    global _worker
    worker, _worker = _worker, None
    if worker is not None:
        try:
            worker.close()
        finally:
            asyncio._set_running_loop(None)


def close_contexts(browser: Browser) -> None:
    """Close every browser context (with its pages) open in `browser`."""
    for context in browser.contexts:
        context.close()


@contextmanager
def launched() -> Iterator[Browser]:
    """The process's Chromium (sync Playwright, `worker_chromium`); the browser contexts opened
    in it meanwhile (each ``new_page`` opens one) are closed at the end.

    Sync Playwright marks its own event loop as the thread's running loop between its calls
    (playwright/_impl/_greenlets.py), which would make every later ``asyncio.run`` of the
    process refuse to start: the mark is set only inside this block and taken off at its end
    (the loop itself, paused in the dispatcher greenlet, goes on at the next call)."""
    before = asyncio._get_running_loop()
    browser = worker_chromium()
    loop = browser._loop
    if before is not None and before is not loop:
        raise RuntimeError("the sync Chromium of chromiumkit inside a running asyncio loop: "
                           "use launched_async()")
    asyncio._set_running_loop(loop)
    try:
        yield browser
    finally:
        if browser.is_connected():
            close_contexts(browser)
        asyncio._set_running_loop(before)


@asynccontextmanager
async def launched_async() -> AsyncIterator[AsyncBrowser]:
    """Chromium (async Playwright), closed at the end."""
    with tempfile.TemporaryDirectory(prefix="chromium-fonts-") as cache:
        async with async_playwright() as p:
            browser = await p.chromium.launch(**launch_options(Path(cache)))
            try:
                yield browser
            finally:
                await browser.close()


def platform_fonts(page: Page, selector: str) -> list[str]:
    """The fonts Chromium really drew the text of `selector`'s first element with (their
    PostScript names, from DevTools' ``CSS.getPlatformFontsForNode``), not what its CSS asks."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no {selector} on the page"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return [str(font["postScriptName"]) for font in fonts]


#: The PostScript name of the font `machine_prefers` adds (a copy of DejaVu Serif).
MACHINE_FONT = "DejaVuSerif"


def machine_prefers(folder: Path) -> Path:
    """A machine's own fontconfig with a font outside the tests' conf, "Machine Sans" (a copy
    of DejaVu Serif, in `folder`), preferred for system-ui, sans-serif, monospace and even
    DejaVu Sans: the folder to set as XDG_CONFIG_HOME (/etc/fonts/fonts.conf reads the user's
    fonts.conf there), for a test to show what such a machine would draw."""
    fonts = folder / "machine-fonts"
    fonts.mkdir(parents=True)
    shutil.copy(Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"), fonts / "MachineSans.ttf")
    config = folder / "machine-config"
    (config / "fontconfig").mkdir(parents=True)
    aliases = "".join(f"<alias binding='strong'><family>{family}</family><prefer><family>"
                      "Machine Sans</family></prefer></alias>"
                      for family in ("system-ui", "sans-serif", "monospace", "DejaVu Sans"))
    (config / "fontconfig" / "fonts.conf").write_text(
        "<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'urn:fontconfig:fonts.dtd'>"
        f"<fontconfig><dir>{fonts}</dir><match target='scan'><test name='file'><string>"
        f"{fonts / 'MachineSans.ttf'}</string></test><edit name='family' mode='assign' "
        f"binding='same'><string>Machine Sans</string></edit></match>{aliases}</fontconfig>")
    return config


def at_both_sizes(page: Page, url: str) -> Iterator[tuple[str, dict[str, int]]]:
    """`url` opened in `page` at the phone's size, then at the desktop's: ("phone", `PHONE`)
    and ("desk", `DESKTOP`) in turn, for the test to look at each."""
    for name, size in (("phone", PHONE), ("desk", DESKTOP)):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        page.goto(url)
        yield name, size
