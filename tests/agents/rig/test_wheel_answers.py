"""`IndiWheel.select` ends however a wheel's answer comes (issue 79 item 8: a batch's second
group, its wheel turned to slot 2, was not taken).

A scripted wheel driver under our server answers each FILTER_SLOT in one of the orders real
drivers use: indilib's (Busy with the old slot, then Ok 0.5 s later), Busy and Ok in one write,
Ok alone, an Idle report before the Ok; each select ends with the wheel's answer, a second
select of the same slot at once. A wheel that never answers is lost after `WHEEL_WAIT`
(`DeviceLost`, which the batch's retry policy retries), never a silent wait; one whose turn
went Alert is refused, and asked again at the next select.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from serverkit import number_set
from serverkit import running
from serverkit import script_constants
from serverkit import server
from serverkit import stdio_driver

import indipyclient
from indipyagents.rig import wheel as wheel_module
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.wheel import IndiWheel
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import Rule
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol import serialise

DEVICE = "Scripted Wheel"
SLOTS = range(1, 6)  # the wheel's five slots

#: How each kind of wheel answers a turn from `old` to `new` (Python expressions of the
#: driver's: `update(state, slot)` is the bytes of one FILTER_SLOT set).
ANSWERS = {
    "indilib": "[update('Busy', old), 0.5, update('Ok', new)]",
    "one write": "[update('Busy', old) + update('Ok', new)]",
    "ok alone": "[update('Ok', new)]",
    "idle report first": "[update('Idle', new), 0.05, update('Ok', new)]",
    "alert": "[update('Busy', old), 0.1, update('Alert', old)]",
    "silent": "[]",
}


def wheel_driver(folder: Path, kind: str) -> str:
    """An executable driver of `DEVICE`, connected, at slot 1 of 5, answering as `kind`."""
    connection = DefSwitchVector(DEVICE, "CONNECTION", State.OK, Perm.RW, Rule.ONE_OF_MANY, (
        Switch("CONNECT", SwitchState.ON), Switch("DISCONNECT", SwitchState.OFF)))
    slot = DefNumberVector(DEVICE, "FILTER_SLOT", State.IDLE, Perm.RW, (
        Number("FILTER_SLOT_VALUE", "1", format="%3.0f", min="1", max="5", step="1"),))
    names = DefTextVector(DEVICE, "FILTER_NAME", State.IDLE, Perm.RW, tuple(
        Text(f"FILTER_SLOT_NAME_{n}", f"F{n}") for n in SLOTS))
    define = b"".join(serialise(event) for event in (connection, slot, names))
    # Every FILTER_SLOT set the driver may write, by (state, slot): the serialiser's XML.
    updates = {(state.value, n): number_set(DEVICE, "FILTER_SLOT", {"FILTER_SLOT_VALUE": n},
                                             state=state)
               for state in (State.IDLE, State.OK, State.BUSY, State.ALERT) for n in SLOTS}
    setup = script_constants(DEFINE=define, UPDATES=updates) + (
        "import re, time\n"
        "current = 1\n"
        "def update(state, slot):\n"
        "    return UPDATES[(state, slot)]\n")
    on_new = f"""
        found = re.search(rb"FILTER_SLOT_VALUE['\\"]\\s*>\\s*([0-9.]+)", chunk)
        if found:
            old, new = current, round(float(found.group(1)))
            for step in {ANSWERS[kind]}:
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    os.write(1, step)
            if {kind!r} != "alert":
                current = new
    """
    path = folder / f"wheel_{kind.replace(' ', '_')}.py"
    path.write_text(f"#!{sys.executable}\n" + stdio_driver(
        "os.write(1, DEFINE)", on_new, setup))
    path.chmod(0o755)
    return str(path)


@contextlib.asynccontextmanager
async def wheel_of(folder: Path, kind: str) -> AsyncIterator[IndiWheel]:
    served = server()
    served.add_exdriver(wheel_driver(folder, kind), max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(DEVICE, "FILTER_NAME", timeout=10)
        yield IndiWheel(client, DEVICE)


@pytest.mark.parametrize("kind", ["indilib", "one write", "ok alone", "idle report first"])
async def test_each_way_of_answering_ends_the_turn(tmp_path: Path, kind: str) -> None:
    async with wheel_of(tmp_path, kind) as wheel:
        for wanted in (2, 3, 1, 2):
            assert await asyncio.wait_for(wheel.select(wanted), 5) == wanted
            vector = wheel.client.vector(DEVICE, "FILTER_SLOT")
            assert (vector.state, await wheel.slot()) == (State.OK, wanted)
            started = time.monotonic()
            assert await wheel.select(f"F{wanted}") == wanted  # there and still: at once
            assert time.monotonic() - started < 0.5


async def test_a_wheel_that_never_answers_is_lost_after_wheel_wait(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded, and said: `DeviceLost` (the batch retries it), not a silent wait."""
    assert wheel_module.WHEEL_WAIT <= 60  # under the 75 s in which the report saw nothing
    monkeypatch.setattr(wheel_module, "WHEEL_WAIT", 1.5)
    async with wheel_of(tmp_path, "silent") as wheel:
        started = time.monotonic()
        with pytest.raises(DeviceLost, match="FILTER_SLOT did not answer within 1.5 s"):
            await wheel.select(2)
        assert time.monotonic() - started < 5


async def test_a_turn_gone_alert_is_refused_and_asked_again(tmp_path: Path) -> None:
    async with wheel_of(tmp_path, "alert") as wheel:
        with pytest.raises(DeviceRefused, match="FILTER_SLOT went Alert"):
            await wheel.select(2)
        # Still at slot 1, but Alert: selecting slot 1 asks the wheel, not the model.
        with pytest.raises(DeviceRefused, match="FILTER_SLOT went Alert"):
            await wheel.select(1)



async def test_a_turn_under_way_is_waited_for_not_refused() -> None:
    """Our wheel simulator (half a second a slot) refuses a new turn while it turns ("still
    turning: try again"), as the agent started again under indiserver met it after its process
    was killed mid-turn (a batch failed, 2026-11-28): a select while another client's turn is
    under way waits for the wheel to stop, then turns it, instead of being refused."""
    from indipysimulators import focus

    async with running(server(focus.make_driver())) as served, \
            indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(focus.WHEEL, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(focus.WHEEL, "FILTER_NAME", timeout=10)
        wheel = IndiWheel(client, focus.WHEEL)
        await client.send_newVector(focus.WHEEL, "FILTER_SLOT", members={"FILTER_SLOT_VALUE": 5})
        await client.wait_for(focus.WHEEL, "FILTER_SLOT", state=State.BUSY, timeout=5)
        assert await asyncio.wait_for(wheel.select(3), 10) == 3
        vector = client.vector(focus.WHEEL, "FILTER_SLOT")
        assert (vector.state, await wheel.slot()) == (State.OK, 3)
