"""The face's view of the INDI server: reading the client's model, sending new values.

Every Alpaca GET is answered from what the INDI client already holds (ConformU's target for a
state read is 0.1 s), and an initiating PUT returns as soon as the INDI request is sent; so
this module reads the model and turns what the INDI side says or refuses into `AlpacaError`s
with the INDI device's own reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import indipyclient
from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipyclient.model import events as ev
from indipyclient.model.properties import PropertyVector
from indipycore.interface import Interface
from indipycore.protocol import State
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.refusals import is_refusal
from indipycore.protocol.refusals import refuses

logger = logging.getLogger(__name__)

# The INDI roles served, in the order a device with several is listed (a CCD with a filter
# wheel is a Camera and a FilterWheel). Only the types this package implements are here.
ROLES: tuple[tuple[Interface, DeviceType], ...] = (
    (Interface.TELESCOPE, DeviceType.TELESCOPE),
    (Interface.CCD, DeviceType.CAMERA),
    (Interface.WEATHER, DeviceType.OBSERVINGCONDITIONS),
    (Interface.WEATHER, DeviceType.SAFETYMONITOR),
    (Interface.DOME, DeviceType.DOME),
    (Interface.ROTATOR, DeviceType.ROTATOR),
    (Interface.FOCUSER, DeviceType.FOCUSER),
    (Interface.FILTER, DeviceType.FILTERWHEEL),
)

# How long a synchronous member (PUT Connected) waits for the INDI device's answer.
SYNC_TIMEOUT = 30.0
# A device is settled once, after its CONNECTION went Ok, it has defined or deleted no vector
# for QUIET_PERIOD: an INDI driver defines most of its properties just after the connect
# (indilib's updateProperties), and a client that connects and reads at once must see them.
# indilib's drivers send that burst within some 20 ms; 0.3 s leaves room for a loaded host.
QUIET_PERIOD = 0.3
# ... but a device that never stops defining counts as settled SETTLE_LIMIT after its
# CONNECTION went Ok: PUT Connected then still answers within the 5 s that clients such as
# alpyca allow a request, with room for the INDI device's own answer.
SETTLE_LIMIT = 3.0
# A wait that wakes this much past its time found the host stalled (a loaded Raspberry Pi):
# the silence it saw was not heard, since what the device sent meanwhile may still be on its
# way through the server and the socket.
STALL = 0.05
# How long a property write waits to read back what it set: under the 5 s clients such as
# alpyca allow a request, over ConformU's 1 s target for a write.
WRITE_TIMEOUT = 4.0


def after_stall(last: float, due: float, now: float) -> float:
    """The last thing heard, as a quiet period counts it once a wait due at `due` woke at
    `now`: after a stall (a wake more than STALL late) the quiet period starts again, so
    what the stall held up has time to arrive; SETTLE_LIMIT still bounds the wait. A wake
    on time changes nothing."""
    return max(last, now) if now - due > STALL else last


def roles_of(device: Any) -> list[DeviceType]:
    """The Alpaca types an INDI device of the model takes, from DRIVER_INFO.DRIVER_INTERFACE."""
    info = device.vectors.get("DRIVER_INFO")
    if info is None or "DRIVER_INTERFACE" not in info:
        return []
    try:
        bits = Interface.from_text(str(info["DRIVER_INTERFACE"]))
    except ValueError:
        return []
    return [dtype for bit, dtype in ROLES if bits & bit]


def _interface_text(device: Any) -> str | None:
    """DRIVER_INFO.DRIVER_INTERFACE as the model holds it, None when absent."""
    info = device.vectors.get("DRIVER_INFO")
    if info is None or "DRIVER_INTERFACE" not in info:
        return None
    return str(info["DRIVER_INTERFACE"])


class IndiSide:
    """The INDI client the face reads and sends through."""

    def __init__(self, client: indipyclient.Client) -> None:
        self.client = client
        # The devices' roles, kept while no device comes, goes or changes DRIVER_INTERFACE:
        # parsing every device's interface on each request was a fifth of a GET's cost.
        self._seen: tuple[tuple[str, str | None], ...] | None = None
        self._devices: list[tuple[str, DeviceType]] = []
        # The wait for each INDI device to settle after a connect (`settle`): one per INDI
        # device, since one may be served as two Alpaca devices (ObservingConditions and
        # SafetyMonitor) that both connect it.
        self._settling: dict[str, asyncio.Task[None]] = {}
        # The wait for the server's first listing of its devices (`listed`), shared.
        self._listing: asyncio.Task[None] | None = None

    def devices(self) -> list[tuple[str, DeviceType]]:
        """(INDI device name, Alpaca type) of every device the server has that can be served.

        The same list object is returned while nothing it depends on has changed (callers
        may key their own caches on its identity, and must not change it)."""
        model_devices = list(self.client.model.devices.items())
        seen = tuple((name, _interface_text(device)) for name, device in model_devices)
        if seen != self._seen:
            found: list[tuple[str, DeviceType]] = []
            for name, device in model_devices:
                found.extend((name, dtype) for dtype in roles_of(device))
            self._seen, self._devices = seen, found
        return self._devices

    async def listed(self) -> None:
        """Return once the devices the server had when the face connected are known: the
        first call waits for the connection and then for the burst of definitions that
        answers getProperties to stop (QUIET_PERIOD without one), SETTLE_LIMIT at most in
        all; later calls return at once. An Alpaca client asking as the server starts (NINA
        at launch, an ``alpaca://`` started with it) is told the devices, not an empty list."""
        if self._listing is None:
            self._listing = asyncio.create_task(self._first_listing())
        if not self._listing.done():
            await asyncio.shield(self._listing)

    async def _first_listing(self) -> None:
        loop = asyncio.get_running_loop()
        limit = loop.time() + SETTLE_LIMIT
        last: float | None = loop.time() if self.client.connected else None
        heard = asyncio.Event()

        def watch(event: ev.Event) -> bool:
            nonlocal last
            if isinstance(event, ev.ConnectionMade | ev.defVector | ev.delProperty):
                last = loop.time()
                heard.set()
            return False

        with self.client.waiters.watching(watch):
            while True:
                until = limit if last is None else min(last + QUIET_PERIOD, limit)
                if loop.time() >= until:
                    return
                heard.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(heard.wait(), until - loop.time())
                if last is not None:
                    last = after_stall(last, until, loop.time())

    def settle(self, device: str) -> None:
        """Start waiting for `device` to settle after the connect just sent, unless a wait
        runs already (then that one is shared)."""
        if not self.settling(device):
            self._settling[device] = asyncio.create_task(self._settle(device))

    def settling(self, device: str) -> bool:
        """Whether a connect of `device` is still waiting for it to settle."""
        task = self._settling.get(device)
        return task is not None and not task.done()

    async def settled(self, device: str) -> None:
        """Return once `device` has settled (at once when no wait runs); a request given
        up does not end the wait that others may share."""
        task = self._settling.get(device)
        if task is not None and not task.done():
            await asyncio.shield(task)

    async def _settle(self, device: str) -> None:
        """Until CONNECTION has left Busy (at most SYNC_TIMEOUT) and then `device` has
        defined or deleted nothing for QUIET_PERIOD (at most SETTLE_LIMIT). Ends at once
        when CONNECTION goes Alert, the device or the server refuses the connect or the
        server is lost.
        The client's events are watched, not the model polled: every definition counts,
        even one that replaces a vector already known."""
        loop = asyncio.get_running_loop()
        begun = loop.time()
        since: float | None = None  # when CONNECTION went Ok
        last = begun  # the last definition or deletion seen
        answered = asyncio.Event()  # set once `since` is

        def ended(vector: PropertyVector | None) -> bool:
            """Whether CONNECTION says there is nothing (more) to wait for; marks the
            moment it went Ok."""
            nonlocal since
            if vector is None or vector.state == State.ALERT:
                return True
            if vector.state == State.BUSY:
                return False
            if str(vector.get("CONNECT")) != "On":
                return True  # refused, or disconnected meanwhile
            if since is None:
                since = loop.time()
                answered.set()
            return False

        def watch(event: ev.Event) -> bool:
            nonlocal last
            if isinstance(event, ev.ConnectionLost):
                return True
            if isinstance(event, ev.Message):  # the server refused the connect: no answer
                return refuses(event.message, device, "CONNECTION")
            if event.devicename != device:
                return False
            if isinstance(event, ev.VectorEvent) and event.vectorname == "CONNECTION":
                return ended(self.client.model.vector(device, "CONNECTION"))
            if isinstance(event, ev.defVector | ev.delProperty):
                last = loop.time()
            return False

        with self.client.waiters.watching(watch) as over:
            if ended(self.client.model.vector(device, "CONNECTION")):
                return
            if since is None:
                waiting = asyncio.ensure_future(answered.wait())
                either: set[asyncio.Future[Any]] = {over, waiting}
                await asyncio.wait(either, timeout=SYNC_TIMEOUT,
                                   return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
            while since is not None and not over.done():
                due = min(max(last, since) + QUIET_PERIOD, since + SETTLE_LIMIT)
                if due <= loop.time():
                    return
                await asyncio.wait({over}, timeout=due - loop.time())
                last = after_stall(last, due, loop.time())

    def vector(self, device: str, name: str) -> PropertyVector | None:
        vector = self.client.model.vector(device, name)
        return vector if vector is not None and vector.enable else None

    def require(self, device: str, name: str, what: str) -> PropertyVector:
        """The vector behind `what`; not defined is 0x400 (not implemented)."""
        vector = self.vector(device, name)
        if vector is None:
            raise AlpacaError.not_implemented(f"{what} (INDI {name} of {device})")
        return vector

    def text(self, device: str, vector: str, member: str) -> str | None:
        found = self.vector(device, vector)
        if found is None or member not in found:
            return None
        return str(found[member])

    def number(self, device: str, vector: str, member: str) -> float | None:
        found = self.vector(device, vector)
        if found is None or member not in found:
            return None
        return parse_number(str(found[member]))

    def limits(self, device: str, vector: str, member: str) -> tuple[float, float] | None:
        """(min, max) of a number member."""
        found = self.vector(device, vector)
        if found is None or member not in found:
            return None
        item = found.member(member)
        return parse_number(item.min), parse_number(item.max)

    def switch_on(self, device: str, vector: str, member: str) -> bool | None:
        found = self.vector(device, vector)
        if found is None or member not in found:
            return None
        return str(found[member]) == "On"

    async def send(self, device: str, vector: str, values: dict[str, Any]) -> None:
        """Send new values and return at once (the model marks the vector Busy)."""
        await self._set(device, vector, values, wait=False, timeout=None)

    async def send_and_wait(self, device: str, vector: str, values: dict[str, Any],
                            timeout: float = SYNC_TIMEOUT) -> indipyclient.SetResult:
        """Send and wait for the device's answer; Alert becomes an error with its message."""
        result = await self._set(device, vector, values, wait=True, timeout=timeout)
        if result.timed_out:
            raise AlpacaError(ErrorNumber.UNSPECIFIED,
                              f"INDI device {device} did not answer {vector} within "
                              f"{timeout:g} s")
        if result.state == State.ALERT:
            raise alert_error(device, vector, result.message)
        return result

    async def send_and_see(self, device: str, vector: str, values: dict[str, Any],
                           timeout: float = WRITE_TIMEOUT) -> None:
        """Send and wait until the device shows the values sent (a switch On, a number
        equal), whatever the state: a tracking mount keeps TELESCOPE_TRACK_STATE Busy. Alert
        is an error with the device's message, the server's refusal InvalidOperation at once
        (`refused_error`); no read-back within `timeout` is 0x4FF.

        Each of the device's answers is judged as it comes (the client's events), not the
        model now and then: indilib's telescope simulator answers a sync with the synced
        coordinates and its next poll, at any moment after, with other ones."""
        target = self.vector(device, vector)
        held = {m: target[m] for m in values if m in target} if target is not None else {}

        def shown(kind: str, state: State) -> bool:
            settled = state != State.BUSY or kind == "SwitchVector"
            return settled and all(m in held and _equal(kind, held[m], v)
                                   for m, v in values.items())

        def answered(event: ev.Event) -> bool:
            if isinstance(event, ev.ConnectionLost):
                raise AlpacaError(ErrorNumber.UNSPECIFIED, "the INDI server was lost waiting "
                                  f"for {vector} of {device}: {event.reason}")
            if isinstance(event, ev.Message):
                # The server's refusal (access rules, audit trail): no answer will come.
                if refuses(event.message, device, vector):
                    raise refused_error(event.message)
                return False
            if event.devicename != device or event.vectorname not in (vector, None):
                return False
            if isinstance(event, ev.delProperty):  # the vector, or the whole device
                raise AlpacaError.not_implemented(f"{vector} of {device} went away")
            if not isinstance(event, ev.VectorEvent):
                return False
            # The values and state this element carried: the model may hold a later one's
            # already (a read of several elements is applied before they are handed out).
            held.update((m, v) for m, v in event.data.items() if m in values)
            state, message = event.vector.state, event.vector.message
            if isinstance(event, ev.setVector):
                state = event.state if event.state is not None else state
                message = event.message if event.message is not None else message
            if state == State.ALERT:
                raise alert_error(device, vector, message)
            return shown(event.vector.vectortype, state)

        with self.client.waiters.watching(answered) as done:
            await self._set(device, vector, values, wait=False, timeout=None)
            found = self.vector(device, vector)
            if found is None:
                raise AlpacaError.not_implemented(f"{vector} of {device} went away")
            if found.state == State.ALERT:
                raise alert_error(device, vector, found.message)
            if shown(found.vectortype, found.state):
                return  # a switch that was already as asked
            try:
                async with asyncio.timeout(timeout):
                    await done
            except TimeoutError:
                raise AlpacaError(ErrorNumber.UNSPECIFIED,
                                  f"INDI device {device} did not apply {vector} within "
                                  f"{timeout:g} s") from None

    async def wait_until(self, device: str, ready: Callable[[], bool],
                         timeout: float) -> bool:
        """Wait until ``ready()`` (asked now and after each event about `device`); False
        when `timeout` passed first. Losing the INDI server is an error."""
        if ready():
            return True

        def check(event: ev.Event) -> bool:
            if isinstance(event, ev.ConnectionLost):
                raise AlpacaError(ErrorNumber.UNSPECIFIED, "the INDI server was lost waiting "
                                  f"for {device}: {event.reason}")
            return event.devicename == device and ready()

        try:
            await self.client.waiters.until(check, timeout)
        except TimeoutError:
            return False
        return True

    async def _set(self, device: str, vector: str, values: dict[str, Any], *, wait: bool,
                   timeout: float | None) -> indipyclient.SetResult:
        try:
            return await self.client.set(device, vector, values, wait=wait,
                                         timeout=timeout if timeout is not None else 5.0)
        except indipyclient.InvalidValue as exc:
            raise AlpacaError.invalid_value(str(exc)) from None
        except indipyclient.UnknownVector as exc:
            raise AlpacaError.not_implemented(str(exc)) from None
        except indipyclient.NotConnected as exc:
            raise AlpacaError(ErrorNumber.UNSPECIFIED,
                              f"the INDI server is not reachable: {exc}") from None


def _equal(kind: str, held: Any, value: Any) -> bool:
    """Whether a member's value `held` (of a vector of `kind`) shows `value` as sent."""
    if kind == "NumberVector":
        try:
            return abs(parse_number(str(held)) - float(value)) <= 1e-6 * max(1.0, abs(float(value)))
        except ValueError:
            return False
    return str(held) == str(value)


def alert_error(device: str, vector: str, message: str) -> AlpacaError:
    """An INDI property that went Alert, as an Alpaca error carrying the device's reason; one
    the server refused to pass on (its access rules, its audit trail) is `refused_error`."""
    if is_refusal(message):
        return refused_error(message)
    reason = f": {message}" if message else ""
    return AlpacaError(ErrorNumber.INDI_ALERT, f"INDI device {device}, {vector} failed{reason}")


def refused_error(message: str) -> AlpacaError:
    """The server's refusal of the face's new values (``permission denied: alpaca may not set
    DEVICE.VECTOR``, ``indipycore.protocol.refusals``) as InvalidOperation with the server's
    words: the request is not possible for this client, whatever its value (docs/alpaca.rst,
    "Access rules")."""
    return AlpacaError(ErrorNumber.INVALID_OPERATION, message)
