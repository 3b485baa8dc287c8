"""``IPyClient``: indipyclient 0.9.4's class, on this package's model and connection.

Scripts written for 0.9.4 run with few or no changes::

    import asyncio
    from indipyclient import IPyClient

    class Printer(IPyClient):
        async def rxevent(self, event):
            if event.eventtype == "Set" and event.vectorname == "TEMPERATURE":
                print(event.vector.getformattedvalue("TEMPERATURE"))

        async def hardware(self):          # runs beside the connection
            while not self.stop:
                await asyncio.sleep(5)
                await self.send_newVector("Thermostat", "TARGET", members={"TARGET": 21})

    asyncio.run(Printer("localhost", 7624).asyncrun())

Same names: ``IPyClient(indihost, indiport, **clientdata)`` (kept as
``self.clientdata``), a mapping device -> vector -> member value, ``rxevent``,
``hardware``, ``asyncrun``, ``shutdown`` then ``await self.stopped.wait()``, ``stop``,
``connected``, ``messages`` (last 8 site-wide ``(timestamp, text)``, newest first),
``report``/``warning``, ``send_newVector``, ``send_getProperties``, ``send_enableBLOB``,
``enableBLOBdefault``, ``BLOBfolder``, ``set_vector_timeouts``, ``snapshot``,
``get_vector_state``, ``enabledlen``, ``set_user_string``/``get_user_string``.

What changed (docs/clients.rst, "Moving from indipyclient 0.9.4"): values are checked before
they are sent (``InvalidValue``, nothing sent) instead of being sent as given; pings are
answered; reconnection backs off (0.5 s doubling to 10 s, with jitter) instead of every 5 s and
restores enableBLOB modes; ``.z`` BLOBs are decompressed; BLOB bodies are in the
``setBLOBVector`` event and the saved file, not kept in the vector (``vector[member]`` is None);
a deleted vector or device is removed (0.9.4 kept it with ``enable`` False); ``event.root`` is
None (no XML tree is built); itemids are not kept (None in snapshots).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from indipyclient.model import events
from indipyclient.model.outgoing import new_vector
from indipyclient.model.properties import ByName
from indipyclient.model.properties import Device
from indipyclient.model.properties import PropertyVector
from indipyclient.model.snapshot import Snap
from indipyclient.model.snapshot import take_snapshot
from indipyclient.model.tree import Model
from indipycore.protocol import BLOBEnable
from indipycore.protocol import GetProperties
from indipycore.protocol.timestamps import format_timestamp

from .connection import Connection

__all__ = ["IPyClient"]

logger = logging.getLogger(__name__)


class IPyClient(ByName[Device]):
    """A client of one INDI server, as in indipyclient 0.9.4 (see the module docstring)."""

    def __init__(self, indihost: str = "localhost", indiport: int = 7624,
                 **clientdata: Any) -> None:
        self.indihost = indihost
        self.indiport = indiport
        self.clientdata = clientdata
        self.user_string = ""
        self.user_string_dict: dict[tuple[str, str | None, str | None], str] = {}
        self.model = Model()
        self._by_name = self.model.devices  # the mapping of devices (ByName) is the model's
        # rxevent is awaited only when the class overrides it (a program that only reads the
        # mapping pays nothing per element); the connection logs what it raises.
        listens = type(self).rxevent is not IPyClient.rxevent
        self.connection = Connection(indihost, indiport, self.model,
                                     self.rxevent if listens else None)
        self.stopped = asyncio.Event()
        self._stop = False
        self._stop_now = asyncio.Event()
        self._BLOBfolder: Path | None = None
        self._verbose = 1
        self.enable_reports = True

    # -- the mapping of devices --------------------------------------------------------

    @property
    def data(self) -> dict[str, Device]:
        """Device name -> device (0.9.4 was a UserDict)."""
        return self.model.devices

    @property
    def messages(self) -> deque[tuple[datetime, str]]:
        """The last site-wide messages, ``(timestamp, text)``, newest first."""
        return self.model.messages

    def enabledlen(self) -> int:
        """The number of devices known."""
        return len(self.model.devices)

    def get_vector_state(self, devicename: str, vectorname: str) -> str | None:
        vector = self.model.vector(devicename, vectorname)
        return None if vector is None else str(vector.state)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def stop(self) -> bool:
        """True once ``shutdown()`` was called."""
        return self._stop

    def shutdown(self) -> None:
        """Stop the client: ``asyncrun`` returns and ``stopped`` is set."""
        self._stop = True
        self._stop_now.set()

    async def rxevent(self, event: events.Event) -> None:
        """Override: called with every event (see ``indipyclient.model.events``)."""

    async def hardware(self) -> None:
        """Override: runs beside the connection once ``asyncrun`` starts."""

    async def asyncrun(self) -> None:
        """Run the client until ``shutdown()``."""
        self._stop = False
        self._stop_now.clear()
        tasks = {asyncio.create_task(self.connection.run(), name="indipyclient connection"),
                 asyncio.create_task(self.hardware(), name="indipyclient hardware")}
        stopper = asyncio.create_task(self._stop_now.wait())
        failure: BaseException | None = None
        try:
            pending = {*tasks, stopper}
            while stopper in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done - {stopper}:
                    if not task.cancelled() and task.exception() is not None:
                        failure = task.exception()
                        pending.discard(stopper)
                        break
        finally:
            self._stop = True
            for task in (*tasks, stopper):
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
            self.stopped.set()
        if failure is not None:
            raise failure

    async def _deliver(self, event: events.Event) -> None:
        try:
            await self.rxevent(event)
        except Exception:
            logger.exception("rxevent raised for %r", event)

    async def report(self, message: str) -> None:
        """Log ``message`` (INFO) and pass it to ``rxevent`` as a site-wide Message."""
        logger.info(message)
        if self.enable_reports:
            await self._local_message(message)

    async def warning(self, message: str) -> None:
        """Log ``message`` (WARNING) and pass it to ``rxevent`` as a site-wide Message."""
        logger.warning(message)
        await self._local_message(message)

    async def _local_message(self, message: str) -> None:
        event = events.Message(None, message, events.utcnow())
        self.model.messages.appendleft((event.timestamp, message))
        await self._deliver(event)

    def debug_verbosity(self, verbose: int) -> None:
        """Kept for 0.9.4 scripts (0..3); this client logs no XML."""
        if verbose not in (0, 1, 2, 3):
            raise ValueError("verbosity is 0, 1, 2 or 3")
        self._verbose = verbose

    # -- BLOBs -------------------------------------------------------------------------

    @property
    def enableBLOBdefault(self) -> str:
        """The BLOB mode asked of every device unless set otherwise ("Never" unless a
        BLOB folder is set, then "Also")."""
        return str(self.connection.default_blob_mode)

    @enableBLOBdefault.setter
    def enableBLOBdefault(self, value: str) -> None:
        if value in ("Never", "Also", "Only") and self._BLOBfolder is None:
            self.connection.default_blob_mode = BLOBEnable(value)

    @property
    def BLOBfolder(self) -> Path | None:
        """Setting a folder saves every BLOB received there (and asks for BLOBs from every
        device); None stops saving."""
        return self._BLOBfolder

    @BLOBfolder.setter
    def BLOBfolder(self, value: str | Path | None) -> None:
        if value:
            folder = Path(value).expanduser().resolve()
            if not folder.is_dir():
                raise KeyError("If given, the BLOB's folder should be an existing directory")
            self._BLOBfolder = folder
            self.connection.blobfolder = folder
            self.connection.default_blob_mode = BLOBEnable.ALSO
        else:
            self._BLOBfolder = None
            self.connection.blobfolder = None
            self.connection.default_blob_mode = BLOBEnable.NEVER

    # -- sending -----------------------------------------------------------------------

    async def send_newVector(self, devicename: str, vectorname: str,
                             timestamp: datetime | str | None = None,
                             members: Mapping[str, Any] | None = None) -> None:
        """Send new member values; a BLOB member is ``(bytes | path, size, format)``.

        Values are checked first (``InvalidValue``, nothing sent); an unknown device or vector,
        or no connection, sends nothing (as in 0.9.4)."""
        vector = self.model.vector(devicename, vectorname)
        if vector is None or not self.connected:
            logger.warning("not sent: %s.%s is %s", devicename, vectorname,
                           "unknown" if vector is None else "not connected")
            return
        stamp = format_timestamp(timestamp) if isinstance(timestamp, datetime) else timestamp
        await self.connection.send_values(new_vector(vector, members or {}, stamp),
                                          vector.timeout)

    async def send_getProperties(self, devicename: str | None = None,
                                 vectorname: str | None = None) -> None:
        if self.connected:
            await self.connection.send(GetProperties("1.7", devicename or None,
                                                     vectorname if devicename else None))

    async def send_enableBLOB(self, value: str, devicename: str,
                              vectorname: str | None = None) -> None:
        """Ask for BLOBs "Never", "Also" or "Only" from a device (or one vector); remembered
        and sent again after a reconnect."""
        if value not in ("Never", "Also", "Only") or not devicename:
            return
        await self.connection.send_enable_blob(BLOBEnable(value), devicename, vectorname)

    def set_vector_timeouts(self, timeout_enable: bool | None = None,
                            timeout_min: float | None = None,
                            timeout_max: float | None = None) -> None:
        """``VectorTimeOut`` events for vectors set but not answered within their timeout,
        clamped to ``timeout_min``..``timeout_max`` seconds (defaults on, 2, 10)."""
        if timeout_enable is not None:
            self.connection.timeouts_enabled = timeout_enable
        if timeout_min is not None:
            self.connection.timeout_min = timeout_min
        if timeout_max is not None:
            self.connection.timeout_max = timeout_max

    # -- snapshots and user strings ----------------------------------------------------

    def snapshot(self) -> Snap:
        """A copy of everything known now (``dictdump()``, ``dumps()``, ``dump()``)."""
        strings = dict(self.user_string_dict)
        strings[("", None, None)] = self.user_string
        return take_snapshot(self.model, self.indihost, self.indiport, self.connected, strings)

    def set_user_string(self, devicename: str, vectorname: str | None = None,
                        membername: str | None = None, user_string: str = "") -> None:
        """A string of the program's own for a device, vector or member (in snapshots)."""
        if not devicename:
            raise KeyError("A devicename must be given to set_user_string")
        if membername and not vectorname:
            raise KeyError("If a membername is specified, a vectorname must also be given")
        self.user_string_dict[(devicename, vectorname or None, membername or None)] = user_string

    def get_user_string(self, devicename: str, vectorname: str | None = None,
                        membername: str | None = None) -> str | None:
        if not devicename:
            raise KeyError("A devicename must be given to get_user_string")
        key = (devicename, vectorname or None, membername or None)
        if key in self.user_string_dict:
            return self.user_string_dict[key]
        known = (self.model.vector(devicename, vectorname) if vectorname
                 else self.model.devices.get(devicename))
        if known is None:
            return None
        if membername and isinstance(known, PropertyVector) and membername not in known:
            return None
        return ""
