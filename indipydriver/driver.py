"""IPyDriver: holds devices, answers clients, runs your coroutines (indipydriver 3.x API).

Subclass it and override the coroutines::

    class Thermostat(IPyDriver):
        async def rxevent(self, event): ...     # a client's checked request (rxevents.py)
        async def hardware(self): ...           # runs for the life of the driver
        async def snoopevent(self, event): ...  # traffic of devices this driver snoops

    asyncio.run(Thermostat(device).asyncrun())  # an executable driver for indiserver

What the framework does before your code sees anything is in `IPyDriver`'s docstring; how
it reads and dispatches what the server sends is in ``receiving.py`` (its base class).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from indipycore import sharedblobs
from indipycore.byname import ByName
from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.logbudget import short
from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.events import Event
from indipycore.protocol.events import Message
from indipycore.protocol.events import PingRequest
from indipycore.protocol.frames import Frame

from . import rxevents as rx
from .compat3x import DeviceDict
from .compat3x import Driver3x
from .device import Device
from .eventqueue import _EventQueue
from .links import AttachingLink
from .links import FramedLink
from .links import Link
from .links import StdioLink
from .links import reads_nothing
from .localsnoops import LocalSnoops
from .naming import add_named
from .naming import no_such_name
from .receiving import Receiving
from .snooping import SnoopRegistry
from .snooping import _enable_blob_bytes
from .snooping import _get_properties_bytes
from .wire import timestamp_text
from .wire import write_element

__all__ = ["IPyDriver"]

logger = logging.getLogger(__name__)

#: What `IPyDriver.asyncrun` says when its stdin is /dev/null (%s: the devices).
NOTHING_ON_STDIN = (
    "driver %s: standard input is /dev/null (a background job, nohup, a service without "
    "input), so no INDI server can speak to it on stdin/stdout; stopped. Let a server start "
    "it (indiserver or indipyserver, which give it a pipe), or serve it on a port: "
    "IPyServer(driver).run()")


class IPyDriver(Driver3x, ByName[Device]):
    """A driver: a mapping of device name -> Device, plus the coroutines you override.

    Before your code sees anything the framework answers getProperties (unless
    `auto_send_def` is False) and pingRequest, ignores enableBLOB (servers apply it), and
    rejects client requests that break the vector's rules: logged, and answered with the
    vector's current values, state Alert and a message saying why. `rxevent` is called for one
    request at a time, in order (start long actions with `add_background`); an error raised in
    it is logged with the device and vector and the request answered in the same way, naming
    the error; the driver carries on.

    `driverdata` holds the keyword arguments given to the constructor (your hardware objects).
    Tunables (class or instance attributes): `auto_send_def`, `snoop_quiet_seconds` (repeat a
    snoop request after that long without hearing from the device), `blob_ping_timeout` (how
    long the next BLOB waits for the server to confirm the previous one), `rx_queue_size` (how
    many client events may wait for `rxevent`, and how many snooped events for `snoopevent`),
    `shared_blobs` (BLOBs as memory files when stdout is a Unix socket, or in-process while a
    client on the server's Unix socket wants them).
    """

    auto_send_def: bool = True
    debug_enable: bool = False
    snoop_quiet_seconds: float = 60.0
    snoop_retry_after_delete: float = 2.0
    blob_ping_timeout: float = 10.0
    #: Client events waiting for `rxevent`. A client (or a loop of servers) sending faster than
    #: rxevent handles them must not grow memory without bound; past this the *newest* event
    #: is dropped: the waiting ones were accepted first and are kept in order, and a dropped
    #: new*Vector is answered with Alert (see `_queue_rx`), so its sender knows. Snooped events
    #: waiting for `snoopevent` are bounded by the same number (newest dropped and logged).
    rx_queue_size: int = 1000
    #: Under a server that gives the driver a Unix socket as stdout (indiserver >= 1.9.7,
    #: indipyserver), each BLOB's data goes in a memory file (memfd) passed beside its element,
    #: as libindi's drivers send theirs (``IDSharedBlobAlloc``): nothing is base64-encoded in
    #: the driver, and the server passes the memory file as it is to clients on its Unix socket
    #: (``-u``). In-process in indipyserver, the same while a client on its Unix socket wants
    #: the driver's BLOBs (else the driver encodes them: cheaper than a memory file the server
    #: would encode). False: always inline base64, as on pipes.
    shared_blobs: bool = True
    #: What `stop` gives (Driver3x): set by `shutdown()` and when serving ends.
    _stop: bool = False

    def __init__(self, *devices: Device, **driverdata: Any) -> None:
        # 2.x style IPyDriver([dev1, dev2]) is accepted too.
        if len(devices) == 1 and isinstance(devices[0], (list, tuple)):
            devices = tuple(devices[0])
        self.devices: DeviceDict[Device] = DeviceDict()
        self._by_name = self.devices  # the mapping of devices (ByName)
        self._background: list[Coroutine[Any, Any, Any]] = []
        for device in devices:
            if not isinstance(device, Device):
                raise TypeError(f"IPyDriver takes Device objects, not {device!r}")
            add_named(self.devices, device.devicename, device, type(self).__name__, "device")
            device.driver = self
            # Device.add_background before the device had a driver: run when served.
            self._background.extend(device._background)
            device._background.clear()
        self.driverdata = driverdata
        self._stop = False
        self.shutdownrequested = asyncio.Event()
        self.stopped = asyncio.Event()
        self.snoops = SnoopRegistry(self.snoop_quiet_seconds, self.snoop_retry_after_delete)
        self._local_snoops = LocalSnoops()  # snoops on its own devices: heard from itself
        self._failures = WarningBudget(noun="similar failures")  # of rxevent and snoopevent
        self._link: Link | None = None
        self._attaching: AttachingLink | None = None  # `_link`, when it is one
        self._write_frame: Callable[[Frame], Awaitable[None]] | None = None
        self.sends_framed = False  # `_write_frame` is set (`ports.DriverPort`)
        self._warned_unserved = False
        self._taskgroup: asyncio.TaskGroup | None = None
        self._rx_queue = _EventQueue("rxevent", self.rx_queue_size)
        self._snoop_queue = _EventQueue("snoopevent", self.rx_queue_size)
        self._snoop_wakeup = asyncio.Event()
        self._pings: dict[str, asyncio.Future[None]] = {}
        self._ping_count = 0
        self._last_blob_ping: asyncio.Future[None] | None = None
        self._blob_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        # What it does with what its server sends (it reads the queues above from here).
        self._receiving = Receiving(self)

    # ---------------------------------------------------------------- mapping of devices

    def _missing(self, devicename: str) -> KeyError:
        return no_such_name(type(self).__name__, "device", devicename, self.devices)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.devices)})"

    # ---------------------------------------------------------------- override these

    async def rxevent(self, event: rx.RxEvent) -> None:
        """A client's request, already checked; the default hands it to the device's devrxevent."""
        device = self.devices.get(event.devicename or "")
        if device is not None:
            await device.devrxevent(event)

    async def hardware(self) -> None:
        """Runs for the life of the driver; the default runs every device's devhardware."""
        async with asyncio.TaskGroup() as group:
            for device in self.devices.values():
                group.create_task(self._guard(device.devhardware(), f"device {device.devicename!r} devhardware"))

    async def snoopevent(self, event: rx.RxEvent) -> None:
        """Traffic from snooped devices: def*/set* vectors, Message and delProperty; the default
        hands it to every device's devsnoopevent, in the order the devices were given."""
        for device in list(self.devices.values()):
            await device.devsnoopevent(event)

    async def _snoop_dispatch(self, event: rx.RxEvent) -> None:
        """Snooped traffic goes first to the standard devices' roles that snoop (a camera's
        ACTIVE_DEVICES), then to `snoopevent`, whether or not it is overridden."""
        for device in list(self.devices.values()):
            await device._roles_snooped(event)
        await self.snoopevent(event)

    async def _rx_dispatch(self, event: rx.RxEvent) -> None:
        """A standard device's own vectors (CONNECTION, DEBUG, its roles') are handled by the
        framework (`standard.deviceprops.DeviceProps`); everything else goes to `rxevent`."""
        if isinstance(event, rx.ClientVectorEvent):
            device = self.devices.get(event.devicename or "")
            if device is not None and device.standard is not None \
                    and await device.standard.handle(event):
                return
        await self.rxevent(event)

    # ---------------------------------------------------------------- sending

    async def send_message(self, message: str = "", timestamp: datetime | None = None) -> None:
        """Send a site-wide message (no device)."""
        await self._send(write_element(Message(None, timestamp_text(timestamp), message or None)))

    async def send_getProperties(self, devicename: str | None = None,
                                 vectorname: str | None = None) -> None:
        """Snoop: ask for (and from now on receive) the traffic of other devices.

        None = all devices; a device name, optionally with a vector name. The request is
        repeated automatically when the snooped device goes quiet or restarts.
        """
        if devicename is not None and devicename in self.devices:
            # One of its own (a bridge's mount beside its camera): it hears itself, since no
            # server sends a driver its own traffic back.
            self._local_snoops.add(devicename, vectorname)
            device = self.devices[devicename]
            if device.enable:
                shown = [vector._def_bytes("", None) for vector in device.values()
                         if vector.enable and vectorname in (None, vector.name)]
                for raw in self._local_snoops.replay(shown):
                    self._hear_own(raw)
            return
        if devicename is None and vectorname is not None:
            logger.error("cannot snoop vector %r without a device name (SPEC p.5)", vectorname)
            return
        self.snoops.add(devicename, vectorname, time.monotonic())
        self._snoop_wakeup.set()
        await self._send(_get_properties_bytes(devicename, vectorname))

    async def send_enableBLOB(self, value: str, devicename: str,
                              vectorname: str | None = None) -> None:
        """Snoop BLOBs too: ``"Also"`` (or ``"Only"``, ``"Never"``) for a device snooped with
        `send_getProperties`, optionally one vector of it (indilib's ``IDSnoopBLOBs``).

        Servers send a snooping driver no BLOBs until it asks, as they do a client; the images
        then reach `snoopevent` as ``setBLOBVector`` events with decoded bytes. Like
        `send_getProperties`, a request made before serving (or before a reconnect) is sent
        when the driver is served, after the snoop requests.
        """
        try:
            mode = BLOBEnable(value)
        except ValueError:
            logger.error("enableBLOB value %r is not Never, Also or Only", value)
            return
        if devicename in self.devices:
            logger.error("cannot snoop BLOBs of device %r: it belongs to this driver", devicename)
            return
        self.snoops.set_blobs(devicename, vectorname, mode.value)
        await self._send(_enable_blob_bytes(devicename, vectorname, mode.value))

    async def _send(self, data: bytes, tag: str | None = None,
                    attrs: dict[str, str] | None = None) -> None:
        """Write one serialised message; dropped (with a debug line) when not connected.
        With its `tag` and start-tag `attrs` (as a framer reads them), it goes framed to a
        link that takes frames (`_write_frame`)."""
        link = self._link
        if link is None:
            if not self._warned_unserved:
                self._warned_unserved = True  # once: a loop of sends must not flood the log
                logger.warning("%s is not served yet (or no longer): %s dropped. A vector's "
                               "values reach clients with its definition; a message is lost",
                               type(self).__name__, short(bytes(data[:80])))
            elif self.debug_enable:
                logger.debug("not connected, dropped %r", data[:200])
            return
        if self.debug_enable:
            logger.debug("TX %r", data[:500])
        write_frame = self._write_frame
        if write_frame is not None and tag is not None and attrs is not None:
            await write_frame(Frame(tag, attrs, data))
        else:
            await link.write(data)
        if self._local_snoops and (raw := self._local_snoops.event_of(data)) is not None:
            self._hear_own(raw)

    def _hear_own(self, raw: Event) -> None:
        """What this driver sent about a device of its own that it snoops on, handed to its
        snooping path as the server hands other devices' traffic (`localsnoops`)."""
        self._snoop_queue.offer(rx.SNOOP_EVENTS[type(raw)](raw, rx.snooped_values(raw)))

    @property
    def attaches_blobs(self) -> bool:
        """True while BLOBs go as memory files (`shared_blobs`, on a link that can pass
        them, on a system that has them)."""
        link = self._attaching
        return (self.shared_blobs and link is not None and link.attaches_blobs
                and sharedblobs.CAN_ATTACH)

    async def _send_attached(self, data: bytes, fds: Sequence[int]) -> None:
        """Write an element whose attached members' memory files are `fds`, in order."""
        link = self._attaching
        if self._link is None:
            await self._send(data)  # dropped, and said so, as any send while unserved
        elif link is self._link and link.attaches_blobs:
            if self.debug_enable:
                logger.debug("TX %r with %d memory file(s)", data[:500], len(fds))
            await link.write_attached(data, fds)
        else:
            # Served anew, on a link that cannot pass them, while the BLOB was made ready.
            await self._send(sharedblobs.inline_attached(data, deque(sharedblobs.duplicates(fds))))

    async def _send_blob(self, data: bytes, fds: Sequence[int] = ()) -> None:
        """Send a setBLOBVector (with `fds`, its attached members' memory files, which stay
        the caller's), then a pingRequest; the next BLOB waits for its reply.

        This is indilib's (>= 1.9.7) back-pressure: the server answers once it has taken the
        BLOB, so a driver never queues images faster than they leave (indi-notes 2.7).
        """
        async with self._blob_lock:
            previous = self._last_blob_ping
            if previous is not None and not previous.done():
                try:
                    await asyncio.wait_for(asyncio.shield(previous), self.blob_ping_timeout)
                except TimeoutError:
                    logger.warning("no pingReply for the previous BLOB within %s s; sending anyway",
                                   self.blob_ping_timeout)
            attaching = self._attaching
            if (fds and attaching is not None and attaching is self._link
                    and attaching.attaches_blobs):
                # The ping in the element's own write, as libindi sends it: the server reads
                # the two together and answers in the same turn.
                await self._send_attached(data + self._next_blob_ping(), fds)
                return
            if fds:
                await self._send_attached(data, fds)
            else:
                await self._send(data)
            if self._link is None:
                return
            await self._send(self._next_blob_ping())

    def _next_blob_ping(self) -> bytes:
        """A pingRequest for the BLOB being sent, its reply awaited by the next BLOB."""
        self._ping_count += 1
        uid = f"SetBLOB/{self._ping_count}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for old in [k for k, f in self._pings.items() if f.done()]:
            del self._pings[old]
        self._pings[uid] = future
        self._last_blob_ping = future
        return write_element(PingRequest(uid))

    # ---------------------------------------------------------------- running

    def add_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine alongside the driver; its errors are logged, not fatal."""
        if self._taskgroup is not None:
            self._tasks.add(self._taskgroup.create_task(self._guard(coro, "background task")))
        else:
            self._background.append(coro)

    def shutdown(self) -> None:
        """Stop the driver: `serve`/`asyncrun` return soon after; `stop` is True from now."""
        self._stop = True
        for device in self.devices.values():
            device.shutdown()
        self.shutdownrequested.set()

    async def asyncrun(self) -> None:
        """Serve on stdin/stdout: the way indiserver runs an executable driver.

        With stdin on /dev/null (a background job, ``nohup``) no server can ever speak to
        the driver: that is said, with what to do, and it returns at once."""
        if reads_nothing(0):
            logger.error(NOTHING_ON_STDIN, ", ".join(self.devices) or type(self).__name__)
            return
        # Under our server, a pipe for its XML where its BLOBs go aside as memory files; the
        # socket where they go inline (`StdioLink`, ``indipyserver.drivers.fdchannel``).
        await self.serve(StdioLink(ask_for_pipe=self.shared_blobs and sharedblobs.CAN_ATTACH))

    async def serve(self, link: Link) -> None:
        """Run the driver on `link` until the peer closes it (EOF) or `shutdown()` is called."""
        self._fresh_primitives()
        self._stop = False
        for device in self.devices.values():
            device._stop = False
        self.shutdownrequested.clear()
        self.stopped.clear()
        self._link = link
        self._attaching = link if isinstance(link, AttachingLink) else None
        # An in-process server's link takes an element framed (Frame), sparing its framer.
        self._write_frame = link.write_frame if isinstance(link, FramedLink) else None
        self.sends_framed = self._write_frame is not None
        self._warned_unserved = False
        done = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                self._taskgroup = group
                tasks = [
                    group.create_task(self._receiving.read_loop(link, done)),
                    group.create_task(self._consume(self._rx_queue, self._rx_dispatch, "rxevent")),
                    group.create_task(self._consume(self._snoop_queue, self._snoop_dispatch,
                                                    "snoopevent")),
                    group.create_task(self._snoop_timer()),
                    group.create_task(self._guard(self.hardware(), "hardware")),
                ]
                for coro in self._background:
                    tasks.append(group.create_task(self._guard(coro, "background task")))
                self._background.clear()
                # Snoop requests made before serving (or before a reconnect) go out now.
                for snoop in self.snoops:
                    snoop.last_sent = time.monotonic()
                    await self._send(_get_properties_bytes(snoop.devicename, snoop.vectorname))
                for request in self.snoops.blob_requests():
                    await self._send(request)
                # What the devices' roles start once served (the camera's snoop requests).
                for device in self.devices.values():
                    await device._started()
                self._tasks.update(tasks)
                stopper = group.create_task(self.shutdownrequested.wait())
                ended = group.create_task(done.wait())
                await asyncio.wait([stopper, ended], return_when=asyncio.FIRST_COMPLETED)
                # Stop everything, including tasks add_background started while running.
                self._taskgroup = None
                for task in (*self._tasks, stopper, ended):
                    task.cancel()
        finally:
            self._taskgroup = None
            self._tasks.clear()
            # What the roles started while connected (polls, monitors) ends with the run,
            # before the link closes (issue 90 item 5: they outlived it).
            for device in self.devices.values():
                await device._ended()
            self._link = None
            self._attaching = None
            self._write_frame = None
            self.sends_framed = False
            for future in self._pings.values():
                if not future.done():
                    future.cancel()
            self._pings.clear()
            self._last_blob_ping = None
            try:
                await link.close()
            except Exception:
                logger.debug("error closing link", exc_info=True)
            self._stop = True
            self.stopped.set()

    def _fresh_primitives(self) -> None:
        """asyncio queues and locks belong to the loop that first used them; a driver served
        again under a new loop (a restart, a second asyncio.run in tests) needs new ones."""
        loop = asyncio.get_running_loop()
        if getattr(self.shutdownrequested, "_loop", None) not in (None, loop):
            self.shutdownrequested = asyncio.Event()
            self.stopped = asyncio.Event()
        self._rx_queue = _EventQueue("rxevent", self.rx_queue_size)
        self._snoop_queue = _EventQueue("snoopevent", self.rx_queue_size)
        self._snoop_wakeup = asyncio.Event()
        self._blob_lock = asyncio.Lock()

    async def _guard(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        try:
            await coro
        except Exception as exc:
            logger.exception("%s of %s failed", what, type(self).__name__)
            # Its devices go on being served with the last values sent: clients are told why
            # nothing changes any more (each device's message log shows it).
            text = (f"{what} of {type(self).__name__} failed ({type(exc).__name__}: "
                    f"{clip(str(exc), 150)}); what it updated is no longer updated")
            for device in self.devices.values():
                try:
                    await device.send_message(text)
                except Exception as again:  # noqa: BLE001  # the link itself failed, say
                    logger.debug("could not tell clients: %s", again)

    async def _consume(self, queue: _EventQueue, handler: Any, what: str) -> None:
        while True:
            event = await queue.get()
            try:
                await handler(event)
            except Exception as exc:
                if (note := self._failures.take()) is not None:
                    # A client repeating a request that fails must not flood the log.
                    logger.exception("%s failed for device %r vector %r (%s)%s", what,
                                     event.devicename, event.vectorname, type(event).__name__,
                                     note)
                if type(event) in rx.NEW_EVENTS.values() and event.vectorname:
                    # The client waits for an answer (KStars shows the vector Busy until one
                    # comes): the request failed, so say so, as for one the framework refused.
                    try:
                        await self._answer_rejected(
                            event.devicename, event.vectorname,
                            f"Request failed: {type(exc).__name__} in the driver: {exc}"[:300])
                    except Exception as again:  # noqa: BLE001  # the link itself failed, say
                        logger.debug("could not answer the failed request: %s", again)
            finally:
                queue.task_done()  # the test harness's get_properties waits on it

    async def _answer_rejected(self, devicename: str | None, vectorname: str | None,
                               text: str) -> None:
        """Answer a client's request that failed with the vector, Alert and `text`."""
        await self._receiving.answer_rejected(devicename, vectorname, text)

    async def _snoop_timer(self) -> None:
        while True:
            self._snoop_wakeup.clear()
            delay = self.snoops.next_check(time.monotonic()) if len(self.snoops) else 3600.0
            try:
                async with asyncio.timeout(delay):  # (wait_for can lose a cancellation)
                    await self._snoop_wakeup.wait()
            except TimeoutError:
                pass
            for snoop in self.snoops.due(time.monotonic()):
                snoop.unanswered += 1
                logger.log(logging.INFO if snoop.absent() else logging.DEBUG,
                           "repeating snoop request device=%r vector=%r (nothing heard; "
                           "asked again while it stays quiet)", snoop.devicename, snoop.vectorname)
                await self._send(_get_properties_bytes(snoop.devicename, snoop.vectorname))
