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


class Central:
    """One mqtttoredis process taking share ``k`` of 2 (``start``, ``stop``); its log file
    ``log`` holds what every run of it said."""

    def __init__(self, k: int, broker: Served, redis_port: int, tmp: Path,
                 reaper: Reaper) -> None:
        self.k, self.broker, self.redis_port, self.tmp, self.reaper = (k, broker, redis_port,
                                                                        tmp, reaper)
        self.log = tmp / f"central{k}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "indiredis", "mqtttoredis", f"central{self.k}",
                str(self.tmp / "blobs"), "--mhost", "127.0.0.1", "--mport",
                str(self.broker.port), "--rhost", "127.0.0.1", "--rport", str(self.redis_port),
                "--share", f"{self.k}/2", stdout=out, stderr=out, start_new_session=True)
        self.reaper.watch(self.proc.pid)

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 15)
        self.reaper.release(proc.pid)


@contextlib.asynccontextmanager
async def central(k: int, broker: Served, redis_port: int, tmp: Path,
                  reaper: Reaper) -> AsyncIterator[Central]:
    """A `Central` started for the block, stopped after."""
    process = Central(k, broker, redis_port, tmp, reaper)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


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
    process, and removed from redis when it stops. When share 1 (the one that clears the
    store on start) restarts, the other rebuilds its sites once and every site is back."""
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
        async with central(1, broker, redis_port, tmp_path, reaper) as first, \
                central(2, broker, redis_port, tmp_path, reaper) as second, \
                contextlib.AsyncExitStack() as sites:
            drivers = {name: await sites.enter_async_context(site(name, mqtt))
                       for name in names}

            async def all_stored() -> bool:
                members = await r.smembers("indi_devices")
                return {f"Gadget-{n}" for n in names} <= members

            log1, log2 = first.log, second.log
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

            def share1_said() -> str:  # what the process of the late site's share did
                tail = log1.read_text(errors="replace").splitlines()[-15:]
                return "the late site's device removed; share 1's log ends:\n" + "\n".join(tail)

            await until(late_gone, timeout=30, what=share1_said)
            assert await r.sismember("indi_devices", f"Gadget-{names[0]}")

            # The process that clears the store (share 1) restarted: it clears every key, the
            # other finds its marker gone on its next write and rebuilds its own sites once
            # (it never clears, so the two do not clear each other in turn).
            onlines_before = log1.read_text().count(" is online")
            # (share 2 may have rebuilt once at the start already: share 1 clears when it
            # starts, maybe just after share 2 set its marker)
            rebuilt_before = log2.read_text().count("rebuilding the store")
            await first.stop()
            await first.start()
            await until(lambda: log1.read_text().count(" is online") > onlines_before,
                        timeout=30, what="the restarted process cleared and took its sites")
            await send_round(900)
            await until(lambda: log2.read_text().count("rebuilding the store") > rebuilt_before,
                        timeout=30, what="the other process rebuilding its sites")
            await until(all_stored, timeout=40, what="every site back after the restart")
            await send_round(1100)
            assert log2.read_text().count("rebuilding the store") == rebuilt_before + 1
            assert "rebuilding the store" not in log1.read_text()
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await pubsub.aclose()
        await r.aclose()
