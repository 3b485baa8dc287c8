"""The enableBLOB modes this server sends up to remote INDI servers (chained servers).

A remote sees this server as one client standing for all of ours, so which BLOBs it should send
us is not any one client's ``enableBLOB`` but derived from all of them, and from the drivers
here that snoop the remote's devices. The rules:

* Also if any client or snooping driver here wants the BLOBs of that device (or property), else
  Never. A client's Only is never passed on: it would stop the remote sending the non-BLOB
  traffic that our cache and our other clients need (SPEC p.4).
* only the remote owning the named device is told; a client's device-less ``enableBLOB`` is
  expanded into one per remote-owned device, since passing it on as it is to every remote would
  loop between two servers that are each other's remote.
* a mode is sent only when it changes what the remote was last told (per remote: (device, name)
  -> mode), which also bounds what a loop of servers can exchange.
* a remote configured with ``blob_enable`` (``RemoteConnection``: always send BLOBs) is never told
  Never.
* when a client or snooping driver goes, every Also sent is re-derived: a remote whose images
  nobody here wants any more is told Never, so it stops sending them across the chain.
* indilib's indiserver (1.9.9, tests/interop/test_remote_blob_modes.py) does not keep the modes
  of a chained connection per device: an enableBLOB without a property name sets the mode of
  every device on the connection (and overrides per-property ones), the last one winning. So a
  device-wide Never is followed by the Alsos the remote was told for its other devices and
  properties, or the BLOBs still wanted from them would stop too. indiserver then goes on
  sending the first device's BLOBs (nobody here gets them: they are filtered per client as
  always); a remote that keeps modes per device, as the SPEC says and this server does, stops
  just that device's and takes the repeated Alsos as no change.

`RemoteBlobModes` is owned by the `router.Router` and reads its live tables; it is called only
where those modes can change (an enableBLOB, a remote's new device, a connection made or lost),
never for the traffic itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from indipydriver.protocol.enums import BLOBEnable
from indipydriver.protocol.escaping import escape_entities

from .interests import BlobModes, ClientSink, ClientState

if TYPE_CHECKING:
    from .driverconn import DriverConnection

__all__ = ["RemoteBlobModes"]

NEVER, ALSO = BLOBEnable.NEVER, BLOBEnable.ALSO


class RemoteBlobModes:
    """What each remote was told about BLOBs, kept in step with our clients and snoopers."""

    __slots__ = ("_clients", "_owner", "_sent", "_snoopers")

    def __init__(
        self,
        owner: Mapping[str, DriverConnection],
        clients: Mapping[ClientSink, ClientState],
        snoopers: Mapping[DriverConnection, BlobModes],
    ) -> None:
        """The router's live tables: device -> owner, its clients, drivers' enableBLOB modes."""
        self._owner = owner
        self._clients = clients
        self._snoopers = snoopers
        self._sent: dict[DriverConnection, dict[tuple[str, str | None], BLOBEnable]] = {}

    def client_set(self, device: str | None, name: str | None) -> None:
        """A client sent enableBLOB (already recorded in its modes); a device-less one is
        expanded into one per remote-owned device."""
        if device:
            self.update(device, name)
        else:
            for dev, owner in list(self._owner.items()):
                if owner.is_remote:
                    self.update(dev, None)

    def device_added(self, device: str) -> None:
        """A remote's new device: its remote is told at once what clients here already asked
        for that device's BLOBs, as scoped as they asked it (the whole device, or only the
        properties they named: the device-wide Also that `update` derives from a property's
        would have the remote send every BLOB of the device up the chain)."""
        asked = [s.blobs for s in self._clients.values() if not s.blobs.is_default]
        if not asked:
            return
        if any(blobs.mode(device, None) is not NEVER for blobs in asked):
            self.update(device, None)
        for name in sorted({n for blobs in asked for (dev, n) in blobs.props if dev == device}):
            self.update(device, name)

    def recheck(self) -> None:
        """A client or snooping driver went: each Also sent is re-derived (Never if nobody here
        wants those BLOBs any more)."""
        for sent in list(self._sent.values()):
            for (device, name), mode in list(sent.items()):
                if mode is ALSO:
                    self.update(device, name)

    def forget(self, remote: DriverConnection) -> None:
        """`remote` (re)connected or went: nothing has been told to its new session."""
        self._sent.pop(remote, None)

    def update(self, device: str, name: str | None) -> None:
        """Tell the remote owning `device` whether anyone here wants its BLOBs (module
        docstring); nothing when it is not a remote's or the mode is what it was told."""
        owner = self._owner.get(device)
        if owner is None or not owner.is_remote:
            return
        wanted = any(_wants_blobs(s.blobs, device, name) for s in self._clients.values()) or any(
            _wants_blobs(b, device, name) for b in self._snoopers.values()
        )
        mode = ALSO if wanted else NEVER
        if mode is NEVER and getattr(owner, "blob_enable", False):
            return  # the remote was configured to always send BLOBs
        sent = self._sent.setdefault(owner, {})
        # A property without its own entry has what its device was last told.
        if sent.get((device, name), sent.get((device, None), NEVER)) is mode:
            return
        sent[(device, name)] = mode
        if name is None:
            for key in [k for k in sent if k[0] == device and k[1] is not None]:
                del sent[key]
        owner.send(_enable_blob(device, name, mode))
        if mode is NEVER and name is None:
            # indiserver applies an enableBLOB without a property name to every device of the
            # connection (module docstring): tell it again what the others still want, the
            # device-wide modes first since they override per-property ones there.
            for (dev, prop), told in sorted(sent.items(), key=lambda e: e[0][1] is not None):
                if told is ALSO:
                    owner.send(_enable_blob(dev, prop, ALSO))


def _enable_blob(device: str, name: str | None, mode: BLOBEnable) -> bytes:
    text = f' device="{escape_entities(device)}"'
    if name:
        text += f' name="{escape_entities(name)}"'
    return f"<enableBLOB{text}>{mode.value}</enableBLOB>\n".encode()


def _wants_blobs(blobs: BlobModes, device: str, name: str | None) -> bool:
    """Whether a connection's modes ask for any BLOB of `device` (of property `name`)."""
    if name is not None:
        return blobs.mode(device, name) is not NEVER
    return blobs.mode(device, None) is not NEVER or any(
        mode is not NEVER for (dev, _), mode in blobs.props.items() if dev == device
    )
