"""Issue 78 item 4: the rig's `IndiDome` against indilib's ``indi_simulator_dome`` (under our
server): park and unpark (each twice: indilib answers one already done at once), the shutter
opened and closed, `open` (unparked, shutter open) and `close` (DOME_PARK, the dome's own
shutter policy left as it is), a close while a park is under way ending parked; and a device
that is no dome refused by name. A roof with DOME_SHUTTER only is closed by its shutter in
the watchdog's tests (tests/agents/watchdog/test_watchdog_shutdown.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from agentkit import simulator_served
from peers import setprop

import indipyclient
from indipyagents.rig.dome import IndiDome
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import Dome
from indipycore.protocol import State

pytestmark = pytest.mark.timeout(300)

DOME = "Dome Simulator"
#: Seconds a move may take on the simulator (its shutter takes about 6 s).
MOVE = 60.0


@pytest.fixture
async def served(tmp_home: Path) -> AsyncIterator[tuple[indipyclient.Client, int]]:
    """indilib's dome simulator under our server, connected; a client of it."""
    async with simulator_served("indi_simulator_dome", DOME, "DOME_PARK",
                                "DOME_SHUTTER") as (client, port):
        yield client, port


def state(client: indipyclient.Client, vector: str, member: str) -> tuple[str, str]:
    found = client.vector(DOME, vector)
    return found.state.value, str(found[member])


async def test_park_unpark_and_the_shutter(served: tuple[indipyclient.Client, int]) -> None:
    """Each move done when it returns, the vector Ok with its switch on; a park or unpark
    already done is done again without a refusal."""
    client, _port = served
    dome = IndiDome(client, DOME, timeout=MOVE)
    assert dome.can_park() and dome.has_shutter()
    for _ in range(2):
        await dome.park()
        assert dome.parked() and state(client, "DOME_PARK", "PARK") == ("Ok", "On")
        assert not dome.left_open()  # the watchdog's re-park asks
    for _ in range(2):
        await dome.unpark()
        assert not dome.parked() and state(client, "DOME_PARK", "UNPARK") == ("Ok", "On")
        assert dome.left_open()
    await dome.open_shutter()
    assert dome.shutter_closed() is False
    assert state(client, "DOME_SHUTTER", "SHUTTER_OPEN") == ("Ok", "On")
    await dome.close_shutter()
    assert dome.shutter_closed() is True
    assert state(client, "DOME_SHUTTER", "SHUTTER_CLOSE") == ("Ok", "On")


async def test_open_then_close(served: tuple[indipyclient.Client, int]) -> None:
    """`open` (a parked dome, its shutter closed) unparks it and opens the shutter; `close`
    parks it (DOME_PARK, as the watchdog's PARK_DOME), the shutter left to the dome's
    DOME_SHUTTER_PARK_POLICY (indilib's default: not closed on park)."""
    client, _port = served
    dome: Dome = IndiDome(client, DOME, timeout=MOVE)
    hands = IndiDome(client, DOME, timeout=MOVE)
    await hands.park()
    await hands.close_shutter()
    await dome.open()
    assert not hands.parked() and hands.shutter_closed() is False
    await dome.close()
    assert hands.parked() and state(client, "DOME_PARK", "PARK") == ("Ok", "On")
    assert client.get(DOME, "DOME_SHUTTER_PARK_POLICY", "SHUTTER_CLOSE_ON_PARK") == "Off"


async def test_a_close_while_a_park_is_under_way_ends_parked(
        served: tuple[indipyclient.Client, int]) -> None:
    """The dome turned away from its park position, a park sent by another client (indilib's
    indi_setprop); `close` during it ends with the dome parked (Ok, PARK on)."""
    client, port = served
    dome = IndiDome(client, DOME, timeout=MOVE)
    await dome.unpark()
    # 60 degrees from its park (azimuth 90): a park of several seconds to close during; 300 (150
    # degrees away) made the turn and the park each twice as long (issue 90 item 6).
    moved = await client.set(DOME, "ABS_DOME_POSITION", {"DOME_ABSOLUTE_POSITION": 150},
                             timeout=MOVE)
    assert moved.state == State.OK, moved
    sent = await asyncio.to_thread(setprop, port, f"{DOME}.DOME_PARK.PARK=On", timeout=10)
    assert sent.returncode == 0, sent.describe()
    await client.wait_for(DOME, "DOME_PARK", state=State.BUSY, timeout=20)
    assert not dome.left_open()  # moving: not for the watchdog's re-park
    await dome.close()
    assert dome.parked() and state(client, "DOME_PARK", "PARK") == ("Ok", "On")


async def test_a_device_that_is_no_dome_is_refused_by_name(
        served: tuple[indipyclient.Client, int]) -> None:
    """A device with neither DOME_PARK nor DOME_SHUTTER: `DeviceLost` naming it and saying
    what it lacks, after the short wait for its definitions."""
    client, _port = served
    with pytest.raises(DeviceLost, match="No Dome: defines neither DOME_PARK nor DOME_SHUTTER"):
        await IndiDome(client, "No Dome", appear=0.5).close()
