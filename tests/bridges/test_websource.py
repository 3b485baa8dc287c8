"""The web client's state from redis: ``RedisSource`` (indipyweb's DeviceSource) over a store
kept by inditoredis, and ``python -m indiredis BLOBFOLDER -p PORT`` serving the pages."""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from pathlib import Path

from peers import free_port
from redishelpers import client
from redishelpers import stored
from redishelpers import until
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob

from indipyserver import IPyServer
from indipyweb.source import Change
from indipyweb.source import DeviceSource
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
