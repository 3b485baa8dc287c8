"""One browser test of the web client served from redis: ``python -m indiredis BLOBFOLDER -p``
in front of indiserver with indilib's telescope simulator, Debian's chromium driven by
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
            section.locator("label.radio", has_text="Connect").first.click()
            section.locator("button[type=submit]").click()
            expect(section.locator("output.result")).to_contain_text("Ok", timeout=15000)
            browser.close()
        assert r.hget(f"indi_attributes:CONNECTION:{TEL}", "state") == "Ok"
        assert r.hget(f"indi_elementattributes:CONNECT:CONNECTION:{TEL}", "value") == "On"
        r.close()
    finally:
        terminate(process, 5)
        if process.stdout is not None:
            process.stdout.close()
