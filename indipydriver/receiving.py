"""What a driver does with what its server sends: requests, snooped traffic, pings.

The receiving half of `IPyDriver`, kept apart from the sending and running half
(``driver.py``): frames the link's bytes, answers pings and getProperties itself, checks a
client's new*Vector before it is queued for ``rxevent`` (answering a rejected one with Alert),
and queues snooped traffic for ``snoopevent``. Each `IPyDriver` holds one `Receiving`, which
sees its driver as a `ServedDriver` (so this module imports no ``driver.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Mapping
from typing import Any
from typing import Protocol

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.logbudget import short
from indipycore.protocol import events as pe
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.frames import Frame
from indipycore.sharedblobs import inline_attached

from . import rxevents as rx
from .device import Device
from .eventqueue import _EventQueue
from .links import DescriptorLink
from .links import FramedLink
from .links import Link
from .snooping import SnoopRegistry
from .validation import Rejected
from .validation import check_new_vector
from .wire import write_element

__all__ = ["Receiving", "ServedDriver"]

logger = logging.getLogger("indipydriver.driver")  # part of the driver: its logger's name

_CLIENT_TAGS = frozenset(("newNumberVector", "newSwitchVector", "newTextVector", "newBLOBVector"))
_SNOOP_TAGS = frozenset((
    "defNumberVector", "defSwitchVector", "defTextVector", "defLightVector", "defBLOBVector",
    "setNumberVector", "setSwitchVector", "setTextVector", "setLightVector", "setBLOBVector",
    "message", "delProperty",
))


class ServedDriver(Protocol):
    """The driver a `Receiving` reads for (an `IPyDriver`), as it uses it. The queues, pings
    and wake-up event are read from the driver each time: serving anew makes new ones."""

    @property
    def devices(self) -> Mapping[str, Device]: ...
    @property
    def auto_send_def(self) -> bool: ...
    @property
    def debug_enable(self) -> bool: ...
    @property
    def snoops(self) -> SnoopRegistry: ...
    @property
    def _pings(self) -> dict[str, asyncio.Future[None]]: ...
    @property
    def _rx_queue(self) -> _EventQueue: ...
    @property
    def _snoop_queue(self) -> _EventQueue: ...
    @property
    def _snoop_wakeup(self) -> asyncio.Event: ...

    async def _send(self, data: bytes, tag: str | None = None,
                    attrs: dict[str, str] | None = None) -> None: ...


class Receiving:
    """Reads one driver's link and dispatches what arrives (held by its `IPyDriver`)."""

    def __init__(self, driver: ServedDriver) -> None:
        self.driver = driver
        # About what clients and snooped devices sent.
        self.warnings = WarningBudget()

    async def read_loop(self, link: Link, done: asyncio.Event) -> None:
        from indipycore.protocol.framing import INDI_TAGS
        from indipycore.protocol.framing import Framer
        from indipycore.protocol.parser import parse_element

        framer = Framer(known_tags=INDI_TAGS)
        # indiserver's shared BLOBs (sharedblobs)
        take_fds = link.take_fds if isinstance(link, DescriptorLink) else None
        # An in-process server hands its elements framed, as its router read them.
        read_frames = link.read_frames if isinstance(link, FramedLink) else None
        fds: deque[int] = deque()
        try:
            while True:
                items: list[Frame] | list[Frame | ProtocolError]
                if read_frames is not None:
                    items = await read_frames()
                    if not items:
                        logger.debug("%s: input closed, stopping", type(self.driver).__name__)
                        return
                else:
                    chunk = await link.read()
                    if not chunk:
                        logger.debug("%s: input closed, stopping", type(self.driver).__name__)  # routine
                        return
                    if take_fds is not None:
                        fds.extend(take_fds())
                    items = framer.feed(chunk)
                for frame in items:
                    if isinstance(frame, Exception):
                        logger.warning("ignoring malformed input: %s", frame)
                        continue
                    if frame.tag == "setBLOBVector" and b"attached" in frame.data:
                        try:
                            frame = Frame(frame.tag, frame.attrs,
                                          inline_attached(frame.data, fds))
                        except (ValueError, OSError) as exc:
                            logger.error("snooped %s from device %s dropped: %s", frame.tag,
                                         short(frame.device), exc)
                            continue
                    if self.driver.debug_enable:
                        logger.debug("RX %r", frame.data[:500])
                    try:
                        await self._dispatch(frame, parse_element)
                    except Exception:
                        logger.exception("error handling %s for device %r vector %r",
                                         frame.tag, frame.device, frame.name)
        except (ConnectionError, OSError) as exc:
            logger.info("%s: link failed (%s), stopping", type(self.driver).__name__, exc)
        finally:
            for fd in fds:
                os.close(fd)
            done.set()

    async def _dispatch(self, frame: Any, parse_element: Any) -> None:
        tag = frame.tag
        if tag == "pingRequest":
            uid = frame.attrs.get("uid")
            await self.driver._send(write_element(pe.PingReply(uid)))
            return
        if tag == "pingReply":
            future = self.driver._pings.pop(frame.attrs.get("uid", ""), None)
            if future is not None and not future.done():
                future.set_result(None)
            return
        devicename = frame.attrs.get("device")
        if tag == "getProperties":
            await self._answer_get_properties(devicename, frame.attrs.get("name"))
            return
        if tag in _CLIENT_TAGS:
            await self._client_new(frame, parse_element)
            return
        if tag == "enableBLOB":
            device = self.driver.devices.get(devicename or "")
            if device is not None:
                event = parse_element(frame.data)
                if event is not None:
                    vector = device.get(event.name) if event.name else None
                    await self._queue_rx(rx.enableBLOB(event, vector))
            return
        if tag in _SNOOP_TAGS:
            if devicename is not None and devicename in self.driver.devices:
                return  # our own device echoed back; not a snoop
            await self._snooped(frame, parse_element)
            return
        logger.debug("ignoring unexpected <%s>", tag)

    async def _answer_get_properties(self, devicename: str | None, vectorname: str | None) -> None:
        if devicename is not None and devicename != "*" and devicename not in self.driver.devices:
            return  # for another driver
        if not self.driver.auto_send_def:
            # One event per vector, each with its `vector` (3.x: the driver answers with
            # ``await event.vector.send_defVector()``).
            raw = pe.GetProperties(device=devicename, name=vectorname)
            for device in self._selected(devicename):
                if not device.enable:
                    continue
                chosen = [device.get(vectorname)] if vectorname else list(device.values())
                for vector in chosen:
                    if vector is not None and vector.enable:
                        await self._queue_rx(rx.getProperties(raw, device.devicename,
                                                              vector.name, vector))
            return
        for device in self._selected(devicename):
            if not device.enable:
                continue
            if vectorname is not None:
                vector = device.get(vectorname)
                if vector is not None:
                    await vector.send_defVector()
                continue
            for vector in device.values():
                await vector.send_defVector()

    def _selected(self, devicename: str | None) -> list[Device]:
        if devicename is None or devicename == "*":
            return list(self.driver.devices.values())
        return [self.driver.devices[devicename]]

    async def _client_new(self, frame: Any, parse_element: Any) -> None:
        devicename = frame.attrs.get("device")
        vectorname = frame.attrs.get("name")
        if devicename not in self.driver.devices:
            # The server routes by device; anything else is a misrouted message (SPEC p.3).
            if (note := self.warnings.take()) is not None:
                logger.warning("rejected %s: device %s vector %s: unknown device%s",
                               frame.tag, short(devicename), short(vectorname), note)
            return
        try:
            raw = parse_element(frame.data)
        except Exception as exc:  # noqa: BLE001 - a ProtocolError or a conversion error
            if (note := self.warnings.take()) is not None:
                logger.warning("rejected %s: device %s vector %s: malformed (%s)%s",
                               frame.tag, short(devicename), short(vectorname),
                               clip(str(exc)), note)
            await self.answer_rejected(devicename, vectorname,
                                        f"Request rejected: {clip(str(exc))}")
            return
        if raw is None:
            return
        try:
            vector, values = check_new_vector(self.driver.devices, raw)
        except Rejected as why:
            if (note := self.warnings.take()) is not None:
                logger.warning("rejected %s: %s%s", frame.tag, clip(why.reason), note)
            await self.answer_rejected(devicename, vectorname,
                                        f"Request rejected: {clip(why.reason)}")
            return
        await self._queue_rx(rx.NEW_EVENTS[type(raw)](raw, values, vector))

    async def answer_rejected(self, devicename: str | None, vectorname: str | None,
                               text: str) -> None:
        """Tell the client its request failed (propertyvector.PropertyVector._send_rejected).

        For a vector the client cannot know (unknown, deleted, device disabled) there is no
        vector to answer with: only the log line.
        """
        device = self.driver.devices.get(devicename or "")
        vector = device.get(vectorname) if device is not None and vectorname else None
        if vector is not None and vector.enable and device is not None and device.enable:
            await vector._send_rejected(text)

    async def _queue_rx(self, event: rx.RxEvent) -> None:
        """Queue an event for rxevent; when `rx_queue_size` are waiting, drop this one.

        Dropping the newest keeps the order of what was accepted; a dropped new*Vector is answered
        like a rejected one (Alert + message) so the client is not left waiting.
        """
        if self.driver._rx_queue.offer(event):
            return
        if type(event) in rx.NEW_EVENTS.values() and event.vectorname:
            await self.answer_rejected(event.devicename, event.vectorname,
                                        "Request dropped: the driver is busy "
                                        f"({self.driver._rx_queue.qsize()} requests waiting)")

    async def _snooped(self, frame: Any, parse_element: Any) -> None:
        try:
            raw = parse_element(frame.data)
        except Exception as exc:  # noqa: BLE001
            if (note := self.warnings.take()) is not None:
                logger.warning("ignoring malformed snooped %s from device %s: %s%s",
                               frame.tag, short(frame.device), clip(str(exc)), note)
            return
        if raw is None:
            return
        now = time.monotonic()
        if isinstance(raw, pe.Message):
            event: rx.RxEvent = rx.Message(raw)
            self.driver.snoops.heard(raw.device, None, now)
        elif isinstance(raw, pe.DelProperty):
            event = rx.delProperty(raw)
            self.driver.snoops.deleted(raw.device, raw.name, now)
            self.driver._snoop_wakeup.set()
        else:
            event = rx.SNOOP_EVENTS[type(raw)](raw, rx.snooped_values(raw))
            self.driver.snoops.heard(raw.device, raw.name, now)
        self.driver._snoop_queue.offer(event)
