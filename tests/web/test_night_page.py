"""The night drawn in the web client (issue 93 item 5): ``indipyweb --nights DIR`` (the imager
agent's image folder) serves ``/night`` (the latest night), ``/night/<plan folder>`` and the same
as JSON at ``/api/night`` and ``/api/night/<plan folder>``. The night is a journal written by
the `Journal`'s own writers (tests/journalkit.py: frames accepted, rejected and retaken, a rain
hold, a camera lost, an autofocus, a flip, the end). Through the app (Starlette's test client,
httpx): the page, its table and its JSON; in Debian's chromium at a phone's 390x844 and a
desktop's 1280x800: the timeline scrolls sideways within its box on the phone (the page never
does), and the page is the stored picture. The guide's night as a user ran it
(`journalkit.user_night`: two holds a minute apart, one rule rejecting eight frames, four
targets) at both sizes: each hold's label clear of the other's (their boxes in the page), the
targets table within the phone, the rejections grouped by rule. INDIPYWEB_SCREENSHOTS=docs/images retakes the
pictures docs/web_client.rst shows."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from chromiumkit import PHONE
from chromiumkit import at_both_sizes
from journalkit import NightWriter
from journalkit import sample_night
from journalkit import sample_plan
from journalkit import user_night
from pictures import element_picture
from pictures import same_picture
from playwright.sync_api import Browser
from playwright.sync_api import expect
from starlette.testclient import TestClient
from test_browser import SCREENSHOTS
from test_browser import browser  # noqa: F401
from test_browser import chromium  # noqa: F401
from test_browser import log_in
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import login

from indipyweb.app import make_app
from indipyweb.memorysource import MemorySource


@pytest.fixture
def nights(tmp_path: Path) -> Path:
    """The image folder with two nights: an older one (a plan of one frame, finished) and the
    sample night, written last."""
    folder = tmp_path / "images"
    older = NightWriter(folder, replace(sample_plan("Older"), folder="older"))
    older.frame("accepted")
    older.journal.finished()
    older.journal.close()
    past = time.time() - 86400
    os.utime(older.path, (past, past))
    sample_night(folder)
    return folder


@pytest.fixture
def web(nights: Path, dbfolder: Path, tmp_home: Path) -> Iterator[TestClient]:
    app = make_app(MemorySource(), indihost="localhost", indiport=7624, dbfolder=dbfolder,
                   nights=nights)
    with TestClient(app, base_url="http://testserver") as client:
        login(client, "view")
        yield client


def test_the_latest_night_its_table_and_its_json(web: TestClient) -> None:
    page = web.get("/night")
    assert page.status_code == 200, page.text
    html = page.text
    assert "The night: winter" in html and "<svg" in html
    assert 'class="exposure rejected"' in html and 'class="exposure unjudged"' in html
    assert "unsafe: rain" in html and "Python CCD Simulator lost: no answer" in html
    assert 'href="/night/older"' in html  # the other night listed
    # The table: M42 planned 10, 12 taken, 10 accepted, 2 rejected (hfr; stars and
    # background), none left; M81 planned 8, 3 taken, 1 accepted, 1 rejected, 6 left.
    assert "<th scope=\"row\">M42</th><td>10</td><td>12</td><td>10</td>" in html
    assert "<li>hfr: 1</li>" in html and "<li>guide_rms: 1</li>" in html
    data = web.get("/api/night").json()
    assert data["folder"] == "winter" and data["plan"] == "Winter pair"
    assert data["ended"].startswith("aborted: dawn")
    assert data["rows"] == ["Red", "Green", "Luminance"]
    tallies = {t["target"]: t for t in data["targets"]}
    assert tallies["M42"] | {"rejected": None, "rejected_rules": None} == {
        "target": "M42", "planned": 10, "taken": 12, "accepted": 10, "rejected": None,
        "rejected_rules": None, "rejected_frames": 2, "left": 0}
    assert tallies["M42"]["rejected"] == {"hfr": 1, "stars": 1, "background": 1}
    # the raw reasons above; grouped by rule beside them (reasons without figures: alone)
    assert [r["text"] for r in tallies["M42"]["rejected_rules"]] == [
        "hfr: 1", "stars: 1", "background: 1"]
    assert (tallies["M81"]["taken"], tallies["M81"]["accepted"], tallies["M81"]["left"]) == \
        (3, 1, 6)
    assert [h["cause"] for h in data["holds"]] == ["unsafe: rain",
                                                   "Python CCD Simulator lost: no answer"]
    assert [m["kind"] for m in data["marks"]] == ["slew", "autofocus", "flip", "slew"]
    rejected = next(e for e in data["exposures"] if e["verdict"] == "rejected")
    assert (rejected["step"], rejected["hfr"], rejected["reasons"]) == (
        "M42/0/Red/Light/003", 3.4, ["hfr"])


def test_a_night_by_its_folder_and_what_is_not_there(web: TestClient) -> None:
    older = web.get("/api/night/older").json()
    assert older["plan"] == "Older" and older["ended"] == "finished"
    assert older["targets"][0]["accepted"] == 1
    assert "The night: older" in web.get("/night/older").text
    assert web.get("/night/nowhere").status_code == 404
    assert web.get("/api/night/nowhere").status_code == 404
    # only a plan folder the listing found is read: nothing else of the disk
    assert web.get("/api/night/.journal").status_code == 404
    assert web.get("/api/night/%2E%2E").status_code == 404


def test_no_nights_folder_says_how_to_give_one(dbfolder: Path, tmp_home: Path) -> None:
    app = make_app(MemorySource(), indihost="localhost", indiport=7624, dbfolder=dbfolder)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/night", follow_redirects=False).status_code in (302, 303, 307)
        login(client, "view")
        page = client.get("/night")
        assert page.status_code == 404 and "--nights DIR" in page.text
        assert client.get("/api/night").status_code == 404


@pytest.mark.timeout(120)
def test_the_night_readable_on_a_phone_and_a_desktop(
        browser: Browser, indi: ServerThread, nights: Path, dbfolder: Path,  # noqa: F811
        blobfolder: Path, tmp_path: Path) -> None:
    with WebThread(indi.port, dbfolder, blobfolder, nights=nights) as web:
        page = log_in(browser, web, "view")
        for name, size in at_both_sizes(page, f"{web.url}/night"):
            box = page.locator("#night-picture")
            expect(box.locator("svg")).to_be_visible()
            # the page never scrolls sideways; the timeline does, within its box
            assert page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth"), size
            inside = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
            if size is PHONE:
                assert inside[0] > inside[1], inside
                page.screenshot(path=str(tmp_path / "night-phone-full.png"), full_page=True)
                table = page.locator("div.night-table")  # the table fits the phone
                fits = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
                assert fits[0] <= fits[1], fits
            else:
                assert inside[0] <= inside[1], inside  # the whole night in view
            # a bar's tooltip says the frame, its verdict and HFR
            tip = box.locator("g.exposure.rejected title").first.text_content()
            assert tip is not None and "rejected (hfr)" in tip and "HFR 3.4 px" in tip
            if SCREENSHOTS:  # docs/web_client.rst's pictures
                page.screenshot(path=str(Path(SCREENSHOTS) / f"web_night_{name}.png"),
                                full_page=True)
            same_picture(element_picture(page.locator("main"), [page.locator("main time")]),
                         f"night_{name}.png", tmp_path)


#: Whether two of the page's boxes (x, y, width, height) overlap.
OVERLAP = ("(a, b) => a.x < b.x + b.width && b.x < a.x + a.width && "
           "a.y < b.y + b.height && b.y < a.y + a.height")


@pytest.mark.timeout(120)
def test_the_guides_night_readable_on_a_phone_and_a_desktop(
        browser: Browser, indi: ServerThread, dbfolder: Path, blobfolder: Path,  # noqa: F811
        tmp_path: Path) -> None:
    """The user's night (issue 93 item 5): the weather's hold and the dome's a minute later
    each numbered in the band, their labels' boxes apart and each linking to its whole cause
    in the Holds list; the table's every column within the phone's 390 px; eight frames
    rejected by one rule read as one line with their count and figures."""
    nights = tmp_path / "images"
    user_night(nights)
    with WebThread(indi.port, dbfolder, blobfolder, nights=nights) as web:
        page = log_in(browser, web, "view")
        for name, size in at_both_sizes(page, f"{web.url}/night/graded"):
            labels = page.locator("#night-picture g.hold-label")
            expect(labels).to_have_count(2)
            boxes = [label.evaluate("g => g.getBoundingClientRect().toJSON()")
                     for label in labels.all()]
            assert not page.evaluate(f"([a, b]) => ({OVERLAP})(a, b)", boxes), boxes
            assert [page.locator(f"#night-picture a[href='#hold-{n}']").count()
                    for n in (1, 2)] == [1, 1]
            causes = page.locator("ol.night-holds li").all_inner_texts()
            assert "WEATHER_STATUS is Alert" in causes[0] and "open it, then start again" in \
                causes[1], causes
            assert page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth"), size
            table = page.locator("div.night-table")
            fits = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
            assert fits[0] <= fits[1], (size, fits)
            rights = page.locator("table.night-targets th, table.night-targets td").evaluate_all(
                "cells => cells.map(c => c.getBoundingClientRect().right)")
            assert max(rights) <= size["width"], (size, max(rights))
            assert page.locator("table.night-targets tbody th").all_inner_texts() == [
                "M1", "Dark_library", "Calibration", "Flat_darks"]
            assert page.locator("tr.reasons li").all_inner_texts() == [
                "stars < 0.5 x median: 8 (145–154 of 1107)"]
            page.screenshot(path=str(tmp_path / f"guide-night-{name}-full.png"), full_page=True)
            same_picture(element_picture(page.locator("main"), [page.locator("main time")]),
                         f"night_guide_{name}.png", tmp_path)
