"""Which devices' cached properties may be behind a client's new*Vector. No I/O.

The router answers getProperties from its cache, in microseconds. But a client that sets a
value and then asks for the property (``indi_setprop X; indi_eval -w 'X._STATE==1'``, a script
that polls after each command) expects the answer to come after its command: indiserver passes
getProperties to the driver, behind the new*Vector in the same pipe, so the driver answers
with the state its command caused (Busy, the new target). The cache still holds the state from
before, and the script would see the move as finished before it began.

So while a new*Vector sent to a device is not known to have been read by its driver, a
getProperties for that device is passed to the driver, as indiserver does, and the cache is
trusted again once the driver has answered such a request: its first definition of the device
after the request was forwarded. (A definition the driver wrote just before reading the
request would be taken as its answer too; the window is one driver read, and the price is
what the cache answered before this module existed.)

Memory: one entry per device with a request or a command in flight, at most `MAX_FENCES`
requests each; entries go when the device is answered or deleted.
"""

from __future__ import annotations

from collections import deque

#: Forwarded getProperties remembered per device; past this the newest one stands for the rest
#: (the device is then trusted only after a later answer: never too early).
MAX_FENCES = 16


class _Device:
    __slots__ = ("fences", "read", "sent")

    def __init__(self) -> None:
        self.sent = 0  # new*Vectors passed to the driver
        self.read = 0  # of those, how many it has certainly read
        self.fences: deque[int] = deque()  # `sent` when each getProperties was forwarded


class PendingCommands:
    """Per device: new*Vectors passed to its driver that it may not have read yet."""

    def __init__(self) -> None:
        self._devices: dict[str, _Device] = {}

    def sent(self, device: str) -> None:
        """A new*Vector for `device` was passed to its driver or remote."""
        entry = self._devices.get(device)
        if entry is None:
            entry = self._devices[device] = _Device()
        entry.sent += 1

    def unread(self, device: str) -> bool:
        """True while the cache may not show the effect of a command sent to `device`."""
        entry = self._devices.get(device)
        return entry is not None and entry.sent > entry.read

    def behind(self) -> set[str]:
        """Every device for which `unread` is true."""
        return {device for device, entry in self._devices.items() if entry.sent > entry.read}

    def asked(self, device: str) -> None:
        """A getProperties for `device` was passed to its driver because of `unread`."""
        entry = self._devices.get(device)
        if entry is None:
            return
        if len(entry.fences) >= MAX_FENCES:
            entry.fences[-1] = entry.sent
        else:
            entry.fences.append(entry.sent)

    def defined(self, device: str) -> None:
        """The driver defined a property of `device`: it answered the oldest request."""
        entry = self._devices.get(device)
        if entry is None or not entry.fences:
            return
        entry.read = max(entry.read, entry.fences.popleft())
        if entry.read == entry.sent and not entry.fences:
            del self._devices[device]

    def forget(self, device: str) -> None:
        """`device` was deleted or its driver lost: nothing of it is cached any more."""
        self._devices.pop(device, None)

    def __len__(self) -> int:
        return len(self._devices)
