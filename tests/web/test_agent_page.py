"""The imager agent driven and watched from the web client's page, in Debian's chromium (issue
71 item 8): our server hosts the agent beside our simulated camera and filter wheel, an
operator sets a batch up (indilib's face) or loads a plan (the sequencer's face) and starts it
from the page, as from a phone, and the page shows the progress and the last frame."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from peers import free_port
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import ViewportSize
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import close_pages
from test_browser import log_in
from test_browser import open_device
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

from indipyagents.imager import make_driver as make_agent
from indipyagents.plan.model import Batch
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.ccd import make_driver as make_camera
from indipysimulators.focus import WHEEL
from indipysimulators.focus import make_driver as make_focus
from indipyweb.render import vector_id

#: Where the lead's guide takes its picture from (the test's own copy is in tmp_path).
LEAD_PICTURE = Path("/tmp/web71-agent.png")
PHONE_PICTURE = Path("/tmp/web71-agent-phone.png")
SEQUENCE_PICTURE = Path("/tmp/web71-sequence.png")

#: A plan of three 1 s frames through two filters of our wheel, where the mount points (no
#: ra/dec: no slew), nothing parked or warmed at the end.
PLAN = night("Web sequence", target("Field", Batch(2, 1, "Red"), Batch(1, 1, "Green")),
             folder="plan", camera=CAMERA, wheel=WHEEL)

# Every state of a vector the page shows, as [state, then the texts of the members named],
# each time its live part is swapped in: what the operator saw, not what the server sent.
WATCH = """({vid, members}) => {
    const seen = window.__watched = [];
    const read = () => {
        const live = document.getElementById("live-" + vid);
        if (!live) return;
        const cell = name => (live.querySelector(`tr[data-member=${name}] td.value`) || {}).textContent;
        const now = [live.querySelector(".badge").textContent, ...members.map(cell)];
        const last = seen[seen.length - 1];
        if (!last || last.join() !== now.join()) seen.push(now);
    };
    new MutationObserver(read).observe(document.body, {childList: true, subtree: true});
    read();
}"""


def watch(page: Page, vector: str, *members: str) -> None:
    """From now on, keep each state of the agent's `vector` the page shows (`watched`)."""
    page.evaluate(WATCH, {"vid": vector_id(AGENT, vector), "members": list(members)})


def watched(page: Page) -> list[list[str]]:
    """What `watch` saw so far, in order."""
    return list(page.evaluate("window.__watched"))


@contextmanager
def logged_in(browser: Browser, rig: ServerThread, dbfolder: Path,  # noqa: F811
              blobfolder: Path, device: str, vector: str) -> Iterator[tuple[WebThread, Page]]:
    """The web client on `rig`'s server, once it has `device`'s `vector`, and a page of
    `browser` logged in as the operator."""
    with WebThread(rig.port, dbfolder, blobfolder) as web:
        source = web.app.state.web.source
        wait_for(lambda: source.vector(device, vector), timeout=15, what=device)
        yield web, log_in(browser, web, "op")


@pytest.fixture
def rig(tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[ServerThread]:
    """Our server with the imager agent in-process beside our simulated camera and our focuser
    simulator's filter wheel (wheel turns of 0.1 s a slot); the agent's state folder is the
    test's own, so no night of another run is resumed."""
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(tmp_path / "agent-state"))
    server = ServerThread(free_port(), make_agent(),
                          others=(make_camera(), make_focus(seconds_per_slot=0.1))).start()
    yield server
    server.stop()


def set_values(section: Locator, answer: str = "Ok", **values: object) -> None:
    """Type `values` into the vector's fields and press Set; the driver's `answer` shown (the
    agent answers a text vector Idle, as indilib's does)."""
    for member, value in values.items():
        section.locator(f"input[name='m.{member}']").fill(str(value))
    section.locator("button.setbtn").click()
    expect(section.locator("output.result")).to_contain_text(answer, timeout=15000)


def tab(page: Page, group: str) -> None:
    page.click(f"#device-body button.tab-button[data-tab='{group}']")


def on_the_sequence_tab(page: Page, web: WebThread, frames: Path,
                        size: ViewportSize) -> None:
    """The agent's page at `size`, its frames' folder set to `frames` (the Options tab), then
    its Sequence tab open."""
    page.set_viewport_size(size)
    open_device(page, web, AGENT)
    tab(page, "Options")
    set_values(page.locator(f"#{vector_id(AGENT, 'IMAGE_NAME')}"), "Idle", IMAGE_FOLDER=frames)
    tab(page, "Sequence")


@pytest.mark.timeout(120)
def test_a_batch_started_from_the_page_shows_its_progress_and_last_frame(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """From the agent's page alone: the camera and wheel named, CONNECT, two groups (the group
    tabs redrawn as GROUP_COUNT changes), GROUP_01's values, BATCH START. While it runs the
    page shows PROGRESS's IMAGE counting up and REMAINING_TIME counting down, Busy, then Ok;
    a DOWNLOAD then shows the frame sent as IMAGE as a picture beside the controls, and a
    second DOWNLOAD replaces it."""
    frames = tmp_path / "frames"
    with logged_in(browser, rig, dbfolder, blobfolder, AGENT, "GROUP_01") as (web, page):
        open_device(page, web, AGENT)
        tab(page, "Main Control")
        devices = page.locator(f"#{vector_id(AGENT, 'DEVICES')}")
        set_values(devices, "Idle", CCD=CAMERA, FILTER=WHEEL)
        tab(page, "Options")
        set_values(page.locator(f"#{vector_id(AGENT, 'IMAGE_NAME')}"), "Idle",
                   IMAGE_FOLDER=frames, IMAGE_PREFIX="NIGHT")
        tab(page, "Main Control")
        page.locator(f"#{vector_id(AGENT, 'CONNECTION')} button.swbtn[value=CONNECT]").click()
        status = page.locator(f"#live-{vector_id(AGENT, 'STATUS')}")
        expect(status.locator("tr[data-member=CCD] td.value")).to_contain_text("Ok", timeout=30000)
        expect(status.locator("tr[data-member=FILTER] td.value")).to_contain_text("Ok",
                                                                                 timeout=30000)
        set_values(page.locator(f"#{vector_id(AGENT, 'GROUPS')}"), GROUP_COUNT=2)
        expect(page.locator("#device-body button.tab-button[data-tab='Image group 2']")
               ).to_have_count(1, timeout=15000)
        tab(page, "Image group 1")
        set_values(page.locator(f"#{vector_id(AGENT, 'GROUP_01')}"), IMAGE_COUNT=2,
                   CCD_BINNING=2, FILTER_SLOT=2, CCD_EXPOSURE_VALUE=3)
        tab(page, "Image group 2")
        set_values(page.locator(f"#{vector_id(AGENT, 'GROUP_02')}"), IMAGE_COUNT=1,
                   CCD_BINNING=2, FILTER_SLOT=3, CCD_EXPOSURE_VALUE=1)
        tab(page, "Main Control")
        watch(page, "PROGRESS", "GROUP", "IMAGE", "REMAINING_TIME")
        batch = page.locator(f"#{vector_id(AGENT, 'BATCH')}")
        batch.locator("label.toggle", has_text="Start batch").click()
        batch.locator("button.setbtn").click()
        progress = page.locator(f"#live-{vector_id(AGENT, 'PROGRESS')}")
        expect(progress.locator(".badge")).to_have_text("Busy", timeout=15000)
        page.screenshot(path=str(tmp_path / "running.png"), full_page=True)
        expect(progress.locator(".badge")).to_have_text("Ok", timeout=60000)
        expect(progress.locator(".msg")).to_have_text("Batch done")
        # the push button answered Off is unticked: the next Set will not start another batch
        expect(batch.locator("input[name='m.START']")).not_to_be_checked()
        seen = watched(page)
        busy = [(int(g), int(i), float(r)) for state, g, i, r in seen if state == "Busy"]
        images = [(g, i) for g, i, _ in busy]
        assert [pair for n, pair in enumerate(images) if pair not in images[:n]] == [
            (1, 1), (1, 2), (2, 1)], seen
        first = [r for g, i, r in busy if (g, i) == (1, 1) and r > 0]
        assert len(first) >= 2 and first == sorted(first, reverse=True), seen
        assert sorted(p.name for p in frames.iterdir()) == [
            "NIGHT_1_001.fits", "NIGHT_1_002.fits", "NIGHT_2_001.fits"]

        tab(page, "Download images")
        image = page.locator(f"#img-{vector_id(AGENT, 'IMAGE')} img.latest")
        set_values(page.locator(f"#{vector_id(AGENT, 'DOWNLOAD')}"), GROUP=1, IMAGE=2)
        expect(image).to_have_count(1, timeout=15000)
        wait_for(lambda: page.evaluate("img => img.complete && img.naturalWidth",
                                       image.element_handle()), timeout=15,
                 what="the first frame's picture")
        first_src = image.get_attribute("src")
        set_values(page.locator(f"#{vector_id(AGENT, 'DOWNLOAD')}"), GROUP=2, IMAGE=1)
        expect(image).not_to_have_attribute("src", first_src or "", timeout=15000)
        wait_for(lambda: page.evaluate("img => img.complete && img.naturalWidth",
                                       image.element_handle()), timeout=15,
                 what="the last frame's picture")
        tab(page, "Main Control")  # the batch's controls and progress, the picture beside
        expect(image).to_be_in_viewport()
        expect(progress).to_be_visible()
        page.screenshot(path=str(tmp_path / "agent.png"), full_page=True)
        shutil.copyfile(tmp_path / "agent.png", LEAD_PICTURE)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column
        expect(image).to_be_visible()
        expect(progress.locator("tr[data-member=IMAGE] td.value")).to_be_visible()
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        shutil.copyfile(tmp_path / "phone.png", PHONE_PICTURE)
        page.set_viewport_size({"width": 1100, "height": 900})
        set_values(page.locator(f"#{vector_id(AGENT, 'GROUPS')}"), GROUP_COUNT=1)
        expect(page.locator("#device-body button.tab-button[data-tab='Image group 2']")
               ).to_have_count(0, timeout=15000)
        expect(page.locator("#device-body button.tab-button[data-tab='Image group 1']")
               ).to_have_count(1)
        close_pages(browser)


@pytest.mark.timeout(120)
def test_a_plan_loaded_and_started_from_the_page_shows_its_progress_and_last_frame(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """From the agent's page alone, the sequencer's face: IMAGE_FOLDER typed, the plan's path
    typed in AGENT_PLAN's FILE and Set (PLAN_STATUS shows its name and 3 frames), SEQUENCE
    pressed in AGENT_START_PROCESS. The page shows SEQUENCE_STATE Busy with PROGRESS counting
    1, 2, 3 of 3, then Ok; AGENT_LAST_FRAME is drawn as a picture beside the controls (the
    third frame's name under it), and the three files are in the plan's folder."""
    frames = tmp_path / "frames"
    plan = tmp_path / "web.toml"
    write_plan(plan, PLAN)
    with logged_in(browser, rig, dbfolder, blobfolder, AGENT, "AGENT_PLAN") as (web, page):
        open_device(page, web, AGENT)
        tab(page, "Options")
        set_values(page.locator(f"#{vector_id(AGENT, 'IMAGE_NAME')}"), "Idle",
                   IMAGE_FOLDER=frames)
        tab(page, "Sequence")
        set_values(page.locator(f"#{vector_id(AGENT, 'AGENT_PLAN')}"), "Ok", FILE=plan)
        status = page.locator(f"#live-{vector_id(AGENT, 'PLAN_STATUS')}")
        expect(status.locator("tr[data-member=NAME] td.value")).to_have_text("Web sequence",
                                                                             timeout=15000)
        expect(status.locator("tr[data-member=FRAMES] td.value")).to_have_text("3")
        state = page.locator(f"#live-{vector_id(AGENT, 'SEQUENCE_STATE')}")
        expect(state.locator("tr[data-member=PROGRESS_TOTAL] td.value")).to_have_text("3")
        watch(page, "SEQUENCE_STATE", "STEP", "PROGRESS", "PROGRESS_TOTAL")
        start = page.locator(f"#{vector_id(AGENT, 'AGENT_START_PROCESS')}")
        start.locator("button.swbtn[value=SEQUENCE]").click()
        expect(state.locator(".badge")).to_have_text("Busy", timeout=15000)
        expect(state.locator(".badge")).to_have_text("Ok", timeout=60000)
        expect(state.locator("tr[data-member=PROGRESS] td.value")).to_have_text("3")
        seen = watched(page)
        # seen: [badge, STEP, PROGRESS, PROGRESS_TOTAL] as drawn, e.g. Idle 0 0 3, Busy 1 0 3,
        # Busy 2 1 3, ..., Ok 4 3 3: the count goes up one frame at a time while Busy
        busy = [int(done) for badge, _step, done, total in seen if badge == "Busy"]
        assert busy == sorted(busy) and {1, 2} <= set(busy), seen
        assert seen[-1][0] == "Ok" and seen[-1][2:] == ["3", "3"], seen

        image = page.locator(f"#img-{vector_id(AGENT, 'AGENT_LAST_FRAME')} img.latest")
        expect(image).to_have_count(1, timeout=15000)
        wait_for(lambda: page.evaluate("img => img.complete && img.naturalWidth",
                                       image.element_handle()), timeout=15,
                 what="the last frame's picture")
        expect(page.locator(f"#img-{vector_id(AGENT, 'AGENT_LAST_FRAME')} figcaption")
               ).to_be_visible()
        expect(page.locator(f"#live-{vector_id(AGENT, 'AGENT_LAST_FRAME')} .msg")).to_have_text(
            "Field_Green_Light_001.fits")
        expect(image).to_be_in_viewport()
        expect(state).to_be_visible()
        assert sorted(p.relative_to(frames / "plan").as_posix() for p in (frames / "plan").rglob("*.fits")) == [
            "lights/Green/Field_Green_Light_001.fits", "lights/Red/Field_Red_Light_001.fits",
            "lights/Red/Field_Red_Light_002.fits"]
        page.screenshot(path=str(tmp_path / "sequence.png"), full_page=True)
        shutil.copyfile(tmp_path / "sequence.png", SEQUENCE_PICTURE)
        close_pages(browser)
