"""An in-process driver's burst reaches a client in a few writes, not one write per message.

Protects the in-process send rate (bench `framework` scenario): flushing each message on its own
cost ~60 % of the throughput (one socket send per message per client).
"""

from __future__ import annotations

import asyncio

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import number_set
from serverkit import running

from indipycore.protocol.enums import State
from indipyserver import IPyServer
from indipyserver.clients.clientconnection import ClientConnection

BURST = 200


async def test_a_burst_sent_without_yielding_is_flushed_once_per_loop_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """200 sets sent in one turn of the loop reach the client in one to three flushes."""
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
        await client.round_trip()  # everything queued for the client so far is flushed
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


async def test_the_first_write_of_a_loop_turn_reaches_the_client_at_once() -> None:
    """An in-process driver's answer to a request (its first write in a turn of the loop) is
    written to the client before the driver's write returns, not on the loop's next turn;
    further writes in the same turn are gathered and flushed once the driver yields, as
    before (the burst test above)."""
    from serverkit import Recorder

    from indipyserver.drivers.inprocess import InProcessDriverConnection
    from indipyserver.routing.router import Router

    router = Router()
    conn = InProcessDriverConnection(make_gadget())
    conn._router = router
    router.driver_ready(conn)
    defs = b'<defNumberVector device="Gadget" name="VALUE" perm="rw" state="Idle">' \
        b'<defNumber name="V" format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>'
    await conn.write(defs)
    client = ClientConnection(router, set())
    to_client = Recorder()
    client.connection_made(to_client)
    client.data_received(b'<getProperties version="1.7"/>\n')
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    to_client.writes.clear()

    def setvector(value: int) -> bytes:
        """The element, without the newline after it (what a client is written of it)."""
        return number_set("Gadget", "VALUE", {"V": value}, state=State.OK).removesuffix(b"\n")

    await conn.write(setvector(1))
    assert to_client.writes == [setvector(1)]  # no await since: written before the next turn
    await conn.write(setvector(2))
    await conn.write(setvector(3))
    assert to_client.writes == [setvector(1)]  # gathered
    await asyncio.sleep(0)
    assert b"".join(to_client.writes) == setvector(1) + setvector(2) + setvector(3)
    await asyncio.sleep(0)
    to_client.writes.clear()
    await conn.write(setvector(4))  # a new turn: at once again
    assert to_client.writes == [setvector(4)]


async def test_malformed_xml_from_an_in_process_driver_is_logged_and_the_rest_routed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A driver that writes a broken element (its own raw XML, say) gets an error line naming
    it; the good elements in the same write still reach the client (the per-write shortcut
    for one good element must not swallow errors)."""
    from serverkit import Recorder

    from indipyserver.drivers.inprocess import InProcessDriverConnection
    from indipyserver.routing.router import Router

    router = Router()
    conn = InProcessDriverConnection(make_gadget(), label="gadget")
    conn._router = router
    router.driver_ready(conn)
    client = ClientConnection(router, set())
    to_client = Recorder()
    client.connection_made(to_client)
    client.data_received(b'<getProperties version="1.7"/>\n')
    good = (b'<defNumberVector device="Gadget" name="VALUE" perm="rw" state="Idle">'
            b'<defNumber name="V" format="%g" min="0" max="0" step="0">0</defNumber>'
            b'</defNumberVector>')
    await conn.write(b"<setNumberVector device=\"Gadget\" name=\"VALUE\" state='Ok>" + good)
    await asyncio.sleep(0)
    assert b"".join(to_client.writes).endswith(good)
    assert "gadget sent malformed XML" in caplog.text
