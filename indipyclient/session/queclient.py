"""``QueClient`` and ``runqueclient``: the client for threaded programs, as in indipyclient 0.9.4.

The program talks to the client through two queues (``queue.Queue``, ``asyncio.Queue`` or
``collections.deque``)::

    import queue, threading
    from indipyclient import runqueclient

    rxque, txque = queue.Queue(maxsize=16), queue.Queue(maxsize=16)
    thread = threading.Thread(target=runqueclient, args=(txque, rxque, "localhost", 7624))
    thread.start()
    item = rxque.get()              # EventItem(eventtype, devicename, vectorname, timestamp,
                                    #           snapshot)
    txque.put(("Thermostat", "TARGET", {"TARGET": 21}))   # send values
    txque.put(("Thermostat", None, "snapshot"))           # ask for a snapshot
    txque.put(None)                                       # stop
    thread.join()

``txque`` items: ``None`` (stop), or ``(devicename, vectorname, value)`` where value is a dict
of member values (sent, then an ``EventItem("State", ...)`` follows), ``"snapshot"`` (an
``EventItem("snapshot", ...)`` of the client, a device or a vector), ``"Get"`` (getProperties)
or ``"Never"``/``"Also"``/``"Only"`` (enableBLOB). Values that fail the checks are not sent
and logged. ``rxque`` receives an ``EventItem`` per event with a snapshot of the whole client.

Bounded: a full ``queue.Queue``/``asyncio.Queue`` makes the client wait (and so stop reading
from the server); a ``deque`` without ``maxlen`` is held to ``max_rx_items`` by dropping the
oldest items, with a log.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
from collections import deque
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import NamedTuple

from indipyclient.model import events
from indipyclient.model.outgoing import InvalidValue

from .ipyclient import IPyClient

__all__ = ["EventItem", "QueClient", "runqueclient"]

logger = logging.getLogger(__name__)

MAX_RX_ITEMS = 1000
_POLL = 0.02


class EventItem(NamedTuple):
    """What ``rxque`` receives (0.9.4 field names)."""

    eventtype: str
    devicename: str | None
    vectorname: str | None
    timestamp: datetime | None
    snapshot: Any


Queue = queue.Queue[Any] | asyncio.Queue[Any] | collections.deque[Any]


class QueClient(IPyClient):
    """An ``IPyClient`` that reports to ``rxque`` and sends what arrives on ``txque``."""

    def __init__(self, txque: Queue, rxque: Queue, indihost: str = "localhost",
                 indiport: int = 7624, blobfolder: str | Path | None = None,
                 max_rx_items: int = MAX_RX_ITEMS) -> None:
        for name, que in (("txque", txque), ("rxque", rxque)):
            if not isinstance(que, queue.Queue | asyncio.Queue | deque):
                raise TypeError(f"{name} should be a queue.Queue, asyncio.Queue or "
                                "collections.deque")
        super().__init__(indihost, indiport, txque=txque, rxque=rxque)
        self.max_rx_items = max_rx_items
        self._rx_dropped = 0
        if blobfolder:
            self.BLOBfolder = blobfolder

    async def rxevent(self, event: events.Event) -> None:
        await self._put(EventItem(event.eventtype, event.devicename, event.vectorname,
                                  event.timestamp, self.snapshot()))

    async def _put(self, item: EventItem) -> None:
        rxque = self.clientdata["rxque"]
        if isinstance(rxque, queue.Queue):
            while not self.stop:
                try:
                    rxque.put_nowait(item)
                    return
                except queue.Full:
                    await asyncio.sleep(_POLL)
        elif isinstance(rxque, asyncio.Queue):
            await rxque.put(item)
        else:
            if rxque.maxlen is None and len(rxque) >= self.max_rx_items:
                rxque.popleft()
                self._rx_dropped += 1
                if self._rx_dropped == 1 or self._rx_dropped % 1000 == 0:
                    logger.warning("rxque is not being read: %d oldest items dropped",
                                   self._rx_dropped)
            rxque.append(item)

    async def _next_tx(self) -> Any:
        txque = self.clientdata["txque"]
        while True:
            if isinstance(txque, asyncio.Queue):
                item = await txque.get()
                txque.task_done()
                return item
            try:
                return txque.get_nowait() if isinstance(txque, queue.Queue) else txque.popleft()
            except (queue.Empty, IndexError):
                await asyncio.sleep(_POLL)

    async def hardware(self) -> None:
        """Send what the program puts on ``txque`` (see the module docstring)."""
        while not self.stop:
            item = await self._next_tx()
            if item is None:
                self.shutdown()
                return
            try:
                devicename, vectorname, value = item
            except (TypeError, ValueError):
                logger.warning("ignoring txque item %r: not (devicename, vectorname, value)",
                               item)
                continue
            await self._command(devicename, vectorname, value)

    async def _command(self, devicename: str | None, vectorname: str | None, value: Any) -> None:
        if isinstance(value, str) and value == "snapshot":
            snap: Any = self.snapshot()
            if devicename:
                snap = snap.get(devicename)
                if snap is not None and vectorname:
                    snap = snap.get(vectorname)
            await self._put(EventItem("snapshot", devicename or None,
                                      vectorname if devicename else None, None, snap))
        elif isinstance(value, str) and value in ("Never", "Also", "Only"):
            if devicename:
                await self.send_enableBLOB(value, devicename, vectorname)
        elif isinstance(value, str) and value.lower() == "get":
            await self.send_getProperties(devicename, vectorname)
        elif isinstance(value, dict) and devicename and vectorname:
            timestamp = datetime.now(UTC)
            try:
                await self.send_newVector(devicename, vectorname, timestamp, value)
            except InvalidValue as exc:
                logger.error("not sent: %s", exc)
                return
            await self._put(EventItem("State", devicename, vectorname, timestamp,
                                      self.snapshot()))
        else:
            logger.warning("ignoring txque item (%r, %r, %r)", devicename, vectorname, value)


def runqueclient(txque: Queue, rxque: Queue, indihost: str = "localhost", indiport: int = 7624,
                 blobfolder: str | Path | None = None) -> None:
    """Run a ``QueClient`` until ``None`` is put on ``txque`` (blocking: call it in a thread)."""
    asyncio.run(QueClient(txque, rxque, indihost, indiport, blobfolder).asyncrun())
