"""The bounded queues between a driver's reading and the user's coroutines.

`IPyDriver` queues checked client requests for `rxevent` and snooped traffic for
`snoopevent`; each queue holds at most `IPyDriver.rx_queue_size` events.
"""

from __future__ import annotations

import asyncio
import logging

from . import rxevents as rx

# Under the driver's name: the queues are part of its reading.
logger = logging.getLogger("indipydriver.driver")


class _EventQueue:
    """Events waiting for one of the user's coroutines (`rxevent`, `snoopevent`), at most
    `size`: a peer sending faster than the coroutine handles them must not grow memory without
    bound. Past that the *newest* is dropped (what was accepted keeps its order) and logged."""

    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self._queue: asyncio.Queue[rx.RxEvent] = asyncio.Queue(size)
        self.dropped = 0  # since the queue was last drained

    def qsize(self) -> int:
        return self._queue.qsize()

    async def get(self) -> rx.RxEvent:
        return await self._queue.get()

    def task_done(self) -> None:
        """The event `get` gave has been handled (or dropped by an error)."""
        self._queue.task_done()

    async def join(self) -> None:
        """Wait until every event queued so far has been handled (the test harness's
        `get_properties` with `auto_send_def` off)."""
        await self._queue.join()

    def offer(self, event: rx.RxEvent) -> bool:
        """Queue `event`; False when the queue is full and it was dropped."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                logger.warning("%s queue full (%d events waiting): dropped %s for device %r "
                               "vector %r (%d dropped so far)", self.what, self._queue.qsize(),
                               type(event).__name__, event.devicename, event.vectorname,
                               self.dropped)
            return False
        if self.dropped and self._queue.qsize() == 1:
            logger.warning("%s queue drained; %d events had been dropped", self.what,
                           self.dropped)
            self.dropped = 0
        return True
