"""indipyweb in a real browser: Debian's chromium, headless, driven by Playwright, against our
real INDI server with the every-kind test driver (and indilib's CCD simulator for the camera).

Never `playwright install`: the browser is /usr/bin/chromium (scripts/run-tests installs it);
INDIPYWEB_SCREENSHOTS=docs/images retakes the pictures in docs/web_client.rst;
a missing chromium fails these tests, it does not skip them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from chromiumkit import close_contexts
from chromiumkit import launched
from peers import free_port
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import make_test_driver
from webpeers import received
from webpeers import wait_for

from indipyweb.render import vector_id

SCREENSHOTS = os.environ.get("INDIPYWEB_SCREENSHOTS")  # a folder: save the docs' pictures


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """The worker's one chromium (tests/chromiumkit.py): each page has a context (cookies) of
    its own, closed after the test."""
    with launched() as b:
        yield b


def close_pages(browser: Browser) -> None:
    close_contexts(browser)


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The module's chromium; the pages a test opened are closed after it."""
    yield chromium
    close_pages(chromium)


@pytest.fixture
def site(browser: Browser, indi: ServerThread, dbfolder: Path,
         blobfolder: Path) -> Iterator[WebThread]:
    with WebThread(indi.port, dbfolder, blobfolder) as web:
        source = web.app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the test device")  # its last vector
        yield web
        close_pages(browser)  # first: uvicorn's shutdown waits up to 1 s for their open streams


def log_in(browser: Browser, site: WebThread, user: str) -> Page:
    """A page of its own browser context (cookies), logged in as `user`, on the Instruments
    page; more tabs of that browser: ``page.context.new_page()``.

    The log-in form is posted by the context's own HTTP client (its cookie jar is the
    pages'), as the page posts it: the form's CSRF token and its double-submit cookie, the
    user's password checked by the app, the session cookie set. Not typed into the page:
    the form is the subject of `test_the_log_in_form_typed_in_opens_the_users_session`
    alone, and the login page drawn and typed into cost each of the other tests ~0.35 s of
    Chromium's CPU (issue 90 item 6)."""
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    form = page.context.request.get(f"{site.url}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text())
    assert token, form.text()
    answer = page.context.request.post(
        f"{site.url}/login", max_redirects=0,
        form={"username": user, "password": PASSWORDS[user], "csrf_token": token[1]})
    assert answer.status == 303, answer.text()
    page.goto(f"{site.url}/")
    expect(page.locator("header.top .who")).to_contain_text(user)
    return page


def log_in_by_form(browser: Browser, site: WebThread, user: str) -> Page:
    """`log_in` as a person does it: the login page opened, the name and password typed in,
    the button pressed."""
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("form.login button[type=submit]")
    expect(page.locator("header.top .who")).to_contain_text(user)
    return page


def open_device(page: Page, site: WebThread, device: str) -> None:
    page.goto(f"{site.url}/device/{device}")
    expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    page.evaluate("window.__noNavigation = true")


def expose_from_page(page: Page, site: WebThread, camera: str, seconds: str) -> tuple[Locator, Locator]:
    """On ``camera``'s open page: connect it (one click on Connect, the driver's Ok shown),
    expose ``seconds`` (typed, then Enter) and wait until the image is in the page and loaded;
    the exposure vector's section and the image."""
    page.click("button.tab-button[data-tab='Main Control']")
    connection = page.locator(f"#{vector_id(camera, 'CONNECTION')}")
    connection.locator("button.swbtn[value=CONNECT]").click()
    expect(connection.locator("output.result")).to_contain_text("Ok", timeout=10000)
    wait_for(lambda: site.app.state.web.source.vector(camera, "CCD_EXPOSURE"), timeout=15,
             what="CCD_EXPOSURE")
    page.click("button.tab-button[data-tab='Main Control']")
    exposure = page.locator(f"#{vector_id(camera, 'CCD_EXPOSURE')}")
    exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").fill(seconds)
    exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").press("Enter")
    image = page.locator(f"#img-{vector_id(camera, 'CCD1')} img.latest")
    expect(image).to_have_count(1, timeout=30000)
    wait_for(lambda: page.evaluate("img => img.complete && img.naturalWidth",
                                   image.element_handle()), timeout=15, what="the image to load")
    return exposure, image


def shoot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_the_log_in_form_typed_in_opens_the_users_session(browser: Browser,
                                                           site: WebThread) -> None:
    """The login page typed into and submitted in the browser opens the user's session: the
    Instruments page, the header naming the user, the device listed; the session's cookie
    serves the next page too (every other test logs in by `log_in`, which posts the same
    form without drawing it)."""
    page = log_in_by_form(browser, site, "op")
    expect(page).to_have_url(re.compile(re.escape(site.url) + "/?$"))
    expect(page.locator("body")).to_contain_text(DEVICE)
    open_device(page, site, DEVICE)
    expect(page.locator("header.top .who")).to_contain_text("op")


def test_operator_sets_a_number_from_the_page_and_the_driver_receives_it(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """Type a number (sexagesimal too) into the form, press Set: the driver receives the values
    and the page shows its Ok answer and the new value, without a reload."""
    page = log_in(browser, site, "op")
    shoot(page, "web_instruments.png")
    open_device(page, site, DEVICE)
    section = page.locator(f"#{vector_id(DEVICE, 'LEVEL')}")
    section.locator("input[name='m.LEVEL']").fill("33.5")
    section.locator("input[name='m.RA']").fill("10:15:00")
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("Ok")
    assert ("LEVEL", {"LEVEL": 33.5, "RA": 10.25}) in received(indi)
    expect(section.locator(".live tr[data-member=LEVEL] td.value")).to_have_text("33.50")
    section.locator("input[name='m.LEVEL']").fill("250")
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("WebTest.LEVEL.LEVEL: 250 is outside min 0 .. max 100")
    assert page.evaluate("window.__noNavigation") is True
    shoot(page, "web_device.png")
    page.click("button.tab-button[data-tab=Settings]")
    section = page.locator(f"#{vector_id(DEVICE, 'OPTIONS')}")
    section.locator("label.toggle", has_text="Guide").click()
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("Ok")
    assert ("OPTIONS", {"DITHER": "Off", "GUIDE": "On"}) in received(indi)
    assert len(received(indi)) == 2  # the refused 250 was never sent


def test_driver_sets_appear_without_navigation(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A driver's set reaches the open page over SSE (the re-rendered part) with its message;
    so does a device message; the page never reloads. (How fast: bench/web_sse.py.)"""
    page = log_in(browser, site, "view")
    open_device(page, site, DEVICE)
    for value in (123.456, 7.25, 99.0):
        async def send(value: float = value) -> None:
            vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
            vec["VALUE"] = value
            await vec.send_setVector(message=f"reading {value}")

        indi.call(send)
        cell = page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")
        expect(cell).to_have_text(f"{value:.3f}", timeout=15000)
    live = page.locator(f"#live-{vector_id(DEVICE, 'READING')} .msg")
    expect(live).to_have_text("reading 99.0", timeout=15000)

    async def message() -> None:
        await indi.driver[DEVICE].send_message("the dome is closed")  # type: ignore[index]

    indi.call(message)
    expect(page.locator("#devmessages")).to_contain_text("the dome is closed", timeout=15000)
    assert page.evaluate("window.__noNavigation") is True


def test_a_device_message_shows_on_the_open_instruments_page(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """The instruments page shows each device's last message: a new device message reaches
    the open page over SSE (it used to be redrawn only by a definition or a set, so the
    message shown stayed the first one an operator saw)."""
    page = log_in(browser, site, "view")
    expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    page.evaluate("window.__noNavigation = true")
    row = page.locator("ul.devices li", has_text=DEVICE)

    for text in ("the dome is opening", "the dome is open"):
        async def message(text: str = text) -> None:
            await indi.driver[DEVICE].send_message(text)  # type: ignore[index]

        indi.call(message)
        expect(row.locator(".lastmsg")).to_contain_text(text, timeout=15000)
    assert page.evaluate("window.__noNavigation") is True


def test_a_number_field_shows_the_current_value_as_its_hint(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """An empty number field's grey hint is the member's value (an empty field sends nothing
    for it). It was the value when the page was first drawn, kept by every redraw: after the
    driver had moved LEVEL to 33.5 the field still suggested 50.00."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    field = page.locator(f"#{vector_id(DEVICE, 'LEVEL')} input[name='m.LEVEL']")
    expect(field).to_have_attribute("placeholder", "50.00")

    async def send() -> None:
        vec = indi.driver[DEVICE]["LEVEL"]  # type: ignore[index]
        vec["LEVEL"] = 33.5
        await vec.send_setVector()

    indi.call(send)
    expect(field).to_have_attribute("placeholder", "33.50", timeout=15000)

    async def delete() -> None:  # a definition elsewhere: the body is redrawn, the field kept
        await indi.driver[DEVICE]["DOOMED"].send_delProperty()  # type: ignore[index]

    indi.call(delete)
    expect(page.locator("section.vector[data-vector=DOOMED]")).to_have_count(0, timeout=15000)
    expect(field).to_have_attribute("placeholder", "33.50")


def test_a_text_field_follows_the_driver_until_the_operator_edits_it(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A text field starts as the member's text. It kept that first text for good: once the
    driver (or another client) had changed it, Set on the vector sent the old text back. It
    now follows the driver's text, unless the operator has typed in it: that stays theirs."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    page.click("button.tab-button[data-tab=Settings]")
    field = page.locator(f"#{vector_id(DEVICE, 'NOTE')} input[name='m.TEXT']")
    expect(field).to_have_value("hello")

    async def send(text: str) -> None:
        vec = indi.driver[DEVICE]["NOTE"]  # type: ignore[index]
        vec["TEXT"] = text
        await vec.send_setVector()

    indi.call(lambda: send("from the driver"))
    live = page.locator(f"#live-{vector_id(DEVICE, 'NOTE')} td.value")
    expect(live).to_have_text("from the driver", timeout=15000)
    expect(field).to_have_value("from the driver")
    field.fill("typed by the operator")
    indi.call(lambda: send("the driver again"))
    expect(live).to_have_text("the driver again", timeout=15000)
    expect(field).to_have_value("typed by the operator")


def test_anyofmany_checkboxes_follow_the_driver_until_the_operator_ticks_one(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """The checkboxes of an AnyOfMany vector start as its members' states. They kept those for
    good: once another client had turned Guide on, Set (for Dither) sent Guide Off again. They
    now follow the driver, except a box the operator has changed."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    page.click("button.tab-button[data-tab=Settings]")
    section = page.locator(f"#{vector_id(DEVICE, 'OPTIONS')}")
    guide = section.locator("input[name='m.GUIDE']")
    dither = section.locator("input[name='m.DITHER']")
    expect(guide).not_to_be_checked()

    async def send(message: str, **states: str) -> None:
        vec = indi.driver[DEVICE]["OPTIONS"]  # type: ignore[index]
        for name, state in states.items():
            vec[name] = state
        await vec.send_setVector(message=message)

    indi.call(lambda: send("first", GUIDE="On"))  # another client's choice
    expect(section.locator(".live tr[data-member=GUIDE] .sw")).to_have_text("On", timeout=15000)
    expect(guide).to_be_checked()
    dither.check()  # the operator's
    indi.call(lambda: send("again", DITHER="Off", GUIDE="On"))
    expect(section.locator(".live .msg")).to_have_text("again", timeout=15000)
    expect(dither).to_be_checked()
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("Ok")
    assert received(indi)[-1] == ("OPTIONS", {"DITHER": "On", "GUIDE": "On"})


def test_a_ticked_box_follows_the_driver_again_once_its_set_is_answered(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A box the operator ticked stayed ticked for good when the driver answered it Off (a
    push button: the imager agent's BATCH Start batch, issue 71): the next Set, made to tick
    Abort batch, sent Start On again and started another batch. Once its Set is answered the
    box follows the driver again: unticked, and the next Set sends what the driver said."""
    indi.driver.driverdata["momentary"] = {"OPTIONS"}  # type: ignore[union-attr]
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    page.click("button.tab-button[data-tab=Settings]")
    section = page.locator(f"#{vector_id(DEVICE, 'OPTIONS')}")
    guide = section.locator("input[name='m.GUIDE']")
    section.locator("label.toggle", has_text="Guide").click()
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("Ok")
    assert received(indi) == [("OPTIONS", {"DITHER": "Off", "GUIDE": "On"})]
    expect(section.locator(".live tr[data-member=GUIDE] .sw")).to_have_text("Off")
    expect(guide).not_to_be_checked()
    section.locator("label.toggle", has_text="Dither").click()
    section.locator("button[type=submit]").click()
    # the first Set's "Ok" is still under the button: wait for the second Set itself
    wait_for(lambda: len(received(indi)) == 2 or None, timeout=15, what="the second Set")
    assert received(indi)[-1] == ("OPTIONS", {"DITHER": "On", "GUIDE": "Off"})


def test_a_deleted_vector_disappears_and_a_new_one_appears(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """delProperty removes the vector from the open page; a def adds it back."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    doomed = page.locator("section.vector[data-vector=DOOMED]")
    expect(doomed).to_have_count(1)

    async def delete() -> None:
        await indi.driver[DEVICE]["DOOMED"].send_delProperty()  # type: ignore[index]

    indi.call(delete)
    expect(doomed).to_have_count(0, timeout=15000)

    async def define() -> None:
        vector = indi.driver[DEVICE]["DOOMED"]  # type: ignore[index]
        vector.enable = True  # a deleted vector stays disabled until enabled again
        await vector.send_defVector()

    indi.call(define)
    expect(doomed).to_have_count(1, timeout=15000)
    assert page.evaluate("window.__noNavigation") is True


def test_a_vector_redefined_with_other_members_gets_fields_of_its_own(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A vector defined again with its members in another order (or others: a filter wheel's
    names, a delete and a definition coalesced into one redraw) shows each field under its
    member's label. The fields kept across redraws (what the operator typed) were matched by
    position, so the first label's field still set the old first member: typed under "Right
    ascension", it set LEVEL."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    section = page.locator(f"#{vector_id(DEVICE, 'LEVEL')}")
    section.locator("input[name='m.LEVEL']").fill("20")  # typed, not yet sent

    async def define() -> None:
        vector = indi.driver[DEVICE]["LEVEL"]  # type: ignore[index]
        vector.data = dict(reversed(list(vector.data.items())))  # RA first, then LEVEL
        await vector.send_defVector()

    indi.call(define)
    expect(section.locator("form.setform label").first).to_contain_text("Right ascension",
                                                                        timeout=15000)
    expect(section.get_by_label("Right ascension")).to_have_attribute("name", "m.RA")
    expect(section.get_by_label("Level (%)")).to_have_attribute("name", "m.LEVEL")
    expect(section.get_by_label("Level (%)")).to_have_value("20")  # what was typed stays
    section.get_by_label("Right ascension").fill("2")
    section.get_by_label("Level (%)").fill("")
    section.locator("button[type=submit]").click()
    expect(section.locator("output.result")).to_contain_text("Ok")
    assert received(indi) == [("LEVEL", {"RA": 2.0})]


def test_a_form_the_stream_just_swapped_in_submits_through_htmx(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A definition re-renders the whole device body; htmx binds the new forms only as the swap
    settles (20 ms, longer on a busy machine). Enter pressed in that moment used to post the
    bare form, without the session's CSRF token: a 403 page instead of the set (a full test
    run lost a CCD exposure so). Here the form is submitted in that very moment, as the new
    body arrives: the set still goes through htmx, is received, and the page never navigates."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    section = page.locator(f"#{vector_id(DEVICE, 'LEVEL')}")
    # Enter in LEVEL's field the moment the next body is in, before it settles (requestSubmit
    # is what Enter does in a form)
    page.evaluate("""vid => document.addEventListener("htmx:oobAfterSwap", e => {
        if (window.__typed || e.detail.target.id !== "device-body") return;
        window.__typed = true;
        const field = document.querySelector("#" + vid + " input[name='m.LEVEL']");
        field.value = "12.5";
        field.form.requestSubmit();
    }, true)""", vector_id(DEVICE, "LEVEL"))

    async def delete() -> None:
        await indi.driver[DEVICE]["DOOMED"].send_delProperty()  # type: ignore[index]

    indi.call(delete)  # a definition changes: the device body is swapped
    expect(section.locator("output.result")).to_contain_text("Ok", timeout=15000)
    assert page.evaluate("window.__typed") is True
    assert received(indi) == [("LEVEL", {"LEVEL": 12.5})]  # once: not htmx's and the form's
    assert page.evaluate("window.__noNavigation") is True


def test_a_tab_clicked_as_the_stream_swaps_the_body_in_opens(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """The tab buttons answer a click in the moment a new device body is in but not settled
    (they used to be bound only as it settled): the Settings tab opens."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    page.evaluate("""() => document.addEventListener("htmx:oobAfterSwap", e => {
        if (window.__clicked || e.detail.target.id !== "device-body") return;
        window.__clicked = true;
        document.querySelector("#device-body .tab-button[data-tab=Settings]").click();
    }, true)""")

    async def delete() -> None:
        await indi.driver[DEVICE]["DOOMED"].send_delProperty()  # type: ignore[index]

    indi.call(delete)
    expect(page.locator(".tab.active")).to_have_attribute("data-tab", "Settings", timeout=15000)
    assert page.evaluate("window.__clicked") is True


def test_the_device_page_opens_on_the_devices_own_tab_and_keeps_the_one_shown(
        browser: Browser, tmp_home: Path, dbfolder: Path, blobfolder: Path) -> None:
    """The demo thermostat (CONNECTION alone in Main Control, then General Info and Options)
    opens on Status, its first tab of its own, not on Main Control. Disconnected (by
    indilib's indi_setprop), a redraw of the device's body leaves the tab shown as it is (no
    jump under the user's eyes); a page opened afterwards shows Main Control, where Connect is."""
    import subprocess

    from indipyserver.demo import make_driver

    indi = ServerThread(free_port(), make_driver(interval=0.5)).start()
    try:
        with WebThread(indi.port, dbfolder, blobfolder) as web:
            source = web.app.state.web.source
            wait_for(lambda: source.vector("Thermostat", "LOG"), what="the thermostat")
            page = log_in(browser, web, "op")
            open_device(page, web, "Thermostat")
            tabs = page.locator("#device-body .tab-button")
            expect(tabs).to_have_text(["Main Control", "General Info", "Options", "Status",
                                       "Control"])
            expect(page.locator(".tab.active")).to_have_attribute("data-tab", "Status")
            expect(page.locator(".tab.active")).to_be_visible()
            subprocess.run(["indi_setprop", "-p", str(indi.port),
                            "Thermostat.CONNECTION.DISCONNECT=On"], check=True, timeout=30)
            wait_for(lambda: (source.vector("Thermostat", "CONNECTION") or {}).get(
                "members", {}).get("DISCONNECT", {}).get("value") == "On",
                what="the thermostat disconnected")

            async def delete() -> None:
                await indi.driver["Thermostat"]["LOG"].send_delProperty()  # type: ignore[index]

            indi.call(delete)
            expect(page.locator("#device-body")).to_have_attribute("data-main", "Main Control",
                                                                   timeout=15000)
            expect(page.locator(".tab.active")).to_have_attribute("data-tab", "Status")
            fresh = log_in(browser, web, "op")
            open_device(fresh, web, "Thermostat")
            expect(fresh.locator(".tab.active")).to_have_attribute("data-tab", "Main Control")
            close_pages(browser)
    finally:
        indi.stop()


def test_a_field_being_typed_in_stays_shown_and_focused_as_the_body_is_redrawn(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """Until a redrawn device body settled (20 ms, longer on a busy machine) htmx had put the
    old body's classes on it ("tabbed") but no tab was active yet: every group was hidden, the
    page blinked empty and the field the operator was typing in lost its focus (the rest of
    the number went nowhere; a full run lost a CCD exposure so). The open tab now stays open
    through the swap: the field is shown and focused in that moment and takes the next keys."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    field = page.locator(f"#{vector_id(DEVICE, 'LEVEL')} input[name='m.LEVEL']")
    field.click()
    page.keyboard.type("1")
    page.evaluate("""() => document.addEventListener("htmx:oobAfterSwap", e => {
        if (window.__armed || e.detail.target.id !== "device-body") return;
        window.__armed = true;
        setTimeout(() => {  // the next task: before the swap settles (htmx waits 20 ms)
            const field = document.querySelector("#device-body input[name='m.LEVEL']");
            window.__seen = {shown: field.checkVisibility(), focused: document.activeElement === field,
                             settling: document.getElementById("device-body").classList.contains("htmx-added")};
        }, 0);
    }, true)""")

    async def delete() -> None:
        await indi.driver[DEVICE]["DOOMED"].send_delProperty()  # type: ignore[index]

    indi.call(delete)  # a definition changes: the device body is swapped
    # polled from here: the page's CSP refuses the eval wait_for_function polls with
    wait_for(lambda: page.evaluate("window.__seen || null"), 15, "the body's redraw")
    assert page.evaluate("window.__seen") == {"shown": True, "focused": True, "settling": True}
    expect(page.locator(f"#{vector_id(DEVICE, 'DOOMED')}")).to_have_count(0)
    page.keyboard.type("2")
    expect(field).to_have_value("12")


def test_delete_on_the_blob_list_works_after_the_stream_has_redrawn_it(
        browser: Browser, site: WebThread, indi: ServerThread, blobfolder: Path) -> None:
    """The BLOB list the stream redraws (as it opens, and at each set) is shared by every
    session, so its Delete forms carry no CSRF token of their own; the page adds its session's
    as the form is sent. Delete removes the file, with no 403 page."""
    (blobfolder / "old.txt").write_bytes(b"an old file")  # not .fits: astropy's warning
    # on a fake one, an error under pytest, left its file open to a later test's failure
    page = log_in(browser, site, "op")
    page.goto(f"{site.url}/blobs")
    expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    page.evaluate("""() => { window.__redrawn = 0; document.addEventListener(
        "htmx:oobAfterSwap", e => { if (e.detail.target.id === "blobs") window.__redrawn++; },
        true); }""")

    async def send() -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = 42.0
        await vec.send_setVector()

    (blobfolder / "new.txt").write_bytes(b"a new file")
    indi.call(send)  # a set: the list, changed since, is redrawn from the stream
    wait_for(lambda: page.evaluate("window.__redrawn"), timeout=15, what="the list redrawn")
    item = page.locator("ul.blobs li", has_text="old.txt")
    assert item.locator("input[name=csrf_token]").count() == 0  # as the stream drew it
    with page.expect_navigation():  # a plain form: the answer is the list again
        item.locator("button[type=submit]", has_text="Delete").click()
    assert page.url == f"{site.url}/blobs", page.content()[:500]  # back on the list, no 403
    expect(page.locator("ul.blobs")).to_have_count(1)
    expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    expect(page.locator("ul.blobs li", has_text="old.txt")).to_have_count(0)
    assert not (blobfolder / "old.txt").exists()
    # what the stream sends the next BLOB page, from the hub's cache
    assert "old.txt" not in site.app.state.web.hub.render_part(("blobs",), True)


def test_the_blob_list_is_redrawn_only_when_it_changes(
        browser: Browser, site: WebThread, indi: ServerThread, blobfolder: Path) -> None:
    """Any driver's set used to redraw the open BLOB list (a mount's coordinates: four times a
    second with indilib's telescope simulator), taking the keyboard focus off its buttons and
    losing a click made as it was swapped. A stream sends a part only when it differs from
    what that page has: a number's set leaves the list alone; a file saved redraws it."""
    (blobfolder / "old.txt").write_bytes(b"an old file")
    page = log_in(browser, site, "op")
    # each list swapped in counted once (htmx may signal one swap more than once)
    page.add_init_script("""window.__redrawn = 0; const seen = new WeakSet();
        document.addEventListener("htmx:oobAfterSwap", e => {
            if (e.target.id === "blobs" && !seen.has(e.target)) { seen.add(e.target); window.__redrawn++; }
        }, true);""")
    page.goto(f"{site.url}/blobs")
    # the list the stream sends as it opens, swapped in
    wait_for(lambda: page.evaluate("window.__redrawn") == 1, timeout=15, what="the first list")
    hub = site.app.state.web.hub
    stream = next(s for s in hub.subscribers if s.page == "blobs")
    noted = stream.parts.noted

    async def send() -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = 42.0
        await vec.send_setVector()

    indi.call(send)
    # the set taken by the page's stream (and sent or not) before the file comes
    wait_for(lambda: stream.parts.noted > noted and not stream.parts.pending(),
             what="the set taken by the BLOB page's stream")

    async def send_blob() -> None:
        vec = indi.driver[DEVICE]["UPLOAD"]  # type: ignore[index]
        vec["FILE"] = b"some bytes"
        vec.set_blobsize("FILE", 10)  # type: ignore[union-attr]
        vec.set_blobformat("FILE", ".dat")  # type: ignore[union-attr]
        await vec.send_setVector()

    indi.call(send_blob)
    expect(page.locator("ul.blobs li", has_text=".dat")).to_have_count(1, timeout=15000)
    assert page.evaluate("window.__redrawn") == 2  # for the file, not for the number


def test_the_page_recovers_by_itself_when_the_indi_server_restarts(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """Server gone: the page says so and empties; server back: the page fills again and live
    updates resume, with no reload."""
    page = log_in(browser, site, "view")
    open_device(page, site, DEVICE)
    indi.stop()
    expect(page.locator("#conn")).to_have_class("conn lost", timeout=15000)
    expect(page.locator("section.vector")).to_have_count(0, timeout=15000)
    shoot(page, "web_disconnected.png")
    again = ServerThread(indi.port, make_test_driver()).start()
    try:
        expect(page.locator("#conn")).to_have_class("conn ok", timeout=15000)
        expect(page.locator("section.vector[data-vector=READING]")).to_have_count(1)

        async def send() -> None:
            vec = again.driver[DEVICE]["READING"]  # type: ignore[index]
            vec["VALUE"] = 4.5
            await vec.send_setVector()

        again.call(send)
        expect(page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")).to_have_text(
            "4.500", timeout=15000)
        assert page.evaluate("window.__noNavigation") is True
    finally:
        again.stop()


def test_the_stream_reconnects_by_itself_after_a_network_blip(
        browser: Browser, indi: ServerThread, dbfolder: Path, blobfolder: Path) -> None:
    """The web server goes away and comes back (a blip between browser and server): the
    banner says the page is not live meanwhile (it went on saying "connected"), the page's SSE
    stream reconnects by itself, the page is refreshed whole, and a driver set made while it
    was away shows, with no reload."""
    first = WebThread(indi.port, dbfolder, blobfolder).__enter__()
    try:
        page = log_in(browser, first, "view")
        open_device(page, first, DEVICE)
    finally:
        first.__exit__()
    expect(page.locator("body")).to_have_attribute("data-stream", "error", timeout=10000)
    # while away the banner does not say "connected" over values no longer kept current
    expect(page.locator("#conn")).to_have_class("conn lost")
    expect(page.locator("#conn")).to_contain_text("web server cannot be reached")

    async def send() -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = 66.25
        await vec.send_setVector()

    indi.call(send)  # while no web server is there to see it
    with WebThread(indi.port, dbfolder, blobfolder, port=first.port) as again:
        source = again.app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "READING"), what="the test device")
        cell = page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")
        expect(cell).to_have_text("66.250", timeout=15000)
        expect(page.locator("body")).to_have_attribute("data-stream", "open")
        expect(page.locator("#conn")).to_have_class("conn ok")
        assert page.evaluate("window.__noNavigation") is True


def test_a_page_whose_session_ended_says_so_instead_of_connected(
        browser: Browser, site: WebThread) -> None:
    """Logged out in another tab (or the session expired, the user deleted): the open page's
    stream is refused (401) from then on. The page used to go on saying "INDI server
    connected" over values frozen since, retrying the stream for ever; it now says it is logged
    out, no longer live, with a link to log in, and stops asking for the stream."""
    site.app.state.web.keepalive = 0.2  # the stream checks its session that often
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    # the Log out of another tab: its form, with this browser's cookies
    token = page.locator("form.logout input[name=csrf_token]").get_attribute("value") or ""
    answer = page.request.post(f"{site.url}/logout", form={"csrf_token": token},
                               max_redirects=0)
    assert answer.status == 303, answer.status
    conn = page.locator("#conn")
    expect(conn).to_contain_text("logged out", timeout=15000)
    expect(conn).to_have_class("conn lost")
    expect(conn.locator("a")).to_have_attribute("href", "/login")
    expect(page.locator("body")).to_have_attribute("data-stream", "ended")
    expect(page.locator("[sse-connect]")).to_have_count(0)  # its retries end with it
    assert page.evaluate("window.__noNavigation") is True


def hide(page: Page, hidden: bool) -> None:
    """What the browser does as a tab goes to the background or comes back (headless chromium
    shows every page, so the test says it)."""
    page.evaluate("""hidden => {
        Object.defineProperty(document, "visibilityState", {value: hidden ? "hidden" : "visible",
                                                           configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_a_seventh_tab_loads_while_the_others_are_in_the_background(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A browser keeps at most six connections to one web server (HTTP/1.1), and each open
    page's stream holds one: the seventh tab of indipyweb never loaded. A tab in the background
    gives its stream up and opens a new one when shown again, the whole page brought up to
    date (a set made meanwhile shows)."""
    first = log_in(browser, site, "view")
    tabs = [first]
    for n in range(6):
        tab = first if n == 0 else first.context.new_page()
        tab.goto(f"{site.url}/device/{DEVICE}")
        expect(tab.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
        hide(tab, True)
        if n:
            tabs.append(tab)
    seventh = first.context.new_page()
    seventh.goto(f"{site.url}/messages", timeout=15000)
    expect(seventh.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    expect(first.locator("body")).to_have_attribute("data-stream", "parked")

    async def send() -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = 17.5
        await vec.send_setVector()

    indi.call(send)  # while the tabs are in the background
    hide(first, False)
    expect(first.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
    expect(first.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")).to_have_text(
        "17.500", timeout=15000)


def test_a_viewer_sees_no_write_controls(browser: Browser, site: WebThread) -> None:
    """No forms, no file inputs, no delete buttons, no users page for a viewer."""
    page = log_in(browser, site, "view")
    open_device(page, site, DEVICE)
    for group in ("Main", "Settings"):
        page.click(f"button.tab-button[data-tab={group}]")
        expect(page.locator("section.vector:visible").first).to_be_visible()
        assert page.locator("form.setform").count() == 0
        assert page.locator("input[type=file]").count() == 0
    assert page.locator("a[href$='/users']").count() == 0
    shoot(page, "web_viewer.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.click("button.tab-button[data-tab=Main]")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "web_phone.png"))


def test_ccd_exposure_from_the_page_shows_its_preview(
        browser: Browser, tmp_home: Path, dbfolder: Path, blobfolder: Path) -> None:
    """indilib's CCD simulator on our server: connect (one click) and expose (Enter) from the
    page; the FITS image arrives, is saved, and its stretched preview is shown on the device
    page beside the exposure controls, and in the BLOBs page."""
    indi = ServerThread(free_port(), exdrivers=("indi_simulator_ccd",)).start()
    try:
        with WebThread(indi.port, dbfolder, blobfolder) as web:
            source = web.app.state.web.source
            wait_for(lambda: source.vector("CCD Simulator", "CONNECTION"), timeout=15,
                     what="the CCD simulator")
            page = log_in(browser, web, "op")
            open_device(page, web, "CCD Simulator")
            exposure, image = expose_from_page(page, web, "CCD Simulator", "0.5")
            # beside the controls: both on screen, whichever tab the BLOB vector is in
            expect(image).to_be_in_viewport()
            expect(exposure).to_be_in_viewport()
            assert page.evaluate("img => img.naturalWidth", image.element_handle()) > 100
            shoot(page, "web_ccd.png")
            files = [p.name for p in blobfolder.iterdir() if p.name.endswith(".fits")]
            assert files, list(blobfolder.iterdir())
            page.goto(f"{web.url}/blobs")
            expect(page.locator("ul.blobs img").first).to_be_visible()
            page.locator("ul.blobs a[href*='/image/']").first.click()  # the viewer's own page
            expect(page.locator("main .viewer")).to_have_attribute("data-ready", "yes",
                                                                   timeout=15000)
            page.go_back()
            shoot(page, "web_blobs.png")
    finally:
        indi.stop()


def test_a_switch_is_one_click_and_enter_submits_a_text(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """Clicking a member of a OneOfMany vector sends it at once (no Set button there); a
    AtMostOne member is turned On by one click and Off by the next; the button of the member
    that is On is shown pressed once the driver's answer arrives; AnyOfMany keeps its Set; Enter
    in a text field submits its form."""
    page = log_in(browser, site, "op")
    open_device(page, site, DEVICE)
    mode = page.locator(f"#{vector_id(DEVICE, 'MODE')}")
    assert mode.locator("button.setbtn").count() == 0
    expect(mode.locator("button.swbtn[value=FAST]")).to_have_attribute("aria-pressed", "true")
    mode.locator("button.swbtn[value=SLOW]").click()
    expect(mode.locator("output.result")).to_contain_text("Ok")
    assert received(indi) == [("MODE", {"SLOW": "On"})]
    expect(mode.locator("button.swbtn[value=SLOW]")).to_have_attribute("aria-pressed", "true")
    expect(mode.locator("button.swbtn[value=FAST]")).to_have_attribute("aria-pressed", "false")
    page.click("button.tab-button[data-tab=Settings]")
    lamp = page.locator(f"#{vector_id(DEVICE, 'LAMP')}")
    lamp.locator("button.swbtn[value=ON]").click()
    expect(lamp.locator("button.swbtn[value=ON]")).to_have_attribute("aria-pressed", "true")
    assert received(indi)[-1] == ("LAMP", {"ON": "On"})
    lamp.locator("button.swbtn[value=ON]").click()
    expect(lamp.locator("button.swbtn[value=ON]")).to_have_attribute("aria-pressed", "false")
    assert received(indi)[-1] == ("LAMP", {"ON": "Off"})
    options = page.locator(f"#{vector_id(DEVICE, 'OPTIONS')}")
    assert options.locator("button.setbtn").count() == 1
    note = page.locator(f"#{vector_id(DEVICE, 'NOTE')}")
    note.locator("input[name='m.TEXT']").fill("typed, then Enter")
    note.locator("input[name='m.TEXT']").press("Enter")
    expect(note.locator("output.result")).to_contain_text("Ok")
    assert received(indi)[-1] == ("NOTE", {"TEXT": "typed, then Enter"})
    assert page.evaluate("window.__noNavigation") is True
    shoot(page, "web_switches.png")


def test_plots_use_the_browsers_locale_and_time_zone_and_an_axis_per_series(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A browser in German in Tokyo: the plot's time axis is labelled with its time zone and
    its ticks are 24-hour local times; a vector of two members gets two y axes (each its own
    scale, coloured as its line); the plot fits inside its card (nothing clipped)."""
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE",
                            timezone_id="Asia/Tokyo")
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", PASSWORDS["op"])
    page.click("form.login button[type=submit]")
    expect(page.locator("header.top .who")).to_contain_text("op")
    for level, ra in ((10.0, 1.0), (55.5, 12.25), (98.0, 23.5)):
        async def send(level: float = level, ra: float = ra) -> None:
            vec = indi.driver[DEVICE]["LEVEL"]  # type: ignore[index]
            vec["LEVEL"], vec["RA"] = level, ra
            await vec.send_setVector()

        indi.call(send)
    open_device(page, site, DEVICE)
    section = page.locator(f"#{vector_id(DEVICE, 'LEVEL')}")
    plot = section.locator(".plot .uplot")
    expect(plot).to_have_count(1)
    expect(section.locator(".plot .plotnote")).to_have_text(
        "Times in Asia/Tokyo, your browser's time zone.")
    assert section.locator(".plot .u-axis").count() == 3  # time, Level, Right ascension
    ticks = json.loads(plot.get_attribute("data-ticks") or "[]")
    assert ticks and all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in ticks), ticks
    tokyo = {(datetime.now(UTC) + timedelta(hours=9, minutes=m)).strftime("%H") for m in (-5, 5)}
    assert {t[:2] for t in ticks} <= tokyo, (ticks, tokyo)  # Tokyo's hour, not UTC's
    box, card = plot.bounding_box(), section.bounding_box()
    assert box is not None and card is not None
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
    shoot(page, "web_plots.png")


def test_a_plot_fed_by_its_live_parts_holds_the_whole_history(
        browser: Browser, site: WebThread, indi: ServerThread) -> None:
    """A live part brings its plot only the newest samples (not the whole history each time):
    the page appends them to what it holds, so the open plot draws every value the web server
    keeps, as it did when each part carried all of them."""
    async def send(value: float) -> None:
        vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
        vec["VALUE"] = value
        await vec.send_setVector()

    for value in (1.0, 2.0):  # two values: the plot opens by itself
        indi.call(lambda value=value: send(value))  # type: ignore[misc]
    page = log_in(browser, site, "view")
    open_device(page, site, DEVICE)
    plot = page.locator(f"#plot-{vector_id(DEVICE, 'READING')}")
    hub = site.app.state.web.hub
    for value in range(3, 40):
        indi.call(lambda value=value: send(float(value)))  # type: ignore[misc]
        if value % 6 == 0:  # a few at a time, as a paced page takes them
            expect(page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")).to_have_text(
                f"{value:.3f}", timeout=15000)
    expect(page.locator(f"#live-{vector_id(DEVICE, 'READING')} td.value")).to_have_text(
        "39.000", timeout=15000)
    kept = len(hub.history.samples(DEVICE, "READING"))
    expect(plot).to_have_attribute("data-points", str(kept), timeout=15000)
    assert kept >= 39


def test_the_settings_password_and_lock_out_pages_as_a_user_sees_them(
        browser: Browser, site: WebThread) -> None:
    """The admin's Users page has the INDI server and BLOB folder form filled with what is in
    use; the user's name in the header opens their password page; a name locked out after
    five wrong passwords gets a page that says why and for how long, with the form to retry."""
    page = log_in(browser, site, "admin")
    page.click("header.top a[href$='/users']")
    expect(page.locator("input[name=indiport]")).to_have_value(str(site.app.state.web.source.port))
    expect(page.locator("input[name=blobfolder]")).not_to_have_value("")
    shoot(page, "web_settings.png")
    page.click("header.top .who a")
    expect(page.get_by_label("Current password")).to_be_visible()
    expect(page.get_by_label("New password again")).to_be_visible()
    shoot(page, "web_password.png")
    other = browser.new_page(viewport={"width": 1100, "height": 700})
    for _ in range(6):
        other.goto(f"{site.url}/login")
        other.fill("input[name=username]", "view")
        other.fill("input[name=password]", "not-the-password")
        other.click("form.login button[type=submit]")
    expect(other.get_by_role("alert")).to_contain_text("Too many failed log-ins for this user "
                                                        "name: it is locked for 5 more minutes")
    expect(other.locator("input[name=password]")).to_be_visible()
    shoot(other, "web_lockout.png")
