"""Falling behind is visible: a bridge whose redis stops answering says so once, with the
figures, and says once that it has caught up when redis answers again."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from brokers import Served
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import lag
from indiredis import redis_server


async def test_a_paused_redis_is_logged_once_as_falling_behind_and_once_as_caught_up(
        redis_factory: Callable[..., Served], tmp_path: Path,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """redis paused with SIGSTOP while the driver sends values: once a write has waited past
    the threshold (1 s here) the bridge warns once that it is falling behind, naming the
    writes waiting and for how long, and not again while it stays behind; resumed with
    SIGCONT, the values are stored and it says once that it has caught up."""
    monkeypatch.setattr(lag, "LAG_THRESHOLD", 1.0)
    caplog.set_level(logging.INFO, logger="indiredis.redisside")
    redis = redis_factory()
    assert redis.process is not None
    driver = make_gadget()
    r = client(redis.port)
    paused = False
    try:
        async with running(IPyServer(driver, host="127.0.0.1", port=0,
                                     handle_signals=False)) as server, \
                bridge(inditoredis_async(indi_server("127.0.0.1", server.port),
                                         redis_server("127.0.0.1", redis.port),
                                         blob_folder=tmp_path / "blobs")):
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), what="stored")
            assert "falling behind" not in caplog.text
            os.kill(redis.process.pid, signal.SIGSTOP)
            paused = True
            vector = driver["Gadget"]["VALUE"]
            for value in (11, 12, 13):
                vector["V"] = value
                await vector.send_setVector()
            await until(lambda: "is falling behind" in caplog.text, timeout=20,
                        what="the bridge says it is behind")
            warning = next(rec.getMessage() for rec in caplog.records
                           if "is falling behind" in rec.getMessage())
            assert "writes wait for redis (the oldest" in warning, warning
            # The watcher checks once a second: two more checks while still behind, each of
            # which would say it again if it were not said once.
            again = time.monotonic() + 2.5
            await until(lambda: time.monotonic() >= again, what="two more checks")
            os.kill(redis.process.pid, signal.SIGCONT)
            paused = False

            async def value_13() -> bool:
                got = await r.hget("indi_elementattributes:V:VALUE:Gadget", "value")
                return got is not None and float(got) == 13

            await until(value_13, timeout=20, what="the values stored once redis is back")
            await until(lambda: "has caught up" in caplog.text, timeout=20,
                        what="the bridge says it caught up")
            said = [rec.getMessage() for rec in caplog.records]
            assert sum("is falling behind" in m for m in said) == 1, said
            assert sum("has caught up" in m for m in said) == 1, said
    finally:
        if paused:
            os.kill(redis.process.pid, signal.SIGCONT)
        await r.aclose()

