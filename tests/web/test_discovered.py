"""The web client's server settings offer the servers found on the network (issue 73 item 2):
the browser cannot browse DNS-SD, so indipyweb's own server does (``/discovered``, JSON; the
Users page's part ``/settings/discovered``, loaded and refreshed by htmx), on the interfaces
``INDIPY_MDNS_INTERFACES`` names (lo in the tests); picking one connects to it; without
python-zeroconf the page says what to install and typing a host and port still works.

Real peers: avahi-daemon on lo (tests/discoverykit.py) publishing an INDIGO service, our
indipyserver announcing itself, Chromium through Playwright for the page."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from chromiumkit import launched
from discoverykit import Avahi
from peers import OurServer
from pictures import element_picture
from pictures import same_picture
from playwright.sync_api import Page
from playwright.sync_api import ViewportSize
from playwright.sync_api import expect
from starlette.testclient import TestClient
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import login
from webpeers import wait_for

from indipydiscovery.announce import instance_name
from indipyweb.app import make_app

#: A folder: the page's picture is saved there too (to look at it).
SCREENSHOTS = os.environ.get("INDIPYWEB_SCREENSHOTS")


def listed(web: TestClient, name: str) -> dict[str, Any] | None:
    for service in web.get("/discovered").json()["services"]:
        if service["name"] == name and service["devices"]:
            return dict(service)
    return None


@contextmanager
def users_page(indi: ServerThread, dbfolder: Path, blobfolder: Path,
               viewport: ViewportSize) -> Iterator[tuple[WebThread, Page]]:
    """Our web app on `indi` (its list of servers found refreshed every 0.5 s) and Debian's
    chromium, headless, logged in as admin on its Users page in a `viewport`."""
    with WebThread(indi.port, dbfolder, blobfolder) as site, launched() as browser:
        site.app.state.web.discovered.fresh = 0.5
        page = browser.new_context(viewport=viewport).new_page()
        page.goto(f"{site.url}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORDS["admin"])
        page.click("form.login button[type=submit]")
        page.goto(f"{site.url}/users")
        yield site, page


def test_the_settings_list_the_servers_found_and_a_pick_connects(
        avahi: Avahi, demo: OurServer, indi: ServerThread, dbfolder: Path) -> None:
    """``/discovered`` lists our announcing server (name, port, Thermostat) and the INDIGO
    service avahi publishes; the settings part has a Connect form for each, whose POST moves
    the app to the picked server (the Thermostat arrives); admins only."""
    app = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder)
    app.state.web.discovered.fresh = 0.5
    name = instance_name("INDI", demo.port)
    with avahi.publish("Observatory dome", "_indigo._tcp", indi.port), \
            TestClient(app, base_url="http://testserver") as web:
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the first server's device")
        login(web, "op")
        assert web.get("/discovered").status_code == 403
        web.cookies.clear()
        csrf = login(web, "admin")
        ours = wait_for(lambda: listed(web, name), timeout=30, what="our server listed")
        assert (ours["kind"], ours["port"], ours["devices"]) == ("indi", demo.port,
                                                                ["Thermostat"])
        indigo = wait_for(lambda: [s for s in web.get("/discovered").json()["services"]
                                   if s["name"] == "Observatory dome"], what="the INDIGO one")
        assert indigo[0]["kind"] == "indigo" and indigo[0]["port"] == indi.port
        part = web.get("/settings/discovered").text
        assert name in part and "Observatory dome" in part and 'hx-trigger="every 5s"' in part
        form = re.search(rf'<form[^>]*>(?:(?!</form>).)*value="{demo.port}"(?:(?!</form>).)*'
                         rf'</form>', part, re.DOTALL)
        assert form, part
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
        assert fields["csrf_token"] == csrf and fields["indihost"] == "127.0.0.1"
        answer = web.post("/settings/server", data=fields)
        assert f"Connecting to the INDI server 127.0.0.1:{demo.port}" in answer.text
        wait_for(lambda: source.vector("Thermostat", "TEMPERATURE"), what="the picked server")


def test_without_zeroconf_the_page_says_what_to_install_and_typing_works(
        real_web: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-zeroconf absent (``sys.modules['zeroconf'] = None``: not importable, not
    found): ``/discovered`` has no service of DNS-SD and a note naming the extra
    ``[discovery]``; the part shows the note; the typed server form is still on the page."""
    monkeypatch.setitem(sys.modules, "zeroconf", None)
    login(real_web, "admin")
    answer = real_web.get("/discovered").json()
    assert "[discovery]" in answer["note"] and "Type the host and port" in answer["note"]
    assert all(s["kind"] == "alpaca" for s in answer["services"])
    assert "[discovery]" in real_web.get("/settings/discovered").text
    page = real_web.get("/users").text
    assert 'name="indihost"' in page and 'hx-get="/settings/discovered"' in page


def test_in_a_browser_the_list_appears_and_connect_moves_the_app(
        avahi: Avahi, demo: OurServer, indi: ServerThread, dbfolder: Path,
        blobfolder: Path, tmp_path: Path) -> None:
    """Chromium on the Users page: htmx loads the list, our server's row shows its devices,
    its Connect button connects (the page says so) and the app's pages follow."""
    name = instance_name("INDI", demo.port)
    with users_page(indi, dbfolder, blobfolder, {"width": 1100, "height": 1300}) as (site, page):
        row = page.locator("#discovered tr", has_text=name)
        expect(row).to_contain_text("Thermostat", timeout=30000)  # htmx's 5 s refresh
        expect(row).to_contain_text(f"127.0.0.1:{demo.port}")
        page.locator("#discovered").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "discovered.png"), full_page=True)
        if SCREENSHOTS:
            page.screenshot(path=str(Path(SCREENSHOTS) / "web_discovered.png"),
                            full_page=True)
        row.get_by_role("button", name="Connect").click()
        expect(page.locator("p.done")).to_contain_text(
            f"Connecting to the INDI server 127.0.0.1:{demo.port}")
        source = site.app.state.web.source
        wait_for(lambda: source.vector("Thermostat", "TEMPERATURE"), what="the pick")


def test_the_listing_keeps_to_the_interfaces_given(indi: ServerThread, dbfolder: Path) -> None:
    """``make_app(mdns_interfaces=...)`` (the command's ``--mdns-interface``) is where the
    page lists: a name this machine lacks is said on the page, naming those it has, and the
    app serves on."""
    app = make_app(indihost="localhost", indiport=indi.port, dbfolder=dbfolder,
                   mdns_interfaces=["nosuch0"])
    with TestClient(app, base_url="http://testserver") as web:
        login(web, "admin")
        answer = web.get("/discovered").json()
        assert answer["services"] == [] and "nosuch0" in answer["note"], answer
        assert "lo" in answer["note"] and "Type the host and port" in answer["note"]
        assert web.get("/users").status_code == 200


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_the_users_page_with_servers_found_fits_a_phone(
        avahi: Avahi, demo: OurServer, indi: ServerThread, dbfolder: Path,
        blobfolder: Path, tmp_path: Path, size: str) -> None:
    """The Users page with two servers found (ours announcing itself, an INDIGO one) is no
    wider than a 390 px phone (it was 537 px: the table's five columns side by side), each
    server's Connect button within the screen; at a desk's 1100 px the table keeps its
    columns (each row one line of cells side by side)."""
    viewport = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1100, "height": 900}}
    name = instance_name("INDI", demo.port)
    with avahi.publish("Observatory dome", "_indigo._tcp", indi.port), \
            users_page(indi, dbfolder, blobfolder, viewport[size]) as (_site, page):
        row = page.locator("#discovered tr", has_text=name)
        expect(row).to_contain_text("Thermostat", timeout=30000)
        expect(page.locator("#discovered tr", has_text="Observatory dome")).to_have_count(1)
        page.locator("#discovered").scroll_into_view_if_needed()
        picture = f"web_users_{size}.png"
        page.screenshot(path=str(tmp_path / picture), full_page=True)
        if SCREENSHOTS:
            shutil.copyfile(tmp_path / picture, Path(SCREENSHOTS) / picture)
        width = viewport[size]["width"]
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the Users page is {wide} px wide in a {width} px viewport"
        button = row.get_by_role("button", name="Connect").bounding_box()
        assert button is not None and button["x"] + button["width"] <= width, button
        cells = row.locator("td")
        tops = {round(box["y"]) for box in (cells.nth(i).bounding_box()
                                             for i in range(cells.count())) if box}
        # a phone stacks a server's cells; a desk keeps them in one line
        assert (len(tops) > 1) if size == "phone" else (len(tops) == 1), tops
        same_picture(discovered_picture(page, name), f"users_discovered_{size}.png",
                     tmp_path)


def discovered_picture(page: Page, name: str) -> bytes:
    """The table of servers found holding only this test's two (the machine's avahi may
    announce others'), its refresh stopped so that it holds still; ports, the name that holds
    one and our server's version masked."""
    page.evaluate("""([ours, theirs]) => {
        const listing = document.getElementById("discovered");
        const still = listing.cloneNode(true);  // not htmx's: no refresh every 5 s
        listing.replaceWith(still);
        for (const row of still.querySelectorAll("tr:not(.heads)")) {
            if (!row.textContent.includes(ours) && !row.textContent.includes(theirs)) row.remove();
        }
    }""", [name, "Observatory dome"])
    table = page.locator("#discovered table.discovered")
    ours = table.locator("tr", has_text=name)
    theirs = table.locator("tr", has_text="Observatory dome")
    return element_picture(table, [ours.locator("td[data-label=Server]"),
                                   ours.locator("td[data-label=Kind]"),
                                   ours.locator("td[data-label=Address]"),
                                   theirs.locator("td[data-label=Address]")])
