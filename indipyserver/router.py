"""Pure routing: who receives which element. No asyncio, no sockets (skeleton; filled next)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from indipydriver.protocol.framing import Frame

    from .driverconn import DriverConnection

logger = logging.getLogger(__name__)


class ClientSink(Protocol):
    """What the router needs of a client connection."""

    label: str

    def send_frame(self, frame: Frame) -> None:
        """Queue one element to the client; never blocks."""


class Router:
    """Who owns which device, client interests, BLOB modes, snoops and the def/set cache."""

    def add_client(self, client: ClientSink) -> None:
        """A client connected."""

    def client_frames(self, client: ClientSink, frames: list[Frame]) -> None:
        """Elements read from a client, in order."""

    def client_lost(self, client: ClientSink) -> None:
        """A client disconnected."""

    def driver_ready(self, driver: DriverConnection) -> None:
        """A driver (re)started or a remote (re)connected: ask it for its properties."""

    def driver_frames(self, driver: DriverConnection, frames: list[Frame]) -> None:
        """Elements read from a driver, in order."""

    def driver_lost(self, driver: DriverConnection) -> None:
        """A driver died or a remote disconnected: its devices are deleted for clients."""

    def send_message(self, message: str, timestamp: str | None = None) -> None:
        """A device-less message to every client."""
