"""Logging in does not freeze an open page, as a browser shows it (issue 69 item 7).

Debian's chromium (headless, Playwright; never `playwright install`) keeps a device page open
while the test driver sets a number every 20 ms; a script in the page records when each new
value lands on the page. Ten users then log in at once through the login form. The longest gap
between two values while the log-ins run may exceed the longest gap of the quiet stretch just
before them by at most `MORE_MS`: a password hash on the event loop (one scrypt is tens of
milliseconds; ten at once queue behind each other) breaks it. The bound is against the same
run's own quiet gap, not a fixed time, and a run that misses it is measured again (up to
`ATTEMPTS` times): a loaded machine's noise does not repeat, a stall the server makes does.
bench/web_login_stall.py measures the same with the web client in a process of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # its probe

import httpx2 as httpx
import pytest
from chromiumkit import launched
from pageprobes import CHANGES
from playwright.sync_api import Page
from playwright.sync_api import expect
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

LOGINS = 10
MORE_MS = 100.0  # issue 69 item 7: the longest gap may grow by this much while ten log in
ATTEMPTS = 3
QUIET_S = 2.0
PERIOD_S = 0.02  # the driver sets READING this often

@pytest.fixture
def ticking(indi: ServerThread) -> Iterator[None]:
    """The test driver sets READING every `PERIOD_S` seconds until the test ends."""
    driver = indi.driver
    assert driver is not None
    tasks: list[asyncio.Task[None]] = []

    async def tick() -> None:
        vector = driver[DEVICE]["READING"]
        for value in itertools.count():
            vector["VALUE"] = value % 1000
            await vector.send_setVector()
            await asyncio.sleep(PERIOD_S)

    async def start() -> None:
        tasks.append(asyncio.create_task(tick()))

    async def stop() -> None:
        tasks[0].cancel()

    indi.call(start)
    yield
    indi.call(stop)


@pytest.fixture
def site(indi: ServerThread, dbfolder: Path, blobfolder: Path) -> Iterator[WebThread]:
    with WebThread(indi.port, dbfolder, blobfolder) as web:
        source = web.app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), what="the test device")
        yield web


async def log_in(client: httpx.AsyncClient) -> int:
    """The login form, then its post (the CSRF token and cookie a browser sends)."""
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = await client.post("/login", data={"username": "op", "password": PASSWORDS["op"],
                                               "csrf_token": token.group(1)})
    return int(answer.status_code)


def ten_log_ins(url: str) -> tuple[float, float, list[int]]:
    """Ten users log in at once (each a client of its own); (start, end) in epoch ms and the
    answers. Run on a thread of its own, beside the test's browser. Their hashes queue for
    the app's one hashing thread at nice HASH_NICE, which a loaded machine starves by design
    (a log-in waits rather than take CPU from the pages): how long they take is not what is
    measured, so no bound of their own but the test's timeout (they once outlived 60 s)."""
    import time

    async def all_ten() -> list[int]:
        clients = [httpx.AsyncClient(base_url=url, timeout=None) for _ in range(LOGINS)]
        try:
            return list(await asyncio.gather(*(log_in(client) for client in clients)))
        finally:
            for client in clients:
                await client.aclose()

    result: list[tuple[float, float, list[int]]] = []

    def run() -> None:
        start = time.time() * 1000
        answers = asyncio.run(all_ten())
        result.append((start, time.time() * 1000, answers))

    thread = threading.Thread(target=run, name="ten log-ins")
    thread.start()
    thread.join()
    assert result, "the ten log-ins failed"
    return result[0]


def gaps(changes: list[float], start: float, end: float, *, overlapping: bool) -> float:
    """The longest gap between changes: overlapping [start, end] (a stall lasting until the
    last log-in is answered ends just after it), or wholly within it."""
    found = [b - a for a, b in itertools.pairwise(changes)
             if (b > start and a < end if overlapping else a >= start and b <= end)]
    assert found, "no new value on the page in the window"
    return max(found)


def measure(page: Page, url: str) -> tuple[float, float, list[int]]:
    """(quiet longest gap, longest gap during ten log-ins, their answers), ms."""
    import time

    page.evaluate(CHANGES, "VALUE")  # each new value of READING on the page, epoch ms
    time.sleep(QUIET_S)  # the quiet stretch, recorded by the page itself
    start, end, answers = ten_log_ins(url)
    wait_for(lambda: page.evaluate("() => window.__changes.length && "
                                   "window.__changes[window.__changes.length - 1]") > end,
             timeout=30, what="a value on the page after the log-ins")
    changes: list[float] = page.evaluate("() => window.__changes")
    quiet = gaps(changes, start - QUIET_S * 1000, start, overlapping=False)
    return quiet, gaps(changes, start, end, overlapping=True), answers


@pytest.mark.timeout(240)
def test_ten_log_ins_at_once_do_not_stall_an_open_pages_updates(
        site: WebThread, ticking: None) -> None:
    """While ten users log in at once, the device page open in chromium keeps showing the
    driver's new values: its longest gap between two grows by at most MORE_MS over the quiet
    stretch's, and all ten log in (a hash on the event loop stalls it by their sum)."""
    # The page's session straight from the database: a log-in through the app hashes at nice
    # HASH_NICE, which a loaded machine starves (12 s for one with two busy processes on the
    # core), past httpx's 5 s; what is measured is the ten log-ins below, not this one.
    cookie = site.app.state.web.db.new_session("view")
    seen: list[tuple[float, float]] = []
    with launched() as browser:
        context = browser.new_context()
        context.add_cookies([{"name": "indipyweb_session", "value": cookie, "url": site.url}])
        page = context.new_page()
        page.goto(f"{site.url}/device/{DEVICE}")
        expect(page.locator("body")).to_have_attribute("data-stream", "open", timeout=15000)
        for _ in range(ATTEMPTS):
            quiet, during, answers = measure(page, site.url)
            assert answers == [303] * LOGINS, answers
            seen.append((quiet, during))
            if during - quiet <= MORE_MS:
                break
    quiet, during = seen[-1]
    assert during - quiet <= MORE_MS, (
        f"the page stalled while ten logged in, every time: (quiet, during) ms {seen}")
