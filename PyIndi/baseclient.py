"""``BaseClient``: pyindi-client's client class, on indipyclient's ``Client``.

A program subclasses ``BaseClient``, overrides the callbacks it needs (``BaseMediator`` has
do-nothing defaults), calls ``setServer`` and ``connectServer``, and then polls the live objects
or waits for its callbacks, as with pyindi-client.

Threads, as pyindi-client has a listener thread per connection:

* one *connection thread* per client runs an asyncio event loop with indipyclient's ``Client``;
  it applies what the server sends to the live objects (``BaseDevice``, ``LiveProperty``) and
  queues the callbacks (a bounded queue: a program whose callbacks fall behind slows the
  reading, nothing is dropped here);
* one *callback thread* calls them, in the order the server's elements arrived. A callback that
  raises is logged (``logging``, logger ``PyIndi.baseclient``) and the next one runs.

The main thread's calls (``connectServer``, ``sendNewNumber`` ...) hand their work to the event
loop and wait for it. ``connectServer()`` returns once ``serverConnected()`` has run.

What differs from pyindi-client on purpose (docs/pyindi.rst): each event is delivered once;
``serverDisconnected(-1)`` when the server goes away, ``serverDisconnected(0)`` after
``disconnectServer()``, and after either ``isServerConnected()`` is False, the devices are gone
and ``connectServer()`` connects again; an exception in a callback is logged, not fatal; values
are checked before they are sent (a refused one is logged and not sent).

The 1.x callbacks (``newNumber``, ``newSwitch``, ``newText``, ``newLight``, ``newBLOB``) are
called for a set only when the subclass defines them and does not override ``updateProperty``:
1.x-only programs work, and programs written for both generations are not told twice.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Mapping
from ssl import SSLContext
from typing import Any
from typing import TypeVar

from indipyclient import events as ev
from indipyclient.model.outgoing import InvalidValue
from indipyclient.session.connect import Client
from indipyclient.session.connect import EventStream
from indipyclient.session.connection import NotConnected
from indipyclient.session.connection import Retry
from indipydiscovery.hostname import RESOLVE_TIMEOUT
from indipydiscovery.hostname import ServiceNotFound
from indipydiscovery.hostname import server_address

from .basedevice import BaseDevice
from .constants import B_NEVER
from .constants import BLOB_MODES
from .live import LiveProperty
from .properties import Property
from .properties import PropertyLight
from .properties import PropertyNumber
from .properties import PropertySwitch
from .properties import PropertyText
from .widgets import IBLOB

__all__ = ["BaseClient", "BaseMediator"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CALLBACKS = 10_000  # callbacks queued for the callback thread before the reading waits
DEFAULT_TIMEOUT = 3.0  # libindi's default connection timeout, seconds
SEND_TIMEOUT = 10.0  # longest a send may wait for the connection thread
_STREAM_EVENTS = 100_000  # the events() stream between the library and this module


class BaseMediator:
    """The callbacks, each doing nothing; ``BaseClient`` subclasses override what they need.

    These are pyindi-client 2.x's (and ``newUniversalMessage`` for messages from no device);
    it has no ``newNumber``, which is how programs written for both generations tell 2.x.
    """

    def newDevice(self, device: BaseDevice) -> None:
        """A device sent its first definition."""

    def removeDevice(self, device: BaseDevice) -> None:
        """A device was deleted (``delProperty`` without a property name)."""

    def newProperty(self, prop: Property) -> None:
        """A property was defined (once per property, not again when it is redefined)."""

    def updateProperty(self, prop: Property) -> None:
        """A property's values or state changed (BLOBs included)."""

    def removeProperty(self, prop: Property) -> None:
        """A property was deleted."""

    def newMessage(self, device: BaseDevice, messageID: int) -> None:
        """A device sent a message; its text is ``device.messageQueue(messageID)``."""

    def newUniversalMessage(self, message: str) -> None:
        """A message from no device (or one this client does not know)."""

    def serverConnected(self) -> None:
        """The connection is up."""

    def serverDisconnected(self, exit_code: int) -> None:
        """The connection ended: 0 after ``disconnectServer()``, -1 when it was lost."""


_LEGACY = {
    "NumberVector": ("newNumber", PropertyNumber),
    "SwitchVector": ("newSwitch", PropertySwitch),
    "TextVector": ("newText", PropertyText),
    "LightVector": ("newLight", PropertyLight),
}


class _Session:
    """One connection from ``connectServer`` to its end: the library's client, the task
    reading its events, and whether the end has been reported."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.reader: asyncio.Task[None] | None = None
        self.ended = False


class BaseClient(BaseMediator):
    """pyindi-client's ``BaseClient`` (see the module docstring). Call ``super().__init__()``."""

    def __init__(self) -> None:
        self._host = "localhost"
        self._port = 7624
        self._ssl: SSLContext | None = None
        self._timeout = DEFAULT_TIMEOUT
        self._verbose = False
        self._devices: dict[str, BaseDevice] = {}
        self._watched: set[str] = set()
        self._watched_props: dict[str, set[str]] = {}
        self._blob_modes: dict[tuple[str, str | None], int] = {}
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._callbacks: queue.Queue[tuple[str, tuple[Any, ...], threading.Event | None]] = (
            queue.Queue(maxsize=MAX_CALLBACKS))
        self._callback_thread: threading.Thread | None = None
        self._blob_batch: tuple[str, str, dict[str, Any]] | None = None

    # -- server address and options -----------------------------------------------------------

    def setServer(self, hostname: str, port: int, ssl: SSLContext | None = None) -> None:
        """Where `connectServer` goes: ``hostname`` ``localhost:PATH`` is the server's Unix
        socket, as in libindi (``indipyclient.session.unixaddress``); a discovered server's
        service name (``"pi INDI 7624"``, as ``indipy-discover`` lists it) is looked for at
        ``connectServer``, for at most ``indipydiscovery.hostname.RESOLVE_TIMEOUT`` seconds,
        and its address and port (its TLS port with ``ssl``) used. ``ssl`` (an
        ``ssl.SSLContext``; ``indipycore.tls.client_context``) reaches a server's TLS port:
        an extension pyindi-client lacks (docs/migrating.rst)."""
        if ssl is not None and not isinstance(ssl, SSLContext):
            raise TypeError(f"ssl must be an ssl.SSLContext, not {type(ssl).__name__}")
        self._host = str(hostname)
        self._port = int(port)
        self._ssl = ssl

    def getHost(self) -> str:
        return self._host

    def getPort(self) -> int:
        return self._port

    def setConnectionTimeout(self, seconds: int, microseconds: int) -> None:
        """How long ``connectServer`` waits for the server."""
        self._timeout = max(0.001, seconds + microseconds / 1e6)

    def setVerbose(self, enable: bool) -> None:
        self._verbose = bool(enable)

    def isVerbose(self) -> bool:
        return self._verbose

    def watchDevice(self, deviceName: str) -> None:
        """Keep only this device (call it once per device wanted, before connecting): other
        devices never reach ``getDevices()`` or the callbacks."""
        self._watched.add(deviceName)

    def watchProperty(self, deviceName: str, propertyName: str) -> None:
        """Keep only these properties of the device (and watch the device)."""
        self._watched.add(deviceName)
        self._watched_props.setdefault(deviceName, set()).add(propertyName)

    def _wanted(self, device: str, prop: str | None) -> bool:
        if self._watched and device not in self._watched:
            return False
        names = self._watched_props.get(device)
        return names is None or prop is None or prop in names

    # -- the threads ------------------------------------------------------------------------------

    def _start_threads(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run_loop() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._loop_thread = threading.Thread(target=run_loop, daemon=True,
                                                     name=f"PyIndi connection {id(self):x}")
                self._loop_thread.start()
                ready.wait()
                self._loop = loop
            if self._callback_thread is None:
                self._callback_thread = threading.Thread(
                    target=self._run_callbacks, daemon=True,
                    name=f"PyIndi callbacks {id(self):x}")
                self._callback_thread.start()
            return self._loop

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run a coroutine on the connection thread and wait for its result."""
        loop = self._start_threads()
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    def _run_callbacks(self) -> None:
        while True:
            name, args, done = self._callbacks.get()
            try:
                if name == "_update":
                    self._update(*args)
                else:
                    getattr(self, name)(*args)
            except Exception:
                logger.exception("callback %s%r raised; the client goes on", name, args)
            finally:
                if done is not None:
                    done.set()

    async def _queue(self, name: str, *args: Any, done: threading.Event | None = None) -> None:
        """Hand a callback to the callback thread; wait (not drop) while its queue is full."""
        item = (name, args, done)
        while True:
            try:
                self._callbacks.put_nowait(item)
                return
            except queue.Full:
                await asyncio.sleep(0.01)

    def _update(self, live: LiveProperty, blobs: tuple[str, ...]) -> None:
        """A set arrived: ``updateProperty``, or the subclass's own 1.x callback."""
        cls = type(self)
        if cls.updateProperty is BaseMediator.updateProperty:
            kind = live.vector.vectortype
            if kind == "BLOBVector":
                legacy_blob = getattr(self, "newBLOB", None)
                if legacy_blob is not None:
                    for name in blobs:
                        legacy_blob(IBLOB(live, name))
                    return
            elif kind in _LEGACY:
                method, view = _LEGACY[kind]
                legacy = getattr(self, method, None)
                if legacy is not None:
                    legacy(view(live))
                    return
        self.updateProperty(Property(live))

    # -- connecting -----------------------------------------------------------------------------

    def connectServer(self) -> bool:
        """Connect to the server set with ``setServer``; True once connected (and
        ``serverConnected()`` has run), False when it cannot be reached in the timeout."""
        if self.isServerConnected():
            logger.warning("connectServer: already connected to %s:%s", self._host, self._port)
            return False
        connected = threading.Event()
        # A name this machine does not resolve is looked for as a service's first.
        try:
            ok = self._call(self._open(connected),
                            self._timeout + SEND_TIMEOUT + RESOLVE_TIMEOUT)
        except TimeoutError:
            ok = False
        except ServiceNotFound as exc:
            logger.error("failed to connect to INDI server %s: %s", self._host, exc)
            return False
        if not ok:
            logger.error("failed to connect to INDI server %s:%s", self._host, self._port)
            return False
        if threading.current_thread() is not self._callback_thread:
            connected.wait(SEND_TIMEOUT)
        return True

    async def _open(self, connected: threading.Event) -> bool:
        old = self._session
        if old is not None:
            # Lost, and the program is quicker than the reader: the old session ends first.
            await self._end(old, -1)
        where = await server_address(self._host, self._port, tls=self._ssl is not None)
        # No retries: pyindi-client programs reconnect themselves, after serverDisconnected.
        client = Client(where.host, where.port, connect_timeout=self._timeout,
                        retry=Retry(retries=0), max_events=_STREAM_EVENTS, ssl=self._ssl)
        for (device, prop), mode in self._blob_modes.items():
            await client.send_enableBLOB(BLOB_MODES[mode], device, prop)
        stream = client.events()
        try:
            await client.start()
        except ConnectionError:
            return False
        session = self._session = _Session(client)
        session.reader = asyncio.create_task(self._read(session, stream, connected))
        return True

    async def _read(self, session: _Session, stream: EventStream,
                    connected: threading.Event) -> None:
        async for event in stream:
            if isinstance(event, ev.ConnectionMade):
                await self._queue("serverConnected", done=connected)
            elif isinstance(event, ev.ConnectionLost):
                break
            else:
                await self._apply(event)
        # Lost (or the library's client gave up, which ends the stream): told once.
        await self._end(session, -1)

    async def _end(self, session: _Session, exit_code: int) -> None:
        """The session is over: forget the devices, report it once, stop the library's
        client (no reconnecting behind the program's back)."""
        if session.ended:
            return
        session.ended = True
        if self._session is session:
            self._session = None
            self._devices.clear()
        await self._queue("serverDisconnected", exit_code)
        reader = session.reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        await session.client.close()

    def disconnectServer(self, exit_code: int = 0) -> bool:
        """Close the connection; ``serverDisconnected(exit_code)`` follows. False when not
        connected."""
        session = self._session
        if session is None or self._loop is None:
            return False
        self._call(self._end(session, exit_code), SEND_TIMEOUT)
        return True

    def isServerConnected(self) -> bool:
        session = self._session
        return session is not None and not session.ended and session.client.connected

    # -- what the server sends ------------------------------------------------------------------

    async def _apply(self, event: ev.Event) -> None:
        if isinstance(event, ev.setVector):
            await self._set(event)
        elif isinstance(event, ev.defVector):
            await self._define(event)
        elif isinstance(event, ev.delProperty):
            await self._delete(event)
        elif isinstance(event, ev.Message):
            await self._message(event)

    async def _define(self, event: ev.defVector) -> None:
        devicename, name = event.vector.devicename, event.vector.name
        if not self._wanted(devicename, name):
            return
        device = self._devices.get(devicename)
        if device is None:
            device = self._devices[devicename] = BaseDevice(devicename)
            await self._queue("newDevice", device)
        live = device.properties.get(name)
        if live is not None:
            # Drivers define again for every getProperties (another client's too): the
            # property is the same one, told once.
            live.vector = event.vector
            return
        live = device.properties[name] = LiveProperty(event.vector, device)
        await self._queue("newProperty", Property(live))

    async def _set(self, event: ev.setVector) -> None:
        device = self._devices.get(event.vector.devicename)
        live = device.properties.get(event.vector.name) if device is not None else None
        if live is None:
            return
        live.vector = event.vector
        blobs: tuple[str, ...] = ()
        if isinstance(event, ev.setBLOBVector):
            for member in event:
                live.blobs[member] = event[member]
            blobs = tuple(event)
        await self._queue("_update", live, blobs)

    async def _delete(self, event: ev.delProperty) -> None:
        devicename = event.devicename or ""
        device = self._devices.get(devicename)
        if device is None:
            return
        if event.vectorname is None:
            del self._devices[devicename]
            await self._queue("removeDevice", device)
            return
        live = device.properties.pop(event.vectorname, None)
        if live is not None:
            await self._queue("removeProperty", Property(live))

    async def _message(self, event: ev.Message) -> None:
        device = self._devices.get(event.devicename) if event.devicename else None
        if device is None:
            if event.devicename and self._watched and event.devicename not in self._watched:
                return
            await self._queue("newUniversalMessage", event.message)
            return
        await self._queue("newMessage", device, device.add_message(event.timestamp,
                                                                    event.message))

    # -- devices --------------------------------------------------------------------------------

    def getDevice(self, deviceName: str) -> BaseDevice:
        """The device, or an invalid (falsy) one when the client does not know it."""
        return self._devices.get(deviceName) or BaseDevice()

    def getDevices(self) -> list[BaseDevice]:
        return list(self._devices.values())

    # -- sending --------------------------------------------------------------------------------

    def _send(self, device: str, name: str, values: Mapping[str, Any]) -> None:
        """Send new values; a refused value or a lost connection is logged, as libindi logs
        and goes on."""
        session = self._session
        if session is None:
            logger.error("not sent %s.%s: not connected", device, name)
            return
        client = session.client
        try:
            self._call(client.send_newVector(device, name, members=values), SEND_TIMEOUT)
        except InvalidValue as exc:
            logger.error("not sent: %s", exc)
        except (NotConnected, LookupError, TimeoutError) as exc:
            logger.error("not sent %s.%s: %s", device, name, exc)

    @staticmethod
    def _values(prop: Property) -> dict[str, Any]:
        live = prop._live
        if live is None:
            return {}
        vector = live.vector
        return {name: vector[name] for name in vector}

    def sendNewProperty(self, prop: Property) -> None:
        """Send every element of the property as the program set them."""
        if not prop:
            logger.error("sendNewProperty: invalid property")
            return
        self._send(prop.getDeviceName(), prop.getName(), self._values(prop))

    def sendNewNumber(self, *args: Any) -> None:
        """``sendNewNumber(prop)``, or ``sendNewNumber(device, property, element, value)``."""
        self._send_element(args, float)

    def sendNewText(self, *args: Any) -> None:
        """``sendNewText(prop)``, or ``sendNewText(device, property, element, text)``."""
        self._send_element(args, str)

    def _send_element(self, args: tuple[Any, ...], convert: Callable[[Any], Any]) -> None:
        """The two forms of ``sendNewNumber`` and ``sendNewText``: (prop) sends the property,
        (device, property, element, value) that element, its value made a float or a str."""
        if len(args) == 4:
            device, name, element, value = args
            self._send(device, name, {element: convert(value)})
        else:
            self.sendNewProperty(*args)

    def sendNewSwitch(self, *args: Any) -> None:
        """``sendNewSwitch(prop)``, or ``sendNewSwitch(device, property, element)``: that
        switch On (and, for a one-of-many or at-most-one rule, the others Off)."""
        if len(args) == 3:
            device, name, element = args
            self._send(device, name, self._switch_on(device, name, element))
        else:
            self.sendNewProperty(*args)

    def _switch_on(self, device: str, name: str, element: str) -> dict[str, Any]:
        switch = self.getDevice(device).getSwitch(name)
        if not switch or switch.getRuleAsString() == "AnyOfMany":
            return {element: "On"}
        return {w.name: "On" if w.name == element else "Off" for w in switch}

    def connectDevice(self, deviceName: str) -> None:
        """Turn the device's CONNECTION to CONNECT."""
        self.sendNewSwitch(deviceName, "CONNECTION", "CONNECT")

    def disconnectDevice(self, deviceName: str) -> None:
        """Turn the device's CONNECTION to DISCONNECT."""
        self.sendNewSwitch(deviceName, "CONNECTION", "DISCONNECT")

    def startBlob(self, devName: str, propName: str, timestamp: str = "") -> None:
        """Begin a BLOB upload to a device's BLOB property; ``sendOneBlobFromBuffer`` adds
        elements, ``finishBlob`` sends them (as one newBLOBVector, as libindi's calls do)."""
        self._blob_batch = (devName, propName, {})

    def sendOneBlobFromBuffer(self, name: str, format: str, data: bytes | bytearray) -> None:
        """Add one element (its name, format like ".fits", the bytes) to the upload."""
        batch = self._blob_batch
        if batch is None:
            logger.error("sendOneBlobFromBuffer %s: call startBlob(device, property, "
                         "timestamp) first", name)
            return
        batch[2][name] = (bytes(data), len(data), format)

    def finishBlob(self) -> None:
        """Send the upload begun by ``startBlob``."""
        batch, self._blob_batch = self._blob_batch, None
        if batch is not None and batch[2]:
            self._send(batch[0], batch[1], batch[2])

    # -- BLOB modes -------------------------------------------------------------------------------

    def setBLOBMode(self, blobH: int, dev: str, prop: str | None = None) -> None:
        """Ask for BLOBs from a device (``prop`` None: all of its BLOB properties):
        ``B_NEVER``, ``B_ALSO`` or ``B_ONLY``. Kept, and asked again on the next connection."""
        if blobH not in BLOB_MODES:
            raise ValueError(f"setBLOBMode: {blobH!r} is not B_NEVER, B_ALSO or B_ONLY")
        prop = prop or None
        if prop is None:
            for key in [k for k in self._blob_modes if k[0] == dev]:
                del self._blob_modes[key]
        self._blob_modes[(dev, prop)] = blobH
        session = self._session
        if session is not None:
            try:
                self._call(session.client.send_enableBLOB(BLOB_MODES[blobH], dev, prop),
                           SEND_TIMEOUT)
            except (NotConnected, TimeoutError) as exc:
                logger.error("setBLOBMode not sent: %s", exc)

    def getBLOBMode(self, dev: str, prop: str | None = None) -> int:
        mode = self._blob_modes.get((dev, prop or None))
        if mode is None and prop:
            mode = self._blob_modes.get((dev, None))
        return B_NEVER if mode is None else mode

    # -- rarely used ------------------------------------------------------------------------------

    def getDevicesWithInterface(self, interface: int) -> list[BaseDevice]:
        """The devices whose driver says it has all these interface bits."""
        return [d for d in self.getDevices()
                if d.getDriverInterface() & interface == interface]
