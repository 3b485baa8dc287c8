"""The event loop the server runs on: asyncio's, with a selector that calls hot readers itself.

A round trip through the server is two wake-ups: a client's element arrives and goes to its
driver, the driver's answer arrives and goes to the client. With a plain asyncio loop each
wake-up runs ``epoll_wait``, the selectors module's bookkeeping, a handle through the ready
queue and the transport's read method before our code sees a byte. `InlineSelector` is an
ordinary epoll selector for asyncio that, for the descriptors registered with `add_inline`
(client sockets and executable drivers' stdout, see ``clients.clientconnection`` and ``drivers.pipereader``), calls
their read callback from inside ``select`` itself, which saves a round trip that handle and
that bookkeeping twice (``bench/floor.py``'s ``inlinefloor`` against ``floor`` measures it).

Everything else -- timers, asyncio's own transports, in-process drivers -- runs as on any
asyncio loop. A read callback must not raise; if it does, the error goes to the loop's
exception handler, as an exception in any callback would, and the loop goes on.

`run` (and ``IPyServer.run``, the ``indipyserver`` command) use this loop; a server started
with plain ``asyncio.run`` works the same, only without the shortcut (`inline_selector` is
then None and readers fall back to ``loop.add_reader``). Linux only (epoll); elsewhere `run`
uses asyncio's default loop.
"""

from __future__ import annotations

import asyncio
import select
import selectors
import time
import weakref
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

__all__ = ["InlineSelector", "inline_selector", "new_event_loop", "run"]

T = TypeVar("T")

_EPOLLIN = getattr(select, "EPOLLIN", 1)
_EPOLLOUT = getattr(select, "EPOLLOUT", 4)
_NOT_OUT = ~_EPOLLOUT  # an event that is not only writability: readable, EOF, error
_NOT_IN = ~_EPOLLIN
_EVENT_READ = selectors.EVENT_READ
_EVENT_WRITE = selectors.EVENT_WRITE

_SELECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, InlineSelector] = (
    weakref.WeakKeyDictionary()
)


def _fd_of(fileobj: Any) -> int:
    fd = fileobj if isinstance(fileobj, int) else int(fileobj.fileno())
    if fd < 0:
        raise ValueError(f"invalid file descriptor: {fd}")
    return fd


class _Keys(Mapping[Any, selectors.SelectorKey]):
    """asyncio's registrations by file object (`BaseSelector.get_map`), without a copy."""

    def __init__(self, keys: dict[int, selectors.SelectorKey]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, fileobj: Any) -> selectors.SelectorKey:
        try:
            return self._keys[_fd_of(fileobj)]
        except ValueError:
            raise KeyError(fileobj) from None

    def __iter__(self) -> Iterator[Any]:
        return (key.fileobj for key in self._keys.values())


class InlineSelector(selectors.BaseSelector):
    """An epoll selector whose `add_inline` descriptors are read by callbacks run in `select`.

    A descriptor may be both inline (read) and registered by asyncio (a transport waiting to
    write to the same socket): the epoll mask is the union, and each side gets its events.
    """

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._keys: dict[int, selectors.SelectorKey] = {}  # asyncio's registrations
        self._inline: dict[int, Callable[[], object]] = {}
        self._masks: dict[int, int] = {}  # what epoll has for each descriptor
        self._map = _Keys(self._keys)
        self.on_error: Callable[[Exception, Callable[[], object]], None] | None = None
        #: The asyncio loop this selector serves (`new_event_loop`), whose pending work
        #: `select` looks at; None: `select` returns after every wait, as any selector.
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the inline readers -------------------------------------------------------------------

    def add_inline(self, fd: int, callback: Callable[[], object]) -> None:
        """Call `callback` from `select` whenever `fd` is readable (or at EOF, or in error)."""
        self._inline[fd] = callback
        self._sync(fd)

    def remove_inline(self, fd: int) -> None:
        """Stop reading `fd` (call before it is closed: epoll forgets closed descriptors only
        once every duplicate is closed, and a reused number would find a stale entry)."""
        if self._inline.pop(fd, None) is not None:
            self._sync(fd)

    def _sync(self, fd: int) -> None:
        key = self._keys.get(fd)
        mask = _EPOLLIN if fd in self._inline else 0
        if key is not None:
            if key.events & selectors.EVENT_READ:
                mask |= _EPOLLIN
            if key.events & selectors.EVENT_WRITE:
                mask |= _EPOLLOUT
        old = self._masks.get(fd)
        if mask == old:
            return
        if not mask:
            del self._masks[fd]
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass  # already closed: epoll dropped it
            return
        if old is None:
            try:
                self._epoll.register(fd, mask)
            except FileExistsError:  # a closed descriptor's number, reused
                self._epoll.modify(fd, mask)
        else:
            try:
                self._epoll.modify(fd, mask)
            except FileNotFoundError:  # closed and reopened meanwhile
                self._epoll.register(fd, mask)
        self._masks[fd] = mask

    # -- selectors.BaseSelector, for asyncio ----------------------------------------------------

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        if not events or events & ~(selectors.EVENT_READ | selectors.EVENT_WRITE):
            raise ValueError(f"invalid events: {events!r}")
        fd = _fd_of(fileobj)
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        try:
            self._sync(fd)
        except BaseException:
            del self._keys[fd]
            raise
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        fd = _fd_of(fileobj)
        key = self._keys.pop(fd)
        self._sync(fd)
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        fd = _fd_of(fileobj)
        if fd not in self._keys:
            raise KeyError(f"{fileobj!r} is not registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        self._sync(fd)
        return key

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._map[fileobj]

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._map

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        # A wait in which only inline readers ran, leaving asyncio nothing to do, waits again
        # here instead of returning: every request would otherwise cost a turn of asyncio's
        # loop (`_run_once`: its timers, clock reads and ready queue) that does nothing
        # (about 2.5 us of the server's CPU a round trip, bench/RESULTS.md).
        deadline = None
        if timeout is None:
            wait = -1.0
        elif timeout <= 0:
            wait = 0.0
        else:
            wait = timeout  # (epoll counts whole milliseconds: `poll` rounds up)
            deadline = time.monotonic() + timeout
        ready: list[tuple[selectors.SelectorKey, int]] = []
        inline = self._inline
        keys = self._keys
        loop = self._loop
        scheduled = None if loop is None else loop._scheduled  # type: ignore[attr-defined]
        timers = 0 if scheduled is None else len(scheduled)
        first = scheduled[0] if timers else None  # type: ignore[index]
        poll = self._epoll.poll
        masks = self._masks
        while True:
            try:
                events = poll(wait, len(masks) or 1)
            except InterruptedError:
                return ready
            ran = False
            for fd, event in events:
                callback = inline.get(fd)
                if callback is not None:
                    if event & _NOT_OUT:
                        ran = True
                        try:
                            callback()
                        except Exception as exc:  # noqa: BLE001  # as asyncio's handles: reported
                            self._report(exc, callback)
                    mask = 0
                else:
                    mask = _EVENT_READ if event & _NOT_OUT else 0
                key = keys.get(fd)
                if key is not None:
                    if event & _NOT_IN:
                        mask |= _EVENT_WRITE
                    mask &= key.events
                    if mask:
                        ready.append((key, mask))
            if ready or not ran or not wait or loop is None:
                return ready
            # Only inline readers ran. Anything they gave asyncio to do -- a callback, a timer
            # earlier than the one this wait was for, a stop -- is done by returning.
            if loop._ready or loop._stopping:  # type: ignore[attr-defined]
                return ready
            scheduled = loop._scheduled  # type: ignore[attr-defined]  # replaced when compacted
            if len(scheduled) != timers or (timers and scheduled[0] is not first):
                return ready
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return ready

    def _report(self, exc: Exception, callback: Callable[[], object]) -> None:
        if self.on_error is not None:
            self.on_error(exc, callback)
        else:
            raise exc

    def close(self) -> None:
        self._loop = None
        self._keys.clear()
        self._inline.clear()
        self._masks.clear()
        self._epoll.close()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An asyncio loop on an `InlineSelector` (Linux), or asyncio's default loop elsewhere."""
    if not hasattr(select, "epoll"):
        return asyncio.new_event_loop()
    selector = InlineSelector()
    loop = asyncio.SelectorEventLoop(selector)
    loop_ref = weakref.ref(loop)

    def on_error(exc: Exception, callback: Callable[[], object]) -> None:
        target = loop_ref()
        context = {"message": f"Exception in inline reader {callback!r}", "exception": exc}
        if target is not None:
            target.call_exception_handler(context)

    selector.on_error = on_error
    selector._loop = loop
    _SELECTORS[loop] = selector
    return loop


def inline_selector(loop: asyncio.AbstractEventLoop) -> InlineSelector | None:
    """The loop's `InlineSelector` if it was made by `new_event_loop`, else None."""
    return _SELECTORS.get(loop)


def run(main: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """`asyncio.run` on `new_event_loop`'s loop."""
    with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
        return runner.run(main)
