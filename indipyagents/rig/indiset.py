"""The one way the rig commands a device: set a vector and wait for its answer, the answer
turned into the rig's errors (`DeviceRefused` on Alert, `DeviceLost` when the device is not
there, not connected, or silent). Every INDI instrument of ``rig/`` goes through here, so the
sequencer sees one kind of failure whatever the device.

`connect_device` is here, not in ``connect.py``, because the instruments call it before each
use: a driver the server restarted after it died comes back disconnected, and the step the
sequencer retries must connect it again rather than wait for vectors that never come.

`park_switch` is here too: a mount's TELESCOPE_PARK and a dome's DOME_PARK share indilib's
quirks (an answer Idle for a park already done, a second PARK taken as "abort"), and every
agent that parks (the sequencer's End, the watchdog's shutdown) parks through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Collection
from collections.abc import Mapping
from typing import Any

from indipyclient import Client
from indipyclient import NotConnected
from indipyclient import SetResult
from indipyclient import UnknownVector
from indipyclient import setVector
from indipycore.protocol import State

from .protocols import DeviceLost
from .protocols import DeviceRefused

#: Seconds a command waits for its answer unless the caller knows better (an exposure, a slew).
ANSWER_WAIT = 30.0
#: Seconds a device's definitions are waited for when the rig first reaches it.
DEFINITION_WAIT = 10.0
#: Seconds a vector a device may define a moment after the rest is waited for (`defined`):
#: one it lacks costs this once a connection.
OPTIONAL_WAIT = 5.0
#: Seconds a device's CONNECT may take (a camera's driver opening USB).
CONNECT_WAIT = 60.0


def is_connected(client: Client, device: str) -> bool:
    """Whether the server holds `device` and its CONNECTION says CONNECT (a device without a
    CONNECTION vector counts as connected)."""
    if not client.connected or device not in client:
        return False
    vector = client.devices.vector(device, "CONNECTION")
    return vector is None or vector.member("CONNECT").value == "On"


def holds(current: Any, wanted: Any) -> bool:
    """Whether a member already holds `wanted` (numbers compared as numbers), so a value
    already there is not set again."""
    if isinstance(wanted, int | float) and not isinstance(wanted, bool):
        try:
            return float(current) == float(wanted)
        except (TypeError, ValueError):
            return False
    return bool(current == wanted)


async def command(client: Client, device: str, vector: str, values: Mapping[str, Any], *,
                  timeout: float = ANSWER_WAIT,
                  accept: Collection[State] = (State.OK,)) -> None:
    """Set `values` on `device`.`vector` and return once the driver answers Ok (or another
    of the `accept` states: indilib ends a guide pulse Idle); raises `DeviceRefused` (Alert,
    with the driver's message), `DeviceLost` (no such device or vector after
    `DEFINITION_WAIT`, the server gone, or no answer within `timeout`). A set Idle that
    `accept` does not name is a report, not the answer: the answer is waited for after it."""
    if not client.connected:
        raise DeviceLost(device, "the INDI server is not reachable")
    ending = {*accept, State.ALERT}
    ended: list[SetResult] = []

    def ends(event: object) -> bool:
        if not (isinstance(event, setVector) and event.devicename == device
                and event.vectorname == vector):
            return False
        state = event.state if event.state is not None else event.vector.state
        if state not in ending:
            return False
        ended.append(SetResult(device, vector, state, event.message or ""))
        return True

    started = time.monotonic()
    # Watched from before the send: an answer that follows a driver's own report at once is
    # not missed (see below).
    with client.waiters.watching(ends) as answered:
        try:
            result = await client.set(device, vector, values, wait=True, timeout=timeout)
        except UnknownVector as exc:
            raise DeviceLost(device, str(exc)) from None
        except NotConnected as exc:
            raise DeviceLost(device, str(exc)) from None
        if result.state == State.IDLE and State.IDLE not in ending and not result.timed_out:
            # indilib answers a set Ok or Alert (Idle only where `accept` says: a park done,
            # a cooler off); a set Idle is then the driver's own report, not the answer:
            # indilib's CCD reports CCD_BINNING Idle a moment after its CONNECT, and a
            # binning sent in that moment took that report as its refusal.
            left = max(0.0, timeout - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await answered
            if ended:
                result = ended[0]
    if result.timed_out:
        raise DeviceLost(device, f"{vector} did not answer within {timeout:g} s")
    if result.state not in accept:
        said = f": {result.message}" if result.message else ""
        raise DeviceRefused(device, f"{vector} went {result.state.value}{said}")


async def require(client: Client, device: str, vector: str,
                  timeout: float = DEFINITION_WAIT) -> None:
    """Wait until `device` defines `vector`; `DeviceLost` naming it otherwise."""
    try:
        await client.wait_for(device, vector, timeout=timeout)
    except TimeoutError:
        raise DeviceLost(device, f"{vector} not defined within {timeout:g} s") from None


async def defined(client: Client, device: str, vector: str,
                  timeout: float = OPTIONAL_WAIT) -> bool:
    """Whether `device` defines `vector`, waited for `timeout` seconds at most: a driver
    defines its vectors one after another after a connect, so one not there yet may be on
    its way (`require` is for one that must come)."""
    with contextlib.suppress(TimeoutError):
        await client.wait_for(device, vector, timeout=timeout)
    return client.devices.vector(device, vector) is not None


async def connect_device(client: Client, device: str, *,
                         appear: float = DEFINITION_WAIT) -> bool:
    """Connect `device` unless it is; True when it had to. `DeviceLost` naming it when the
    server does not hold it within `appear` seconds, `DeviceRefused` when its CONNECT goes
    Alert."""
    if not client.connected:
        raise DeviceLost(device, "the INDI server is not reachable")
    try:
        await client.wait_for(device, "CONNECTION", timeout=appear)
    except TimeoutError:
        raise DeviceLost(device, f"the INDI server at {client.host}:{client.port} has no "
                         f"such device (none defined within {appear:g} s)") from None
    if is_connected(client, device):
        return False
    await command(client, device, "CONNECTION", {"CONNECT": "On"}, timeout=CONNECT_WAIT)
    return True


async def park_switch(client: Client, device: str, vector: str, member: str, *,
                      timeout: float) -> None:
    """`vector`.`member` ("PARK" or "UNPARK" of TELESCOPE_PARK or DOME_PARK) set and done.

    indilib's quirks, all here: it answers an unpark, and a park or unpark already done, Idle
    rather than Ok, so the switch saying `member` is what counts (without it: `DeviceRefused`);
    and its telescope simulator takes a PARK that comes while it parks as "abort", so a move
    already under way (Busy with `member` on: an earlier try past its bound, the watchdog's
    park, another client's) is waited for, within `timeout`, not asked for again."""
    current = client.devices.vector(device, vector)
    if current is not None and current.state == State.BUSY \
            and client.get(device, vector, member) == "On":
        try:
            found = await client.wait_for(device, vector, timeout=timeout,
                                          state=(State.OK, State.IDLE, State.ALERT))
        except TimeoutError:
            raise DeviceLost(device, f"{vector} still moving to {member} after "
                                     f"{timeout:g} s") from None
        if found.state == State.ALERT:
            said = f": {found.message}" if found.message else ""
            raise DeviceRefused(device, f"{vector} went Alert on its way to {member}{said}")
    else:
        await command(client, device, vector, {member: "On"}, timeout=timeout,
                      accept=(State.OK, State.IDLE))
    after = client.devices.vector(device, vector)
    if after is None:
        raise DeviceLost(device, f"{vector} is no longer defined")
    if after[member] != "On":
        raise DeviceRefused(device, f"{vector} went {after.state.value} without {member} on")
