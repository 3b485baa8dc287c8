"""Tonight's schedule in the web client (issue 82 item 5), in Debian's chromium: our server
hosts the imager agent beside our simulated camera and filter wheel; the agent runs a
scheduled plan on a night of its own (its runs' clock starts at 19:00 UTC on 3 December) and
publishes tonight as AGENT_SCHEDULE_PICTURE; the page /schedule/<agent> shows that picture
(each target's altitude with its blocks, the twilight, the Moon, the block in hand) and the
blocks, readable at a phone's 390x844 (no sideways scrolling, the picture the screen's width)
and on a desktop. The SVG is served as an image only, under a policy that runs no script."""

from __future__ import annotations

import shutil
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from agentkit import AGENT
from agentkit import NightClock
from agentkit import night
from agentkit import target
from agentkit import write_plan
from chromiumkit import PHONE
from chromiumkit import at_both_sizes
from peers import free_port
from pictures import element_picture
from pictures import same_picture
from playwright.sync_api import Browser
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import log_in
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

from indipyagents.imager import make_driver as make_agent
from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.ccd import make_driver as make_camera
from indipysimulators.focus import WHEEL
from indipysimulators.focus import make_driver as make_focus

START = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
PICTURE_FILE = Path("/tmp/web82-schedule-phone.png")


def scheduled(folder: str, where: Path) -> str:
    def constrained(name: str, ra: float, dec: float, count: int, priority: int) -> Target:
        made = target(name, Batch(count, 1.0, "Red"), ra=ra, dec=dec)
        return Target(made.name, made.ra, made.dec, made.batches, slew=False,
                      constraints=Constraints(priority=priority))

    plan = night("tonight", constrained("M42", 5.588, -5.39, 30, 2),
                 constrained("M81", 9.926, 69.07, 30, 1),
                 folder=folder, camera=CAMERA, wheel=WHEEL,
                 site=Site(48.0, 2.0, 100.0),
                 # a quick slew: the first block begins seconds after the run, its minute the
                 # same from run to run (the pictures compared)
                 schedule=Schedule(min_altitude=30, frame_overhead=60.0, slew_rate=90.0,
                                   settle=0.0))
    return str(write_plan(where / "tonight.toml", plan))


@pytest.fixture
def rig(tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[ServerThread]:
    """The agent started on a scheduled plan at once (no mount, no slew: the plan's [site]); its runs
    on a night of their own."""
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(tmp_path / "agent-state"))
    # frames in the agent's default image folder (/tmp), in a folder of the test's own
    folder = f"web82-{tmp_path.name}-{time.time_ns()}"
    agent = make_agent(plan=scheduled(folder, tmp_path), start=True)
    times = NightClock(START)
    assert agent.night is not None
    agent.night.timing = {"clock": times.clock, "sleep": times.sleep}
    server = ServerThread(free_port(), agent,
                          others=(make_camera(), make_focus(seconds_per_slot=0.1))).start()
    yield server
    server.stop()
    shutil.rmtree(Path("/tmp") / folder, ignore_errors=True)


@pytest.mark.timeout(120)
def test_tonight_is_drawn_readable_on_a_phone_and_a_desktop(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    with WebThread(rig.port, dbfolder, blobfolder) as web:
        source = web.app.state.web.source

        def drawn() -> bool:
            vector = source.vector(AGENT, "AGENT_SCHEDULE_PICTURE")
            return vector is not None and str(
                vector["members"]["SVG"]["value"]).startswith("<svg")

        wait_for(drawn, timeout=60, what="the agent's picture of tonight")
        blocks = str(source.vector(AGENT, "AGENT_SCHEDULE")["members"]["BLOCKS"]["value"])
        assert "M81" in blocks and "M42" in blocks, blocks
        page = log_in(browser, web, "op")
        page.goto(f"{web.url}/device/{AGENT}")  # the agent's page leads to its schedule
        page.click("p.schedule-link a")
        expect(page.locator("img#tonight")).to_be_visible(timeout=15000)
        for name, size in at_both_sizes(page, f"{web.url}/schedule/{AGENT}"):
            picture = page.locator("img#tonight")
            expect(picture).to_be_visible(timeout=15000)
            page.wait_for_function(
                "() => { const i = document.getElementById('tonight');"
                " return i.complete && i.naturalWidth > 0; }", timeout=15000)
            box = picture.bounding_box()
            assert box is not None
            width = page.evaluate("() => window.innerWidth")
            # the picture as wide as the screen allows (a phone: all of it but the margins)
            assert box["width"] <= width
            assert box["width"] >= min(width - 40, 720) * 0.9, (size, box)
            assert box["height"] > box["width"] * 0.4  # drawn at its own aspect, not squashed
            assert page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth"), size
            assert page.locator("ul.schedule-blocks li").count() == len(blocks.splitlines())
            if size is PHONE:
                picture.screenshot(path=str(PICTURE_FILE))
            # the page as drawn (the picture of tonight, its caption, the blocks), compared
            # with the stored one; the picture is drawn once the schedule is made and kept
            # while the block in hand stays, so it is the same throughout
            same_picture(element_picture(page.locator("main"), [page.locator("main time")]),
                         f"schedule_tonight_{name}.png", tmp_path)
        # the picture is an image only, under a policy that runs no script
        request = urllib.request.Request(f"{web.url}/schedule/{quote(AGENT)}/tonight.svg",
                                         headers={"Cookie": "; ".join(
                                             f"{c['name']}={c['value']}"
                                             for c in page.context.cookies())})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers["Content-Type"].startswith("image/svg+xml")
            assert "script-src" not in answer.headers["Content-Security-Policy"]
            assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
            svg = answer.read().decode()
        assert "M81" in svg and "M42" in svg
        page.goto(f"{web.url}/schedule/no-such-device")
        expect(page.locator("p.empty")).to_be_visible()
