"""`Notifier`: messages sent through Apprise off the night's path.

`put` never waits: the message goes into each of its services' bounded queue (full: the oldest
is dropped, said in one log line), and that service's one sending task, started when there is
something to send and ended when its queue is empty, sends them in order: a service that hangs
holds up its own messages, never another's. Apprise is synchronous, so a
send runs on a thread of the notifier's own; each attempt is bounded (`bound` seconds: a
service that hangs is given up on), retried by the project's retry policy
(`indipycore.retrypolicy`, `RETRY`), then dropped with one log line. Nothing a service does
reaches the night: the frames never wait on a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry

from ..plan.notifying import apprise_module
from .messages import Message

__all__ = ["BOUND", "QUEUE_SIZE", "RETRY", "NotDelivered", "Notifier", "service_of"]

logger = logging.getLogger(__name__)

#: A message's send tried again after 2 then 4 s, then dropped.
RETRY = Retry(ExponentialBackoff(2.0, 30.0), retries=2)
#: Seconds one attempt to one service may take.
BOUND = 20.0
#: Messages waiting at most: past it the oldest is dropped.
QUEUE_SIZE = 32
#: Threads sending at once (a hung service holds one until Apprise's own timeout).
THREADS = 4

Send = Callable[[str, Message], Awaitable[bool]]


class NotDelivered(OSError):
    """A service refused the message, or Apprise could not send it."""


def service_of(url: str) -> str:
    """A URL as a log line may show it: its scheme and host, never its secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else "a service"


class Notifier:
    """The agent's one notifier. `retry` and `bound` as above; `size` each service's queue's;
    `send(url, message)` (a test's, else Apprise on the notifier's threads) says whether
    the service took it."""

    def __init__(self, *, retry: Retry = RETRY, bound: float = BOUND, size: int = QUEUE_SIZE,
                 send: Send | None = None) -> None:
        self.retry = retry
        self.bound = bound
        self.size = size
        self._send = send or self._apprise
        self._lanes: dict[str, _Lane] = {}
        self._threads: ThreadPoolExecutor | None = None
        self._loaded = False
        #: Messages each service took, and those dropped (for the log and the tests).
        self.sent = 0
        self.dropped = 0

    def put(self, message: Message, urls: Sequence[str]) -> None:
        """Queue `message` for each of `urls`; never waits (called on the night's path)."""
        for url in urls:
            lane = self._lanes.get(url)
            if lane is None:
                lane = self._lanes[url] = _Lane(asyncio.Queue(self.size))
            if lane.queue.full():
                oldest = lane.queue.get_nowait()
                self.dropped += 1
                logger.warning("notification %r to %s dropped: %d waiting already",
                               oldest.title, service_of(url), self.size)
            lane.queue.put_nowait(message)
            if lane.task is None or lane.task.done():
                try:
                    lane.task = asyncio.get_running_loop().create_task(self._sending(url, lane))
                except RuntimeError:  # no loop: nothing can send it
                    lane.queue.get_nowait()
                    self.dropped += 1
                    logger.warning("notification %r dropped: no event loop", message.title)

    async def drained(self) -> None:
        """Wait until every message queued is sent or dropped."""
        while busy := [lane.task for lane in self._lanes.values()
                       if lane.task is not None and not lane.task.done()]:
            await asyncio.wait(busy)

    def close(self) -> None:
        """Stop sending: the queues forgotten, the threads let go (a hung one ends with
        Apprise's own timeout)."""
        for lane in self._lanes.values():
            if lane.task is not None:
                lane.task.cancel()
        self._lanes.clear()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None

    async def _sending(self, url: str, lane: _Lane) -> None:
        """One service's messages in order, until its queue is empty."""
        if self._send == self._apprise and not self._loaded:
            # Apprise imported (its plugins loaded) once, outside any attempt's bound.
            await asyncio.get_running_loop().run_in_executor(self._pool(), _load_apprise)
            self._loaded = True
        while not lane.queue.empty():
            await self._deliver(url, lane.queue.get_nowait())

    async def _deliver(self, url: str, message: Message) -> None:
        async def attempt() -> None:
            if not await asyncio.wait_for(self._send(url, message), self.bound):
                raise NotDelivered(f"{service_of(url)} did not take it")

        def said(error: BaseException, delay: float) -> None:
            logger.debug("notification %r to %s: %s; again in %.1f s", message.title,
                         service_of(url), _why(error), delay)

        try:
            await self.retry.call_with_retry(attempt, log=said)
        except RetriesExhausted as gave_up:
            self.dropped += 1
            logger.warning("notification %r to %s dropped after %d tries: %s", message.title,
                           service_of(url), gave_up.failures + 1, _why(gave_up.__cause__))
        else:
            self.sent += 1

    async def _apprise(self, url: str, message: Message) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool(), _apprise_send, url, message)

    def _pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="notify")
        return self._threads


@dataclass
class _Lane:
    """One service's queue and its sending task (None, or done, while idle)."""

    queue: asyncio.Queue[Message]
    task: asyncio.Task[None] | None = None


def _why(error: BaseException | None) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


def _load_apprise() -> None:
    apprise_module().Apprise()


def _apprise_send(url: str, message: Message) -> bool:
    """One message to one service, on a thread (Apprise is synchronous)."""
    service = apprise_module().Apprise()
    if not service.add(url):
        return False
    return bool(service.notify(body=message.body, title=message.title,
                               notify_type=message.kind))
