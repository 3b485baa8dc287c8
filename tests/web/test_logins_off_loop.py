"""Password hashing runs off the event loop: an open page keeps its live updates while ten
log-ins are hashing, on the real server (uvicorn, our INDI server, the test driver).

Event-ordered, no clock: each hash is held (a wrapper around `users.hash_password` waits for
the test's go) while the driver sends twenty values; the page's SSE stream must deliver them,
in order, and the app answer another request, before any log-in has finished. Were a hash run
on the loop, the first held hash would stop the loop and nothing would arrive. The gaps in
milliseconds (normal against during log-ins) are measured by bench/web_logins.py.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

import indipyweb.users
from indipyweb.users import HASH_THREADS

LOGINS = 10


class HeldHashes:
    """Wraps `hash_password`: records where each hash ran and, once `hold` is set, waits for
    `go` before hashing."""

    def __init__(self) -> None:
        self.real = indipyweb.users.hash_password
        self.hold = threading.Event()
        self.go = threading.Event()
        self.lock = threading.Lock()
        self.ran: list[tuple[str, bool]] = []  # (thread name, a running loop in that thread)
        self.waiting = 0

    def __call__(self, password: str, salt: bytes) -> bytes:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with self.lock:
            self.ran.append((threading.current_thread().name, on_loop))
        if self.hold.is_set():
            with self.lock:
                self.waiting += 1
            assert self.go.wait(60), "the test never let the hashes go"
        return self.real(password, salt)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldHashes]:
    hashes = HeldHashes()
    monkeypatch.setattr(indipyweb.users, "hash_password", hashes)
    yield hashes
    hashes.go.set()


def login_cookies(base: str, user: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        answer = client.post("/login", data={"username": user, "password": PASSWORDS[user],
                                             "csrf_token": token.group(1)})
        assert answer.status_code == 303, answer.text
        return client.cookies


def test_a_page_keeps_its_live_updates_while_ten_logins_hash(
        indi: ServerThread, dbfolder: Path, blobfolder: Path, held: HeldHashes) -> None:
    """Ten log-ins at once, their hashes held in the database's thread pool: the device page's
    stream delivers every value the driver sends meanwhile, in order, another request is
    answered, and no log-in has finished; let go, all ten log in. Every hash ran on a thread
    of the pool, none on the event loop."""
    with WebThread(indi.port, dbfolder, blobfolder) as site:
        source = site.app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "DOOMED"), timeout=10, what="the test device")
        cookies = login_cookies(site.url, "view")  # a page's viewer, before any hash is held
        lines: list[str] = []

        def read_stream() -> None:
            try:
                with httpx.Client(base_url=site.url, cookies=cookies, timeout=None) as client, \
                        client.stream("GET", f"/stream?page=device&device={DEVICE}") as stream:
                    lines.extend(stream.iter_lines())  # as they arrive
            except httpx.HTTPError:
                pass  # the server shut down at the end of the test

        threading.Thread(target=read_stream, daemon=True).start()
        wait_for(lambda: any("device-body" in line for line in lines), timeout=10,
                 what="the page's first part")

        held.hold.set()
        answers: list[int] = []

        def log_in() -> None:
            with httpx.Client(base_url=site.url, timeout=120) as client:
                page = client.get("/login")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert token
                answer = client.post("/login", data={
                    "username": "op", "password": PASSWORDS["op"],
                    "csrf_token": token.group(1)})
                answers.append(answer.status_code)

        logins = [threading.Thread(target=log_in, daemon=True) for _ in range(LOGINS)]
        for thread in logins:
            thread.start()
        in_pool = min(HASH_THREADS, LOGINS)  # the pool is full, the rest queue behind it
        wait_for(lambda: held.waiting >= in_pool, timeout=30, what="hashes in flight")

        async def send(value: int) -> None:
            vec = indi.driver[DEVICE]["READING"]  # type: ignore[index]
            vec["VALUE"] = value
            await vec.send_setVector()

        for value in range(101, 121):
            indi.call(lambda value=value: send(value))  # type: ignore[misc]
        wait_for(lambda: any("120.000" in line for line in lines), timeout=30,
                 what="the last value on the page while the log-ins hash")
        with httpx.Client(base_url=site.url, cookies=cookies) as client:
            assert client.get("/api/session").json()["user"] == "view"
        assert answers == [], "a log-in finished while its hash was held"
        seen = [int(v) for line in lines for v in re.findall(r"\b(1[0-2]\d)\.000\b", line)]
        assert seen == sorted(seen) and seen[-1] == 120, seen

        held.go.set()
        for thread in logins:
            thread.join(120)
        assert answers == [303] * LOGINS
    assert len(held.ran) == 1 + LOGINS
    assert all(name.startswith("indipyweb-hash") and not on_loop for name, on_loop in held.ran)
