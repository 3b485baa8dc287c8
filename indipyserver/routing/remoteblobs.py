"""The enableBLOB modes this server sends up to remote INDI servers (chained servers).

A remote sees this server as one client standing for all of ours, so which BLOBs it should send
us is not any one client's ``enableBLOB`` but derived from all of them, and from the drivers
here that snoop the remote's devices. The rules:

* per property, always: each BLOB property a remote has defined (its ``defBLOBVector``) is told
  ``<enableBLOB device="D" name="P">Also</enableBLOB>`` while any client or snooping driver here
  wants BLOBs of (D, P) -- whatever scope it asked in: that property, the whole device, or every
  device -- and ``Never`` once none does. indilib's indiserver (1.9.9,
  tests/interop/test_remote_blob_modes.py) keeps one mode per *connection* for an enableBLOB
  without a property name, so a device-wide Never for one camera would stop every camera's
  images and a device-wide Also would let every camera's through; a named property's mode is
  kept per property there, as the SPEC keeps every mode. So a remote is never sent a
  device-wide enableBLOB from here, and gets exactly the BLOBs wanted here, each camera apart.
* Also vs Never only: a client's Only is never passed on (it would stop the remote sending the
  non-BLOB traffic that our cache and our other clients need, SPEC p.4).
* a new ``defBLOBVector`` of a wanted property is told Also at once, from the call that handles
  the def: the remote cannot send that property's BLOB before reading it.
* a mode is sent only when it changes what the remote holds (absent: Never, a connection's
  default), which also bounds what a loop of servers can exchange.
* a property the remote has not defined is never asked for. A driver that sends BLOBs of a
  property it never defined breaks the SPEC; indiserver passes such BLOBs only to a connection
  whose connection-wide mode allows them, and a device-wide Also here would reopen every
  camera's images, so none is sent: a remote with such a driver is added with ``blob_enable``
  (``--remote-blobs``), which asks it for every BLOB of every device.
* a ``delProperty`` from the remote forgets the property (no Also for it until it is defined
  again), but not what the remote was told: indiserver keeps a connection's per-property modes
  across a driver's delProperty (a CCD driver deletes its image property when the camera is
  disconnected and defines it again on connect), so an Also still held there is followed by a
  Never once nobody here wants it, and is then forgotten too.
* a remote configured with ``blob_enable`` (``RemoteConnection``: always send BLOBs, asked
  device-wide by the connection itself) is told nothing from here.
* a remote that (re)connects starts with nothing told: its defs arrive again and each wanted
  property is told Also as its def arrives.

`RemoteBlobModes` is owned by the `router.Router` and reads its live tables; it is called only
where those modes can change (an enableBLOB, a remote's BLOB def or delProperty, a connection
made or lost), never for the traffic itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping

from indipycore.protocol.enums import BLOBEnable
from indipyserver.routing.interests import BlobModes
from indipyserver.routing.interests import ClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.serverelements import enable_blob_bytes

__all__ = ["RemoteBlobModes"]

NEVER, ALSO = BLOBEnable.NEVER, BLOBEnable.ALSO

Key = tuple[str, str]  # (device, BLOB property)


class _Session:
    """One remote connection, as far as BLOBs go: what it has defined and what it was told."""

    __slots__ = ("also", "defined")

    def __init__(self) -> None:
        self.defined: dict[str, set[str]] = {}  # device -> its BLOB properties
        self.also: set[Key] = set()  # told Also, not Never since; anything else is Never there

    def matching(self, device: str | None, name: str | None) -> list[Key]:
        """The properties an enableBLOB for (device, name) can change (no device: all), in
        a stable order: those defined, and those told Also."""
        keys = {
            (dev, prop)
            for dev, props in self.defined.items()
            if device is None or dev == device
            for prop in props
            if name is None or prop == name
        }
        keys.update(
            (dev, prop)
            for dev, prop in self.also
            if (device is None or dev == device) and (name is None or prop == name)
        )
        return sorted(keys)


class RemoteBlobModes:
    """What each remote was told about BLOBs, kept in step with our clients and snoopers."""

    __slots__ = ("_clients", "_sessions", "_snoopers")

    def __init__(
        self,
        clients: Mapping[ClientPort, ClientState],
        snoopers: Mapping[DriverPort, BlobModes],
    ) -> None:
        """The router's live tables: its clients, and snooping drivers' enableBLOB modes."""
        self._clients = clients
        self._snoopers = snoopers
        self._sessions: dict[DriverPort, _Session] = {}

    def changed(self, device: str | None, name: str | None) -> None:
        """A client or snooping driver sent enableBLOB (already recorded in its modes) for
        `device` (None: all devices) and property `name` (None: all of the device's)."""
        if device is None:
            name = None  # a device-less enableBLOB sets a connection's default (`BlobModes.set`)
        for remote, session in list(self._sessions.items()):
            self._sync(remote, session, session.matching(device, name))

    def defined(self, remote: DriverPort, device: str, name: str) -> None:
        """`remote` defined BLOB property (device, name): Also at once if it is wanted here."""
        if remote.blob_enable:
            return  # asked for every BLOB by the connection itself
        session = self._sessions.get(remote)
        if session is None:
            session = self._sessions[remote] = _Session()
        session.defined.setdefault(device, set()).add(name)
        self._sync(remote, session, [(device, name)])

    def deleted(self, remote: DriverPort, device: str, name: str | None) -> None:
        """`remote` deleted a property (None: the whole device): no Also for it until it is
        defined again; an Also it holds stays known, to be lowered (module docstring)."""
        session = self._sessions.get(remote)
        if session is None:
            return
        if name is None:
            session.defined.pop(device, None)
            return
        props = session.defined.get(device)
        if props is not None:
            props.discard(name)
            if not props:
                del session.defined[device]

    def recheck(self) -> None:
        """A client or snooping driver went: each Also told is re-derived (Never if nobody here
        wants those BLOBs any more)."""
        for remote, session in list(self._sessions.items()):
            self._sync(remote, session, sorted(session.also))

    def forget(self, remote: DriverPort) -> None:
        """`remote` (re)connected or went: nothing has been told to its new session."""
        self._sessions.pop(remote, None)

    def _sync(self, remote: DriverPort, session: _Session, keys: Iterable[Key]) -> None:
        """Tell `remote` the mode of each of `keys` (each defined there or told Also) that
        differs from what it holds."""
        for key in keys:
            wanted = self._wanted(*key)
            if wanted is (key in session.also):
                continue
            if wanted:
                session.also.add(key)
            else:
                session.also.discard(key)
            remote.send(enable_blob_bytes(*key, ALSO if wanted else NEVER))

    def _wanted(self, device: str, name: str) -> bool:
        """Whether a client or snooping driver here asks for BLOBs of (device, name), by any
        scope (Also or Only: both need the BLOBs to come up the chain)."""
        return any(s.blobs.mode(device, name) is not NEVER for s in self._clients.values()) or any(
            b.mode(device, name) is not NEVER for b in self._snoopers.values()
        )

