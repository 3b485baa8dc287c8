"""indipyclient 0.9.4's API on our library, against our server serving the demo thermostat.

Protects: a 0.9.4-style script (subclass with rxevent and hardware, asyncrun, shutdown, stopped)
learns the device, sends values with send_newVector, sees them answered and shuts down; bad
values raise InvalidValue and send nothing; snapshot() gives the JSON shape; QueClient in a
thread (queue.Queue and deque) reports events with snapshots and sends what it is given.
"""

from __future__ import annotations

import asyncio
import collections
import json
import queue
import threading
from typing import Any

import pytest
from waiting import until

from indipyclient import EventItem
from indipyclient import InvalidValue
from indipyclient import IPyClient
from indipyclient import events as ev
from indipyclient import runqueclient


class Script(IPyClient):
    """What a 0.9.4 user writes: react in rxevent, act in hardware."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port, purpose="test")
        self.seen: list[ev.Event] = []
        self.refused: InvalidValue | None = None

    async def rxevent(self, event: ev.Event) -> None:
        self.seen.append(event)
        if event.eventtype == "Set" and event.vectorname == "TARGET" and event.get(
                "TARGET") == "21.5":
            self.shutdown()

    async def hardware(self) -> None:
        while "Thermostat" not in self or "TARGET" not in self["Thermostat"]:
            await asyncio.sleep(0.05)
        try:
            await self.send_newVector("Thermostat", "TARGET", members={"TARGET": 99})
        except InvalidValue as exc:
            self.refused = exc
        await self.report("sending 21.5")
        await self.send_newVector("Thermostat", "TARGET", members={"TARGET": "21:30"})


async def test_a_0_9_4_script_runs_unchanged(thermostat: int) -> None:
    client = Script(thermostat)
    assert client.clientdata == {"purpose": "test"}
    async with asyncio.timeout(10):
        await client.asyncrun()
    assert client.stopped.is_set() and client.stop
    kinds = [e.eventtype for e in client.seen]
    assert kinds[0] == "ConnectionMade"
    assert {"Define", "DefineBLOB", "Set", "Message"} <= set(kinds)
    assert client.refused is not None and client.refused.member == "TARGET"
    defined = {e.vectorname for e in client.seen if isinstance(e, ev.defVector)}
    # The demo's own six, and the standard CONNECTION, DRIVER_INFO, DEBUG (issue 42) and
    # CONFIG_PROCESS (issue 58).
    assert defined == {"TEMPERATURE", "TARGET", "HEATER_MODE", "HEATER", "SITE", "LOG",
                       "CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS"}
    assert client.messages[0][1] == "sending 21.5"
    target = next(e for e in client.seen if isinstance(e, ev.defNumberVector)
                  and e.vectorname == "TARGET")
    # limits as the driver wrote them (min=-20, max=40), as indipydriver 3.x sent them
    assert target.memberlabels["TARGET"] == ("Target (C)", "%.1f", "-20", "40", "0.5")


async def test_snapshot_and_user_strings(thermostat: int) -> None:
    client = IPyClient("127.0.0.1", thermostat)
    client.set_user_string("Thermostat", "TARGET", None, "mine")
    run = asyncio.create_task(client.asyncrun())
    try:
        await until(lambda: client.get_vector_state("Thermostat", "LOG") is not None, 10,
                    "the LOG vector", interval=0.05)
        snap = client.snapshot()
        data = json.loads(snap.dumps(inc_user_string=True))
        target = data["devices"]["Thermostat"]["vectors"]["TARGET"]
        assert target["user_string"] == "mine" and target["perm"] == "rw"
        assert target["members"]["TARGET"]["formattedvalue"] == "20.0"
        assert snap["Thermostat"]["HEATER_MODE"]["AUTO"] == "On"
        assert client.get_user_string("Thermostat", "TARGET") == "mine"
        assert client.get_user_string("Thermostat", "SITE") == ""
        assert client.enabledlen() == 1 and client.connected
    finally:
        client.shutdown()
        await run
    assert not client.connected


@pytest.mark.parametrize("kind", ["queue", "deque"])
async def test_queclient_in_a_thread_reports_and_sends(thermostat: int, kind: str) -> None:
    rxque: Any = queue.Queue(maxsize=8) if kind == "queue" else collections.deque()
    txque: Any = queue.Queue() if kind == "queue" else collections.deque()
    thread = threading.Thread(target=runqueclient, args=(txque, rxque, "127.0.0.1", thermostat))
    thread.start()

    def put(item: Any) -> None:
        txque.put(item) if kind == "queue" else txque.append(item)

    async def next_item(where: Any) -> EventItem:
        async with asyncio.timeout(10):
            while True:
                if kind == "queue":
                    try:
                        return rxque.get_nowait()  # type: ignore[no-any-return]
                    except queue.Empty:
                        pass
                elif rxque:
                    return rxque.popleft()  # type: ignore[no-any-return]
                await asyncio.sleep(0.01)

    try:
        while True:
            item = await next_item(rxque)
            if item.eventtype == "Define" and item.vectorname == "TARGET":
                break
        assert isinstance(item, EventItem) and "Thermostat" in item.snapshot
        put(("Thermostat", "TARGET", {"TARGET": 25}))
        seen = []
        while not any(i.eventtype == "Set" and i.vectorname == "TARGET" for i in seen):
            seen.append(await next_item(rxque))
        assert "State" in [i.eventtype for i in seen]
        answer = next(i for i in seen if i.eventtype == "Set" and i.vectorname == "TARGET")
        assert answer.snapshot["Thermostat"]["TARGET"]["TARGET"] == "25.0"
        put(("Thermostat", "SITE", "snapshot"))
        while (item := await next_item(rxque)).eventtype != "snapshot":
            pass
        assert item.snapshot["NAME"] == "Observatory"
    finally:
        put(None)
        await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
