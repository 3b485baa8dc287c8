"""No page of the web client is wider than a 390 px phone (issue 89 item 11: the Imager
Agent's was 401 px), in Debian's chromium at 390 x 844: our server hosts the four agents (the
Imager Agent, the Astrometry Agent, the Guider Agent, the WatchDog) beside our camera, filter
wheel, guide camera and mount simulators, connected (their whole pages defined) and the
camera's one frame received, nothing running (the pages as a user meets them before a night;
the pages of a night at work are measured by test_agent_pages.py and test_guider_pages.py, the
schedule's picture by test_schedule_page.py).

Walked: the login page, then, logged in as the administrator (who sees every page), the
Instruments, Messages, BLOBs, Users, Discovered and password pages, the frame's viewer, each
device's page and each of its tabs, the Imager Agent's schedule page, and the page of a night
(``/night``: the guide's night as a user ran it, `journalkit.user_night`, its targets table
measured too, as its box scrolls sideways rather than the page). Each is measured
(``document.documentElement.scrollWidth``), the ones too wide named together."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest
from peers import free_port
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_agent_page import tab
from test_agent_pages import PHONE
from test_agent_pages import keep_picture
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import close_pages
from test_browser import log_in
from test_browser import open_device
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

import indipyclient
from indipyagents.astrometry import make_driver as make_astrometry
from indipyagents.imager import make_driver as make_imager
from indipyagents.watchdog import make_driver as make_watchdog
from indipysimulators import guidecamera
from indipysimulators import telescope
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.ccd import make_driver as make_camera
from indipysimulators.focus import FOCUSER
from indipysimulators.focus import WHEEL
from indipysimulators.focus import make_driver as make_focus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents" / "guider"))
from guiderkit import make_guider
from journalkit import user_night

IMAGER = "Imager Agent"
AGENTS = (IMAGER, "Astrometry Agent", "Guider Agent", "WatchDog")
#: The devices every page is walked for: the agents and our simulators.
DEVICES = (*AGENTS, CAMERA, FOCUSER, WHEEL, telescope.DEVICE, guidecamera.DEVICE)
#: Connected before the walk: the simulators and the Imager Agent (on our camera and wheel),
#: whose pages grow by what a connected device defines.
CONNECTED = (CAMERA, FOCUSER, WHEEL, telescope.DEVICE, guidecamera.DEVICE, IMAGER)


@pytest.fixture
def all_agents(tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[ServerThread]:
    """Our server with the four agents and our simulators, nothing started (the imager's
    state folder the test's own: no night of another run resumed)."""
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(tmp_path / "agent-state"))
    server = ServerThread(free_port(), make_imager(), others=(
        make_astrometry(workdir=str(tmp_path)), make_guider(phd2_port=0), make_watchdog(),
        make_camera(), make_focus(seconds_per_slot=0.1), telescope.make_driver(),
        guidecamera.make_driver())).start()
    yield server
    server.stop()


async def connect_and_expose(port: int) -> None:
    """`CONNECTED` connected, the Imager Agent on our camera and wheel; one short frame of
    the camera, for the BLOBs page and the viewer."""
    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.set(IMAGER, "DEVICES", {"CCD": CAMERA, "FILTER": WHEEL}, timeout=10)
        for device in CONNECTED:
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(CAMERA, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1}, timeout=20)


def too_wide(page: Page) -> int | None:
    """The page's width when wider than the phone, else None."""
    wide = int(page.evaluate("document.documentElement.scrollWidth"))
    return wide if wide > PHONE["width"] else None


@pytest.mark.timeout(120)
def test_no_page_is_wider_than_a_phone(
        browser: Browser, all_agents: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """Every page the client serves, and every tab of every device's page, at most 390 px
    wide at 390 x 844; the pages too wide named with their widths."""
    nights = tmp_path / "images"
    user_night(nights)
    with WebThread(all_agents.port, dbfolder, blobfolder, nights=nights) as web:
        source = web.app.state.web.source
        wait_for(lambda: all(source.vector(d, "CONNECTION") for d in DEVICES), timeout=30,
                 what="every device")
        all_agents.call(partial(connect_and_expose, all_agents.port), timeout=60)
        frames = wait_for(lambda: sorted(blobfolder.rglob("*.fits")), timeout=30,
                          what="the camera's frame in the web's folder")
        wide: dict[str, int] = {}

        def measure(page: Page, name: str) -> None:
            width = too_wide(page)
            if width is None and name == "/night":  # its table's box scrolls, not the page
                box = page.locator("div.night-table").evaluate(
                    "t => [t.scrollWidth, t.clientWidth]")
                width = int(box[0]) if box[0] > box[1] else None
            if width is not None:
                wide[name] = width
                keep_picture(page, tmp_path, f"wide-{len(wide)}.png")

        guest = browser.new_context(viewport=PHONE).new_page()
        guest.goto(f"{web.url}/login")
        measure(guest, "/login")
        page = log_in(browser, web, "admin")
        page.set_viewport_size(PHONE)
        for path in ("/", "/messages", "/blobs", "/users", "/discovered", "/password",
                     f"/schedule/{quote(IMAGER)}", f"/image/{quote(frames[0].name)}",
                     "/night"):
            page.goto(f"{web.url}{path}")
            page.wait_for_load_state("load")
            if path.startswith("/image/"):  # the viewer drawn, its header read
                expect(page.locator(".viewer")).to_have_attribute("data-ready", "yes",
                                                                  timeout=20000)
            measure(page, path)
        for device in DEVICES:
            open_device(page, web, device)
            measure(page, f"{device} (opened)")
            for group in page.locator("#device-body button.tab-button").all_inner_texts():
                tab(page, group)
                measure(page, f"{device}: {group}")
            if device == CAMERA:  # its frame beside the controls, opened in the viewer
                page.locator("aside.images img.latest").first.click()
                viewer = page.locator("dialog.viewer-dialog .viewer")
                expect(viewer).to_have_attribute("data-ready", "yes", timeout=20000)
                measure(page, f"{device}: the viewer")
        close_pages(browser)  # first: uvicorn's shutdown waits for their open streams
        assert not wide, f"wider than {PHONE['width']} px: {wide}"
