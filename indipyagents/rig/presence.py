"""`IndiPresence`: when a device lost past the sequencer's retries is back, seen on the rig's
own indipyclient connection.

A driver that died is deleted for every client (its server's delProperty); a driver started
again defines its device again, disconnected. So "back" is: the server defines the device's
CONNECTION again, and it is connected (CONNECT sent here, as `connect_device` does before each
use). A device that never went (still defined and connected, but silent or failing) is said
back only after one look's time, so a run that loses it again retries at the pace of its
retry policy, never in a tight loop. A device a client disconnected while it stayed
defined (`keeper.use_device`) is not connected here: it is back once a client connects it, or
its driver restarts.
"""

from __future__ import annotations

import asyncio
import logging

from indipyclient import Client

from .indiset import is_connected
from .keeper import use_device
from .protocols import RigError

__all__ = ["LOOK", "IndiPresence"]

logger = logging.getLogger(__name__)

#: Seconds between two looks for a device that is not back yet.
LOOK = 5.0


class IndiPresence:
    """The `Presence` of the devices of `client`'s server; `look` the seconds between looks."""

    def __init__(self, client: Client, *, look: float = LOOK) -> None:
        self.client = client
        self.look = look

    async def back(self, device: str) -> None:
        if is_connected(self.client, device):  # it never went: not back before a look
            await asyncio.sleep(self.look)
        while True:
            if self.client.connected:
                try:
                    await use_device(self.client, device, appear=self.look)
                except RigError as exc:  # not defined yet, refused, left by a client: look again
                    logger.debug("%s not back yet: %s", device, exc)
                else:
                    if is_connected(self.client, device):
                        logger.info("%s is back, connected", device)
                        return
            await asyncio.sleep(self.look)
