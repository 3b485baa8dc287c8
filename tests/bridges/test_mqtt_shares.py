"""The central side spread over processes: two ``python -m indiredis mqtttoredis --share K/2``
on a real mosquitto and redis, with sites (our server and ``inditomqtt``) coming and going."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from brokers import Served
from reaper import Reaper
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditomqtt_async
from indiredis import mqtt_server
from indiredis.topics import share_of


def _sites(count: int) -> list[str]:
    """``count`` site ids, the first half in share 1 of 2 and the rest in share 2."""
    ones = [f"s{i}" for i in range(100) if share_of(f"s{i}", 2) == 1]
    twos = [f"s{i}" for i in range(100) if share_of(f"s{i}", 2) == 2]
    return ones[:count // 2] + twos[:count - count // 2]


@contextlib.asynccontextmanager
async def central(k: int, broker: Served, redis_port: int, tmp: Path,
                  reaper: Reaper) -> AsyncIterator[Path]:
    """One mqtttoredis process taking share ``k`` of 2; yields its log file."""
    log = tmp / f"central{k}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "indiredis", "mqtttoredis", f"central{k}", str(tmp / "blobs"),
            "--mhost", "127.0.0.1", "--mport", str(broker.port), "--rhost", "127.0.0.1",
            "--rport", str(redis_port), "--share", f"{k}/2", stdout=out, stderr=out,
            start_new_session=True)
    reaper.watch(proc.pid)
    try:
        yield log
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 15)
        reaper.release(proc.pid)


@contextlib.asynccontextmanager
async def site(name: str, mqtt: Any) -> AsyncIterator[Any]:
    """A site: our server with the gadget ``Gadget-<name>`` and an inditomqtt before it."""
    driver = make_gadget(f"Gadget-{name}")
    async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s, \
            bridge(inditomqtt_async(indi_server("127.0.0.1", s.port), name, mqtt)):
        yield driver


def _onlines(log: Path) -> set[str]:
    return set(re.findall(r"site (\S+) is online", log.read_text(errors="replace")))


async def test_two_shares_store_every_site_exactly_once_and_follow_sites_that_come_and_go(
        mosquitto_factory: Any, redis_port: int, tmp_path: Path, reaper: Reaper) -> None:
    """Each of six sites is taken by the one process whose share it is in (its log says so,
    the other's never names it), all six are in redis, and each value a site's driver sends
    is published on ``from_indi`` once (two processes storing one site would publish it
    twice, and log it twice). A seventh site started later is picked up by its share's
    process, and removed from redis when it stops."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    names = _sites(7)
    late = names.pop(0)  # share 1's first: started once the others are stored
    r = client(redis_port)
    pubsub = r.pubsub()
    await pubsub.subscribe("from_indi")
    seen: list[str] = []

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                seen.append(message["data"])

    listening = asyncio.create_task(listen())
    try:
        async with central(1, broker, redis_port, tmp_path, reaper) as log1, \
                central(2, broker, redis_port, tmp_path, reaper) as log2, \
                contextlib.AsyncExitStack() as sites:
            drivers = {name: await sites.enter_async_context(site(name, mqtt))
                       for name in names}

            async def all_stored() -> bool:
                members = await r.smembers("indi_devices")
                return {f"Gadget-{n}" for n in names} <= members

            await until(all_stored, timeout=40, what="every site's device in redis")
            assert _onlines(log1) == {n for n in names if share_of(n, 2) == 1}
            assert _onlines(log2) == {n for n in names if share_of(n, 2) == 2}
            async def send_round(start: int) -> None:
                """Each site's driver sends ``start + i``; wait until each is published."""
                for value, name in enumerate(names, start=start):
                    vector = drivers[name][f"Gadget-{name}"]["VALUE"]
                    vector["V"] = value
                    await vector.send_setVector()
                await until(lambda: all(any(f'"Gadget-{n}"' in m and f">{v}" in m for m in seen)
                                        for v, n in enumerate(names, start=start)),
                            timeout=20, what=f"every site's value from {start} published")

            await send_round(500)
            # A second round after the first: a duplicate of the first would come before it
            # from the same process, since each process handles a site's messages in order.
            await send_round(700)
            for value, name in enumerate(names, start=500):
                copies = [m for m in seen if f'"Gadget-{name}"' in m and f">{value}" in m
                          and m.startswith("<setNumberVector")]
                assert len(copies) == 1, (name, copies)
                stored = await r.hget(f"indi_elementattributes:V:VALUE:Gadget-{name}", "value")
                assert float(stored) == value + 200

            async with site(late, mqtt):
                await until(lambda: r.sismember("indi_devices", f"Gadget-{late}"), timeout=30,
                            what="the late site picked up")
                assert late in _onlines(log1) and late not in _onlines(log2)

            async def late_gone() -> bool:
                return not await r.sismember("indi_devices", f"Gadget-{late}")

            await until(late_gone, timeout=30, what="the late site's device removed")
            assert await r.sismember("indi_devices", f"Gadget-{names[0]}")
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await pubsub.aclose()
        await r.aclose()
