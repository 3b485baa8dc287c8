"""The redis half of every bridge that writes redis (``inditoredis``, ``driverstoredis``,
``mqtttoredis``): elements in -> keys, logs, BLOB files and ``from_indi``; ``to_indi`` -> out.

Elements arrive from one or more *sources* (the INDI server, or each MQTT site); each source has
its own ``StoreWriter`` mirror, so a lost source's devices can be removed alone. Every element is
stored first, then published on ``from_indi``: its bytes as received, except a
``setBLOBVector``, which is published with each BLOB's body replaced by a ``filepath`` attribute
(the file saved in the BLOB folder, decompressed): BLOB bytes never enter redis. The writes
of every element that arrives while a pipeline is at redis go together in the next one
(``queue``, ``write_loop``): one round trip a batch, however many sites the batch came from.

What programs publish on ``to_indi`` (one element each) is checked (well-formed, one element,
a known device for new vectors and enableBLOB), noted in the store (a new vector's state
``Busy``, ``blobs`` for enableBLOB, the getProperties stamps) and handed to ``send`` with the
device it is for. Anything else is logged and dropped; the bridge goes on.

A vector whose values arrive while it is not defined here is not stored; its device is asked
for by name once its values have kept coming undefined for ``ASK_UNDEFINED`` s (`Undefined`):
a definition lost on the way (an ``mqtttoredis`` whose inbound queue overflowed while a fleet's
sites all answered its getProperties at once) is so asked for again, not missed for good.

Redis lost: every store write is retried as the ``retry`` says (``bridge_retry()``: a capped
backoff with jitter, reset by the first write that works), in the project's one loop
(``Retry.call_with_retry``: the writes share one count, the subscriptions each their own); once redis answers again the
keys are rebuilt from scratch (``resync``: the sources are asked for everything again), since a
restarted redis has lost them. A redis that refuses the password (redis-py's
``AuthenticationError``) is not retried: the error ends the bridge, so a wrong password is seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from pathlib import Path

from indipyclient.model.blobfiles import save_blob
from indipyclient.model.properties import PropertyVector
from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol import BLOBEnable
from indipycore.protocol import Frame
from indipycore.protocol import ProtocolError
from indipycore.protocol import events as ev
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.blobs import unpack_blob
from indipycore.protocol.timestamps import parse_timestamp
from indipycore.retrypolicy import Retry

from .fromxml import StoreWriter
from .fromxml import blob_notice
from .hosts import RedisServer
from .indilink import bridge_retry
from .keys import Keys
from .lag import Lag
from .ops import HSet
from .ops import Op
from .ops import Publish
from .ops import SetValue
from .redisconnection import REDIS_DOWN
from .redisconnection import connect_redis
from .redisconnection import follow_channel
from .redisconnection import not_refused
from .redisconnection import raise_if_cancelled
from .respwriter import Arg
from .respwriter import RespWriter
from .respwriter import commands_of
from .toindi import ToIndiRequest
from .toindi import check_to_indi
from .toindi import refusal
from .undefined import Undefined

__all__ = ["RedisSide", "connect_redis"]

logger = logging.getLogger(__name__)

Send = Callable[[bytes, str | None], None]
Resync = Callable[[], Awaitable[None]]
#: Operations one pipeline holds at most (about 500 stored values).
MAX_BATCH_OPS = 2000

Inbound = Callable[[], tuple[int, int]]


_SETS = (ev.SetTextVector, ev.SetNumberVector, ev.SetSwitchVector, ev.SetLightVector)


def _no_inbound() -> tuple[int, int]:
    return 0, 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class RedisSide:
    """See the module docstring."""

    def __init__(self, redis_host: RedisServer, blob_folder: str | Path,
                 log_lengths: Mapping[str, int] | None, send: Send,
                 resync: Resync | None = None, *, retry: Retry | None = None,
                 linger: float = 0.0, label: str = "the bridge", clears: bool = True,
                 inbound: Inbound = _no_inbound) -> None:
        self.host = redis_host
        self.linger = linger
        self.lag = Lag(label)
        self.inbound = inbound  # (messages waiting, capacity) of the source side's queue
        self._queued_at = 0.0  # when the oldest write waiting was queued (monotonic)
        self._writing_since = 0.0  # when the pipeline at redis now was sent (0: none)
        self.keys = Keys(redis_host.keyprefix)
        self.blob_folder = Path(blob_folder)
        self.blob_folder.mkdir(parents=True, exist_ok=True)
        self.log_lengths = dict(log_lengths or {})
        self.send = send
        self.resync_sources = resync
        # Whether this bridge clears the store (on start and to rebuild it); one of several
        # sharing a store does not (see `mark`).
        self.clears = clears
        self.writers: dict[str, StoreWriter] = {}
        self.redis = connect_redis(redis_host)
        self.writes = RespWriter(redis_host)  # the store's pipelines (see respwriter)
        self.retry = retry or bridge_retry()
        self._writes = self.retry.attempts()  # the store's writes, in `execute` and the like
        self._bad = WarningBudget(noun="to_indi elements dropped")
        self._lock = asyncio.Lock()
        # A key of this bridge's own, set once the store is cleared: every pipeline checks it
        # first, so a redis that restarted (or was flushed) under the bridge is noticed even
        # when the client library reconnected silently.
        self.marker = self.keys.full(f"bridge:{uuid.uuid4().hex}")
        # The writes waiting for the next pipeline (see `queue`), how many sources' reads
        # they hold, and the events the writer and the readers wait on.
        self._pending: list[Op] = []
        self._work = asyncio.Event()
        self._lingering: asyncio.TimerHandle | None = None  # `queue`'s timer, with a linger
        self._room = asyncio.Event()
        self._room.set()
        self.undefined = Undefined()

    async def close(self) -> None:
        if self._lingering is not None:
            self._lingering.cancel()
        pending, self._pending = self._pending, []
        if pending:  # what the writer had not taken yet, once (the bridge is stopping)
            with contextlib.suppress(*REDIS_DOWN):
                await self._pipeline(pending)
        await self.close_marker()
        self.writes.close()
        await self.redis.aclose()

    def writer(self, source: str) -> StoreWriter:
        writer = self.writers.get(source)
        if writer is None:
            writer = self.writers[source] = StoreWriter(self.host.keyprefix, self.log_lengths)
        return writer

    def vector_of(self, device: str, name: str) -> PropertyVector | None:
        """The vector as the store's model holds it (whichever source defined its device)."""
        source = self.source_of(device)
        return self.writers[source].model.vector(device, name) if source is not None else None

    def source_of(self, device: str) -> str | None:
        for source, writer in self.writers.items():
            if device in writer.devices:
                return source
        return None

    # -- writing ---------------------------------------------------------------------------

    async def clear(self) -> None:
        """Delete the store's keys (not the log streams), as indiredis does on every start."""
        logs = self.keys.full("logdata:").encode()
        doomed = [key async for key in self.redis.scan_iter(match=self.keys.prefix + "*",
                                                            count=1000)
                  if not key.startswith(logs)]
        for start in range(0, len(doomed), 1000):
            await self.redis.delete(*doomed[start:start + 1000])
        await self.redis.set(self.marker, "1")

    async def mark(self) -> None:
        """Only this bridge's marker set, nothing deleted: where several bridges share one
        store (``mqtttoredis --share``), one clears it and the others must not, or each start
        or rebuild would delete the others' keys and markers, and each would rebuild in turn,
        for ever. A bridge that finds its marker gone (the clearing one started, or redis
        restarted) marks again and asks its sources for everything."""
        await self.redis.set(self.marker, "1")

    async def close_marker(self) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.delete(self.marker)

    async def execute(self, ops: list[Op]) -> None:
        """Run ``ops`` in one pipeline; while redis is down, retry with backoff, then resync."""
        if not ops:
            return
        failed = False

        async def down(error: BaseException) -> None:
            nonlocal failed
            failed = True

        intact = await self.retry.call_with_retry(
            lambda: self._pipeline(ops), down, errors=REDIS_DOWN, retryable=not_refused,
            attempts=self._writes, log=self._write_failed)
        if failed or not intact:
            why = ("is back" if failed else "lost this bridge's marker (restarted, flushed, or "
                   "cleared by the bridge that clears a shared store)")
            logger.info("redis %s:%s %s: rebuilding the store", self.host.host, self.host.port,
                        why)
            await self.resync()

    async def queue(self, ops: list[Op]) -> None:
        """Hand ``ops`` to the writer (`write_loop`): whatever gathers while a pipeline is
        at redis goes in the next one, so a burst of messages costs one round trip a batch, not
        one a message. The order is kept (a write before its publish, a source's reads in
        turn). Past ``2 * MAX_BATCH_OPS`` waiting, the caller waits for the writer: the reading
        side is slowed (and its inbound queue fills, which is seen) rather than memory grows."""
        if not ops:
            return
        while len(self._pending) >= 2 * MAX_BATCH_OPS:
            self._room.clear()
            await self._room.wait()
        first = not self._pending
        if first:
            self._queued_at = time.monotonic()
        self._pending.extend(ops)
        if not self.linger or len(self._pending) >= MAX_BATCH_OPS:
            self._work.set()
        elif first and self._lingering is None:
            # The writer is woken once, after the linger (not woken to go to sleep again):
            # at a few values a wake-up, as a small fleet's, a turn of the loop is a cost.
            self._lingering = asyncio.get_running_loop().call_later(self.linger,
                                                                     self._lingered)

    def _lingered(self) -> None:
        self._lingering = None
        self._work.set()

    async def write_loop(self) -> None:
        """The writer: runs what `queue` gathered, at most ``MAX_BATCH_OPS`` a pipeline;
        with ``linger``, a batch not full waits that long (s) for more first (`queue`)."""
        while True:
            await self._work.wait()
            self._work.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH_OPS]
                del self._pending[:MAX_BATCH_OPS]
                self._room.set()
                self._writing_since = time.monotonic()
                await self.execute(batch)
                self._writing_since = 0.0
                self._queued_at = time.monotonic()  # the rest: at most this old (a bound)
                raise_if_cancelled()  # redis-py may have swallowed it (see there)

    async def watch_lag(self) -> None:
        """Check every second whether the bridge keeps up (`Lag`): also while nothing
        arrives, as when redis stops answering and the reads wait for the writer."""
        while True:
            await asyncio.sleep(1.0)
            pending = len(self._pending)
            now = time.monotonic()
            since = [t for t in (self._queued_at if pending else 0.0, self._writing_since) if t]
            self.lag.check(self.inbound(), pending, now - min(since) if since else 0.0)
            if self.undefined:
                await self.ask_undefined(now)

    async def ask_undefined(self, now: float) -> None:
        """Ask for the devices whose values keep arriving undefined (`Undefined`), each by
        name, ``ASK_AT_ONCE`` at most a call."""
        asks = self.undefined.due(now, lambda device, name: self.vector_of(device, name)
                                  is not None)
        if not asks:
            return
        logger.info("%s: values of %d devices arrive undefined (%s): asking for them",
                    self.lag.label, len(asks), clip(", ".join(asks)))
        for device in asks:
            self.send(serialise(ev.GetProperties(version="1.7", device=device)), device)

    async def execute_when_up(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` (redis commands), retrying with backoff while redis is down."""
        await self.retry.call_with_retry(action, errors=REDIS_DOWN, retryable=not_refused,
                                         attempts=self._writes, log=self._write_failed)

    def _write_failed(self, error: BaseException, delay: float) -> None:
        logger.warning("redis %s:%s: %s; retrying in %.2f s", self.host.host, self.host.port,
                       error, delay)

    async def resync(self) -> None:
        """Forget everything stored and ask every source for all of it again."""
        async with self._lock:
            self.writers.clear()
            self._pending.clear()  # made from the writers just forgotten
            self._room.set()
            try:
                await (self.clear() if self.clears else self.mark())
            except REDIS_DOWN:
                raise_if_cancelled()
            if self.resync_sources is not None:
                await self.resync_sources()

    async def _pipeline(self, ops: list[Op]) -> bool:
        """Run ``ops`` in one round trip (``RespWriter``); whether the store was intact
        (this bridge's marker still there)."""
        commands: list[list[Arg]] = [["EXISTS", self.marker]]
        for op in ops:
            commands += commands_of(op)
        replies = await self.writes.run(commands)
        return bool(replies[0])

    async def publish(self, data: bytes) -> None:
        try:
            await self.redis.publish(self.host.from_indi_channel, data)
        except REDIS_DOWN:
            raise_if_cancelled()

    async def store(self, source: str, frames: list[Frame]) -> None:
        """Store the elements of one read from ``source`` and publish each (queued for the
        writer's next pipeline, with whatever else arrived meanwhile)."""
        writer = self.writer(source)
        channel = self.host.from_indi_channel
        received = _now()
        self.lag.sample(frames, time.monotonic())
        ops: list[Op] = []
        for frame in frames:
            try:
                event = parse_element(frame.data)
            except ProtocolError as exc:
                logger.warning("malformed element from %s dropped: %s", source, clip(str(exc)))
                continue
            if event is None:
                continue
            if type(event) is ev.SetBLOBVector:
                files = await self._save_blobs(event)
                ops += writer.apply(event, files, received)
                ops.append(Publish(channel, blob_notice(event, files)))
                continue
            done = writer.apply(event, None, received)
            if not done and isinstance(event, _SETS):  # not defined: its definition lost?
                self.undefined.saw(event.device, event.name, time.monotonic())
            ops += done
            if type(event) is ev.DefBLOBVector:
                # BLOBs are saved to files: ask for them (a program may publish Never later).
                ops.append(HSet(self.keys.full(Keys.attributes(event.name, event.device)),
                                {"blobs": "Enabled"}))
                self.send(serialise(ev.EnableBLOB(event.device, BLOBEnable.ALSO, event.name)),
                          event.device)
            # Each element stored first, then published (a pipeline runs in order).
            ops.append(Publish(channel, bytes(frame.data)))
        await self.queue(ops)

    async def forget(self, source: str) -> None:
        """Remove every device ``source`` defined (the source is gone)."""
        writer = self.writers.get(source)
        if writer is not None:
            await self.queue(writer.forget_all(_now()))

    async def _save_blobs(self, event: ev.SetBLOBVector) -> dict[str, tuple[str, int]]:
        files: dict[str, tuple[str, int]] = {}
        try:
            stamp = parse_timestamp(event.timestamp) if event.timestamp else datetime.now(UTC)
        except ProtocolError:
            stamp = datetime.now(UTC)
        for member in event.members:
            try:
                data = unpack_blob(member.data, member.format)
            except (ProtocolError, ValueError) as exc:
                logger.warning("BLOB %s.%s.%s not saved: %s", event.device, event.name,
                               member.name, exc)
                continue
            try:
                # A worker thread for the file write only (as the client library does), so a
                # large BLOB does not hold the event loop.
                path = await asyncio.to_thread(save_blob, self.blob_folder, event.device,
                                               event.name, member.name, member.format, data,
                                               stamp)
            except OSError as exc:
                logger.error("cannot save BLOB %s.%s.%s in %s: %s", event.device, event.name,
                             member.name, self.blob_folder, exc)
                continue
            files[member.name] = (str(path), len(data))
        return files

    # -- to_indi -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Write what is queued, and listen on ``to_indi`` for good (resubscribing after
        redis is lost)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.write_loop())
            group.create_task(self.watch_lag())
            await follow_channel(self.redis, self.host, self.host.to_indi_channel, self.retry,
                                 self.to_indi)

    async def to_indi(self, data: bytes | str) -> None:
        """One element a program published on ``to_indi``: checked, noted, sent."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        request = check_to_indi(raw, self.source_of)
        if not isinstance(request, str):
            request = refusal(request.event, self.vector_of) or request
        if isinstance(request, str):
            note = self._bad.take()
            if note is not None:
                logger.warning("to_indi: %s: dropped %s%s", request,
                               clip(raw.decode(errors="replace")), note)
            return
        await self._note(request)
        logger.debug("to_indi: %s for %s", request.data[:80], request.source)
        self.send(request.data, request.device)

    async def _note(self, request: ToIndiRequest) -> None:
        event = request.event
        ops: list[Op] = []
        now = _now()
        if isinstance(event, (ev.NewTextVector, ev.NewNumberVector, ev.NewSwitchVector,
                              ev.NewBLOBVector)):
            source = self.source_of(event.device)
            writer = self.writers[source] if source is not None else self.writer("")
            ops += writer.note_state(event.device, event.name, "Busy", now)
        elif isinstance(event, ev.EnableBLOB):
            value = "Disabled" if event.value is BLOBEnable.NEVER else "Enabled"
            source = self.source_of(event.device)
            names = ([event.name] if event.name is not None else
                     [n for n, i in self.writers[source].devices[event.device].items()
                      if i.vectortype == "BLOBVector"] if source is not None else [])
            ops += [HSet(self.keys.full(Keys.attributes(n, event.device)), {"blobs": value})
                    for n in names]
        elif isinstance(event, ev.GetProperties):
            ops.append(SetValue(self.keys.full(Keys.getproperties(event.device, event.name)),
                                now))
        # Queued behind the stores already waiting, so that none of theirs overwrites it.
        await self.queue(ops)
