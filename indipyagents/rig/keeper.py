"""`Keeper`: the devices an agent needs kept connected, the same way in every agent (the
watchdog's weather station, mount and dome; the guider's camera and mount).

A driver its server restarted, and every driver of a server started again after a power cut,
comes back defined with CONNECTION Off, and nothing connects it unless an agent does: the
watchdog then heard nothing from its weather station and shut the night down, though nobody
had asked for anything. So a needed device defined disconnected at the agent's start, after it
was deleted, or after the agent's link to its server was lost and made again, is connected
(`connect_device`). A device that goes from connected to disconnected while it stays defined
and the link stays up was disconnected by a client on purpose: it is respected and said.
CONNECTION going Alert is no one's choice (a CONNECT refused, a driver that lost its
hardware): the device is connected again after a pause (`PAUSE`, not at every message), the
refusal said once and the connection said when it comes at last.

`keep` decides, as a pure function of what the keeper last knew of the device and what it
hears; `Keeper` feeds it from a client's events and acts. The night's instruments, which
connect a device before each use, ask `use_device` instead: the same rule, fed by what the
client holds when it looks (a device defined afresh since the last look is a new object in the
client's model: a driver restarted, the link made again), so a device a client disconnected
while the night runs is not connected again behind the user's back (`DeviceLeft` saying why:
the night holds at once, waiting for it, without spending its retries); `lost` tells a
camera whose exposure ended disconnected which of the two it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Coroutine
from enum import Enum
from weakref import WeakKeyDictionary

from indipyclient import Client
from indipyclient.model import events as ev
from indipycore.protocol import State

from .indiset import DEFINITION_WAIT
from .indiset import connect_device
from .protocols import DeviceLeft
from .protocols import DeviceLost
from .protocols import RigError

__all__ = ["PAUSE", "Act", "Heard", "Keeper", "Standing", "forget", "keep", "look_at", "lost",
           "use_device"]

logger = logging.getLogger(__name__)

#: Seconds between two CONNECTs of a device that refused (a driver whose hardware is not
#: there answers at once: a loop would flood it and the log).
PAUSE = 10.0


class Standing(Enum):
    """What the keeper knows of a needed device."""

    FRESH = "fresh"  # not seen since the start, its deletion or the link's loss
    CONNECTING = "connecting"  # seen disconnected fresh: the keeper connects it
    CONNECTED = "connected"
    LEFT = "left"  # disconnected by a client while defined and linked: respected
    REFUSED = "refused"  # CONNECTION Alert: connected again after the pause
    RETRYING = "retrying"  # our CONNECT again after a refusal: its answer is awaited


class Heard(Enum):
    """What is heard of the device."""

    DELETED = "deleted"  # its server deleted it (its driver died or was stopped)
    RELINKED = "relinked"  # the agent's link was lost (a server restarted, a network cut)
    ON = "on"  # CONNECTION defined or set with CONNECT On
    OFF = "off"  # CONNECTION defined with CONNECT Off (or found so when first looked at)
    TURNED_OFF = "turned off"  # CONNECTION set to CONNECT Off: a change of a defined device
    REFUSED = "refused"  # CONNECTION Alert, or our CONNECT failed: nobody's choice
    DUE = "due"  # the pause after a refusal has passed


class Act(Enum):
    """What the keeper does about it."""

    NOTHING = "nothing"
    CONNECT = "connect"
    RESPECT = "respect"  # say that it stays disconnected, and leave it
    SAY_REFUSED = "say refused"  # say the refusal, and try again after the pause
    WAIT = "wait"  # refused again (or its answer and its event both heard): try after the pause
    SAY_CONNECTED = "say connected"  # connected at last after a refusal: said


def keep(standing: Standing, heard: Heard) -> tuple[Standing, Act]:
    """The device's new standing and what to do: connected when found disconnected fresh
    (the agent's start, after a deletion or a relink: a restarted driver); a connected device
    that goes disconnected while known is a client's wish, respected and said once; a refusal
    (Alert) is tried again after the pause, said once until the device connects."""
    if heard in (Heard.DELETED, Heard.RELINKED):
        return Standing.FRESH, Act.NOTHING
    if heard == Heard.ON:
        at_last = standing in (Standing.REFUSED, Standing.RETRYING)
        return Standing.CONNECTED, Act.SAY_CONNECTED if at_last else Act.NOTHING
    if heard == Heard.REFUSED:
        if standing == Standing.LEFT:
            return standing, Act.NOTHING  # a client's DISCONNECT stands
        if standing in (Standing.REFUSED, Standing.RETRYING):
            return Standing.REFUSED, Act.WAIT
        return Standing.REFUSED, Act.SAY_REFUSED
    if heard == Heard.DUE:
        if standing == Standing.REFUSED:
            return Standing.RETRYING, Act.CONNECT
        return standing, Act.NOTHING
    if standing == Standing.FRESH and heard == Heard.OFF:
        return Standing.CONNECTING, Act.CONNECT
    if standing in (Standing.FRESH, Standing.CONNECTED) or (
            standing == Standing.REFUSED and heard == Heard.TURNED_OFF):
        # Turned off while defined: a client's wish, even for a device first heard so (one
        # named to the agent since, whose definition came before it was watched), and for a
        # refused device a client disconnects (a driver's refusal says Alert, not Off).
        return Standing.LEFT, Act.RESPECT
    return standing, Act.NOTHING  # our CONNECT under way, or already said


class Keeper:
    """The devices `needed` names kept connected on the attached client's server, told by
    the logger `log` returns (an agent's device logger, once it has its device: a client reads
    why a device stays disconnected); a refused device tried again every `pause` seconds."""

    def __init__(self, needed: Callable[[], Collection[str]],
                 log: Callable[[], logging.Logger], *, pause: float = PAUSE) -> None:
        self.needed = needed
        self._log = log
        self.pause = pause
        self.client: Client | None = None
        self.standings: dict[str, Standing] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._retries: dict[str, asyncio.Task[None]] = {}

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
                if vector is not None and vector.state != State.BUSY:
                    self._hear(device, heard(vector.state, vector["CONNECT"] == "On",
                                             Heard.OFF))

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
                and event.vectorname == "CONNECTION":
            # The event's own values: the client's copy may have moved on since.
            state = event.state if isinstance(event, ev.defVector) or event.state is not None \
                else event.vector.state
            if state == State.BUSY:
                return  # a CONNECT (or DISCONNECT) under way: its end is the news
            on = (event if "CONNECT" in event else event.vector)["CONNECT"] == "On"
            off = Heard.OFF if isinstance(event, ev.defVector) else Heard.TURNED_OFF
            self._hear(device, heard(state, on, off))

    def _hear(self, device: str, heard: Heard, why: str = "CONNECTION went Alert") -> None:
        standing, act = keep(self.standings.get(device, Standing.FRESH), heard)
        self.standings[device] = standing
        if act == Act.RESPECT:
            self.log.warning("%s was disconnected by a client: not reconnected", device)
        elif act == Act.SAY_CONNECTED:
            self.log.info("%s connected at last", device)
        elif act == Act.CONNECT and self.client is not None:
            self._start(self._connect(self.client, device), f"connecting {device}")
        elif act in (Act.SAY_REFUSED, Act.WAIT):
            if act == Act.SAY_REFUSED:
                self.log.error("%s refused to connect (%s): trying again every %g s",
                               device, why, self.pause)
            retry = self._retries.get(device)
            if retry is None or retry.done():
                self._retries[device] = self._start(self._due(device),
                                                    f"connecting {device} again")

    def _start(self, work: Coroutine[None, None, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _due(self, device: str) -> None:
        await asyncio.sleep(self.pause)
        self._hear(device, Heard.DUE)

    async def _connect(self, client: Client, device: str) -> None:
        again = self.standings.get(device) == Standing.RETRYING
        if not again:
            self.log.info("%s is disconnected (its driver started or restarted): "
                          "connecting it", device)
        try:
            await connect_device(client, device)
        except RigError as exc:
            if client is self.client and self.standings.get(device) in (
                    Standing.CONNECTING, Standing.RETRYING, Standing.REFUSED):
                self._hear(device, Heard.REFUSED, str(exc))
        else:
            if not again:
                self.log.info("%s connected", device)

    async def close(self) -> None:
        """The connections under way abandoned (the agent stops)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def beside(self, *loops: tuple[str, Coroutine[None, None, None]]) -> None:
        """An agent's life: its `loops` (each a task's name and its coroutine) run together
        until one fails or they are cancelled, then `close`, whatever ended them (the guider's
        and the watchdog's one shape)."""
        try:
            async with asyncio.TaskGroup() as group:
                for name, loop in loops:
                    group.create_task(loop, name=name)
        finally:
            await self.close()


def heard(state: State | None, on: bool, off: Heard) -> Heard:
    """What a CONNECTION not Busy says: Alert is a refusal whatever its switch (indilib's
    drivers leave CONNECT On on some failures), else On or `off`."""
    if state == State.ALERT:
        return Heard.REFUSED
    return Heard.ON if on else off


#: Per client, each device looked at: the client's object for it then, and its standing.
_LOOKED: WeakKeyDictionary[Client, dict[str, tuple[object, Standing]]] = WeakKeyDictionary()

#: Why a device is not connected again: what a user reads in the night's state.
LEFT_SAID = ("disconnected by a client: not connected again until a client connects it or "
             "its driver restarts")


def look_at(client: Client, device: str) -> Standing:
    """`keep`'s standing of `device` as `client` holds it now, heard since the last look; a
    client's DISCONNECT seen for the first time is said (logged) once."""
    looked = _LOOKED.setdefault(client, {})
    vector = client.devices.vector(device, "CONNECTION") if client.connected else None
    if vector is None:
        looked.pop(device, None)  # gone: defined again, it is fresh
        return Standing.FRESH
    held, standing = looked.get(device, (None, Standing.FRESH))
    if held is not vector.device:  # defined afresh since (or never looked at)
        standing = Standing.FRESH
    if vector.state != State.BUSY:
        off = Heard.OFF if standing == Standing.FRESH else Heard.TURNED_OFF
        standing, act = keep(standing, heard(vector.state, vector["CONNECT"] == "On", off))
        if act == Act.RESPECT:
            logger.warning("%s was %s", device, LEFT_SAID)
    looked[device] = (vector.device, standing)
    return standing


def lost(client: Client, device: str, reason: str) -> DeviceLost:
    """The error of `device` found gone for `reason`: `DeviceLeft` when a client disconnected
    it (still defined, CONNECT Off since the last look), else `DeviceLost`."""
    if look_at(client, device) == Standing.LEFT:
        return DeviceLeft(device, LEFT_SAID)
    return DeviceLost(device, reason)


def forget(client: Client, devices: Collection[str]) -> None:
    """What was looked at of `devices` forgotten: a night's start connects them whatever a
    client did before."""
    for device in devices:
        _LOOKED.get(client, {}).pop(device, None)


async def use_device(client: Client, device: str, *,
                     appear: float = DEFINITION_WAIT) -> bool:
    """`connect_device` for a device about to be used, unless a client disconnected it while
    it stayed defined and the link stayed up (`DeviceLeft` saying so); True when it had to
    connect it."""
    if look_at(client, device) == Standing.LEFT:
        raise DeviceLeft(device, LEFT_SAID)
    connected = await connect_device(client, device, appear=appear)
    look_at(client, device)  # seen connected: a DISCONNECT from now on is a client's
    return connected
