"""Test a driver with no sockets and no server: `DriverHarness` plays the client.

The harness runs `driver.serve()` on an in-memory link and gives the test the client's side:
send protocol events (or raw XML), await what the driver sends back as protocol events.
pingRequests from the driver are answered automatically (as a server would), so BLOB
back-pressure does not stall the test. Example (pytest with pytest-asyncio)::

    from indipycore.protocol.enums import State
    from indipycore.protocol.events import NewNumberVector, Number, SetNumberVector
    from indipydriver.testing import DriverHarness

    async def test_target_follows_client():
        driver = make_driver()                      # your IPyDriver
        async with DriverHarness(driver) as client:
            defs = await client.get_properties()    # the def*Vectors answering it
            await client.send(NewNumberVector("Thermostat", "TARGET", (Number("TARGET", "21"),)))
            reply = await client.expect(SetNumberVector, name="TARGET")
            assert reply["TARGET"].float == 21.0
            await client.send('<newNumberVector device="Thermostat" name="TARGET">'
                              '<oneNumber name="TARGET">99</oneNumber></newNumberVector>')
            refused = await client.expect(SetNumberVector, name="TARGET")   # 99 > max
            assert refused.state == State.ALERT and "outside min" in refused.message

Leaving the `async with` closes the client side; the driver sees EOF and `serve` returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from typing import Self

from indipycore.protocol.events import PingReply
from indipycore.protocol.events import PingRequest
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer

from .driver import IPyDriver
from .links import MemoryLink
from .wire import write_element

__all__ = ["DriverHarness"]

logger = logging.getLogger(__name__)


class DriverHarness:
    """The client side of a driver under test (see the module docstring for an example).

    `timeout` is the default wait of `receive`/`expect`; `answer_pings=False` leaves the
    driver's pingRequests unanswered (to test back-pressure) and `show_pings=True` makes them
    visible to `receive`.
    """

    def __init__(self, driver: IPyDriver, *, timeout: float = 2.0, answer_pings: bool = True,
                 show_pings: bool = False) -> None:
        self.driver = driver
        self.timeout = timeout
        self.answer_pings = answer_pings
        self.show_pings = show_pings
        self.frames_received = 0
        self.bytes_received = 0
        self.driver_link, self.client_link = MemoryLink.pair()
        self._frames: deque[Frame] = deque()
        self._appended = 0  # frames ever put in _frames (get_properties finds its own by it)
        self._pings: dict[str, asyncio.Future[None]] = {}  # the harness's own, by uid
        self._ping_count = 0
        self._arrived = asyncio.Event()
        self._serve_task: asyncio.Task[None] | None = None
        self._pump_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start `driver.serve()` on the in-memory link."""
        self._serve_task = asyncio.create_task(self.driver.serve(self.driver_link))
        self._pump_task = asyncio.create_task(self._pump())
        await asyncio.sleep(0)

    async def close(self, timeout: float = 5.0) -> None:
        """Close the client side (EOF for the driver) and wait for `serve` to return."""
        await self.client_link.close()
        if self._serve_task is not None:
            await asyncio.wait_for(self._serve_task, timeout)
        if self._pump_task is not None:
            self._pump_task.cancel()
            try:
                await self._pump_task
            except asyncio.CancelledError:
                pass

    @property
    def serving(self) -> bool:
        """Whether the driver's `serve` is still running."""
        return self._serve_task is not None and not self._serve_task.done()

    # ---------------------------------------------------------------- client -> driver

    async def send(self, message: Any) -> None:
        """Send a protocol event, or XML as str/bytes, to the driver."""
        if isinstance(message, str):
            data = message.encode()
        elif isinstance(message, (bytes, bytearray)):
            data = bytes(message)
        else:
            from indipycore.protocol.serialiser import serialise

            data = serialise(message)
        await self.client_link.write(data)

    # ---------------------------------------------------------------- driver -> client

    async def _pump(self) -> None:
        framer = Framer()
        link = self.client_link
        while True:
            chunk = await link.read()
            if not chunk:
                for future in self._pings.values():
                    if not future.done():
                        future.set_exception(EOFError("the driver closed its output"))
                self._arrived.set()
                return
            self.bytes_received += len(chunk)
            for frame in framer.feed(chunk):
                if not isinstance(frame, Frame):
                    logger.error("driver sent malformed XML: %s", frame)
                    continue
                self.frames_received += 1
                if frame.tag == "pingRequest":
                    if self.answer_pings:
                        uid = frame.attrs.get("uid", "")
                        await link.write(write_element(PingReply(uid)))
                    if not self.show_pings:
                        continue
                elif frame.tag == "pingReply":
                    waiter = self._pings.get(frame.attrs.get("uid", ""))
                    if waiter is not None:  # the end of what get_properties waits for
                        if not waiter.done():
                            waiter.set_result(None)
                        continue
                self._frames.append(frame)
                self._appended += 1
            self._arrived.set()

    async def receive_frame(self, timeout: float | None = None) -> Frame:
        """The next element the driver sent, unparsed (tag, attrs, raw bytes)."""
        deadline = asyncio.get_running_loop().time() + (self.timeout if timeout is None else timeout)
        while not self._frames:
            self._arrived.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("the driver sent nothing in time")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                raise TimeoutError("the driver sent nothing in time") from None
            if not self._frames and self._pump_task is not None and self._pump_task.done():
                raise EOFError("the driver closed its output")
        return self._frames.popleft()

    async def receive(self, timeout: float | None = None) -> Any:
        """The next event the driver sent (parsed protocol event)."""
        from indipycore.protocol.parser import parse_element

        frame = await self.receive_frame(timeout)
        return parse_element(frame.data)

    async def expect(self, kind: type | None = None, timeout: float | None = None,
                     **attrs: Any) -> Any:
        """The next event of class `kind` whose attributes equal `attrs`; others are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - loop.time()
            try:
                event = await self.receive(max(remaining, 0.0))
            except TimeoutError:
                raise TimeoutError(f"no {kind.__name__ if kind else 'event'} {attrs} in time") from None
            if _matches(event, kind, attrs):
                return event

    async def collect(self, seconds: float = 0.1) -> list[Any]:
        """Every event that arrives within `seconds` (and any already waiting)."""
        await asyncio.sleep(seconds)
        return self.pending()

    def pending(self) -> list[Any]:
        """Every event already received and not yet taken, parsed."""
        from indipycore.protocol.parser import parse_element

        events = [parse_element(frame.data) for frame in self._frames]
        self._frames.clear()
        return events

    async def round_trip(self, timeout: float | None = None) -> None:
        """Ping the driver and wait for its reply: the driver has then read everything sent to
        it before, and everything it wrote before answering is queued here (``pending``). The
        evidence that something did not happen, without waiting a fixed time: a request the
        driver refused is answered by nothing before the reply. (``rxevent`` runs in a task of
        its own: what it sends may still come later.)"""
        wait = self.timeout if timeout is None else timeout
        await self._round_trip(asyncio.get_running_loop().time() + wait)

    async def handled(self, timeout: float | None = None) -> None:
        """`round_trip`, then until ``rxevent`` and ``snoopevent`` have handled every event
        queued for them, then a round trip again: what the driver sent while handling them has
        come too. TimeoutError after `timeout` seconds (default: the harness's `timeout`)."""
        wait = self.timeout if timeout is None else timeout
        deadline = asyncio.get_running_loop().time() + wait
        await self._round_trip(deadline)
        for queue in (self.driver._rx_queue, self.driver._snoop_queue):
            await asyncio.wait_for(queue.join(), self._left(deadline))
        await self._round_trip(deadline)

    async def expect_nothing(self, kind: type | None = None, seconds: float = 0.1,
                             **attrs: Any) -> None:
        """Fail (AssertionError) if a matching event arrives within `seconds`."""
        for event in await self.collect(seconds):
            if _matches(event, kind, attrs):
                raise AssertionError(f"unexpected {event!r}")

    async def get_properties(self, device: str | None = None, name: str | None = None,
                             timeout: float | None = None) -> list[Any]:
        """Send getProperties and return the def*Vectors the driver sends in answer.

        The answer ends where the driver has handled the request, however busy it is: the
        harness follows the getProperties with a pingRequest of its own, which the driver
        answers only after it (a driver handles what it reads in order); with `auto_send_def`
        off it also waits for `rxevent` to have handled the request. Everything else the
        driver sends meanwhile (a hardware loop's sets, messages), and what was waiting before
        the call, stays queued for `receive`/`expect` in the order it came. Raises TimeoutError
        when the answer has not ended within `timeout` seconds (default: the harness's
        `timeout`), EOFError when the driver stops first.
        """
        from indipycore.protocol.events import GetProperties
        from indipycore.protocol.parser import parse_element

        wait = self.timeout if timeout is None else timeout
        deadline = asyncio.get_running_loop().time() + wait
        start = self._appended
        await self.send(GetProperties(version="1.7", device=device, name=name))
        try:
            await self._round_trip(deadline)
            if not self.driver.auto_send_def:
                # The read loop only queued the request for rxevent: wait until rxevent has
                # handled it, then once more for what rxevent sent to arrive.
                await asyncio.wait_for(self.driver._rx_queue.join(), self._left(deadline))
                await self._round_trip(deadline)
        except TimeoutError:
            got = sum(1 for frame in self._since(start) if _answers(frame, device, name))
            raise TimeoutError(
                f"the driver did not finish answering getProperties within {wait:g} s "
                f"({got} definitions so far); is its read loop or rxevent blocked?") from None
        new = self._since(start)
        answer = [frame for frame in new if _answers(frame, device, name)]
        if answer:
            keep = [frame for frame in new if not _answers(frame, device, name)]
            for _ in new:
                self._frames.pop()
            self._frames.extend(keep)
        return [parse_element(frame.data) for frame in answer]

    def _since(self, start: int) -> list[Frame]:
        """The queued frames that arrived after `_appended` was `start` (the newest ones)."""
        count = min(self._appended - start, len(self._frames))
        return list(self._frames)[len(self._frames) - count:] if count else []

    @staticmethod
    def _left(deadline: float) -> float:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    async def _round_trip(self, deadline: float) -> None:
        """Send a pingRequest and wait for its reply: everything the driver wrote before it
        has then been received."""
        if self._pump_task is not None and self._pump_task.done():
            raise EOFError("the driver closed its output")
        self._ping_count += 1
        uid = f"DriverHarness/{self._ping_count}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings[uid] = future
        try:
            await self.send(write_element(PingRequest(uid)))
            await asyncio.wait_for(future, self._left(deadline))
        finally:
            del self._pings[uid]

def _answers(frame: Frame, device: str | None, name: str | None) -> bool:
    """Whether `frame` is a definition a getProperties for `device`/`name` asks for."""
    if not (frame.tag.startswith("def") and frame.tag.endswith("Vector")):
        return False
    if device not in (None, "*") and frame.attrs.get("device") != device:
        return False
    return name is None or frame.attrs.get("name") == name


def _matches(event: Any, kind: type | None, attrs: dict[str, Any]) -> bool:
    if kind is not None and not isinstance(event, kind):
        return False
    return all(getattr(event, key, None) == value for key, value in attrs.items())
