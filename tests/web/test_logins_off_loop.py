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
import os
import re
import stat
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx
from webpeers import DEVICE
from webpeers import PASSWORDS
from webpeers import HeldHashes
from webpeers import ServerThread
from webpeers import WebThread
from webpeers import wait_for

from indipyweb.users import HASH_NICE
from indipyweb.users import HASH_THREADS
from indipyweb.users import Role
from indipyweb.users import UserDB

LOGINS = 10


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


def test_hashes_run_as_many_at_once_as_the_pool_has_at_low_priority(
        tmp_path: Path, held: HeldHashes) -> None:
    """Ten log-ins at once on a `UserDB` (six right, two with a wrong password, two for nobody):
    while the hashes are held, exactly `HASH_THREADS` are in flight and the rest queue; every
    hash runs on a pool thread that is not the event loop's, at nice `HASH_NICE` (on Linux)
    while the loop's thread keeps the process's priority; let go, each log-in gets its answer."""
    db = UserDB(tmp_path)
    db.set_user("op", PASSWORDS["op"], "operator")
    held.ran.clear()
    held.native.clear()
    held.hold.set()
    tries = [("op", PASSWORDS["op"])] * 6 + [("op", "wrong-password")] * 2 \
        + [("nobody", PASSWORDS["op"])] * 2
    answers: list[Role | None] = []
    loop_thread: list[int] = []

    async def log_in_ten() -> None:
        loop_thread.append(threading.get_native_id())
        answers.extend(await asyncio.gather(
            *(db.acheck_password(name, password) for name, password in tries)))

    runner = threading.Thread(target=asyncio.run, args=(log_in_ten(),), daemon=True)
    runner.start()
    try:
        wait_for(lambda: held.waiting >= HASH_THREADS, timeout=30, what="hashes in flight")
        time.sleep(0.5)  # room for any hash beyond the pool's to start (none may)
        assert held.waiting == HASH_THREADS, "more hashes at once than the pool's threads"
        assert answers == []
    finally:
        held.go.set()
        runner.join(60)
    db.close()
    assert answers == [Role.OPERATOR] * 6 + [None] * 4
    assert held.most_in_flight == HASH_THREADS
    assert len(held.ran) == len(tries)
    assert all(name.startswith("indipyweb-hash") and not on_loop for name, on_loop in held.ran)
    assert loop_thread[0] not in {tid for tid, _ in held.native}
    if sys.platform == "linux":
        assert {nice for _, nice in held.native} == {HASH_NICE}
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.nice(0)


def test_the_database_commits_without_waiting_for_the_disk_and_stays_private(
        tmp_path: Path) -> None:
    """WAL mode with synchronous=NORMAL (a log-in's session commit runs no fsync on the event
    loop), and the database and its -wal and -shm files are the owner's alone (0600)."""
    db = UserDB(tmp_path)
    db.set_user("op", PASSWORDS["op"], "operator")
    db.new_session("op")
    try:
        assert db._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        files = sorted(path.name for path in tmp_path.iterdir())
        assert files == ["indipyweb.db", "indipyweb.db-shm", "indipyweb.db-wal"]
        for path in tmp_path.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        db.close()
