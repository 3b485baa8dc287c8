"""indiredis's publishers judge new values like every other face (issue 41 item 1).

The edge inputs of `tests/edgecases.py` go through ``newnumbervector``, ``newtextvector`` and
``newswitchvector`` against a real redis-server that ``inditoredis`` fills from our server: a
refusal publishes nothing (the helpers return None, as indiredis's did) and logs the shared
rule's message; an accepted request reaches the driver.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from edgecases import DEVICE, EDGES, make_edge_driver
from peers import until
from redishelpers import stored

from indiredis import redis_server, tools

PUBLISH = {"NUM": tools.newnumbervector, "RO": tools.newnumbervector,
           "TXT": tools.newtextvector, "ONE": tools.newswitchvector,
           "ATMOST": tools.newswitchvector}


async def test_the_publishers_give_the_same_verdict_and_message(
        redis_port: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each row: the message logged for a refusal is the table's, nothing is published; an
    accepted row is published and reaches the driver."""
    driver = make_edge_driver()
    rhost = redis_server("127.0.0.1", redis_port)
    wrong = []
    async with stored(driver, redis_port, f"indi_attributes:ATMOST:{DEVICE}",
                      blob_folder=tmp_path):
        rconn, why = tools.open_redis(rhost)
        assert rconn is not None, why
        for edge in EDGES:
            caplog.clear()
            before = len(driver.driverdata["received"])
            with caplog.at_level(logging.WARNING, logger="indiredis.tools"):
                stamp = await asyncio.to_thread(PUBLISH[edge.vector], rconn, rhost,
                                                edge.vector, DEVICE, edge.values)
            logged = [r.getMessage().removeprefix("not published: ") for r in caplog.records
                      if r.getMessage().startswith("not published: ")]
            if edge.message is None:
                if stamp is None or logged:
                    wrong.append(f"{edge.id}: refused {logged}")
                    continue
                await until(lambda n=before: len(driver.driverdata["received"]) > n,
                            what=f"{edge.id} at the driver")
                name, values = driver.driverdata["received"][-1]
                assert name == edge.vector and set(edge.values) <= set(values), (edge.id, values)
            elif stamp is not None or logged != [edge.message]:
                wrong.append(f"{edge.id}: {logged}, expected {edge.message!r}")
        rconn.close()
    assert wrong == [], "\n".join(wrong)
