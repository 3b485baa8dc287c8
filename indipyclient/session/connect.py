"""The modern API: ``async with indipyclient.connect(host, port) as client:``.

::

    import asyncio, indipyclient

    async def main():
        async with indipyclient.connect("localhost", 7624, blobfolder="images") as client:
            await client.wait_for("Thermostat", "TARGET", timeout=10)
            print(client.get("Thermostat", "TARGET", "TARGET"))          # 15.0
            result = await client.set("Thermostat", "TARGET", {"TARGET": 21.5}, wait=True)
            print(result.state, result.message)                          # Ok ...
            async for event in client.events():                          # bounded
                print(event.eventtype, event.devicename, event.vectorname, dict(event))

    asyncio.run(main())

``host`` ``localhost:PATH`` is the server's Unix socket, as libindiclient names it
(``connection``'s docstring: abstract on Linux, BLOBs there taken as memory files).

``ssl=`` (an ``ssl.SSLContext``, asyncio's convention) reaches a server's TLS port
(``indipyserver --tls-port``): ``connect("obs.example", 7625,
ssl=indipycore.tls.client_context("ca.crt", "me.crt", "me.key"))`` verifies the server's
certificate against that CA (for ``server_hostname=``, by default ``host``) and presents
``me.crt``, whose CN the server then knows this client by (docs/remote-observatory.rst).

What a ``Client`` offers:

* ``client.connected``; ``client.devices`` (also ``client[device]``, ``len``, ``in``): the live
  model, ``client[device][vector][member]`` the member's value; a vector has ``state``,
  ``perm``, ``rule``, ``label``, ``group``, ``message``, ``timestamp``, ``timeout``,
  ``vectortype`` and ``member(name)`` (``label``, ``value``; numbers ``format``, ``min``,
  ``max``, ``step``, ``getfloatvalue()``, ``getformattedvalue()``);
* ``client.get(device, vector, member)``: the value, a float for numbers;
* ``client.events()``: an async iterator of ``indipyclient.model.events`` objects from the moment it
  is made; each stream holds at most ``max_events``: when the program falls behind, the oldest
  events are dropped (connection events are kept) and the drop is logged and counted
  (``stream.dropped``); the model itself is always current;
* ``await client.wait_for(device, vector, state=None, timeout=10)``: the vector once it is
  known (and in ``state``, a state or a collection of states); ``TimeoutError`` otherwise;
* ``await client.set(device, vector, {member: value}, wait=True, timeout=None)``: waits for
  the vector's definition if it has not come yet (at most ``timeout``, default 10 s, then
  ``UnknownVector``, so ``set`` may follow ``connect()`` at once), checks the
  values (``outgoing``: ``InvalidValue`` names device, vector and member; nothing is sent),
  sends only those members, marks the vector Busy and, with ``wait``, returns a ``SetResult``
  once the driver answers with a state other than Busy (``state`` Ok/Alert/Idle and its
  ``message``), or at the timeout (``timed_out`` True, default timeout the larger of 10 s and
  the vector's own);
* ``client.messages``: the last ``max_messages`` ``events.Message`` (site-wide and device
  messages, oldest first);
* ``await client.send_getProperties(device=None, vector=None)``,
  ``await client.send_enableBLOB(value, device, vector=None)`` (remembered across reconnects).

The connection is kept up (``connection``): a lost one is retried as ``retry=`` says (an
``indipyclient.Retry``, the project's one policy; ``backoff=`` changes only its delays), what was learnt
is cleared and learnt again, and the events stream says so (``ConnectionLost``,
``ConnectionMade``). Entering the ``async with`` waits up to ``connect_timeout`` seconds for the
first connection and raises ``ConnectionError`` if there is none, saying why the last attempt
failed (None: do not wait); with ``first_failure_ends=True`` it raises at the first failed
attempt instead (a refused connection is known at once). ``on_connect_failure`` is called with
the reason (``Connection refused``...) as soon as any attempt fails, before the retry's delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from ssl import SSLContext
from types import TracebackType
from typing import Any
from typing import Self

from indipyclient.model import events as ev
from indipyclient.model.outgoing import new_vector
from indipyclient.model.properties import Device
from indipyclient.model.properties import NumberVector
from indipyclient.model.properties import PropertyVector
from indipyclient.model.tree import Model
from indipycore.protocol import BLOBEnable
from indipycore.protocol import GetProperties
from indipycore.protocol import State
from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import Retry

from .connection import Connection
from .connection import NotConnected
from .connection import cannot_connect
from .setwait import SetResult
from .setwait import Waiters

__all__ = ["Client", "EventStream", "SetResult", "UnknownVector", "connect"]

logger = logging.getLogger(__name__)

MAX_EVENTS = 1000
MAX_MESSAGES = 100
#: Seconds ``Client.set`` waits for a vector's definition when no ``timeout`` is given.
DEFINITION_WAIT = 10.0


class UnknownVector(LookupError):
    """The client has not learnt this device or vector (not defined by the server, or not yet)."""

    def __init__(self, device: str, vector: str | None = None, why: str = "") -> None:
        what = f"vector {device}.{vector}" if vector is not None else f"device {device}"
        super().__init__(f"unknown {what}: {why or 'not defined by the server (yet)'}")
        self.device = device
        self.vector = vector


class EventStream:
    """A bounded stream of client events (``async for event in stream``); see ``Client``."""

    def __init__(self, client: Client, maxsize: int) -> None:
        self._client = client
        self._items: deque[ev.Event] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self.maxsize = maxsize
        self.dropped = 0

    def put(self, event: ev.Event) -> None:
        items = self._items
        if len(items) >= self.maxsize:
            for index, old in enumerate(items):
                if not isinstance(old, ev.ConnectionMade | ev.ConnectionLost):
                    del items[index]
                    break
            else:
                items.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("an events() reader is behind: %d events dropped so far (the "
                               "model stays current)", self.dropped)
        items.append(event)
        self._wake.set()

    def close(self) -> None:
        """Stop the stream: iteration ends once the events already queued are read."""
        self._closed = True
        self._wake.set()
        self._client._streams.discard(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ev.Event:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return self._items.popleft()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Client:
    """A client of one INDI server; use ``connect()`` (see the module docstring)."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 7624,
        blobfolder: str | Path | None = None,
        *,
        connect_timeout: float | None = 10.0,
        max_events: int = MAX_EVENTS,
        max_messages: int = MAX_MESSAGES,
        backoff: Backoff | None = None,
        max_element_size: int | None = None,
        retry: Retry | None = None,
        on_connect_failure: Callable[[str], None] | None = None,
        first_failure_ends: bool = False,
        ssl: SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        folder = None
        if blobfolder is not None:
            folder = Path(blobfolder).expanduser().resolve()
            if not folder.is_dir():
                raise ValueError(f"blobfolder {str(folder)!r} is not an existing folder")
        self.host = host
        self.port = port
        self.model = Model()
        options: dict[str, Any] = {"blobfolder": folder, "backoff": backoff, "retry": retry,
                                   "ssl": ssl, "server_hostname": server_hostname}
        if max_element_size is not None:
            options["max_element_size"] = max_element_size
        self.connection = Connection(host, port, self.model, self._deliver, **options)
        self.connection.on_failure = self._attempt_failed
        self.on_connect_failure = on_connect_failure
        self.first_failure_ends = first_failure_ends
        self._failed_once = asyncio.Event()
        self.connect_timeout = connect_timeout
        self.max_events = max_events
        self.messages: deque[ev.Message] = deque(maxlen=max_messages)
        self._streams: set[EventStream] = set()
        self.waiters = Waiters()
        self._task: asyncio.Task[None] | None = None
        self._connected_once = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def start(self) -> None:
        """Start connecting; waits for the first connection (see ``connect_timeout``)."""
        if self._task is not None:
            raise RuntimeError("this client is already started")
        task = self._task = asyncio.create_task(self.connection.run(),
                                                name=f"indipyclient {self}")
        task.add_done_callback(self._gave_up)
        if self.connect_timeout is None:
            return
        connected = asyncio.ensure_future(self._connected_once.wait())
        waits: set[asyncio.Future[Any]] = {connected, task}
        if self.first_failure_ends:
            waits.add(asyncio.ensure_future(self._failed_once.wait()))
        try:
            # The first connection, or a `retry` with a limit that gave up before it (or the
            # first failed attempt, when that ends the wait).
            await asyncio.wait(waits, timeout=self.connect_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # The caller gave up first (cancelled, or its own timeout): its `async with` never
            # entered, so no `close` will come; the connection is not left to go on (and
            # connect) with nobody to close it.
            self._task = None
            task.cancel()
            raise
        finally:
            for waiting in waits - {task}:
                waiting.cancel()
        if not self._connected_once.is_set():
            reason = self.connection.last_failure
            await self.close()
            if self.first_failure_ends and reason:
                raise ConnectionError(cannot_connect(self.connection.label, reason))
            why = f" ({reason})" if reason else ""
            raise ConnectionError(f"could not connect to {self.connection.label} within "
                                  f"{self.connect_timeout:g} s{why}") from None

    def _attempt_failed(self, reason: str) -> None:
        """An attempt to connect failed (`Connection.on_failure`)."""
        self._failed_once.set()
        if self.on_connect_failure is not None:
            self.on_connect_failure(reason)

    def _gave_up(self, task: asyncio.Task[None]) -> None:
        """The connection's `retry` gave up (``NotConnected``): said, and every events()
        stream ends, as at ``close()``."""
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("%s", exc)
            for stream in list(self._streams):
                stream.close()

    async def close(self) -> None:
        """Disconnect and stop reconnecting; every events() stream ends."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
            except NotConnected:
                pass  # the retry gave up: logged by _gave_up
        for stream in list(self._streams):
            stream.close()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<Client {self.connection.label} {state}, {len(self.model)} devices>"

    # -- the model ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def devices(self) -> Model:
        """Device name -> device, live."""
        return self.model

    def __getitem__(self, devicename: str) -> Device:
        return self.model.devices[devicename]

    def __iter__(self) -> Iterator[str]:
        return iter(self.model.devices)

    def __len__(self) -> int:
        return len(self.model.devices)

    def vector(self, device: str, vector: str) -> PropertyVector:
        """The vector; ``UnknownVector`` if the client does not know it."""
        found = self.model.vector(device, vector)
        if found is None:
            raise UnknownVector(device, vector)
        return found

    def __contains__(self, devicename: object) -> bool:
        return devicename in self.model.devices

    def get(self, device: str, vector: str, member: str) -> Any:
        """The member's value: a float for numbers, else the text, ``"On"``/``"Off"`` or the
        light's state; ``UnknownVector``/``KeyError`` when not known."""
        found = self.vector(device, vector)
        if member not in found:
            raise KeyError(f"{device}.{vector} has no member {member!r}")
        if isinstance(found, NumberVector):
            return found.getfloatvalue(member)
        return found[member]

    # -- events -------------------------------------------------------------------------

    def events(self, maxsize: int | None = None) -> EventStream:
        """A new bounded stream of every event from now on (one that ends at once when the
        connection's ``retry`` has already given up)."""
        stream = EventStream(self, maxsize or self.max_events)
        self._streams.add(stream)
        task = self._task
        if task is not None and task.done() and not task.cancelled() and task.exception():
            stream.close()
        return stream

    async def _deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.ConnectionMade):
            self._connected_once.set()
        elif isinstance(event, ev.Message):
            self.messages.append(event)
        for stream in self._streams:
            stream.put(event)
        if self.waiters.checks:
            self.waiters.feed(event)

    async def wait_for(self, device: str, vector: str,
                       state: State | str | Collection[State | str] | None = None,
                       timeout: float = 10.0) -> PropertyVector:
        """The vector once the client knows it (and its state is ``state``, or one of them)."""
        wanted = None if state is None else (
            {State(state)} if isinstance(state, str) else {State(s) for s in state})

        def ready() -> PropertyVector | None:
            found = self.model.vector(device, vector)
            if found is not None and (wanted is None or found.state in wanted):
                return found
            return None

        found = ready()
        if found is not None:
            return found
        try:
            await self.waiters.until(lambda _event: ready() is not None, timeout)
        except TimeoutError:
            current = self.model.vector(device, vector)
            if current is None:
                raise TimeoutError(f"{device}.{vector} was not defined within {timeout:g} s"
                                   ) from None
            raise TimeoutError(f"{device}.{vector} is {current.state}, not "
                               f"{' or '.join(sorted(wanted or ()))}, after {timeout:g} s"
                               ) from None
        found = ready()
        assert found is not None
        return found

    # -- sending ------------------------------------------------------------------------

    async def set(self, device: str, vector: str, values: Mapping[str, Any], *,
                  wait: bool = True, timeout: float | None = None) -> SetResult:
        """Send new values (see the module docstring); ``InvalidValue`` before sending.

        A vector not defined yet (the usual case just after ``connect()``: the server sends
        its definitions after the connection is made) is waited for, at most ``timeout``
        seconds (default `DEFINITION_WAIT`); ``UnknownVector`` after that."""
        target = self.model.vector(device, vector)
        if target is None:
            bound = DEFINITION_WAIT if timeout is None else timeout
            try:
                target = await self.wait_for(device, vector, timeout=bound)
            except TimeoutError:
                known = "the device is known, the vector is not" if device in self.model.devices \
                    else "no such device either"
                raise UnknownVector(device, vector, (
                    f"{self.connection.label} did not define it within {bound:g} s ({known}; "
                    "names are case-sensitive: indipy-getprop lists them)")) from None
        event = new_vector(target, values)
        if not self.connected:
            raise NotConnected(f"not connected to {self.connection.label}")

        return await self.waiters.send_and_wait(
            self.model, target, lambda: self.connection.send_values(event, target.timeout),
            wait=wait, timeout=timeout)

    async def send_newVector(self, devicename: str, vectorname: str,
                             timestamp: str | None = None,
                             members: Mapping[str, Any] | None = None) -> None:
        """0.9.4's way to send values: checked as ``set`` does, not waited for."""
        target = self.vector(devicename, vectorname)
        await self.connection.send_values(new_vector(target, members or {}, timestamp),
                                          target.timeout)

    async def send_getProperties(self, devicename: str | None = None,
                                 vectorname: str | None = None) -> None:
        """Ask the server for definitions (all, a device's, or one vector's)."""
        if vectorname is not None and devicename is None:
            raise ValueError("a vector name needs its device name")
        await self.connection.send(GetProperties("1.7", devicename, vectorname))

    async def send_enableBLOB(self, value: BLOBEnable | str, devicename: str,
                              vectorname: str | None = None) -> None:
        """Ask for BLOBs Never/Also/Only from a device (or one vector); kept across
        reconnects."""
        await self.connection.send_enable_blob(BLOBEnable(value), devicename, vectorname)


def connect(host: str = "localhost", port: int = 7624, blobfolder: str | Path | None = None,
            **options: Any) -> Client:
    """A ``Client`` to use as ``async with connect(host, port) as client:`` (see the module
    docstring for the options)."""
    return Client(host, port, blobfolder, **options)
