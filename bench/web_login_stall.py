"""Does logging in freeze an open page? Measured as a browser sees it (issue 69 item 7).

One headless chromium (Debian's, Playwright) keeps a device page open whose number the driver
sets every ~20 ms; a script in the page records the time of each SSE-driven change of that
number on the page (``Date.now()``, the clock this process reads too). After a quiet stretch, ten
log-ins start at once; the longest gap between two changes that overlaps the log-ins is set
against the longest gap of the quiet stretch before them (target: at most 100 ms more).
``--logins`` says what the ten do, to tell the server's share from the browser's:

- ``page`` (default): over HTTP from this process, ``GET /login``, ``POST /login`` with the
  form's CSRF token, then the page the redirect names;
- ``post``: the form alone (the password hashing and the session, nothing else);
- ``browser``: ten browser contexts in the same chromium, each on a filled-in login form, click
  Log in and land on the instruments page (its scripts, its live stream);
- ``open``: the control, no log-in at all: ten browser contexts already logged in open that
  page at once;
- ``http-open``: what ``open`` asks of the server (the page, its scripts and styles, its live
  stream until its first update), over HTTP, with no browser.

Each tree given (a checkout of this repository) runs its own web client (``python -m indipyweb``
with that tree first on PYTHONPATH) against the same INDI server (``web_sse.py --indi``) and the
same chromium; ``PATH@HOW`` hashes as ``bench/web_logins.py --hashing HOW`` (``@loop``: on the
event loop, as before issue 41). Trees alternate within each rep, so a noisy machine weighs on
all alike; medians over the reps.

    python bench/web_login_stall.py --tree /tmp/base-logins --tree /tmp/base-logins@loop
    python bench/web_login_stall.py --logins browser --reps 5
    python bench/web_login_stall.py --logins open --busy 2   # two more processes spinning
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pageprobes import CHANGES
from processes import stop_group
from web_sse import DEVICE
from web_sse import PASSWORD
from web_sse import _listening
from web_sse import free_port
from web_sse import login

LOGINS = 10
TARGET_MS = 100.0  # issue 69 item 7: the longest gap may grow by this much while ten log in
CHROMIUM = "/usr/bin/chromium"

@dataclass
class Run:
    tree: str
    quiet_max: float
    during_max: float
    logins_ms: float  # from the first request to the last answer
    answers: list[int]

    @property
    def extra(self) -> float:
        return self.during_max - self.quiet_max


async def log_in_as_a_browser(port: int, landing: bool) -> int:
    """GET /login, POST /login with its CSRF token and cookie, then the redirect's page."""
    import httpx2 as httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        form = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if token is None:
            raise RuntimeError(f"no login form: {form.status_code}")
        answer = await client.post("/login", data={"username": "bench", "password": PASSWORD,
                                                   "csrf_token": token.group(1)})
        if landing and answer.status_code == 303:
            page = await client.get(answer.headers["location"])
            page.raise_for_status()
        return int(answer.status_code)


def max_gap(changes: list[float], start: float, end: float) -> float:
    """The longest gap between changes that overlaps [start, end] (epoch ms): a stall that
    lasts until the last log-in is answered ends just after it, and counts."""
    gaps = [b - a for a, b in itertools.pairwise(changes) if b > start and a < end]
    if not gaps:
        raise RuntimeError("no change of the number on the page in the window")
    return max(gaps)


def quiet_gap(changes: list[float], start: float, end: float) -> float:
    """The longest gap between changes wholly within [start, end]."""
    gaps = [b - a for a, b in itertools.pairwise(changes) if a >= start and b <= end]
    if not gaps:
        raise RuntimeError("no change of the number on the page in the quiet stretch")
    return max(gaps)


async def login_forms(browser: Any, port: int) -> list[Any]:
    """Ten browser contexts, each on the login form, filled in."""
    pages = []
    for _ in range(LOGINS):
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/login")
        await page.fill("input[name=username]", "bench")
        await page.fill("input[name=password]", PASSWORD)
        pages.append(page)
    return pages


async def logged_in_pages(browser: Any, port: int) -> list[Any]:
    """The control: ten browser contexts already logged in (their session cookie set), on a
    blank page; `open_page` then opens the page a log-in lands on, with no log-in at all."""
    pages = []
    for _ in range(LOGINS):
        cookie = await login(port)
        context = await browser.new_context()
        name, value = cookie.split("=", 1)
        await context.add_cookies([{"name": name, "value": value,
                                    "url": f"http://127.0.0.1:{port}"}])
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/login")  # its scripts and styles cached
        pages.append(page)
    return pages


async def open_page(page: Any) -> int:
    await page.goto(page.url.rsplit("/", 1)[0] + "/")
    await page.wait_for_selector("body[data-stream=open]")
    return 200


async def open_as_http(port: int, cookie: str) -> int:
    """What a browser's opening of the landing page asks of the server, without the browser:
    the page, its scripts and styles, then its live stream until its first update."""
    import httpx2 as httpx

    name, value = cookie.split("=", 1)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                 cookies={name: value}) as client:
        page = await client.get("/")
        for asset in re.findall(r'(?:src|href)="([^"]+\.(?:js|css|svg))"', page.text):
            (await client.get(asset)).raise_for_status()
        url = re.search(r'sse-connect="([^"]+)"', page.text)
        if url is None:
            raise RuntimeError(f"no stream on the page: {page.status_code}")
        async with client.stream("GET", url.group(1).replace("&amp;", "&")) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event: update"):
                    break
        return int(page.status_code)


async def submit(page: Any) -> int:
    """Log in from the filled form; done when the page it lands on has its stream open."""
    async with page.expect_navigation(url=re.compile(r".*/$")):
        await page.click("form.login [type=submit]")
    await page.wait_for_selector("body[data-stream=open]")
    return 303


async def measure(browser: Any, port: int, quiet: float, landing: str) -> tuple[float, float,
                                                                                 float, list[int]]:
    cookie = await login(port)
    context = await browser.new_context()
    name, value = cookie.split("=", 1)
    await context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{port}"}])
    try:
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/device/{DEVICE}")
        await page.wait_for_selector("body[data-stream=open]")
        await page.evaluate(CHANGES, "T")  # each change of the number, epoch ms
        forms = (await login_forms(browser, port) if landing == "browser" else
                 await logged_in_pages(browser, port) if landing == "open" else [])
        await asyncio.sleep(1.0 + quiet)  # settle, then the quiet stretch
        start = time.time() * 1000
        cookies = [await login(port) for _ in range(LOGINS)] if landing == "http-open" else []
        act = open_page if landing == "open" else submit
        answers = await asyncio.gather(*(act(form) for form in forms)) if forms else \
            await asyncio.gather(*(open_as_http(port, c) for c in cookies)) if cookies else \
            await asyncio.gather(*(log_in_as_a_browser(port, landing == "page")
                                   for _ in range(LOGINS)))
        end = time.time() * 1000
        await asyncio.sleep(0.3)  # the last changes reach the page
        changes: list[float] = await page.evaluate("() => window.__changes")
    finally:
        await context.close()
        for form in forms:
            await form.context.close()
    return (quiet_gap(changes, start - quiet * 1000, start), max_gap(changes, start, end),
            end - start, list(answers))


def start_web(spec: str, tmp: str, webport: int, indiport: int) -> subprocess.Popen[bytes]:
    """The web client from `spec`'s checkout, its database in `tmp` with the user 'bench'."""
    path, _, how = spec.partition("@")
    tree = Path(path)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "bench", "--role", "viewer",
                    "--dbfolder", tmp], input=PASSWORD + "\n", text=True, env=env, cwd=tmp,
                   capture_output=True, check=True)  # cwd: this tree's indipyweb, not ours
    web_args = ["--port", str(webport), "--indiport", str(indiport), "--dbfolder", tmp]
    command = ([str(tree / "bench" / "web_logins.py"), "--web-hashing", how] if how
               else ["-m", "indipyweb"])
    return subprocess.Popen([sys.executable, *command, *web_args], env=env, cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def start_indi(port: int, rate: float) -> subprocess.Popen[bytes]:
    """Our INDI server with the driver setting the number `rate` times a second."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(ROOT / "bench" / "web_sse.py"), "--indi",
                             str(port), str(rate)], env=env, start_new_session=True)


async def run_tree(browser: Any, spec: str, indiport: int, quiet: float,
                   landing: str) -> Run:
    """One run of the web client from the checkout `spec` names (``PATH``, or ``PATH@HOW``:
    hashing as ``bench/web_logins.py --hashing HOW`` says, from that checkout)."""
    webport = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        web = start_web(spec, tmp, webport, indiport)
        try:
            deadline = time.monotonic() + 30
            while not _listening(webport):
                if time.monotonic() > deadline:
                    raise RuntimeError("the web client did not listen")
                await asyncio.sleep(0.1)
            quiet_max, during_max, took, answers = await measure(browser, webport, quiet,
                                                                 landing)
        finally:
            stop_group(web, 10)
    return Run(spec, quiet_max, during_max, took, answers)


async def bench(args: argparse.Namespace) -> list[Run]:
    from playwright.async_api import async_playwright

    indiport = free_port()
    indi = start_indi(indiport, args.rate)
    runs: list[Run] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-dev-shm-usage"])
            for rep in range(args.reps):
                for tree in args.tree:
                    run = await run_tree(browser, tree, indiport, args.quiet, args.landing)
                    runs.append(run)
                    print(f"rep {rep + 1} {tree}: quiet max {run.quiet_max:.0f} ms, during "
                          f"{run.during_max:.0f} ms ({run.extra:+.0f}), ten log-ins "
                          f"{run.logins_ms:.0f} ms, answers {sorted(set(run.answers))}",
                          flush=True)
            await browser.close()
    finally:
        stop_group(indi, 10)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append",
                        help="a checkout to run the web client from (repeatable; default this); "
                        "PATH@HOW hashes as bench/web_logins.py --hashing HOW")
    parser.add_argument("--reps", type=int, default=3, help="runs of each tree, interleaved")
    parser.add_argument("-r", "--rate", type=float, default=50.0, help="sets per second")
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds of the quiet stretch")
    parser.add_argument("--busy", type=int, default=0,
                        help="processes spinning at nice 0 throughout (a shared machine)")
    parser.add_argument("--logins", dest="landing", choices=["page", "post", "browser", "open", "http-open"],
                        default="page", help="page: the form, then the page it redirects to; "
                        "post: the form alone; browser: ten browser contexts fill the form; "
                        "open: ten logged-in browser contexts open the page, no log-in; http-open: "
                        "the same asked of the server over HTTP, no browser")
    args = parser.parse_args()
    args.tree = [str(Path(path).resolve()) + at + how for path, at, how in
                 (tree.partition("@") for tree in (args.tree or [str(ROOT)]))]
    load0 = os.getloadavg()[0]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(args.busy)]
    try:
        runs = asyncio.run(bench(args))
    finally:
        for hog in hogs:
            stop_group(hog, 10)
    load1 = os.getloadavg()[0]
    print(f"\n{args.reps} reps; {args.rate:g} sets/s; quiet {args.quiet:g} s; landing "
          f"{args.landing}; {args.busy} busy; load average {load0:.2f} -> {load1:.2f}")
    print("| tree | quiet max gap, ms | max gap during log-ins, ms | more, ms "
          "| ten log-ins, ms | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    for tree in args.tree:
        mine = [run for run in runs if run.tree == tree]
        extra = statistics.median(run.extra for run in mine)
        print(f"| {tree} | {statistics.median(r.quiet_max for r in mine):.0f} | "
              f"{statistics.median(r.during_max for r in mine):.0f} | {extra:+.0f} | "
              f"{statistics.median(r.logins_ms for r in mine):.0f} | "
              f"{'PASS' if extra <= TARGET_MS else 'FAIL'} (<= +{TARGET_MS:g}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
