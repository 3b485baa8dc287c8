"""Snoop registrations and when to repeat them.

A driver snoops by sending `getProperties` (SPEC p.4-5) for all devices, one device or one
property. The server forgets the request when it restarts, and a snooped driver that restarts
comes back only after it has spoken again (indi-notes 1.5 point 6, 2.5), so a request sent once
can silently stop working. The registry therefore repeats a request when its device has been
quiet for `quiet_seconds`, and soon after the device (or the property) is deleted.

Pure bookkeeping: the driver asks `due(now)` and sends what it returns, written as a request
by `_get_properties_bytes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.events import EnableBLOB
from indipycore.protocol.events import GetProperties

from .wire import write_element

__all__ = ["Snoop", "SnoopRegistry"]


@dataclass(eq=False)
class Snoop:
    """One request: `devicename` None = all devices; `vectorname` None = the whole device."""

    devicename: str | None
    vectorname: str | None
    last_sent: float = float("-inf")
    last_heard: float = float("-inf")
    #: Seconds of quiet before the request is repeated; None: the registry's `quiet_seconds`
    #: (3.x's ``snoop(device, vector, timeout)`` sets it per request).
    quiet: float | None = None
    #: Times the request was repeated with nothing heard since (see `absent`).
    unanswered: int = 0

    def absent(self) -> bool:
        """Whether the repeat being sent now is the first to find the device gone: never heard
        (or deleted since), or the repeat before this one brought no answer. A device that is
        there but quiet (a weather station between readings, a parked mount) answers every
        repeat with its definitions, so its routine repeats are not news; the log says a
        device once when it goes missing, not every minute (issue 89 item 12: 211 such lines
        in 20 minutes of a night)."""
        if self.last_heard == float("-inf"):
            return self.unanswered == 1
        return self.unanswered == 2

    def matches(self, devicename: str | None, vectorname: str | None = None) -> bool:
        if self.devicename is None:
            return True
        if devicename != self.devicename:
            return False
        return self.vectorname is None or vectorname is None or vectorname == self.vectorname

    def key(self) -> tuple[str | None, str | None]:
        return (self.devicename, self.vectorname)


class SnoopRegistry:
    """The driver's snoop requests with the time each was last sent and last answered."""

    def __init__(self, quiet_seconds: float = 60.0, retry_after_delete: float = 2.0) -> None:
        self.quiet_seconds = quiet_seconds
        self.retry_after_delete = retry_after_delete
        self._snoops: dict[tuple[str | None, str | None], Snoop] = {}
        # enableBLOB modes asked for snooped devices: device -> (its device-wide mode or
        # None, vector -> mode), kept as a server keeps them (a device-wide mode replaces that
        # device's per-vector ones; a per-vector one overrides it). A server forgets them with
        # the connection, as it does the snoops: both are repeated when served again.
        self._blob_modes: dict[str, tuple[str | None, dict[str, str]]] = {}

    def __iter__(self) -> Iterator[Snoop]:
        return iter(list(self._snoops.values()))

    def __len__(self) -> int:
        return len(self._snoops)

    def add(self, devicename: str | None, vectorname: str | None, now: float) -> Snoop:
        """Register (or refresh) a request that is being sent now."""
        snoop = self._snoops.get((devicename, vectorname))
        if snoop is None:
            snoop = Snoop(devicename, vectorname)
            self._snoops[snoop.key()] = snoop
        snoop.last_sent = now
        return snoop

    def set_blobs(self, devicename: str, vectorname: str | None, mode: str) -> None:
        """Remember an enableBLOB request for a device (or one vector of it) as a server
        applies it, so that repeating `blob_requests` restores the same modes."""
        device_mode, vectors = self._blob_modes.pop(devicename, (None, {}))
        if vectorname is None:
            device_mode, vectors = mode, {}
        else:
            vectors.pop(vectorname, None)  # re-inserted: replayed in the order asked
            vectors[vectorname] = mode
        if device_mode in (None, "Never") and all(m == "Never" for m in vectors.values()):
            return  # nothing but every server's default: nothing to repeat
        self._blob_modes[devicename] = (device_mode, vectors)

    def blob_requests(self) -> list[bytes]:
        """The enableBLOB requests to repeat on a new connection (after the snoops): each
        device's device-wide mode first, then its vectors' own."""
        requests = []
        for device, (device_mode, vectors) in self._blob_modes.items():
            if device_mode is not None:
                requests.append(_enable_blob_bytes(device, None, device_mode))
            requests += [_enable_blob_bytes(device, vector, mode)
                         for vector, mode in vectors.items()]
        return requests

    def heard(self, devicename: str | None, vectorname: str | None, now: float) -> None:
        """Something arrived from a snooped device: its requests are working."""
        for snoop in self._snoops.values():
            if snoop.matches(devicename, vectorname):
                snoop.last_heard = now
                snoop.unanswered = 0

    def deleted(self, devicename: str | None, vectorname: str | None, now: float) -> None:
        """The device (or property) went away, maybe restarting: ask again soon."""
        for snoop in self._snoops.values():
            if snoop.matches(devicename, vectorname):
                # Pretend the request is old and unanswered, so `due` repeats it after the
                # short retry delay instead of a full quiet period.
                snoop.last_heard = float("-inf")
                snoop.last_sent = min(
                    snoop.last_sent, now - self._quiet(snoop) + self.retry_after_delete
                )

    def due(self, now: float) -> list[Snoop]:
        """Requests to send again now; each is marked as sent."""
        result = []
        for snoop in self._snoops.values():
            quiet_since = max(snoop.last_sent, snoop.last_heard)
            if now - quiet_since >= self._quiet(snoop):
                snoop.last_sent = now
                result.append(snoop)
        return result

    def next_check(self, now: float) -> float:
        """Seconds until some request may be due (for the timer's sleep)."""
        if not self._snoops:
            return self.quiet_seconds
        soonest = min(max(s.last_sent, s.last_heard) + self._quiet(s)
                      for s in self._snoops.values())
        return max(0.0, soonest - now)

    def _quiet(self, snoop: Snoop) -> float:
        return self.quiet_seconds if snoop.quiet is None else snoop.quiet


def _get_properties_bytes(devicename: str | None, vectorname: str | None) -> bytes:
    # version="1.7" always: C drivers exit on a getProperties without it (indi-notes 2.8), and
    # indiserver forwards a snoop request to the snooped driver unchanged.
    return write_element(GetProperties("1.7", devicename,
                                       vectorname if devicename is not None else None))


def _enable_blob_bytes(devicename: str, vectorname: str | None, mode: str) -> bytes:
    return write_element(EnableBLOB(devicename, BLOBEnable(mode), vectorname))
