"""Pictures that do not depend on the machine (issue 90 item 3): Chromium, launched the one way
the tests launch it (tests/chromiumkit.py), draws with the fonts scripts/run-tests installs,
named in the tests' own fontconfig (tests/data/fonts/fonts.conf), and never with a font the
machine adds, which its own fontconfig would pick for system-ui, sans-serif or monospace."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from chromiumkit import ARGS
from chromiumkit import CHROMIUM
from chromiumkit import FONTS_CONF
from chromiumkit import MACHINE_FONT
from chromiumkit import font_env
from chromiumkit import launch_options
from chromiumkit import machine_prefers
from chromiumkit import platform_fonts
from playwright.sync_api import Browser
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import log_in
from test_browser import site  # noqa: F401
from webpeers import WebThread

PHONE = {"width": 390, "height": 844}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
#: A FITS header card as the image viewer shows it: a monospace cell of the page's own CSS.
CARD = ("document.body.insertAdjacentHTML('beforeend', "
        "'<table class=\"v-cards\"><tr><td>NAXIS1</td><td>1280</td></tr></table>')")
PAGE = ("<!doctype html><html><body style='font: 15px system-ui, sans-serif'><p id=text>"
        "Instruments</p><p id=mono style='font-family: ui-monospace, monospace'>NAXIS1</p>"
        "</body></html>")


def fc_match(family: str, cache: Path) -> str:
    """The family fontconfig picks for `family` under the tests' conf."""
    return subprocess.run(["fc-match", "-f", "%{family[0]}", family], env=font_env(cache),
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture
def machine_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The machine's own fontconfig prefers a font outside the tests' conf (`machine_prefers`);
    its PostScript name."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(machine_prefers(tmp_path)))
    machine = subprocess.run(["fc-match", "-f", "%{family[0]}", "system-ui"],
                             capture_output=True, text=True, check=True).stdout
    assert machine == "Machine Sans", f"the machine's fontconfig picks {machine}"
    return MACHINE_FONT


def test_the_conf_names_only_the_dejavu_files_run_tests_installs(tmp_path: Path) -> None:
    """One folder, fonts-dejavu-core's; only that package's files accepted (fonts-dejavu-extra
    shares the folder); DejaVu Sans for system-ui, sans-serif and any other name, DejaVu Sans
    Mono for monospace."""
    conf = ET.parse(FONTS_CONF).getroot()
    assert [d.text for d in conf.iter("dir")] == [str(DEJAVU)]
    accepted = {g.text for g in conf.iter("acceptfont") for g in g.iter("glob")}
    core = subprocess.run(["dpkg", "-L", "fonts-dejavu-core"], capture_output=True, text=True,
                          check=True).stdout.split()
    assert accepted and accepted <= set(core), accepted - set(core)
    listed = subprocess.run(["fc-list", "-f", "%{file}\n"], env=font_env(tmp_path),
                            capture_output=True, text=True, check=True).stdout.split()
    assert set(listed) == accepted
    for family in ("system-ui", "sans-serif", "sans", "Arial", "Noto Sans", "Roboto"):
        assert fc_match(family, tmp_path) == "DejaVu Sans", family
    assert fc_match("monospace", tmp_path) == "DejaVu Sans Mono"
    assert fc_match("serif", tmp_path) == "DejaVu Serif"


def test_the_instruments_page_on_a_phone_is_drawn_in_dejavu(browser: Browser,  # noqa: F811
                                                            site: WebThread) -> None:  # noqa: F811
    """The page's text in DejaVu Sans, a FITS card's monospace cell in DejaVu Sans Mono, as
    Chromium reports the fonts it drew with."""
    page = log_in(browser, site, "op")
    page.set_viewport_size(PHONE)
    expect(page.locator("ul.devices .counts").first).to_be_visible()
    page.evaluate(CARD)
    assert platform_fonts(page, "ul.devices .counts") == ["DejaVuSans"]
    assert platform_fonts(page, "header.top .brand") == ["DejaVuSans-Bold"]
    assert platform_fonts(page, "table.v-cards td:last-child") == ["DejaVuSansMono"]


def test_a_font_the_machine_adds_is_never_chosen(machine_font: str, tmp_path: Path,
                                                 chromium: Browser) -> None:  # noqa: F811
    """With the machine's fontconfig preferring another font, Chromium launched as before this
    change (the machine's environment) draws with it; launched the tests' way, with DejaVu."""
    # The module's Playwright launches both: one sync Playwright at a time in a thread.
    launch = chromium.browser_type.launch
    for options, text, mono in (
            ({"executable_path": CHROMIUM, "headless": True, "args": list(ARGS),
              "env": dict(os.environ)}, machine_font, machine_font),  # the hazard is real
            (launch_options(tmp_path / "cache"), "DejaVuSans", "DejaVuSansMono")):
        launched = launch(**options)
        try:
            page = launched.new_page()
            page.set_content(PAGE)
            assert (platform_fonts(page, "#text"), platform_fonts(page, "#mono")) == (
                [text], [mono]), f"FONTCONFIG_FILE={options['env'].get('FONTCONFIG_FILE')}"
        finally:
            launched.close()
