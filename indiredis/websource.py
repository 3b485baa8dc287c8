"""``RedisSource``: the web client's ``DeviceSource`` read from the redis store.

The ``indipyweb`` pages read their state from a ``DeviceSource`` (``indipyweb.source``); this
one takes it from the store a bridge (``inditoredis``, ``mqtttoredis``) keeps, so the web server
needs no INDI connection of its own. On start (and after redis comes back) the whole store is
read into the client library's pure ``Model`` (each vector rebuilt as its definition from its
hashes); then every element published on ``from_indi`` is applied to it as it comes, and named
to the pages as a ``Change``. ``set`` checks the values with the client library's validation,
publishes the new vector on ``to_indi`` and waits for the driver's answer on ``from_indi``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from collections.abc import Mapping
from datetime import UTC
from types import TracebackType
from typing import Any
from typing import Self

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from indipyclient.model.changes import change_of
from indipyclient.model.outgoing import InvalidValue as ClientInvalid
from indipyclient.model.outgoing import new_vector
from indipyclient.model.snapshot import take_snapshot
from indipyclient.model.tree import Model
from indipyclient.session.setwait import Waiters
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import Perm
from indipycore.protocol import ProtocolError
from indipycore.protocol import Rule
from indipycore.protocol import State
from indipycore.protocol import SwitchState
from indipycore.protocol import events as ev
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.timestamps import parse_timestamp
from indipycore.retrypolicy import Retry
from indipyweb.source import Change
from indipyweb.source import ChangeQueue
from indipyweb.source import InvalidValue
from indipyweb.source import SetResult
from indipyweb.source import Snapshot
from indipyweb.source import VectorDict
from indipyweb.source import client_values
from indipyweb.source import model_vector

from .hosts import RedisServer
from .indilink import bridge_retry
from .keys import Keys
from .redisconnection import connect_redis
from .redisconnection import follow_channel

__all__ = ["RedisSource", "defined_order", "store_events"]

logger = logging.getLogger(__name__)

MAX_CHANGES = 20_000
_ONEBLOB = re.compile(rb"<oneBLOB\b[^>]*/>")
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def defined_order(r: aioredis.Redis, keys: Keys, device: str) -> list[str]:
    """The device's vector names in the order the device defined them (``propertyorder``),
    so the pages' tabs and panels are those of a direct connection; names the list lacks (a
    store an older bridge wrote) follow, sorted."""
    names = {_text(p) for p in await r.smembers(keys.full(Keys.properties(device)))}
    order = [_text(p) for p in await r.lrange(keys.full(Keys.propertyorder(device)), 0, -1)]
    known = [name for name in dict.fromkeys(order) if name in names]
    return known + sorted(names.difference(known))


async def store_events(r: aioredis.Redis, keys: Keys) -> list[ev.Event]:
    """Every vector of the store as its definition, in each device's definition order, and
    the last messages."""
    found: list[ev.Event] = []
    for device in sorted(_text(d) for d in await r.smembers(keys.full(Keys.devices()))):
        for name in await defined_order(r, keys, device):
            attrs = {_text(k): _text(v) for k, v in (await r.hgetall(keys.full(
                Keys.attributes(name, device)))).items()}
            order = [_text(m) for m in await r.lrange(keys.full(
                Keys.elementorder(name, device)), 0, -1)]
            members = []
            for member in order:
                values = {_text(k): _text(v) for k, v in (await r.hgetall(keys.full(
                    Keys.elementattributes(member, name, device)))).items()}
                members.append(values)
            event = _definition(device, name, attrs, members)
            if event is not None:
                found.append(event)
        text = await r.get(keys.full(Keys.devicemessages(device)))
        if text is not None:
            stamp, _, message = _text(text).partition(" ")
            found.append(ev.Message(device, stamp, message))
    return found


async def stored_blob_files(r: aioredis.Redis, keys: Keys) -> dict[tuple[str, str], dict[str, str]]:
    """Where each BLOB vector's last files were saved, from the store's ``filepath`` fields
    (so the pages show a camera's last image after a restart, too)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for device in sorted(_text(d) for d in await r.smembers(keys.full(Keys.devices()))):
        for name in sorted(_text(p) for p in await r.smembers(keys.full(
                Keys.properties(device)))):
            kind = await r.hget(keys.full(Keys.attributes(name, device)), "vector")
            if kind is None or _text(kind) != "BLOBVector":
                continue
            for member in [_text(m) for m in await r.lrange(keys.full(
                    Keys.elementorder(name, device)), 0, -1)]:
                path = await r.hget(keys.full(Keys.elementattributes(member, name, device)),
                                    "filepath")
                if path:
                    found.setdefault((device, name), {})[member] = _text(path)
    return found


def _blob_files(data: bytes) -> dict[str, tuple[str, int, str]]:
    """member -> (filepath, size, format) of a ``from_indi`` BLOB notice (`fromxml.blob_notice`:
    each ``oneBLOB`` empty, naming the file the bridge saved)."""
    files: dict[str, tuple[str, int, str]] = {}
    for match in _ONEBLOB.finditer(data):
        for frame in Framer().feed(match.group(0)):
            if type(frame) is Frame and frame.tag == "oneBLOB" and "name" in frame.attrs:
                try:
                    size = int(frame.attrs.get("size", "0"))
                except ValueError:
                    size = 0
                files[frame.attrs["name"]] = (frame.attrs.get("filepath", ""), size,
                                              frame.attrs.get("format", ""))
    return files


def _remember_files(model: Model, device: str, name: str, paths: Mapping[str, str]) -> None:
    """Each member's saved file, as `ClientSource` keeps it (the pages show its image)."""
    vector = model.vector(device, name)
    if vector is None:
        return
    for member, path in paths.items():
        found = vector.members_.get(member)
        if found is not None and path and hasattr(found, "filename"):
            found.filename = path


def _definition(device: str, name: str, attrs: dict[str, str],
                members: list[dict[str, str]]) -> ev.Event | None:
    kind = attrs.get("vector")
    common: dict[str, Any] = {"label": attrs.get("label"), "group": attrs.get("group"),
                              "timestamp": attrs.get("timestamp") or None,
                              "message": attrs.get("message") or None}
    try:
        state = State(attrs.get("state", "Idle"))
        perm = Perm(attrs.get("perm", "ro")) if kind != "LightVector" else Perm.RO
        timeout = attrs.get("timeout") or None
        if kind == "TextVector":
            return ev.DefTextVector(device, name, state, perm, tuple(
                ev.Text(m["name"], m.get("value", ""), m.get("label")) for m in members),
                timeout=timeout, **common)
        if kind == "NumberVector":
            return ev.DefNumberVector(device, name, state, perm, tuple(
                ev.Number(m["name"], m.get("value", "0"), m.get("label"), m.get("format", "%g"),
                          m.get("min", "0"), m.get("max", "0"), m.get("step", "0"))
                for m in members), timeout=timeout, **common)
        if kind == "SwitchVector":
            return ev.DefSwitchVector(device, name, state, perm, Rule(attrs.get(
                "rule", "AnyOfMany")), tuple(ev.Switch(m["name"], SwitchState(m.get(
                    "value", "Off")), m.get("label")) for m in members), timeout=timeout,
                **common)
        if kind == "LightVector":
            return ev.DefLightVector(device, name, state, tuple(
                ev.Light(m["name"], State(m.get("value", "Idle")), m.get("label"))
                for m in members), **common)
        if kind == "BLOBVector":
            return ev.DefBLOBVector(device, name, state, perm, tuple(
                ev.BLOB(m["name"], label=m.get("label")) for m in members), timeout=timeout,
                **common)
    except (KeyError, ValueError, ProtocolError) as exc:
        logger.warning("%s.%s in redis cannot be read back: %s", device, name, exc)
    return None


#: What counts as a reading for the status line's age (a BLOB's too, in `_apply`).
_READINGS = (ev.SetNumberVector, ev.SetTextVector, ev.SetSwitchVector, ev.SetLightVector)


class RedisSource:
    """See the module docstring. ``indihost``/``indiport`` only label the snapshot and the
    pages (the INDI server the bridge is connected to, when known; port 0: not known, and the
    pages say "INDI server (through redis)"); ``retry`` is the policy for reading redis again
    after it is lost (None: ``bridge_retry()``)."""

    def __init__(self, redis_host: RedisServer, indihost: str = "redis",
                 indiport: int = 0, *, retry: Retry | None = None) -> None:
        self.host = redis_host
        self.retry = retry or bridge_retry()
        self.keys = Keys(redis_host.keyprefix)
        self.indihost, self.indiport = indihost, indiport
        self.model = Model()
        self.redis = connect_redis(redis_host)
        self._connected = False
        self._changes = ChangeQueue(MAX_CHANGES, "RedisSource")
        self.waiters = Waiters()  # the client library's set-and-wait
        self._task: asyncio.Task[None] | None = None
        self._newest = ""  # the timestamp of the last reading the bridge published

    def reading_age(self) -> float | None:
        """How old (s) the newest reading the bridge stored is: its driver's timestamp against
        this machine's clock (None: none seen yet). The pages' status line shows it, so a
        central side that falls behind shows on the page (docs/bridges.rst). Parsed here, when
        asked, not for each of thousands of readings a second."""
        if not self._newest:
            return None
        try:
            when = parse_timestamp(self._newest)
        except ValueError:
            return None
        return time.time() - when.replace(tzinfo=UTC).timestamp()

    @property
    def connected(self) -> bool:
        return self._connected

    def snapshot(self) -> Snapshot:
        return take_snapshot(self.model, self.indihost, self.indiport,
                             self._connected).dictdump()

    def vector(self, device: str, name: str) -> VectorDict | None:
        return model_vector(self.model, device, name)

    def changes(self) -> AsyncIterator[Change]:
        return self._changes.changes()

    def _note(self, change: Change) -> None:
        self._changes.put(change)

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult:
        found = self.model.vector(device, vector)
        if found is None:
            raise InvalidValue(f"unknown vector {device}.{vector}")
        try:
            element = new_vector(found, client_values(members))
        except ClientInvalid as exc:
            raise InvalidValue(str(exc)) from None
        result = await self.waiters.send_and_wait(
            self.model, found,
            lambda: self.redis.publish(self.host.to_indi_channel, serialise(element)),
            timeout=timeout)
        return SetResult(str(result.state), "" if result.timed_out else result.message,
                         result.timed_out)

    async def _run(self) -> None:
        # A refused password is retried here: the pages say "not connected" meanwhile.
        await follow_channel(self.redis, self.host, self.host.from_indi_channel, self.retry,
                             self._published, on_subscribed=self._read_store,
                             on_lost=self._lost, refused_ends=False)

    async def _read_store(self) -> None:
        """Subscribed: the whole store read, then put in the model and the pages told in one
        step, so that no page shows the store's devices while it still says "not reachable"."""
        events = await store_events(self.redis, self.keys)
        files = await stored_blob_files(self.redis, self.keys)
        self.model.clear()
        newest = ""
        for event in events:
            self.model.apply(event)
            stamp = getattr(event, "timestamp", None) or ""
            newest = max(newest, stamp)  # ISO 8601, all from the bridge's store
        self._newest = newest
        for (device, name), paths in files.items():
            _remember_files(self.model, device, name, paths)
        self._connected = True
        self._note(Change("connection"))

    async def _published(self, data: bytes) -> None:
        self._apply(data)

    def _lost(self) -> None:
        if self._connected:
            self._connected = False
            self.model.clear()
            self._note(Change("connection"))

    def _apply(self, data: bytes) -> None:
        event: ev.Event | None
        if data.startswith(b"<setBLOBVector"):
            # from_indi names the saved file instead of carrying the bytes: the vector's
            # attributes change, and each member remembers its file (the pages show it)
            frames = [f for f in Framer().feed(data) if type(f) is Frame]
            if not frames:
                return
            attrs = frames[0].attrs
            files = _blob_files(data)
            try:
                members = tuple(ev.BLOB(name, b"", size, fmt) for name, (_, size, fmt)
                                in files.items())
                event = ev.SetBLOBVector(attrs.get("device", ""), attrs.get("name", ""), members,
                                         State(attrs["state"]) if "state" in attrs else None,
                                         attrs.get("timeout"), attrs.get("timestamp"),
                                         attrs.get("message"))
            except ValueError:
                return
            blobs = self.model.apply_blobs(event, {})
            if blobs is not None:
                self._newest = event.timestamp or self._newest
                _remember_files(self.model, event.device, event.name,
                                {name: path for name, (path, _, _) in files.items()})
                self.waiters.feed(blobs)
                self._note(Change("set", event.device, event.name))
            return
        else:
            try:
                event = parse_element(data)
            except ProtocolError:
                event = None
        if event is None:
            return
        found = self.model.apply(event)
        if found is None:
            return
        if isinstance(event, _READINGS) and event.timestamp:
            self._newest = event.timestamp
        self.waiters.feed(found)
        change = change_of(found)
        if change is not None:
            self._note(change)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="indiredis RedisSource")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._task is not None:
            from .indilink import stop_task

            await stop_task(self._task)
        await self.redis.aclose()
