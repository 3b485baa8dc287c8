"""Issue 78 item 4: one pair of hands. The sequencer's end-of-night park (`IndiMount.park`, as
the End calls it), started while a park is already under way (the watchdog's, sent here by
indilib's own ``indi_setprop``), waits for that park instead of asking again: indilib's
``indi_simulator_telescope`` takes a PARK that comes while it parks as "abort". The mount ends
parked, TELESCOPE_PARK Ok, with one PARK sent and no abort."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from agentkit import simulator_served
from peers import setprop

import indipyclient
from indipyagents.rig.mount import IndiMount
from indipyclient.model import events as ev
from indipycore.protocol import State

pytestmark = pytest.mark.timeout(300)

MOUNT = "Telescope Simulator"
#: Seconds indilib's simulator may take to park from where it starts (a bound on a failure).
PARK_BOUND = 120.0


@pytest.fixture
async def served(tmp_home: Path) -> AsyncIterator[tuple[indipyclient.Client, int]]:
    """indilib's telescope simulator under our server, connected, not parked; a client."""
    async with simulator_served("indi_simulator_telescope", MOUNT,
                                "TELESCOPE_PARK") as (client, port):
        await IndiMount(client, MOUNT).unpark()
        yield client, port


async def test_the_end_of_night_park_waits_for_a_park_under_way(
        served: tuple[indipyclient.Client, int]) -> None:
    """A park started by another client (indi_setprop, as the watchdog's shutdown would) is
    Busy with PARK on when the End's park runs; `IndiMount.park` returns once the mount is
    parked (Ok, PARK on) and the simulator never said the park was aborted, nor went Idle or
    unparked on the way, and no second PARK reached it."""
    client, port = served
    seen: list[tuple[State | None, str, str]] = []  # TELESCOPE_PARK's (state, PARK, message)

    def record(event: ev.Event) -> bool:
        if isinstance(event, ev.setVector) and event.devicename == MOUNT \
                and event.vectorname == "TELESCOPE_PARK":
            seen.append((event.state, str(dict(event).get("PARK")), event.message or ""))
        return False

    with client.waiters.watching(record):
        sent = await asyncio.to_thread(setprop, port, f"{MOUNT}.TELESCOPE_PARK.PARK=On",
                                       timeout=10)
        assert sent.returncode == 0, sent.describe()
        busy = await client.wait_for(MOUNT, "TELESCOPE_PARK", state=State.BUSY, timeout=20)
        assert busy["PARK"] == "On"
        assert not IndiMount(client, MOUNT).left_unparked()  # moving: not for a re-park
        started = time.monotonic()
        mount = IndiMount(client, MOUNT, park_timeout=PARK_BOUND)
        await mount.park()  # as the sequencer's End: bounded, once
        took = time.monotonic() - started
        await asyncio.sleep(1.0)  # an abort the park set off would come now
    park = client.vector(MOUNT, "TELESCOPE_PARK")
    assert park.state == State.OK and park["PARK"] == "On", (park.state, dict(park), seen)
    assert mount.parked()
    after_busy = seen[next(i for i, (state, _, _) in enumerate(seen) if state == State.BUSY):]
    assert not any("abort" in message.lower() for _, _, message in seen), seen
    assert all(state in (State.BUSY, State.OK) and value == "On"
               for state, value, _ in after_busy), seen
    assert after_busy[-1][0] == State.OK, seen
    assert took > 0.5, f"park() returned after {took:.2f} s, before the park ended: {seen}"
