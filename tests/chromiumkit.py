"""The one way the tests launch Chromium (issue 90 item 3): Debian's /usr/bin/chromium, headless,
through Playwright (sync or async; never `playwright install`), with the tests' own fontconfig
(tests/data/fonts/fonts.conf: only fonts-dejavu-core's files, DejaVu Sans for sans-serif and
system-ui, DejaVu Sans Mono for monospace) so a stored picture is drawn with the same fonts on
any machine scripts/run-tests prepared, whatever else that machine has installed."""

from __future__ import annotations

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


@contextmanager
def launched() -> Iterator[Browser]:
    """Chromium (sync Playwright), closed at the end."""
    with tempfile.TemporaryDirectory(prefix="chromium-fonts-") as cache, \
            sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(Path(cache)))
        try:
            yield browser
        finally:
            browser.close()


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
