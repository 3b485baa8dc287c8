"""An in-process driver's burst reaches a client in a few writes, not one write per message.

Protects the in-process send rate (bench `framework` scenario): flushing each message on its own
cost ~60 % of the throughput (one socket send per message per client).
"""

from __future__ import annotations

import asyncio

import pytest
from serverkit import RawClient, make_gadget, running

from indipyserver import IPyServer
from indipyserver.clients import ClientConnection

BURST = 200


async def test_a_burst_sent_without_yielding_is_flushed_once_per_loop_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flushes = 0
    original = ClientConnection.flush_marked

    def counting(self: ClientConnection) -> None:
        nonlocal flushes
        flushes += 1
        original(self)

    monkeypatch.setattr(ClientConnection, "flush_marked", counting)
    driver = make_gadget()
    async with running(IPyServer(driver, host="127.0.0.1", port=0)) as server:
        client = await RawClient.connect(server.port)
        await client.send('<getProperties version="1.7"/>')
        await client.wait_for("defNumberVector", name="VALUE")
        await client.settle(0.1)
        flushes = 0
        vector = driver["Gadget"]["VALUE"]
        for value in range(BURST):  # no await that yields: the Link write returns at once
            vector["V"] = value
            await vector.send_setVector()
        frames = await client.read_until(
            lambda got: sum(f.tag == "setNumberVector" for f in got) >= BURST
        )
        assert sum(f.tag == "setNumberVector" for f in frames) == BURST
        assert 1 <= flushes <= 3, f"{flushes} flushes for {BURST} messages"
        await asyncio.sleep(0)
