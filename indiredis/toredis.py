"""``inditoredis`` and ``driverstoredis``: INDI <-> redis on one machine.

``inditoredis`` is a client of an INDI server (ours or indilib's ``indiserver``); the keys are
deleted on start (not the logs) and rebuilt from what the server replays; a lost server is
retried with a capped backoff, its devices removed from the store meanwhile.

``driverstoredis`` runs executable drivers with no INDI server of the user's: it starts our
server (``IPyServer``) in the same event loop on a private loopback port with the drivers as its
executable drivers (their restarts with backoff, pings, snooping between them and BLOB modes are
the server's), and bridges that server with ``inditoredis``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from indipycore.protocol import Frame
from indipycore.retrypolicy import Retry

from .hosts import IndiServer
from .hosts import RedisServer
from .hosts import indi_server
from .hosts import redis_server
from .indilink import GET_PROPERTIES
from .indilink import IndiLink
from .redisside import RedisSide

__all__ = ["driverstoredis", "driverstoredis_async", "inditoredis", "inditoredis_async"]

logger = logging.getLogger(__name__)

SOURCE = "indi"


async def inditoredis_async(indi_host: IndiServer | None = None,
                            redis_host: RedisServer | None = None,
                            log_lengths: Mapping[str, int] | None = None,
                            blob_folder: str | Path = "", *,
                            retry: Retry | None = None) -> None:
    """The async twin of ``inditoredis``: runs until cancelled. ``retry`` (a ``Retry``,
    ``indipycore.retrypolicy``; None: ``bridge_retry()``) is the reconnect policy of both the
    INDI and the redis side."""
    indi_host = indi_host or indi_server()
    redis_host = redis_host or redis_server()
    if not blob_folder:
        raise ValueError("blob_folder is required: BLOBs are saved there, never in redis")
    link: IndiLink | None = None

    def send(data: bytes, device: str | None) -> None:
        assert link is not None
        link.send(data)

    async def ask_again() -> None:
        assert link is not None
        link.send(GET_PROPERTIES)

    side = RedisSide(redis_host, blob_folder, log_lengths, send, resync=ask_again, retry=retry,
                     label=f"inditoredis {indi_host.host}:{indi_host.port}")

    async def on_frames(frames: list[Frame]) -> None:
        await side.store(SOURCE, frames)

    async def on_lost() -> None:
        await side.forget(SOURCE)

    link = IndiLink(indi_host.host, indi_host.port, on_frames, on_lost=on_lost, retry=retry,
                    ssl=indi_host.tls)
    try:
        await side.execute_when_up(side.clear)
        async with asyncio.TaskGroup() as group:
            group.create_task(link.run())
            group.create_task(side.run())
    finally:
        await side.close()


def inditoredis(indi_host: IndiServer | None = None, redis_host: RedisServer | None = None,
                log_lengths: Mapping[str, int] | None = None,
                blob_folder: str | Path = "", *, retry: Retry | None = None) -> None:
    """Keep an INDI server's devices in redis and pass ``to_indi`` to it; blocks until
    interrupted (see docs/bridges.rst)."""
    _run(inditoredis_async(indi_host, redis_host, log_lengths, blob_folder, retry=retry))


async def driverstoredis_async(drivers: Sequence[str], redis_host: RedisServer | None = None,
                               log_lengths: Mapping[str, int] | None = None,
                               blob_folder: str | Path = "", *,
                               retry: Retry | None = None) -> None:
    """The async twin of ``driverstoredis``: runs until cancelled."""
    from .driverserver import private_server

    async with private_server(drivers) as server:
        await inditoredis_async(IndiServer("127.0.0.1", server.port), redis_host, log_lengths,
                                blob_folder, retry=retry)


def driverstoredis(drivers: Sequence[str], redis_host: RedisServer | None = None,
                   log_lengths: Mapping[str, int] | None = None,
                   blob_folder: str | Path = "", *, retry: Retry | None = None) -> None:
    """Run executable ``drivers`` (program names or paths) and keep their devices in redis;
    blocks until interrupted."""
    _run(driverstoredis_async(drivers, redis_host, log_lengths, blob_folder, retry=retry))


def _run(main: object) -> None:
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main)  # type: ignore[arg-type]
