"""Browser tests of the web client served from redis: ``python -m indiredis BLOBFOLDER -p``
in front of indiserver with indilib's telescope and CCD simulators, Debian's chromium driven by
Playwright (never ``playwright install``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
from peers import free_port, terminate
from playwright.sync_api import expect, sync_playwright

from indipyweb.render import vector_id

CHROMIUM = "/usr/bin/chromium"
TEL = "Telescope Simulator"


def test_an_operator_connects_the_telescope_from_the_page_served_from_redis(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """Log in as the admin the command created, open the telescope, switch CONNECTION to
    Connect: the page shows the driver's Ok (page -> RedisSource -> to_indi -> inditoredis ->
    driver -> from_indi -> page) and redis holds the new state."""
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), "chromium is missing"
    server = indiserver_factory("indi_simulator_telescope")
    web = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web), "--host",
         "127.0.0.1", "--iport", str(server.port), "--ihost", "127.0.0.1", "--rport",
         str(redis_port), "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        password = None
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while password is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            found = re.search(r"the password (\S+)", line)
            password = found.group(1) if found else None
        assert password, "the command printed no admin password"
        r = redis.Redis(port=redis_port, decode_responses=True)
        while not r.exists(f"indi_attributes:CONNECTION:{TEL}") and time.monotonic() < deadline:
            time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            for _ in range(100):
                try:
                    page.goto(f"http://127.0.0.1:{web}/login")
                    break
                except Exception:  # noqa: BLE001 - the server is still starting
                    time.sleep(0.2)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("form.login button[type=submit]")
            expect(page.locator("header.top .who")).to_contain_text("admin")
            page.goto(f"http://127.0.0.1:{web}/device/{TEL}")
            expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=10000)
            # the tabs come in the order the store lists the vectors: open CONNECTION's own
            page.click("button.tab-button[data-tab='Main Control']")
            section = page.locator(f"#{vector_id(TEL, 'CONNECTION')}")
            section.locator("button.swbtn[value=CONNECT]").click()  # one click
            expect(section.locator("output.result")).to_contain_text("Ok", timeout=15000)
            browser.close()
        assert r.hget(f"indi_attributes:CONNECTION:{TEL}", "state") == "Ok"
        assert r.hget(f"indi_elementattributes:CONNECT:CONNECTION:{TEL}", "value") == "On"
        r.close()
    finally:
        terminate(process, 5)
        if process.stdout is not None:
            process.stdout.close()


CCD = "CCD Simulator"


def test_the_ccd_simulators_image_shows_on_the_page_served_from_redis(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """indilib's CCD simulator through inditoredis: connect and expose from the page; the
    FITS file the bridge saved shows beside the camera's controls (RedisSource names it from
    from_indi's notice) and opens in the viewer."""
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), "chromium is missing"
    server = indiserver_factory("indi_simulator_ccd")
    web = free_port()
    command = [sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web),
               "--host", "127.0.0.1", "--iport", str(server.port), "--ihost", "127.0.0.1",
               "--rport", str(redis_port), "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        password = None
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while password is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            found = re.search(r"the password (\S+)", line)
            password = found.group(1) if found else None
        assert password, "the command printed no admin password"
        r = redis.Redis(port=redis_port, decode_responses=True)
        while not r.exists(f"indi_attributes:CONNECTION:{CCD}") and time.monotonic() < deadline:
            time.sleep(0.1)
        thumb = f"#img-{vector_id(CCD, 'CCD1')} img.latest"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            for _ in range(100):
                try:
                    page.goto(f"http://127.0.0.1:{web}/login")
                    break
                except Exception:  # noqa: BLE001 - the server is still starting
                    time.sleep(0.2)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("form.login button[type=submit]")
            expect(page.locator("header.top .who")).to_contain_text("admin")
            page.goto(f"http://127.0.0.1:{web}/device/{CCD}")
            expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=10000)
            page.click("button.tab-button[data-tab='Main Control']")
            page.locator(f"#{vector_id(CCD, 'CONNECTION')} button.swbtn[value=CONNECT]").click()
            exposure = page.locator(f"#{vector_id(CCD, 'CCD_EXPOSURE')}")
            expect(exposure).to_have_count(1, timeout=15000)
            page.click("button.tab-button[data-tab='Main Control']")
            exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").fill("0.5")
            exposure.locator("input[name='m.CCD_EXPOSURE_VALUE']").press("Enter")
            expect(page.locator(thumb)).to_have_count(1, timeout=30000)
            expect(page.locator(thumb)).to_be_in_viewport()
            page.locator(thumb).click()
            viewer = page.locator("dialog.viewer-dialog .viewer")
            expect(viewer).to_have_attribute("data-ready", "yes", timeout=20000)
            expect(viewer.locator(".v-status")).to_contain_text("uint16")
            browser.close()
        saved = r.hget(f"indi_elementattributes:CCD1:CCD1:{CCD}", "filepath")
        assert saved and Path(saved).name.endswith(".fits"), saved
        r.close()
    finally:
        terminate(process, 5)
        if process.stdout is not None:
            process.stdout.close()
