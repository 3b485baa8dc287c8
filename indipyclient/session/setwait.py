"""Set-and-wait: new values sent, then the driver's answer awaited, for every client.

`Waiters` is fed every client event the model hands out (``Model.apply``) and wakes what waits
for one. `Waiters.send_and_wait` is the one set-and-wait: the library's ``Client.set`` and the
web client's sources use it, whatever carries the values (a connection, a redis channel).
Only a set answers: a def with the old values may be a replay for some getProperties
(indiserver forwards every one to the driver), and a set still Busy is progress, not an answer.
Each set is judged by the state it carries, and the answer is what that set said (its state,
its message): the model, read later, may hold a later update of the same read (indilib's CCD
answers a first binning Idle, then Ok a millisecond later), or a message an earlier update
left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

from indipyclient.model import events as ev
from indipyclient.model.properties import PropertyVector
from indipyclient.model.tree import Model
from indipycore.protocol import State
from indipycore.protocol.refusals import refuses

from .connection import NotConnected

__all__ = ["SetResult", "Waiters"]

logger = logging.getLogger(__name__)

Check = Callable[[ev.Event], bool]


@dataclass(frozen=True, slots=True)
class SetResult:
    """How a ``set`` ended: the ``state`` and ``message`` the driver's answer carried (""
    when it carried none), or ``timed_out`` (the state the client then holds, Busy as it left
    it)."""

    device: str
    vector: str
    state: State
    message: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when the driver answered Ok."""
        return self.state == State.OK and not self.timed_out


class Waiters:
    """Checks waiting for client events; ``feed`` every event, in order (a caller on a hot
    path may skip the call while ``checks`` is empty)."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def feed(self, event: ev.Event) -> None:
        """Every check sees `event`; those that return True are done. One that raises is
        dropped (logged): the others still see the event, or one of them could wait for an
        answer it was never shown."""
        if self.checks:
            self.checks = [check for check in self.checks if not self._done(check, event)]

    @staticmethod
    def _done(check: Check, event: ev.Event) -> bool:
        try:
            return check(event)
        except Exception:
            logger.exception("a check waiting for %r raised: dropped", event)
            return True

    def _add(self, check: Check) -> None:
        self.checks.append(check)

    def _remove(self, check: Check) -> None:
        if check in self.checks:
            self.checks.remove(check)

    async def until(self, check: Check, timeout: float) -> None:
        """Wait until ``check(event)`` returns True for an event, at most ``timeout`` s
        (``TimeoutError``); an exception ``check`` raises is raised here."""
        with self.watching(check) as done:
            async with asyncio.timeout(timeout):
                await done

    @contextlib.contextmanager
    def watching(self, check: Check) -> Iterator[asyncio.Future[None]]:
        """``check`` sees every event from now until the block ends: started before a request
        is sent, so that no answer can come before it. The future is done once ``check``
        returned True, or holds what it raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def waiter(event: ev.Event) -> bool:
            if done.done():
                return True
            try:
                finished = check(event)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting task
                done.set_exception(exc)
                return True
            if finished:
                done.set_result(None)
            return finished

        self._add(waiter)
        try:
            yield done
        finally:
            self._remove(waiter)
            if done.done() and not done.cancelled():
                done.exception()  # retrieved: an error nobody awaited is not "never retrieved"

    async def send_and_wait(self, model: Model, target: PropertyVector,
                            send: Callable[[], Awaitable[object]], *, wait: bool = True,
                            timeout: float | None = None) -> SetResult:
        """``send()`` the new values of ``target`` and, with ``wait``, the driver's answer:
        a set of that vector in a state other than Busy, the server's refusal (Alert with its
        message, at once: no set will come), or at ``timeout`` (default the larger of 10 s and
        the vector's own) the state the model holds, ``timed_out``. A connection
        lost meanwhile raises `NotConnected`."""
        device, vector = target.devicename, target.name
        seconds = timeout if timeout is not None else max(10.0, target.timeout)
        answered: asyncio.Future[SetResult] = asyncio.get_running_loop().create_future()

        def answer(event: ev.Event) -> bool:
            if answered.done():
                return True
            if isinstance(event, ev.ConnectionLost):
                answered.set_exception(NotConnected(
                    f"connection lost waiting for {device}.{vector}: {event.reason}"))
                return True
            if (isinstance(event, ev.setVector)
                    and event.devicename == device and event.vectorname == vector):
                # This set's own state (one that carries none leaves the vector's as it was);
                # the result is taken now, from the set: the model may change again before
                # the waiting task runs.
                state = event.state if event.state is not None else event.vector.state
                if state == State.BUSY:
                    return False
                answered.set_result(SetResult(device, vector, state, event.message or ""))
                return True
            if isinstance(event, ev.Message) and refuses(event.message, device, vector):
                # The server would not pass it on (access rules, audit): no set will come.
                answered.set_result(SetResult(device, vector, State.ALERT, event.message))
                return True
            return False

        if wait:
            self._add(answer)
        try:
            await send()
            if not wait:
                return SetResult(device, vector, State.BUSY, "")
            try:
                async with asyncio.timeout(seconds):
                    return await answered
            except TimeoutError:
                current = model.vector(device, vector)
                return SetResult(device, vector, current.state if current else State.BUSY,
                                 current.message if current else "", timed_out=True)
        finally:
            self._remove(answer)
