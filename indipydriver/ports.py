"""What a vector needs of its device, and a device and its vectors of their driver.

Two small protocols, so that `propertyvector.py`, `vectors.py`, `device.py` and `compat3x.py`
import no `driver.py` (and a vector no `device.py`): the package has no import circle.
`IPyDriver` is a `DriverPort` and `Device` a `DevicePort` (mypy checks both where they are
assigned). Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Coroutine
from collections.abc import Sequence
from typing import Any
from typing import Protocol

__all__ = ["DevicePort", "DriverPort"]


class DriverPort(Protocol):
    """A device's driver (an `IPyDriver`), as its devices and their vectors use it."""

    driverdata: dict[str, Any]
    #: True while served by a link that takes elements framed (an in-process server's
    #: `links.FramedLink`): a set is then sent with its start tag's attributes (`_send`).
    sends_framed: bool

    @property
    def stop(self) -> bool:
        """True once the driver is shut down or stopped serving."""
        ...

    @property
    def attaches_blobs(self) -> bool:
        """True while BLOBs go as memory files beside their element (`_send_blob` with
        descriptors): served on a `links.AttachingLink` that can, and `shared_blobs` on."""
        ...

    def add_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine alongside the driver."""

    async def send_getProperties(self, devicename: str | None = None,
                                 vectorname: str | None = None) -> None:
        """Snoop on another device (or one of its vectors)."""

    def shutdown(self) -> None:
        """Stop the driver."""

    async def _send(self, data: bytes, tag: str | None = None,
                    attrs: dict[str, str] | None = None) -> None:
        """Write one serialised element (framed, given its tag and start-tag attributes)."""

    async def _send_blob(self, data: bytes, fds: Sequence[int] = ()) -> None:
        """Write a setBLOBVector, paced by the server's pingReply to the previous one; with
        `fds`, its attached members' memory files, in order (the caller's to close after)."""


class DevicePort(Protocol):
    """A vector's device (a `Device`), as the vector uses it."""

    devicename: str
    devicedata: dict[str, Any]
    #: False after the device's delProperty: nothing is sent until it is True again.
    enable: bool
    driver: DriverPort | None
