"""The web client's state from redis: ``RedisSource`` (indipyweb's DeviceSource) over a store
kept by inditoredis, and ``python -m indiredis BLOBFOLDER -p PORT`` serving the pages."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any

from peers import free_port
from redishelpers import bridge
from redishelpers import client
from redishelpers import stored
from redishelpers import until
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from waiting import wait_for

from indipyclient import connect
from indipyserver import IPyServer
from indipyserver.demo import make_driver
from indipyweb.source import Change
from indipyweb.source import DeviceSource
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import redis_server
from indiredis.websource import RedisSource


async def test_redis_source_reads_the_store_sets_and_follows_changes(redis_port: int,
                                                                     tmp_path: Path) -> None:
    """A RedisSource started on a filled store shows every vector with its values; set()
    reaches the driver and answers Ok; a driver's own change arrives as a Change."""
    driver = make_gadget()
    rhost = redis_server("127.0.0.1", redis_port)
    async with stored(driver, redis_port, "indi_attributes:IMAGE:Gadget", blob_folder=tmp_path):
        source = RedisSource(rhost)
        assert isinstance(source, DeviceSource)
        async with source:
            await until(_connected(source), what="the source read the store")
            snap = source.snapshot()
            vectors = snap["devices"]["Gadget"]["vectors"]
            assert set(vectors) == {"CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS",
                                    "VALUE", "STATIC", "IMAGE"}
            assert vectors["STATIC"]["members"]["T"]["value"] == "constant"
            result = await source.set("Gadget", "VALUE", {"V": 21.0}, timeout=10)
            assert result.state == "Ok" and not result.timed_out
            assert float(driver["Gadget"]["VALUE"]["V"]) == 21.0
            vec = source.vector("Gadget", "VALUE")
            assert vec is not None and float(vec["members"]["V"]["value"]) == 21.0
            changes = source.changes()
            driver["Gadget"]["VALUE"]["V"] = 5
            await driver["Gadget"]["VALUE"].send_setVector()
            async with asyncio.timeout(10):
                while True:
                    change = await anext(changes)
                    if change == Change("set", "Gadget", "VALUE"):
                        break


async def test_a_blob_the_bridge_saved_is_named_to_the_pages_and_after_a_restart(
        redis_port: int, tmp_path: Path) -> None:
    """A driver's BLOB, saved by inditoredis in the BLOB folder: the RedisSource's vector names
    the file (the pages show it as the image beside the controls) as it arrives, and a
    RedisSource started afterwards reads the file's name back from the store."""
    driver = make_gadget()
    rhost = redis_server("127.0.0.1", redis_port)
    async with stored(driver, redis_port, "indi_attributes:IMAGE:Gadget", blob_folder=tmp_path):
        async with RedisSource(rhost) as source:
            await until(_connected(source), what="the source read the store")
            await send_blob(driver, b"0123456789")

            def named() -> str | None:
                vec = source.vector("Gadget", "IMAGE")
                return vec["members"]["I"]["filename"] if vec else None

            path = await until(named, what="the saved file named")
            assert Path(path).parent == tmp_path and Path(path).read_bytes() == b"0123456789"
            vec = source.vector("Gadget", "IMAGE")
            assert vec is not None and vec["members"]["I"]["blobsize"] == 10
        async with RedisSource(rhost) as again:
            await until(_connected(again), what="a new source read the store")
            vec = again.vector("Gadget", "IMAGE")
            assert vec is not None and vec["members"]["I"]["filename"] == path


def _connected(source: RedisSource):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return source.connected and "Gadget" in source.snapshot()["devices"]
    return check


async def test_python_m_indiredis_serves_the_web_pages_from_redis(redis_port: int,
                                                                  tmp_path: Path) -> None:
    """python -m indiredis BLOBFOLDER -p PORT runs inditoredis and the indipyweb pages: the
    login page answers, and the store fills."""
    driver = make_gadget()
    web = free_port()
    r = client(redis_port)
    async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web),
            "--host", "127.0.0.1", "--iport", str(s.port), "--ihost", "127.0.0.1",
            "--rport", str(redis_port), "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=30)

            async def page() -> bool:
                def get() -> bool:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{web}/login",
                                                    timeout=2) as answer:
                            return answer.status == 200
                    except OSError:
                        return False
                return await asyncio.to_thread(get)

            await until(page, timeout=30, what="the web pages")
        finally:
            process.terminate()
            await process.wait()
    await r.aclose()


THERMOSTAT = "Thermostat"
# The demo thermostat's groups as it defines them (its standard vectors first), and its own
# Status group's vectors: sorted by name they would be Options before General Info and HEATER
# before TEMPERATURE, as the pages from redis showed them.
THERMOSTAT_TABS = ["Main Control", "General Info", "Options", "Status", "Control"]
THERMOSTAT_STATUS = ["TEMPERATURE", "HEATER", "LOG"]


async def _direct_order(port: int, device: str, count: int) -> list[tuple[str, str]]:
    """(vector, group) of `device` in the order a direct connection received them, once it
    has `count` vectors."""
    async with connect("127.0.0.1", port) as direct:
        await until(lambda: device in direct and len(direct[device]) >= count,
                    what=f"{device}'s {count} vectors over a direct connection")
        return [(name, direct[device][name].group) for name in direct[device]]


def _groups(order: list[tuple[str, str]]) -> list[str]:
    return list(dict.fromkeys(group for _, group in order))


async def test_vectors_read_back_from_redis_keep_their_definition_order(
        redis_port: int, tmp_path: Path) -> None:
    """The store keeps each device's vectors in definition order (``propertyorder``), so a
    RedisSource lists them (the pages' tabs and panels) as a direct connection to the same
    server does, not sorted by name; a deleted vector leaves the list."""
    driver = make_driver(interval=0.5)
    rhost = redis_server("127.0.0.1", redis_port)
    r = client(redis_port)
    try:
        async with running(IPyServer(driver, host="127.0.0.1", port=0,
                                     handle_signals=False)) as s:
            direct = await _direct_order(s.port, THERMOSTAT, 9)
            count = len(direct)
            assert _groups(direct) == THERMOSTAT_TABS
            names = [name for name, _ in direct]
            assert names != sorted(names)
            async with bridge(inditoredis_async(indi_server("127.0.0.1", s.port), rhost,
                                                blob_folder=tmp_path)):
                key = f"indi_propertyorder:{THERMOSTAT}"
                await until(lambda: _has(r, key, count), what="the whole propertyorder list")
                assert await r.lrange(key, 0, -1) == names
                async with RedisSource(rhost) as source:
                    await until(lambda: source.connected and len(source.snapshot()["devices"].get(
                        THERMOSTAT, {"vectors": {}})["vectors"]) == count,
                        what="the source read the store")
                    vectors = source.snapshot()["devices"][THERMOSTAT]["vectors"]
                    assert [(n, v["group"]) for n, v in vectors.items()] == direct
                    status = [n for n, v in vectors.items() if v["group"] == "Status"]
                    assert status == THERMOSTAT_STATUS
                await driver[THERMOSTAT]["LOG"].send_delProperty()
                await until(lambda: _has(r, key, count - 1), what="LOG gone from the list")
                assert await r.lrange(key, 0, -1) == [n for n in names if n != "LOG"]
    finally:
        await r.aclose()


async def _has(r: Any, key: str, length: int) -> bool:
    return bool(await r.llen(key) == length)


def _admin_cookie(web: int, log: Path) -> str:
    """Log in over HTTP as the admin `python -m indiredis` created (its password read from the
    command's output in `log`); the session cookie."""
    found = wait_for(lambda: re.search(r"the password (\S+)", log.read_text(errors="replace")),
                     30, lambda: f"the admin password: {log.read_text()}")

    def cookie() -> str | None:
        body = json.dumps({"username": "admin", "password": found.group(1)}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{web}/api/login", body,
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return str(answer.headers["set-cookie"].split(";")[0])
        except OSError:
            return None

    return wait_for(cookie, 30, "a log-in", interval=0.2)


def _page(web: int, path: str, cookie: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{web}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return str(answer.read().decode())


async def test_the_pages_from_redis_name_the_indi_server_and_keep_the_tab_order(
        redis_port: int, tmp_path: Path) -> None:
    """`python -m indiredis BLOBFOLDER --iport PORT`: the pages, fetched over HTTP, name the
    INDI server the bridge is connected to (not localhost:7624), show the device's tabs in the
    order it defined them, and open on the tab of its own controls (data-main: the
    thermostat's Status, not Main Control where CONNECTION is alone)."""
    web = free_port()
    r = client(redis_port)
    log = tmp_path / "indiredis.log"
    async with running(IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=0,
                                 handle_signals=False)) as s:
        count = len(await _direct_order(s.port, THERMOSTAT, 9))
        with log.open("wb") as out:  # a file: a pipe read only so far would fill up
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(web),
                "--host", "127.0.0.1", "--iport", str(s.port), "--ihost", "127.0.0.1",
                "--rport", str(redis_port), "--rhost", "127.0.0.1", "--dbfolder",
                str(tmp_path), cwd=tmp_path, stdout=out, stderr=asyncio.subprocess.STDOUT)
        try:
            cookie = await asyncio.to_thread(_admin_cookie, web, log)
            said = f"INDI server 127.0.0.1:{s.port} connected"
            await until(lambda: asyncio.to_thread(lambda: said in _page(web, "/", cookie)),
                        timeout=30, what=f"the instruments page to say {said!r}")
            await until(lambda: _has(r, f"indi_propertyorder:{THERMOSTAT}", count),
                        timeout=30, what="the thermostat stored")
            assert f"indiredis: open http://127.0.0.1:{web}/" in log.read_text()

            def device_page() -> str | None:
                html = _page(web, f"/device/{THERMOSTAT}", cookie)
                return html if html.count('class="tab-button"') == len(THERMOSTAT_TABS) \
                    else None

            html = await until(lambda: asyncio.to_thread(device_page), timeout=30,
                               what="every tab on the device page")
            assert said in html
            assert "7624" not in html
            tabs = re.findall(r'<button type="button" role="tab" class="tab-button" '
                              r'data-tab="([^"]*)"', html)
            assert tabs == THERMOSTAT_TABS
            assert 'data-main="Status"' in html
        finally:
            process.terminate()
            await process.wait()
    await r.aclose()


async def test_python_m_indiredis_on_a_busy_web_port_says_so_and_exits_1(
        redis_port: int, tmp_path: Path) -> None:
    """A web port another program holds ends `python -m indiredis` at once with one line and
    exit status 1, before the bridge starts (nothing stored) and without "open http://"."""
    r = client(redis_port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "-p", str(port),
            "--host", "127.0.0.1", "--iport", str(free_port()), "--rport", str(redis_port),
            "--rhost", "127.0.0.1", "--dbfolder", str(tmp_path / "db"), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1, (out, err)
    assert err.decode().strip().endswith(
        f"indiredis: cannot listen on 127.0.0.1:{port}: port {port} is in use by another "
        "program (choose another with --port)"), err
    assert b"open http" not in out and not (tmp_path / "db").exists()
    assert await r.keys("indi_*") == []
    await r.aclose()
