"""The one reconnect and restart policy: how long to wait after a failure, and whether to go on.

Every part of the project that keeps something up -- the client library's connection (and so
the terminal and the web client), the bridges' links to an INDI server, redis and an MQTT
broker, the server's remote servers and its executable drivers -- asks the same two objects,
in the shape redis-py gave its ``Retry`` and ``ExponentialBackoff``:

* a *backoff* (``Backoff``: ``compute(failures) -> seconds``) says how long to wait after the
  n-th failure in a row: ``ExponentialBackoff`` (doubling up to a cap, with no, full or equal
  jitter, so that many clients of a restarted server do not all come back at the same
  instant), ``ConstantBackoff`` or ``NoBackoff``; any object with that method will do;
* a ``Retry`` holds the backoff, how many failures in a row are allowed (``retries``, None for
  ever) and how long a run must last to count as a success (``stable_after``: a connection
  that drops at once, or a driver that dies at start, still backs off). It is configuration
  only, so one may be shared: each loop that uses it takes its own ``Attempts`` counter;
* ``Retry.call_with_retry(do, fail)`` is the one loop that follows it (redis-py's name and
  shape): ``do()`` again after each failure it may retry, ``fail(error)`` first (where a loop
  clears what it held and tells its users), then one log line with the delay, then the sleep.
  Every reconnect and restart loop of the project is this call: a kept-up connection's ``do``
  raises ``RunEnded`` when a run that was up ends, so a loss is a failure like a refusal.

Standard library only, and asyncio only inside ``call_with_retry`` (imported there), so the
command-line tools that import the policy start without it. The random source, the clock and
the sleep are injected, so the policy and its loop are tested without sleeping.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Literal
from typing import Protocol
from typing import TypeVar
from typing import runtime_checkable

__all__ = [
    "Attempts",
    "Backoff",
    "ConstantBackoff",
    "ExponentialBackoff",
    "Jitter",
    "NoBackoff",
    "RetriesExhausted",
    "Retry",
    "RunEnded",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: ``"none"``: the delay itself; ``"full"``: uniform in (0, delay]; ``"equal"``: uniform in
#: (delay / 2, delay] (half kept, half random).
Jitter = Literal["none", "full", "equal"]
_JITTER_SHARE: dict[str, float] = {"none": 0.0, "full": 1.0, "equal": 0.5}


class RetriesExhausted(Exception):
    """``retries`` failures in a row: the loop gives up (a driver exited for good). The last
    failure is its ``__cause__``; ``failures`` says how many there were."""

    def __init__(self, message: str, failures: int = 0) -> None:
        super().__init__(message)
        self.failures = failures


class RunEnded(Exception):
    """A run that was up ended (a connection lost, a driver exited): raised by a kept-up loop's
    ``do`` so that ``call_with_retry`` counts it as a failure, as it counts a refusal. Its text
    says why (``closed by the server``)."""


@runtime_checkable
class Backoff(Protocol):
    """How long to wait after the ``failures``-th failure in a row (1 for the first)."""

    def compute(self, failures: int) -> float: ...


class ExponentialBackoff:
    """``initial`` seconds after the first failure, times ``factor`` after each further one, at
    most ``cap``; then the jitter takes a random share off (``rng`` returns [0, 1))."""

    def __init__(self, initial: float = 0.5, cap: float = 10.0, *, factor: float = 2.0,
                 jitter: Jitter = "none", rng: Callable[[], float] = random.random) -> None:
        if initial <= 0 or cap < initial or factor < 1:
            raise ValueError("need 0 < initial <= cap and factor >= 1")
        if jitter not in _JITTER_SHARE:
            raise ValueError(f"jitter is 'none', 'full' or 'equal', not {jitter!r}")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self._share = _JITTER_SHARE[jitter]
        self._rng = rng

    def compute(self, failures: int) -> float:
        # The exponent is bounded: after a week of failures factor ** n must not overflow.
        delay = min(self.cap, self.initial * self.factor ** min(max(failures - 1, 0), 64))
        if self._share:
            delay *= 1.0 - self._share * self._rng()
        return delay

    def __repr__(self) -> str:
        return (f"ExponentialBackoff(initial={self.initial}, cap={self.cap}, "
                f"factor={self.factor}, jitter={self.jitter!r})")


class ConstantBackoff:
    """The same delay after every failure."""

    def __init__(self, delay: float) -> None:
        if delay < 0:
            raise ValueError("the delay cannot be negative")
        self.delay = delay

    def compute(self, failures: int) -> float:
        return self.delay

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.delay})"


class NoBackoff(ConstantBackoff):
    """Try again at once."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def __repr__(self) -> str:
        return "NoBackoff()"


class Retry:
    """A backoff, a limit of failures in a row (None: for ever) and the length of a run that
    resets the count (0: any success resets it). Configuration, and the loop that follows it
    (``call_with_retry``): ``attempts()`` gives each loop its own counter."""

    def __init__(self, backoff: Backoff | None = None, retries: int | None = None, *,
                 stable_after: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if retries is not None and retries < 0:
            raise ValueError("retries cannot be negative")
        self.backoff: Backoff = backoff if backoff is not None else ExponentialBackoff()
        self.retries = retries
        self.stable_after = stable_after
        self.clock = clock

    def attempts(self) -> Attempts:
        """A fresh counter of failures for one loop (a connection, a driver's restarts)."""
        return Attempts(self)

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[[BaseException], Awaitable[object]] | None = None,
        *,
        errors: tuple[type[BaseException], ...] = (OSError, RunEnded),
        retryable: Callable[[BaseException], bool] | None = None,
        attempts: Attempts | None = None,
        log: Callable[[BaseException, float], object] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> T:
        """``do()`` until it returns (its result is returned): after each of ``errors`` that
        ``retryable`` allows (by default all), ``fail(error)`` is awaited, the delay asked of
        ``attempts`` (``RetriesExhausted`` past the limit, from the error), the failure logged
        once with it (``log(error, delay)``, by default one INFO line) and the delay slept
        (``sleep``, by default ``asyncio.sleep``, looked up at each failure).

        ``attempts`` (by default a fresh one) is the loop's counter: a ``do`` that stays up
        calls ``attempts.succeeded()`` once it is (connected, spawned), so a run lasting
        ``stable_after`` resets the count; a ``do`` that returns succeeded too. Any other error
        propagates, and so does a cancellation: an error caught while the task is being
        cancelled (a library below turned the cancellation into one) ends the loop with
        ``CancelledError`` instead of retrying, and the sleep is cancelled at once.
        """
        import asyncio  # here, not at the top: the command-line tools import this module

        counter = attempts if attempts is not None else self.attempts()
        while True:
            try:
                result = await do()
            except errors as error:
                if retryable is not None and not retryable(error):
                    raise
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from error
                if fail is not None:
                    await fail(error)
                try:
                    delay = counter.failed()
                except RetriesExhausted as exhausted:
                    exhausted.failures = counter.failures
                    raise exhausted from error
                if log is not None:
                    log(error, delay)
                else:
                    logger.info("%s; retrying in %.2f s", str(error) or type(error).__name__, delay)
                await (sleep or asyncio.sleep)(delay)
                continue
            counter.succeeded()
            return result

    def __repr__(self) -> str:
        return (f"Retry({self.backoff!r}, retries={self.retries}, "
                f"stable_after={self.stable_after})")


class Attempts:
    """One loop's failures in a row, under its ``Retry``.

    The loop calls ``succeeded()`` when an attempt works (connected, spawned) and ``failed()``
    when one fails or a run ends; ``failed()`` first forgets the failures before a run that
    lasted ``stable_after`` seconds, then answers the delay before the next attempt, or raises
    ``RetriesExhausted`` when ``retries`` failures in a row are used up.
    """

    def __init__(self, retry: Retry) -> None:
        self.retry = retry
        self.failures = 0
        self._started_at: float | None = None

    def succeeded(self) -> None:
        """An attempt worked: with ``stable_after`` 0 the count starts again now, otherwise
        once this run has lasted that long (judged at the next ``failed()``)."""
        if self.retry.stable_after <= 0:
            self.failures = 0
            self._started_at = None
        else:
            self._started_at = self.retry.clock()

    def failed(self) -> float:
        """One more failure: the seconds to wait before the next attempt (``RetriesExhausted``:
        give up)."""
        if self._started_at is not None:
            if self.retry.clock() - self._started_at >= self.retry.stable_after:
                self.failures = 0
            self._started_at = None
        if self.retry.retries is not None and self.failures >= self.retry.retries:
            raise RetriesExhausted(f"gave up after {self.failures} failures in a row",
                                   self.failures)
        self.failures += 1
        return self.retry.backoff.compute(self.failures)

    def reset(self) -> None:
        """Forget the failures (and any run in progress)."""
        self.failures = 0
        self._started_at = None

    def __repr__(self) -> str:
        return f"Attempts(failures={self.failures}, {self.retry!r})"
