"""One redis connection for a bridge, and one channel followed on it for good.

redis-py's own retries are off (`connect_redis`): the bridges retry with their own backoff in
the project's one loop (``Retry.call_with_retry``) and rebuild what redis lost. A refused
password is no outage and ends the bridge (`not_refused`); a cancellation redis-py turned into
an error is raised again (`raise_if_cancelled`), so a bridge always stops when told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from indipycore.retrypolicy import Retry

from .hosts import RedisServer

__all__ = ["REDIS_DOWN", "connect_redis", "follow_channel", "next_published", "not_refused",
           "raise_if_cancelled"]

logger = logging.getLogger("indiredis.redisside")  # the bridges' redis log, as before

#: What a lost redis raises.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


async def next_published(pubsub: PubSub) -> dict[str, Any] | None:
    """The next message on a subscription, or None after a second of none.

    redis-py can swallow a cancellation that lands in the middle of a read (seen under load in
    the restart test: the task left "cancelling" in a read with no timeout, the bridge never
    stopping). So the read wakes at least once a second and a swallowed cancellation is raised
    again after it; a message still arrives at once."""
    message: dict[str, Any] | None = await pubsub.get_message(timeout=1.0)
    raise_if_cancelled()
    return message


async def _nothing() -> None:
    return None


async def follow_channel(redis: aioredis.Redis, host: RedisServer, channel: str, retry: Retry,
                         on_message: Callable[[bytes], Awaitable[None]], *,
                         on_subscribed: Callable[[], Awaitable[None]] = _nothing,
                         on_lost: Callable[[], None] = lambda: None,
                         refused_ends: bool = True) -> None:
    """Listen on ``channel`` for good: ``on_subscribed`` each time the subscription is made,
    each message's data to ``on_message``; when redis is lost (logged), ``on_lost`` and
    subscribe again after the ``retry``'s delay. A refused password ends it (unless not
    ``refused_ends``), and so does a cancellation redis-py turned into an error."""
    attempts = retry.attempts()

    async def listen() -> None:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            await on_subscribed()
            attempts.succeeded()
            while True:
                message = await next_published(pubsub)
                if message is not None and message.get("type") == "message":
                    await on_message(bytes(message["data"]))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def lost(error: BaseException) -> None:
        on_lost()

    def say(error: BaseException, delay: float) -> None:
        logger.warning("redis %s:%s, %s: %s; again in %.2f s", host.host, host.port, channel,
                       error, delay)

    await retry.call_with_retry(listen, lost, errors=REDIS_DOWN,
                                retryable=not_refused if refused_ends else None,
                                attempts=attempts, log=say)


def connect_redis(host: RedisServer) -> aioredis.Redis:
    """A redis.asyncio client for ``host`` (bytes in and out). redis-py's own retries are off:
    the bridge retries with its backoff and rebuilds the store after a failure, and redis-py
    would retry a refused password too (about 8 s, as a ConnectionError) before saying so."""
    return aioredis.Redis(host=host.host, port=host.port, db=host.db,
                          password=host.password or None, socket_connect_timeout=5,
                          health_check_interval=10, retry=RedisRetry(NoBackoff(), 0))


def not_refused(exc: BaseException) -> bool:
    """A wrong or missing password is no outage: retrying it would only hide it (redis-py makes
    AuthenticationError a ConnectionError), so it ends the bridge."""
    return not isinstance(exc, AuthenticationError)


def raise_if_cancelled() -> None:
    """redis-py may turn a cancellation in the middle of a command into a ConnectionError:
    a retry loop must not swallow it, or the bridge would never stop."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
