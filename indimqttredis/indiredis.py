"""indi-mr's ``indimqttredis.indiredis``: INDI <-> redis (``indiredis.inditoredis``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from indiredis.hosts import IndiServer
from indiredis.hosts import RedisServer
from indiredis.toredis import inditoredis

__all__ = ["run"]


def run(indi_host: IndiServer, redis_host: RedisServer,
        log_lengths: Mapping[str, int] | None = None, blob_folder: str | Path = "") -> None:
    """Blocks: an INDI server's devices kept in redis (``blob_folder`` defaults to
    ``./indiblobs``, since indi-mr made it optional)."""
    inditoredis(indi_host, redis_host, log_lengths, blob_folder or Path("indiblobs"))
