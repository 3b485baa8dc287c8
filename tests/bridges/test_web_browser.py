"""Browser tests of the web client served from redis: ``python -m indiredis BLOBFOLDER -p``
in front of indiserver with indilib's telescope and CCD simulators, Debian's chromium driven by
Playwright (never ``playwright install``)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from chromiumkit import launched
from peers import free_port
from peers import terminate
from playwright.sync_api import Page
from playwright.sync_api import expect
from waiting import wait_for

from indipyweb.render import vector_id

TEL = "Telescope Simulator"


@contextlib.contextmanager
def web_page_from_redis(indiserver_port: int, redis_port: int, tmp_path: Path,
                        device: str) -> Iterator[tuple[Page, int, redis.Redis]]:
    """``python -m indiredis`` in front of the indiserver on ``indiserver_port``, serving its web
    client; once redis holds ``device``'s CONNECTION, chromium logged in as the admin the command
    created (its password read from the command's output). The page, the web port and redis;
    all stopped at the end."""
    web = free_port()
    # Its output goes to a file: a pipe read only up to the password line filled up with the
    # bridge's later log lines and stopped the bridge in the middle of the test.
    log = tmp_path / "indiredis.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web),
             "--host", "127.0.0.1", "--iport", str(indiserver_port), "--ihost", "127.0.0.1",
             "--rport", str(redis_port), "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path)],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    r = redis.Redis(port=redis_port, decode_responses=True)
    try:
        found = wait_for(lambda: re.search(r"the password (\S+)", log.read_text(errors="replace")),
                         30, lambda: f"the command to print the admin password: {log.read_text()}")
        password = found.group(1)
        wait_for(lambda: r.exists(f"indi_attributes:CONNECTION:{device}"), 30,
                 f"{device}'s CONNECTION in redis", interval=0.1)
        with launched() as browser:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            wait_for(lambda: opened(page, f"http://127.0.0.1:{web}/login"), 20,
                     "the login page", interval=0.2)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("form.login button[type=submit]")
            expect(page.locator("header.top .who")).to_contain_text("admin")
            yield page, web, r
    finally:
        r.close()
        terminate(process, 5)


def opened(page: Page, url: str) -> bool:
    """Whether ``page`` could go to ``url`` (not while the server is still starting)."""
    try:
        page.goto(url)
    except Exception:  # noqa: BLE001 - the server is still starting
        return False
    return True


def test_an_operator_connects_the_telescope_from_the_page_served_from_redis(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """Log in as the admin the command created, open the telescope, switch CONNECTION to
    Connect: the page shows the driver's Ok (page -> RedisSource -> to_indi -> inditoredis ->
    driver -> from_indi -> page) and redis holds the new state."""
    server = indiserver_factory("indi_simulator_telescope")
    with web_page_from_redis(server.port, redis_port, tmp_path, TEL) as (page, web, r):
        page.goto(f"http://127.0.0.1:{web}/device/{TEL}")
        expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=10000)
        # disconnected: the page opens where Connect is, Main Control
        expect(page.locator(".tab.active")).to_have_attribute("data-tab", "Main Control")
        section = page.locator(f"#{vector_id(TEL, 'CONNECTION')}")
        section.locator("button.swbtn[value=CONNECT]").click()  # one click
        expect(section.locator("output.result")).to_contain_text("Ok", timeout=15000)
        assert r.hget(f"indi_attributes:CONNECTION:{TEL}", "state") == "Ok"
        assert r.hget(f"indi_elementattributes:CONNECT:CONNECTION:{TEL}", "value") == "On"


CCD = "CCD Simulator"


def test_the_ccd_simulators_image_shows_on_the_page_served_from_redis(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """indilib's CCD simulator through inditoredis: connect and expose from the page; the
    FITS file the bridge saved shows beside the camera's controls (RedisSource names it from
    from_indi's notice) and opens in the viewer."""
    server = indiserver_factory("indi_simulator_ccd")
    thumb = f"#img-{vector_id(CCD, 'CCD1')} img.latest"
    with web_page_from_redis(server.port, redis_port, tmp_path, CCD) as (page, web, r):
        page.goto(f"http://127.0.0.1:{web}/device/{CCD}")
        expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=10000)
        page.click("button.tab-button[data-tab='Main Control']")
        page.locator(f"#{vector_id(CCD, 'CONNECTION')} button.swbtn[value=CONNECT]").click()
        exposure = page.locator(f"#{vector_id(CCD, 'CCD_EXPOSURE')}")
        expect(exposure).to_have_count(1, timeout=15000)
        # the bridge asks for CCD1's BLOBs as it stores its definition ("blobs" Enabled): an
        # exposure asked for before that would make an image nobody is sent
        wait_for(lambda: r.hget(f"indi_attributes:CCD1:{CCD}", "blobs") == "Enabled", 15,
                 "the bridge's enableBLOB for CCD1")
        page.click("button.tab-button[data-tab='Main Control']")
        exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").fill("0.5")
        exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").press("Enter")
        try:
            expect(page.locator(thumb)).to_have_count(1, timeout=30000)
        except AssertionError as exc:  # say where the image stopped
            blobs = sorted(f.name for f in (tmp_path / "blobs").glob("*"))
            shown = exposure.inner_text() if exposure.count() else "(not on the page)"
            raise AssertionError(
                f"{exc}\nCCD_EXPOSURE in redis: "
                f"{r.hgetall(f'indi_attributes:CCD_EXPOSURE:{CCD}')}; CCD1: "
                f"{r.hgetall(f'indi_attributes:CCD1:{CCD}')}; BLOBs saved: {blobs}\n"
                f"--- the page ({page.url})'s CCD_EXPOSURE ---\n{shown}\n"
                f"--- indiredis ---\n{(tmp_path / 'indiredis.log').read_text()[-4000:]}"
            ) from None
        expect(page.locator(thumb)).to_be_in_viewport()
        page.locator(thumb).click()
        viewer = page.locator("dialog.viewer-dialog .viewer")
        expect(viewer).to_have_attribute("data-ready", "yes", timeout=20000)
        expect(viewer.locator(".v-status")).to_contain_text("uint16")
        saved = r.hget(f"indi_elementattributes:CCD1:CCD1:{CCD}", "filepath")
        assert saved and Path(saved).name.endswith(".fits"), saved


def _direct_groups(port: int, device: str, count: int) -> list[str]:
    """`device`'s groups in the order a direct connection to the server received them, once
    it has `count` vectors."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import waiting

    from indipyclient import connect

    async def read() -> list[str]:
        async with connect("127.0.0.1", port) as direct:
            await waiting.until(lambda: device in direct and len(direct[device]) >= count, 30,
                                f"{device}'s {count} vectors over a direct connection")
            return list(dict.fromkeys(direct[device][name].group for name in direct[device]))

    with ThreadPoolExecutor(1) as thread:  # this thread runs Playwright's event loop
        return thread.submit(asyncio.run, read()).result()


def test_the_page_from_redis_has_the_tabs_of_a_direct_connection(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """indilib's telescope simulator under indiserver, through inditoredis: the page served
    from redis shows the tabs in the order a direct connection to the same indiserver
    receives the groups (Main Control, Connection, Options, ...), not the order of the sorted
    vector names (Options first), and names that indiserver in its connection line."""
    server = indiserver_factory("indi_simulator_telescope")
    with web_page_from_redis(server.port, redis_port, tmp_path, TEL) as (page, web, r):
        count = wait_for(lambda: r.llen(f"indi_propertyorder:{TEL}") or None, 30,
                         "the telescope's vector order in redis")
        wait_for(lambda: r.llen(f"indi_propertyorder:{TEL}") == count == r.scard(
            f"indi_properties:{TEL}"), 10, "the order list and the set alike")
        direct = _direct_groups(server.port, TEL, count)
        assert direct[0] == "Main Control" and "Options" in direct
        page.goto(f"http://127.0.0.1:{web}/device/{TEL}")
        expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=10000)
        expect(page.locator("#device-body .tab-button")).to_have_text(direct)
        expect(page.locator("#conn")).to_contain_text(f"INDI server 127.0.0.1:{server.port}")
