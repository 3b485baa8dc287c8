"""`Keeper`: the devices an agent needs kept connected, the same way in every agent (the
watchdog's weather station, mount and dome; the guider's camera and mount).

A driver its server restarted, and every driver of a server started again after a power cut,
comes back defined with CONNECTION Off, and nothing connects it unless an agent does: the
watchdog then heard nothing from its weather station and shut the night down, though nobody
had asked for anything. So a needed device defined disconnected at the agent's start, after it
was deleted, or after the agent's link to its server was lost and made again, is connected
(`connect_device`). A device that goes from connected to disconnected while it stays defined
and the link stays up was disconnected by a client on purpose: it is respected and said.

`keep` decides, as a pure function of what the keeper last knew of the device and what it
hears; `Keeper` feeds it from a client's events and acts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Collection
from enum import Enum

from indipyclient import Client
from indipyclient.model import events as ev

from .indiset import connect_device
from .protocols import RigError

__all__ = ["Act", "Heard", "Keeper", "Standing", "keep"]

logger = logging.getLogger(__name__)


class Standing(Enum):
    """What the keeper knows of a needed device."""

    FRESH = "fresh"  # not seen since the start, its deletion or the link's loss
    CONNECTING = "connecting"  # seen disconnected fresh: the keeper connects it
    CONNECTED = "connected"
    LEFT = "left"  # disconnected by a client while defined and linked: respected


class Heard(Enum):
    """What is heard of the device."""

    DELETED = "deleted"  # its server deleted it (its driver died or was stopped)
    RELINKED = "relinked"  # the agent's link was lost (a server restarted, a network cut)
    ON = "on"  # CONNECTION defined or set with CONNECT On
    OFF = "off"  # CONNECTION defined with CONNECT Off (or found so when first looked at)
    TURNED_OFF = "turned off"  # CONNECTION set to CONNECT Off: a change of a defined device


class Act(Enum):
    """What the keeper does about it."""

    NOTHING = "nothing"
    CONNECT = "connect"
    RESPECT = "respect"  # say that it stays disconnected, and leave it


def keep(standing: Standing, heard: Heard) -> tuple[Standing, Act]:
    """The device's new standing and what to do: connected when found disconnected fresh
    (the agent's start, after a deletion or a relink: a restarted driver); a connected device
    that goes disconnected while known is a client's wish, respected and said once."""
    if heard in (Heard.DELETED, Heard.RELINKED):
        return Standing.FRESH, Act.NOTHING
    if heard == Heard.ON:
        return Standing.CONNECTED, Act.NOTHING
    if standing == Standing.FRESH and heard == Heard.OFF:
        return Standing.CONNECTING, Act.CONNECT
    if standing in (Standing.FRESH, Standing.CONNECTED):
        # Turned off while defined: a client's wish, even for a device first heard so (one
        # named to the agent since, whose definition came before it was watched).
        return Standing.LEFT, Act.RESPECT
    return standing, Act.NOTHING  # our CONNECT under way or refused, or already said


class Keeper:
    """The devices `needed` names kept connected on the attached client's server, told by
    the logger `log` returns (an agent's device logger, once it has its device: a client reads
    why a device stays disconnected)."""

    def __init__(self, needed: Callable[[], Collection[str]],
                 log: Callable[[], logging.Logger]) -> None:
        self.needed = needed
        self._log = log
        self.client: Client | None = None
        self.standings: dict[str, Standing] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def log(self) -> logging.Logger:
        return self._log()

    def attach(self, client: Client) -> None:
        """`client` is the agent's link from now on (at start, or another after a relink):
        what was known is forgotten and what it already holds is looked at."""
        if client is not self.client:
            self.client = client
            self.standings.clear()
        self.look()

    def look(self) -> None:
        """Each needed device not yet known, as the client holds it now (the start, or a
        device named since)."""
        client = self.client
        if client is None or not client.connected:
            return
        for device in self.needed():
            if device and device not in self.standings:
                vector = client.devices.vector(device, "CONNECTION")
                if vector is not None:
                    self._hear(device, Heard.ON if vector["CONNECT"] == "On" else Heard.OFF)

    def event(self, event: ev.Event) -> None:
        """One of the client's events, in the order the client made them."""
        if isinstance(event, ev.ConnectionLost):
            for device in list(self.standings):
                self._hear(device, Heard.RELINKED)
            return
        device = event.devicename or ""
        if not device or device not in self.needed():
            return
        if isinstance(event, ev.delProperty):
            if event.vectorname in (None, "CONNECTION"):
                self._hear(device, Heard.DELETED)
        elif isinstance(event, ev.defVector | ev.setVector) \
                and event.vectorname == "CONNECTION" and "CONNECT" in event:
            off = Heard.OFF if isinstance(event, ev.defVector) else Heard.TURNED_OFF
            self._hear(device, Heard.ON if event["CONNECT"] == "On" else off)

    def _hear(self, device: str, heard: Heard) -> None:
        standing, act = keep(self.standings.get(device, Standing.FRESH), heard)
        self.standings[device] = standing
        if act == Act.RESPECT:
            self.log.warning("%s was disconnected by a client: not reconnected", device)
        elif act == Act.CONNECT and self.client is not None:
            task = asyncio.get_running_loop().create_task(
                self._connect(self.client, device), name=f"connecting {device}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connect(self, client: Client, device: str) -> None:
        self.log.info("%s is disconnected (its driver started or restarted): connecting it",
                      device)
        try:
            await connect_device(client, device)
        except RigError as exc:
            self.log.error("could not connect %s: %s", device, exc)
        else:
            self.log.info("%s connected", device)

    async def close(self) -> None:
        """The connections under way abandoned (the agent stops)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
