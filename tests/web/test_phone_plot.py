"""Issue 89 item 11, the phone pages: the plot of a number vector of several members and the
link to an image, on the Imager Agent's Sequence tab in Debian's chromium at a phone's
390 x 844 and a desk's 1100 x 900, a night running (our server hosts the agent beside our
simulated camera and wheel, test_agent_page's rig).

- SEQUENCE_STATE's plot (five members): on a phone the five axes took the whole width (the
  plot 40 px of 340, titles over the numbers, the last title cut off); now the plot itself
  keeps at least 60 % of the width, every axis inside the card, no axis over the plot or
  another axis, the legend naming each member's value now; on a desk as well (its card,
  beside the frame, is no wider);
- the link to the last frame says where the frame is at that width: above the controls on a
  phone, beside them on a desk (the Guider Agent's, below: test_guider_pages.py);
- no page wider than the viewport.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_agent_page import logged_in
from test_agent_page import on_the_sequence_tab
from test_agent_page import rig  # noqa: F401
from test_agent_page import set_values
from test_agent_pages import PHONE
from test_agent_pages import VIEWPORTS
from test_agent_pages import fits_the_viewport
from test_agent_pages import keep_picture
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import close_pages
from webpeers import ServerThread
from webpeers import wait_for

from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipysimulators.ccd import DEVICE as CAMERA
from indipysimulators.focus import WHEEL
from indipyweb.render import vector_id

#: Eight frames of 2 s: the night runs while the page is measured at both widths.
PLAN = plan_to_toml(night("Phone night", target("M42", Batch(8, 2, "Red")),
                         folder="plan", camera=CAMERA, wheel=WHEEL))

#: The boxes of a drawn plot: the card, the plot's box, its plotting area, each axis, the
#: legend, and which way it was drawn (an axis each, or one shared).
BOXES = """plot => {
    const box = e => { const r = e.getBoundingClientRect();
                       return {x: r.left, y: r.top, right: r.right, bottom: r.bottom}; };
    return {card: box(plot.closest("section.vector")), plot: box(plot),
            over: box(plot.querySelector(".u-over")),
            axes: [...plot.querySelectorAll(".u-axis")].map(box),
            legend: box(plot.querySelector(".u-legend")), drawn: plot.dataset.axes,
            labels: [...plot.querySelectorAll(".u-legend .u-series .u-label")]
                .map(e => e.textContent)};
}"""

Box = dict[str, float]


def inside(inner: Box, outer: Box) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["right"] <= outer["right"] + 0.5
            and inner["y"] >= outer["y"] - 0.5 and inner["bottom"] <= outer["bottom"] + 0.5)


def apart(a: Box, b: Box) -> bool:
    """`a` and `b` overlap by no more than a pixel, side by side or one above the other."""
    return (min(a["right"], b["right"]) - max(a["x"], b["x"]) <= 1
            or min(a["bottom"], b["bottom"]) - max(a["y"], b["y"]) <= 1)


def readable(page: Page, vector: str, share: float) -> dict[str, object]:
    """`vector`'s plot drawn: its plotting area at least `share` of its width, each axis and
    the legend inside the card, no axis over the plotting area or over another; its boxes."""
    plot = page.locator(f"#plot-{vector_id(AGENT, vector)}")
    expect(plot.locator(".uplot")).to_be_visible(timeout=20000)
    plot.scroll_into_view_if_needed()
    boxes = plot.evaluate(BOXES)
    card, over = boxes["card"], boxes["over"]
    width = boxes["plot"]["right"] - boxes["plot"]["x"]
    assert over["right"] - over["x"] >= share * width, (
        f"the plot is {over['right'] - over['x']:.0f} px of {width:.0f}: {boxes}")
    for axis in boxes["axes"]:
        assert inside(axis, card), f"an axis outside the card: {axis}, {card}"
        assert apart(axis, over), f"an axis over the plot: {axis}, {over}"
    for i, axis in enumerate(boxes["axes"]):
        for other in boxes["axes"][i + 1:]:
            assert apart(axis, other), f"two axes overlap: {axis}, {other}"
    assert inside(boxes["legend"], card), f"the legend outside the card: {boxes}"
    return boxes


def says_where_the_image_is(page: Page, device: str, vector: str) -> str:
    """The link to `vector`'s image says where the image is at this width, as drawn: beside
    the controls, above or below them. What it says."""
    link = page.locator(f"#live-{vector_id(device, vector)} .seeimage a")
    expect(link).to_be_visible()
    said = link.inner_text()
    # The figure is swapped whole (htmx's outerHTML) with each new image, a guide frame's
    # every second or two: its box is read once one is drawn, not in the swap (None).
    figure = page.locator(f"#img-{vector_id(device, vector)}")
    image = wait_for(figure.bounding_box, timeout=15, what=f"{vector}'s image drawn")
    controls = page.locator("#device-body .device-tabs").bounding_box()
    assert controls
    if image["x"] >= controls["x"] + controls["width"] - 1:
        where = "beside"
    elif image["y"] + image["height"] <= controls["y"] + 1:
        where = "above"
    else:
        assert image["y"] >= controls["y"] + controls["height"] - 1, (image, controls)
        where = "below"
    assert said == f"the image: {where} the controls", (said, image, controls)
    return where


@pytest.mark.timeout(120)
def test_a_plot_of_five_members_is_readable_on_a_phone(
        browser: Browser, rig: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """SEQUENCE_STATE's plot at 390 x 844: one shared axis, the plotting area at least 60 %
    of the plot's width, axes and legend inside the card, the legend giving each member's
    value; at 1100 x 900 as readable. The last frame's link says above, then
    beside. Nothing wider than the viewport."""
    night_file = tmp_path / "night.toml"
    night_file.write_text(PLAN, encoding="utf-8")
    with logged_in(browser, rig, dbfolder, blobfolder, AGENT, "SEQUENCE_STATE") as (web, page):
        on_the_sequence_tab(page, web, tmp_path / "frames", PHONE)
        set_values(page.locator(f"#{vector_id(AGENT, 'AGENT_PLAN')}"), "Ok", FILE=night_file)
        page.locator(f"#{vector_id(AGENT, 'AGENT_START_PROCESS')} "
                     "button.swbtn[value=SEQUENCE]").click()
        state = page.locator(f"#live-{vector_id(AGENT, 'SEQUENCE_STATE')}")
        expect(state.locator(".badge")).to_have_text("Busy", timeout=15000)
        image = page.locator(f"#img-{vector_id(AGENT, 'AGENT_LAST_FRAME')} img.latest")
        expect(image).to_be_visible(timeout=30000)  # the first frame: the plot has moved
        plot = page.locator(f"#{vector_id(AGENT, 'SEQUENCE_STATE')} details.plotbox")
        if plot.get_attribute("open") is None:
            plot.locator("summary").click()

        boxes = readable(page, "SEQUENCE_STATE", 0.6)
        assert boxes["drawn"] == "shared", boxes
        labels = boxes["labels"]
        for name in ("Step", "Frames done", "Frames", "Exposure done (s)", "Exposure (s)"):
            assert any(str(label).startswith(f"{name}: ") for label in labels), labels
        assert "Frames: 8 (8\u20138)" in labels, labels
        fits_the_viewport(page)
        assert says_where_the_image_is(page, AGENT, "AGENT_LAST_FRAME") == "above"
        keep_picture(page, tmp_path, "web_sequence_plot_phone.png")

        # a desk: the card beside the frame is no wider (two columns of cards, 301 px), the
        # five axes fit no better; the plot as readable
        page.set_viewport_size(VIEWPORTS["desk"])
        readable(page, "SEQUENCE_STATE", 0.6)
        fits_the_viewport(page)
        assert says_where_the_image_is(page, AGENT, "AGENT_LAST_FRAME") == "beside"
        keep_picture(page, tmp_path, "web_sequence_plot_desk.png")
        close_pages(browser)
