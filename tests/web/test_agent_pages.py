"""The agents' pages as a user meets them through a night, in Debian's chromium at a phone's
390 x 844 and at a desk's 1100 x 900 (issue 79 item 5): our server hosts the imager agent
beside our simulated camera and filter wheel, and the watchdog agent.

- a plan refused, then a good one loaded: the refusal's words go once the plan is Ok;
- SEQUENCE pressed: the answer under the button says the night is under way while it runs
  (longer than the page waits for an answer), not "timed out", and goes when it ends;
- the night held for safety (AGENT_SAFETY UNSAFE) says so on the Instruments page;
- the last frame's caption names the frame (target, filter, number), not the web's copy;
- the WatchDog page opens where its status lights are, Disconnect not lit as a good state;
- no page is wider than the phone.

"Screenshots compared": each page's layout is measured (nothing wider than the viewport, the
named parts in view), and each fixed part's screenshot is compared with the stored one in
tests/data/web (tests/web/pictures.py: clocks and paths masked; INDIPY_UPDATE_PICTURES=1 after
a deliberate change). The whole pages are kept in the test's folder, and in docs/images with
INDIPYWEB_SCREENSHOTS=docs/images (the pictures docs/web_client.rst shows).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from peers import free_port
from pictures import element_picture
from pictures import same_picture
from pictures import still_clocks
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_agent_page import AGENT
from test_agent_page import logged_in
from test_agent_page import set_values
from test_agent_page import tab
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import close_pages
from test_browser import open_device
from webpeers import ServerThread

from indipyagents.imager import make_driver as make_agent
from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipyagents.watchdog import make_driver as make_watchdog
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.ccd import make_driver as make_camera
from indipysimulators.focus import WHEEL
from indipysimulators.focus import make_driver as make_focus
from indipyweb.render import vector_id

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1100, "height": 900}
VIEWPORTS = {"phone": PHONE, "desk": DESK}
WATCHDOG = "WatchDog"
#: Where the docs' pictures go when asked (INDIPYWEB_SCREENSHOTS, as tests/web/test_browser.py).
PICTURES = "INDIPYWEB_SCREENSHOTS"

#: The colour of a good state (the page's --ok, as a badge "Ok" is drawn).
OK_GREEN = """() => {
    const probe = document.createElement("span");
    probe.className = "badge state-ok";
    document.body.append(probe);
    const colour = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return colour;
}"""

#: Six frames of 3 s through two filters: a night longer than the page's wait for an answer
#: (WebThread's set_timeout, 5 s), so START is still Busy when the page stops waiting, and
#: still running when the test makes it unsafe.
PLAN = plan_to_toml(night("Phone night", target("M42", Batch(4, 3, "Red"), Batch(2, 3, "Green")),
                         folder="plan", camera=CAMERA, wheel=WHEEL, close_dome=True))

#: A plan whose batch has no count: refused at load with the line and the reason.
BAD_PLAN = PLAN.replace("count = 4\n", "count = -4\n")


@pytest.fixture
def rig(tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[ServerThread]:
    """Our server with the imager agent, our simulated camera and wheel, and the watchdog
    (its saved settings in the test's HOME: none, it guards nothing)."""
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(tmp_path / "agent-state"))
    server = ServerThread(free_port(), make_agent(),
                          others=(make_camera(), make_focus(seconds_per_slot=0.1),
                                  make_watchdog())).start()
    yield server
    server.stop()


def fits_the_viewport(page: Page) -> None:
    """Nothing on the page is wider than the viewport: no sideways scrolling on a phone."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide} px wide in a {width} px viewport"


def keep_picture(page: Page, tmp_path: Path, name: str) -> None:
    """The page's picture in the test's folder, and in the docs' folder when asked."""
    import os

    page.screenshot(path=str(tmp_path / name), full_page=True)
    folder = os.environ.get(PICTURES)
    if folder:
        shutil.copyfile(tmp_path / name, Path(folder) / name)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_night_from_the_agents_page_says_what_it_is_doing(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path, size: str) -> None:
    """A refused plan, then a good one: AGENT_PLAN and PLAN_STATUS Ok without the refusal's
    words. SEQUENCE pressed: after the page's wait, the answer under Start says the night is
    under way, never "timed out". Held for safety: the Instruments page says "held" and why.
    Safe again, it ends Ok, the answer under Start gone; the last frame's caption names the
    frame. Nothing wider than the viewport."""
    frames = tmp_path / "frames"
    bad, good = tmp_path / "bad.toml", tmp_path / "night.toml"
    bad.write_text(BAD_PLAN, encoding="utf-8")
    good.write_text(PLAN, encoding="utf-8")
    with logged_in(browser, rig, dbfolder, blobfolder, AGENT, "AGENT_SAFETY") as (web, page):
        page.set_viewport_size(VIEWPORTS[size])
        open_device(page, web, AGENT)
        # issue 89: the page opens on the night (SEQUENCE_STATE), not on Main Control's Connect
        expect(page.locator(f"#{vector_id(AGENT, 'SEQUENCE_STATE')}")).to_be_visible()
        for group in page.locator("#device-body button.tab-button").all_inner_texts():
            tab(page, group)  # every tab of the page fits (issue 89: it was 401 px wide)
            fits_the_viewport(page)
        tab(page, "Options")
        set_values(page.locator(f"#{vector_id(AGENT, 'IMAGE_NAME')}"), "Idle",
                   IMAGE_FOLDER=frames)
        tab(page, "Sequence")
        plan = page.locator(f"#{vector_id(AGENT, 'AGENT_PLAN')}")
        set_values(plan, "Alert", FILE=bad)
        refusal = plan.locator(".live .msg")
        expect(refusal).to_contain_text("bad.toml")
        set_values(plan, "Ok", FILE=good)
        status = page.locator(f"#live-{vector_id(AGENT, 'PLAN_STATUS')}")
        expect(status.locator("tr[data-member=NAME] td.value")).to_have_text("Phone night")
        expect(plan.locator(".live .badge")).to_have_text("Ok")
        expect(refusal).to_have_count(0)
        expect(status.locator(".msg")).to_have_count(0)
        keep_picture(page, tmp_path, f"web_agent_plan_{size}.png")
        # the plan's state alone, the refusal gone; the plan as loaded
        same_picture(element_picture(plan.locator(".live .meta"), [plan.locator("time")]),
                     f"agent_plan_state_{size}.png", tmp_path)
        loaded = page.locator(f"#{vector_id(AGENT, 'PLAN_STATUS')}")
        same_picture(element_picture(loaded, [loaded.locator("time")]),
                     f"agent_plan_loaded_{size}.png", tmp_path)
        fits_the_viewport(page)

        state = page.locator(f"#live-{vector_id(AGENT, 'SEQUENCE_STATE')}")
        start = page.locator(f"#{vector_id(AGENT, 'AGENT_START_PROCESS')}")
        start.locator("button.swbtn[value=SEQUENCE]").click()
        expect(state.locator(".badge")).to_have_text("Busy", timeout=15000)
        answer = start.locator("output.result")
        expect(answer).to_contain_text("Busy", timeout=15000)  # the page's wait is over
        expect(answer).not_to_contain_text("timed out")
        expect(answer).to_contain_text("under way")
        # The night's first frame beside the controls first: on a desk they stand in two
        # columns beside it and in three before it comes (the answer 320 px wide, not 303).
        # It comes about 1.5 s before the page stops waiting; on a loaded machine, after.
        image = page.locator(f"#img-{vector_id(AGENT, 'AGENT_LAST_FRAME')}")
        expect(image.locator("img.latest")).to_be_visible(timeout=30000)
        # the answer alone: the section around it is redrawn as the night goes
        same_picture(element_picture(answer), f"agent_start_answer_{size}.png", tmp_path)

        web_page = page.context.new_page()  # a second tab: the Instruments page
        web_page.set_viewport_size(VIEWPORTS[size])
        web_page.goto(f"{web.url}/")
        safety = page.locator(f"#{vector_id(AGENT, 'AGENT_SAFETY')}")
        set_values(page.locator(f"#{vector_id(AGENT, 'AGENT_SAFETY_CAUSE')}"), "Ok",
                   CAUSE="rain")
        safety.locator("button.swbtn[value=UNSAFE]").click()
        expect(state.locator(".msg")).to_contain_text("held", timeout=30000)
        agent_row = web_page.locator("ul.devices li", has_text=AGENT)
        expect(agent_row).to_contain_text("held: unsafe (rain)", timeout=15000)
        keep_picture(web_page, tmp_path, f"web_instruments_held_{size}.png")
        # how many vectors are Busy at that moment is the night's, not the page's
        expect(agent_row.locator(".lastmsg")).to_contain_text("the sequence holds")
        same_picture(element_picture(agent_row, [agent_row.locator(".counts"),
                                                 agent_row.locator(".lastmsg time")]),
                     f"instruments_held_{size}.png", tmp_path)
        fits_the_viewport(web_page)
        safety.locator("button.swbtn[value=SAFE]").click()
        expect(agent_row).not_to_contain_text("held", timeout=15000)

        expect(state.locator(".badge")).to_have_text("Ok", timeout=90000)
        expect(answer.locator(".result")).to_have_count(0)  # the night is over: nothing stale
        expect(image.locator("img.latest")).to_have_count(1, timeout=15000)
        caption = image.locator("figcaption")
        expect(caption).to_contain_text("M42_Green_Light_002.fits")
        saved = page.evaluate("img => img.dataset.image", image.locator("a.open-viewer")
                              .element_handle())
        expect(caption).not_to_contain_text(saved)
        image.scroll_into_view_if_needed()
        still_clocks(caption)  # its time wraps on a phone: not masked, set
        same_picture(element_picture(caption),
                     f"agent_last_frame_caption_{size}.png", tmp_path)
        keep_picture(page, tmp_path, f"web_agent_night_{size}.png")
        fits_the_viewport(page)
        close_pages(browser)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_watchdog_page_opens_on_its_status_lights(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path, size: str) -> None:
    """The watchdog guards with CONNECTION off (as indilib's): its page opens on the tab of
    its status lights (WATCHDOG_STATUS in view), and its pressed Disconnect is not drawn in
    the green of a good state."""
    with logged_in(browser, rig, dbfolder, blobfolder, WATCHDOG, "WATCHDOG_STEPS") as (web, page):
        page.set_viewport_size(VIEWPORTS[size])
        open_device(page, web, WATCHDOG)
        lights = page.locator(f"#{vector_id(WATCHDOG, 'WATCHDOG_STATUS')}")
        expect(lights).to_be_visible()
        expect(lights).to_be_in_viewport()
        keep_picture(page, tmp_path, f"web_watchdog_{size}.png")
        same_picture(element_picture(page.locator("nav.tabs")), f"watchdog_tabs_{size}.png",
                     tmp_path)
        same_picture(element_picture(lights, [lights.locator("time")]),
                     f"watchdog_status_{size}.png", tmp_path)
        fits_the_viewport(page)
        tab(page, "Main Control")
        disconnect = page.locator(f"#{vector_id(WATCHDOG, 'CONNECTION')} "
                                  "button.swbtn[value=DISCONNECT]")
        expect(disconnect).to_have_attribute("aria-pressed", "true")
        green = page.evaluate(OK_GREEN)
        drawn = page.evaluate("e => getComputedStyle(e).backgroundColor",
                              disconnect.element_handle())
        assert drawn != green, (drawn, green)
        connection = page.locator(f"#{vector_id(WATCHDOG, 'CONNECTION')}")
        same_picture(element_picture(connection, [connection.locator("time")]),
                     f"watchdog_connection_{size}.png", tmp_path)
        close_pages(browser)
