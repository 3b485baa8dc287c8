"""The web client over redis tells how old its data is (issue 61 item 4): the status line shows
the age of the newest reading the bridge stored, and keeps counting while none arrive. Real
redis, ``python -m indiredis`` (inditoredis and the pages) in front of our server, Debian's
chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from chromiumkit import launched_async
from peers import free_port
from playwright.async_api import Page
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer

AGE = re.compile(r"newest reading ([0-9.]+) (s|min|h) old")
UNIT = {"s": 1.0, "min": 60.0, "h": 3600.0}


async def shown_age(page: Page) -> float | None:
    """The age the page's status line shows, in seconds (None: it shows none)."""
    found = AGE.search(await page.locator("#conn").inner_text())
    return float(found.group(1)) * UNIT[found.group(2)] if found else None


async def test_the_status_line_over_redis_shows_how_old_the_newest_reading_is(
        redis_port: int, tmp_path: Path) -> None:
    """A reading just taken shows as a few tenths of a second old; one its driver stamped 90 s
    ago (a central side that has fallen behind delivers such) shows as about 90 s; and with no
    reading after it the age keeps growing on the open page, without a reload."""
    driver = make_gadget()
    r = client(redis_port)
    async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s:
        web = free_port()
        log = tmp_path / "indiredis.log"
        with log.open("wb") as out:  # a file: a pipe left unread would stop the bridge
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web),
                "--host", "127.0.0.1", "--iport", str(s.port), "--ihost", "127.0.0.1",
                "--rport", str(redis_port), "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path),
                cwd=tmp_path, stdout=out, stderr=asyncio.subprocess.STDOUT)
        try:
            found = await until(lambda: re.search(r"the password (\S+)",
                                                  log.read_text(errors="replace")),
                                30, "the admin password printed")
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), 30,
                        "Gadget's VALUE stored")
            await until(lambda: "open http" in log.read_text(errors="replace"), 30,
                        "the pages answering")
            async with launched_async() as browser:
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{web}/login")
                await page.fill("input[name=username]", "admin")
                await page.fill("input[name=password]", found.group(1))
                await page.click("form.login button[type=submit]")
                await page.wait_for_selector("header.top .who")
                await page.goto(f"http://127.0.0.1:{web}/device/Gadget")
                await page.wait_for_selector("body[data-stream=open]", state="attached")
                vector = driver["Gadget"]["VALUE"]

                vector["V"] = 7
                await vector.send_setVector()
                fresh = await until(lambda: _below(page, 3.0), 20,
                                    "the status line showing a fresh reading")
                assert fresh < 3.0

                vector["V"] = 8
                await vector.send_setVector(timestamp=datetime.now(UTC) - timedelta(seconds=90))
                late = await until(lambda: _at_least(page, 89.0), 20,
                                   "the status line showing the late reading's age")
                assert late < 120
                await until(lambda: _at_least(page, late + 2.0), 20,
                            "the age growing while no reading comes")
        finally:
            await r.aclose()
            process.terminate()
            await process.wait()


async def _below(page: Page, limit: float) -> float | None:
    age = await shown_age(page)
    return age if age is not None and age < limit else None


async def _at_least(page: Page, limit: float) -> float | None:
    age = await shown_age(page)
    return age if age is not None and age >= limit else None
