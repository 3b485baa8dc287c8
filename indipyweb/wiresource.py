"""`WireSource`: a `DeviceSource` that is a live INDI connection, on the toolkit's protocol core.

It connects to an INDI server, asks for every property, keeps the latest state of every vector
in the snapshot shape, answers pings (indilib >= 1.9.7 drivers stall without), saves received
BLOBs into the BLOB folder, and reconnects by itself (capped exponential backoff; on loss every
device is forgotten and the pages say so). It is the web client's own small connection until
the `indipyclient` library (issue 29) is on main; then `clientsource` takes over behind the
same `DeviceSource` interface. No second parser: frames and events come from
`indipydriver.protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
from collections import deque
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from indipydriver.protocol import (
    BLOB,
    BLOBEnable,
    DefBLOBVector,
    DefLightVector,
    DefNumberVector,
    DefSwitchVector,
    DefTextVector,
    DelProperty,
    EnableBLOB,
    Event,
    Framer,
    GetProperties,
    Message,
    NewBLOBVector,
    NewNumberVector,
    NewSwitchVector,
    NewTextVector,
    Number,
    PingReply,
    PingRequest,
    ProtocolError,
    SetBLOBVector,
    SetLightVector,
    SetNumberVector,
    SetSwitchVector,
    SetTextVector,
    Switch,
    SwitchState,
    Text,
    parse_element,
    serialise,
)
from indipydriver.protocol.blobs import is_zlib_format, unpack_blob
from indipydriver.protocol.numbers import format_number, number_to_wire, parse_number

from .coalesce import Coalescer
from .source import BlobUpload, Change, InvalidValue, SetResult, Snapshot, VectorDict

__all__ = ["WireSource", "blob_filename"]

logger = logging.getLogger(__name__)

MAX_MESSAGES = 100  # per device and for the server: the log pages show these
MAX_BLOB_BYTES = 512 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_KIND = {
    DefTextVector: "TextVector", DefNumberVector: "NumberVector",
    DefSwitchVector: "SwitchVector", DefLightVector: "LightVector",
    DefBLOBVector: "BLOBVector",
}


def blob_filename(device: str, vector: str, member: str, timestamp: str, fmt: str) -> str:
    """A file name for a received BLOB that cannot leave its folder, whatever the INDI strings
    hold: every run of characters outside ``[A-Za-z0-9._-]`` becomes ``_``, no leading dot."""
    stem = "_".join((device, vector, member, timestamp.replace(":", "")))
    name = _UNSAFE.sub("_", stem) + _UNSAFE.sub("_", fmt)
    name = name.lstrip(".") or "blob"
    return name[:200]


class WireSource:
    """Connects to `host`:`port`; received BLOBs are saved in `blobfolder` (None: not asked
    for). Start it with ``async with source:``."""

    def __init__(self, host: str = "localhost", port: int = 7624,
                 blobfolder: str | Path | None = None, *, max_backoff: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.blobfolder = Path(blobfolder) if blobfolder is not None else None
        self.max_backoff = max_backoff
        self._devices: dict[str, dict[str, Any]] = {}
        self._messages: deque[list[str]] = deque(maxlen=MAX_MESSAGES)
        self._connected = False
        self._writer: asyncio.StreamWriter | None = None
        self._notices: Coalescer[Change] = Coalescer(max_keys=10_000)
        self._waiters: dict[tuple[str, str], list[asyncio.Future[SetResult]]] = {}
        self._task: asyncio.Task[None] | None = None

    # -- DeviceSource ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def snapshot(self) -> Snapshot:
        return {
            "indihost": self.host, "indiport": self.port, "connected": self._connected,
            "messages": [list(m) for m in self._messages],
            "devices": {
                name: {"devicename": name, "enable": True,
                       "messages": [list(m) for m in dev["messages"]],
                       "vectors": {vn: _copy_vector(v) for vn, v in dev["vectors"].items()}}
                for name, dev in self._devices.items()
            },
        }

    def vector(self, device: str, name: str) -> VectorDict | None:
        dev = self._devices.get(device)
        if dev is None:
            return None
        vec = dev["vectors"].get(name)
        return None if vec is None else _copy_vector(vec)

    async def changes(self) -> AsyncIterator[Change]:
        while True:
            keys, overflowed = await self._notices.get()
            if overflowed:
                yield Change("connection")  # everything may have changed: refresh all
            for change in keys:
                yield change

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult:
        vec = self._devices.get(device, {}).get("vectors", {}).get(vector)
        if vec is None:
            raise InvalidValue(f"no vector {device}.{vector}")
        if vec["perm"] == "ro":
            raise InvalidValue(f"{device}.{vector} is read-only")
        unknown = [m for m in members if m not in vec["members"]]
        if unknown:
            raise InvalidValue(f"{device}.{vector} has no member {unknown[0]!r}")
        event = _new_vector(vec, members)
        writer = self._writer
        if writer is None or not self._connected:
            raise ConnectionError(f"not connected to the INDI server {self.host}:{self.port}")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[SetResult] = loop.create_future()
        self._waiters.setdefault((device, vector), []).append(waiter)
        try:
            writer.write(serialise(event))
            await writer.drain()
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            current = self._devices.get(device, {}).get("vectors", {}).get(vector, vec)
            return SetResult(str(current["state"]), str(current.get("message") or ""),
                             timed_out=True)
        finally:
            waiting = self._waiters.get((device, vector), [])
            if waiter in waiting:
                waiting.remove(waiter)
            waiter.cancel()

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name=f"indi {self.host}:{self.port}")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the connection --------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.25
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                logger.info("INDI server %s:%d: %s", self.host, self.port, exc)
            else:
                backoff = 0.25
                try:
                    await self._session(reader, writer)
                except (OSError, EOFError) as exc:
                    logger.info("INDI connection lost: %s", exc)
                finally:
                    self._lost()
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
            # jitter, so many web servers restarting with one INDI server do not stampede it
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self.max_backoff)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._connected = True
        self._notices.put(Change("connection"))
        writer.write(serialise(GetProperties(version="1.7")))
        await writer.drain()
        framer = Framer()
        while True:
            data = await reader.read(1 << 20)
            if not data:
                raise EOFError("the server closed the connection")
            for frame in framer.feed(data):
                if isinstance(frame, ProtocolError):
                    logger.warning("INDI server sent something malformed: %s", frame)
                    continue
                try:
                    event = parse_element(frame.data)
                except ProtocolError as exc:
                    logger.warning("skipped an element the server sent: %s", exc)
                    continue
                if event is not None:
                    self._receive(event, writer)
            await writer.drain()

    def _lost(self) -> None:
        self._writer = None
        if self._connected:
            self._connected = False
            self._devices.clear()
            self._notices.put(Change("connection"))
        for waiting in self._waiters.values():
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_exception(ConnectionError("INDI connection lost"))
        self._waiters.clear()

    def _receive(self, event: Event, writer: asyncio.StreamWriter) -> None:
        if isinstance(event, PingRequest):
            writer.write(serialise(PingReply(uid=event.uid)))
        elif isinstance(event, (DefTextVector, DefNumberVector, DefSwitchVector,
                                DefLightVector, DefBLOBVector)):
            self._define(event)
            if isinstance(event, DefBLOBVector) and self.blobfolder is not None:
                writer.write(serialise(EnableBLOB(device=event.device, name=event.name,
                                                  value=BLOBEnable.ALSO)))
        elif isinstance(event, (SetTextVector, SetNumberVector, SetSwitchVector,
                                SetLightVector, SetBLOBVector)):
            self._update(event)
        elif isinstance(event, DelProperty):
            self._delete(event)
        elif isinstance(event, Message):
            self._message(event.device, event.timestamp, event.message)

    def _device(self, name: str) -> dict[str, Any]:
        dev = self._devices.get(name)
        if dev is None:
            dev = self._devices[name] = {"vectors": {}, "messages": deque(maxlen=MAX_MESSAGES)}
        return dev

    def _message(self, device: str | None, timestamp: str | None, text: str | None) -> None:
        if not text:
            return
        entry = [timestamp or "", text]
        if device:
            self._device(device)["messages"].append(entry)
        else:
            self._messages.append(entry)
        self._notices.put(Change("message", device))

    def _define(self, event: Any) -> None:
        vec: dict[str, Any] = {
            "vectortype": _KIND[type(event)], "name": event.name, "devicename": event.device,
            "label": event.label or event.name, "enable": True, "message": event.message or "",
            "message_timestamp": event.timestamp or "", "group": event.group or "",
            "state": str(event.state), "timeout": getattr(event, "timeout", None) or "0",
            "timestamp": event.timestamp or "",
            "perm": "ro" if isinstance(event, DefLightVector) else str(event.perm),
            "members": {m.name: _member_dict(m) for m in event.members},
        }
        if isinstance(event, DefSwitchVector):
            vec["rule"] = str(event.rule)
        self._device(event.device)["vectors"][event.name] = vec
        self._message(event.device, event.timestamp, event.message)
        self._notices.put(Change("define", event.device, event.name))

    def _update(self, event: Any) -> None:
        vec = self._devices.get(event.device, {}).get("vectors", {}).get(event.name)
        if vec is None:
            logger.debug("set for unknown vector %s.%s ignored", event.device, event.name)
            return
        if event.state is not None:
            vec["state"] = str(event.state)
        if event.timestamp:
            vec["timestamp"] = event.timestamp
        if getattr(event, "timeout", None):
            vec["timeout"] = event.timeout
        if event.message:
            vec["message"] = event.message
            vec["message_timestamp"] = event.timestamp or ""
        for member in event.members:
            current = vec["members"].get(member.name)
            if current is None:
                continue
            if isinstance(member, BLOB):
                self._save_blob(event, member, current)
            else:
                current["value"] = str(member.value)
                if isinstance(member, Number):
                    _number_fields(current, member)
        self._message(event.device, event.timestamp, event.message)
        self._notices.put(Change("set", event.device, event.name))
        key = (event.device, event.name)
        if vec["state"] != "Busy" and key in self._waiters:
            result = SetResult(vec["state"], vec["message"])
            for waiter in self._waiters.pop(key):
                if not waiter.done():
                    waiter.set_result(result)

    def _save_blob(self, event: Any, member: BLOB, current: dict[str, Any]) -> None:
        fmt = member.format
        data = member.data
        if is_zlib_format(fmt):
            try:
                data = unpack_blob(data, fmt, max_size=MAX_BLOB_BYTES)
            except (ValueError, ProtocolError) as exc:
                logger.warning("BLOB %s.%s.%s not decompressed: %s", event.device, event.name,
                               member.name, exc)
                return
            fmt = fmt[:-2]
        current["blobsize"] = len(data)
        current["blobformat"] = fmt
        if self.blobfolder is None:
            return
        name = blob_filename(event.device, event.name, member.name,
                             event.timestamp or "", fmt)
        self.blobfolder.mkdir(parents=True, exist_ok=True)
        final = self.blobfolder / name
        temp = self.blobfolder / f".{name}.part"
        try:
            temp.write_bytes(data)
            os.replace(temp, final)
        except OSError as exc:
            logger.warning("BLOB not saved as %s: %s", final, exc)
            return
        current["filename"] = name

    def _delete(self, event: DelProperty) -> None:
        dev = self._devices.get(event.device)
        if dev is None:
            return
        if event.name is None:
            del self._devices[event.device]
        else:
            dev["vectors"].pop(event.name, None)
        self._notices.put(Change("delete", event.device, event.name))


def _copy_vector(vec: dict[str, Any]) -> VectorDict:
    out = dict(vec)
    out["members"] = {name: dict(m) for name, m in vec["members"].items()}
    return out


def _member_dict(member: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"label": member.label or member.name}
    if isinstance(member, BLOB):
        out.update(value=None, filename="", blobsize=0, blobformat="")
        return out
    out["value"] = str(member.value)
    if isinstance(member, Number):
        out.update(format=member.format or "%g", min=member.min or "0", max=member.max or "0",
                   step=member.step or "0")
        _number_fields(out, member)
    return out


def _number_fields(out: dict[str, Any], member: Number) -> None:
    if member.format is not None:
        out["format"] = member.format
    for key in ("min", "max", "step"):
        value = getattr(member, key)
        if value is not None:
            out[key] = value
    try:
        value = parse_number(member.value)
    except ValueError:
        out["floatvalue"] = None
        out["formattedvalue"] = member.value
        return
    out["floatvalue"] = value
    try:
        out["formattedvalue"] = format_number(value, out.get("format", "%g"))
    except ValueError:
        out["formattedvalue"] = member.value


def _new_vector(vec: dict[str, Any], members: Mapping[str, object]) -> Event:
    device, name, kind = vec["devicename"], vec["name"], vec["vectortype"]
    if kind == "NumberVector":
        nums = []
        for key, value in members.items():
            if not isinstance(value, (int, float)):
                raise InvalidValue(f"{device}.{name}.{key}: a number is needed")
            nums.append(Number(key, number_to_wire(float(value))))
        return NewNumberVector(device, name, tuple(nums))
    if kind == "SwitchVector":
        switches = []
        for key, value in members.items():
            if value not in ("On", "Off"):
                raise InvalidValue(f"{device}.{name}.{key}: On or Off is needed")
            switches.append(Switch(key, SwitchState(value)))
        return NewSwitchVector(device, name, tuple(switches))
    if kind == "TextVector":
        return NewTextVector(device, name, tuple(Text(k, str(v)) for k, v in members.items()))
    if kind == "BLOBVector":
        blobs = []
        for key, value in members.items():
            if not isinstance(value, BlobUpload):
                raise InvalidValue(f"{device}.{name}.{key}: a file is needed")
            size = len(value.data)
            if is_zlib_format(value.format):
                size = len(unpack_blob(value.data, value.format, max_size=MAX_BLOB_BYTES))
            blobs.append(BLOB(key, data=value.data, size=size, format=value.format))
        return NewBLOBVector(device, name, tuple(blobs))
    raise InvalidValue(f"{device}.{name} is a {kind}: it cannot be set")


