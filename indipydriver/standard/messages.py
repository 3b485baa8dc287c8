"""`MessageHandler`: a driver's Python log records sent to clients as INDI messages.

indilib's drivers log through its Logger, whose lines reach clients as
``<message device="..." message="[INFO] text"/>``; Ekos shows them in its log. A
`logging.Handler` does the same for a Python driver. The level mapping:

========================= ===========
Python level              INDI tag
========================= ===========
CRITICAL, ERROR           ``[ERROR]``
WARNING                   ``[WARNING]``
INFO                      ``[INFO]`` (indilib's "session" level)
DEBUG                     ``[DEBUG]``
below DEBUG               not sent
========================= ===========

Which tags are sent is `tags` (by default ERROR, WARNING and INFO; DEBUG is added by
``debug = True``). A standard `Device` sets them as indilib does: DEBUG=ENABLE defines
DEBUG_LEVEL, whose switches DBG_ERROR, DBG_WARNING, DBG_SESSION (INFO) and DBG_DEBUG choose
them; DEBUG=DISABLE deletes it and goes back to the default.

A message is one line (newlines become spaces) cut at 256 characters, as indilib's are.
`emit` may be called from any thread: the record is queued (bounded: past `max_queued` the
newest are dropped and counted) and sent in order by one task on the driver's event loop.
Records logged while the handler itself is sending (say the driver's own debug lines about
the message it writes) are dropped, so a handler on the root logger cannot feed itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from typing import Protocol

__all__ = ["DEFAULT_TAGS", "MAX_MESSAGE", "MessageHandler", "MessageTarget", "indi_tag", "indi_text"]

logger = logging.getLogger(__name__)

#: indilib cuts its log lines to this many characters (MAXRBUF in its Logger).
MAX_MESSAGE = 256

#: The tags sent unless told otherwise (indilib's default screen levels).
DEFAULT_TAGS = frozenset(("ERROR", "WARNING", "INFO"))

_SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("indi_message_sending",
                                                                 default=False)


class MessageTarget(Protocol):
    """Where the messages go: a `Device` (its ``send_message``)."""

    async def send_message(self, message: str = "") -> None: ...


def indi_tag(levelno: int) -> str | None:
    """The INDI tag for a Python level, or None for a level below DEBUG."""
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    if levelno >= logging.DEBUG:
        return "DEBUG"
    return None


def indi_text(record: logging.LogRecord) -> str | None:
    """The message text for a record (``[TAG] text``, one line, at most 256 characters), or
    None when its level is below DEBUG."""
    tag = indi_tag(record.levelno)
    if tag is None:
        return None
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text = f"{text}: {type(exc).__name__}: {exc}"
    text = " ".join(text.splitlines())
    return f"[{tag}] {text}"[:MAX_MESSAGE]


class MessageHandler(logging.Handler):
    """Sends the records it handles to `target`'s clients as INDI messages.

    `tags` is the set of tags sent ("ERROR", "WARNING", "INFO", "DEBUG"); `debug` (False at
    first) says whether "DEBUG" is among them. A standard `Device`'s DEBUG and DEBUG_LEVEL
    properties set them (and the level of the device's logger).
    """

    def __init__(self, target: MessageTarget, *, debug: bool = False,
                 max_queued: int = 1000) -> None:
        super().__init__(logging.DEBUG)
        self.target = target
        self.tags: set[str] = set(DEFAULT_TAGS)
        self.debug = debug
        self.max_queued = max_queued
        self.dropped = 0
        self._queue: deque[str] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def debug(self) -> bool:
        return "DEBUG" in self.tags

    @debug.setter
    def debug(self, on: bool) -> None:
        if on:
            self.tags.add("DEBUG")
        else:
            self.tags.discard("DEBUG")

    def emit(self, record: logging.LogRecord) -> None:
        if _SENDING.get():
            return
        if indi_tag(record.levelno) not in self.tags:
            return
        try:
            text = indi_text(record)
        except Exception:  # noqa: BLE001  # a bad format string: logging's own report
            self.handleError(record)
            return
        if text is None:
            return
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._put(text)
        elif self._loop is not None and not self._loop.is_closed():
            # Another thread: hand the line to the loop that serves the driver.
            self._loop.call_soon_threadsafe(self._put, text)
        # else: no loop has served this device yet; the line is not sent (other handlers,
        # such as the console's, still have it).

    def _put(self, text: str) -> None:
        if len(self._queue) >= self.max_queued:
            self.dropped += 1
            return
        self._queue.append(text)
        if self._task is None or self._task.done():
            assert self._loop is not None
            self._task = self._loop.create_task(self._send_all(), name="indi messages",
                                                context=contextvars.Context())

    async def _send_all(self) -> None:
        _SENDING.set(True)
        while self._queue:
            if self.dropped:
                count, self.dropped = self.dropped, 0
                await self._send(f"[WARNING] {count} log messages dropped (too many queued)")
            await self._send(self._queue.popleft())

    async def _send(self, text: str) -> None:
        try:
            await self.target.send_message(text)
        except Exception:  # not served, link gone: nothing to tell clients
            logger.debug("could not send %r", text, exc_info=True)

    async def flush_async(self) -> None:
        """Wait until every queued message is sent (tests, and before a driver stops)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
