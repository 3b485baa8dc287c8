"""Issue 89 item 10's last part, on the Imager Agent's Sequence page in Debian's chromium at a
phone's 390 x 844: which plan runs and which was refused, after a refusal and after a restart.

Our server hosts the agent beside our simulated camera and wheel (test_agent_page's rig). A
plan is loaded and started from the page; a plan with a mistake is then loaded through
AGENT_PLAN: the page says that file was refused and why, and that the first plan runs
(AGENT_PLAN's message, PLAN_STATUS's name, PLAN_CHECK's REFUSED). The server is then stopped
and started again with the same state folder: the night resumes by itself, and the page (its
stream reconnected, no reload) names the plan that runs and that none was refused since.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_agent_page import logged_in
from test_agent_page import on_the_sequence_tab
from test_agent_page import rig  # noqa: F401
from test_agent_page import set_values
from test_agent_page import tab
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import close_pages
from webpeers import ServerThread

from indipyagents.imager import make_driver as make_agent
from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.ccd import make_driver as make_camera
from indipysimulators.focus import WHEEL
from indipysimulators.focus import make_driver as make_focus
from indipyweb.render import vector_id

PHONE = {"width": 390, "height": 844}

#: Eight frames of 2 s: still running when the bad plan comes and when the server restarts.
PLAN = plan_to_toml(night("Phone night", target("M42", Batch(8, 2, "Red")),
                         folder="plan", camera=CAMERA, wheel=WHEEL))
#: The same plan with a count below zero: refused at load, naming the line and the reason.
BAD_PLAN = PLAN.replace("count = 8\n", "count = -8\n")


def fits_the_phone(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide on a phone"


def member(page: Page, vector: str, name: str) -> Locator:
    return page.locator(f"#live-{vector_id(AGENT, vector)} tr[data-member={name}] td.value")


@pytest.mark.timeout(90)
def test_the_sequence_page_names_the_plan_that_runs_and_the_one_refused(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """A plan running, a bad one loaded: AGENT_PLAN Alert names bad.toml, its mistake and the
    plan that runs; PLAN_STATUS still names it, PLAN_CHECK.REFUSED names bad.toml. The server
    restarted with the same state folder: PLAN_STATUS names the resumed plan and its journal,
    SEQUENCE_STATE Busy, REFUSED empty. Nothing wider than the phone."""
    bad, good = tmp_path / "bad.toml", tmp_path / "night.toml"
    bad.write_text(BAD_PLAN, encoding="utf-8")
    good.write_text(PLAN, encoding="utf-8")
    again: ServerThread | None = None
    with logged_in(browser, rig, dbfolder, blobfolder, AGENT, "AGENT_PLAN") as (web, page):
        on_the_sequence_tab(page, web, tmp_path / "frames", PHONE)
        plan = page.locator(f"#{vector_id(AGENT, 'AGENT_PLAN')}")
        set_values(plan, "Ok", FILE=good)
        state = page.locator(f"#live-{vector_id(AGENT, 'SEQUENCE_STATE')}")
        page.locator(f"#{vector_id(AGENT, 'AGENT_START_PROCESS')} "
                     "button.swbtn[value=SEQUENCE]").click()
        expect(state.locator(".badge")).to_have_text("Busy", timeout=15000)

        set_values(plan, "Alert", FILE=bad)
        said = plan.locator(".live .msg")
        expect(said).to_contain_text("bad.toml")  # which plan was refused
        expect(said).to_contain_text("count")  # why: its mistake
        expect(said).to_contain_text("Phone night from night.toml runs")  # which one runs
        expect(member(page, "PLAN_STATUS", "NAME")).to_have_text("Phone night")
        expect(member(page, "PLAN_CHECK", "REFUSED")).to_contain_text("bad.toml")
        expect(state.locator(".badge")).to_have_text("Busy")
        fits_the_phone(page)
        page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)

        rig.stop()  # the server and the agent gone mid-night, its state folder kept
        expect(page.locator("#conn")).to_have_class("conn lost", timeout=15000)
        again = ServerThread(rig.port, make_agent(),
                             others=(make_camera(), make_focus(seconds_per_slot=0.1))).start()
        try:
            expect(page.locator("#conn")).to_have_class("conn ok", timeout=15000)
            tab(page, "Sequence")
            expect(member(page, "PLAN_STATUS", "NAME")).to_have_text("Phone night",
                                                                      timeout=15000)
            expect(member(page, "PLAN_STATUS", "SOURCE")).to_contain_text("(resumed)")
            state = page.locator(f"#live-{vector_id(AGENT, 'SEQUENCE_STATE')}")
            expect(state.locator(".badge")).to_have_text("Busy", timeout=15000)
            expect(member(page, "PLAN_CHECK", "REFUSED")).to_have_text("")
            # AGENT_PLAN names the plan that runs again (its file), not the refused one
            expect(member(page, "AGENT_PLAN", "FILE")).to_have_text(str(good), timeout=15000)
            expect(page.locator(f"#live-{vector_id(AGENT, 'AGENT_PLAN')} .badge")).to_have_text(
                "Ok")
            fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "resumed.png"), full_page=True)
            close_pages(browser)
        finally:
            again.stop()
