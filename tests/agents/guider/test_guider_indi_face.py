"""Issue 81 item 2, the INDI face without PHD2: indilib's ``indi_setprop`` starts, dithers and
stops the Guider Agent on our server (our mount and guide camera simulators in-process, the
PHD2 server off): AGENT_START_PROCESS.CALIBRATION calibrates and guides (the vector Ok once
settled), AGENT_GUIDER_DITHER_SETTINGS and AGENT_GUIDER_DITHER dither and settle (Ok, the
switch Off again), AGENT_ABORT_PROCESS stops, and AGENT_START_PROCESS.GUIDING guides again on
the calibration kept (no Calibrating); ``indi_getprop`` reads what the agent says."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from guiderkit import QUICK
from guiderkit import field_now
from guiderkit import guided_sky
from peers import getprop
from peers import setprop

from indipyclient import setVector
from indipysimulators import telescope

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE


async def indi_setprop(port: int, spec: str) -> None:
    result = await asyncio.to_thread(setprop, port, spec, timeout=5.0)
    assert result.returncode == 0, result


async def indi_getprop(port: int, spec: str) -> str:
    result = await asyncio.to_thread(getprop, port, spec, timeout=5.0)
    return result.get(spec, "")


async def until_getprop(port: int, spec: str, wanted: str, timeout: float) -> None:
    """Polled with indi_getprop until `spec` reads `wanted`."""
    end = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < end:
        seen = await indi_getprop(port, spec)
        if seen == wanted:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{spec} is {seen!r}, not {wanted!r} after {timeout} s")


@pytest.mark.timeout(600)
async def test_indi_setprop_calibrates_guides_dithers_aborts_and_guides_again() -> None:
    async with guided_sky() as (ours, client):
        port = ours.port
        states: list[str] = []
        dither: list[tuple[str, str]] = []

        def record(event: Any) -> bool:
            if isinstance(event, setVector) and event.devicename == AGENT:
                if event.vectorname == "AGENT_GUIDER_STATE" and "STATE" in event:
                    states.append(str(event["STATE"]))
                elif event.vectorname == "AGENT_GUIDER_DITHER" and event.state is not None:
                    dither.append((event.state.value, str(event.message or "")))
            return False

        with client.waiters.watching(record):
            await indi_setprop(port, f"{MOUNT}.CONNECTION.CONNECT=On")
            await indi_setprop(port, f"{MOUNT}.ON_COORD_SET.TRACK=On")
            ra, dec = field_now()
            await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=60)
            # guiderkit's QUICK settings: a quicker start.
            await indi_setprop(port, f"{AGENT}.AGENT_GUIDER_SETTINGS."
                               + ";".join(f"{k}={v:g}" for k, v in QUICK.items()))
            await indi_setprop(port, f"{AGENT}.AGENT_GUIDER_DITHER_SETTINGS.AMOUNT=3;"
                                     "SETTLE_PIXELS=1.5;SETTLE_TIME=3;SETTLE_TIMEOUT=60")

            await indi_setprop(port, f"{AGENT}.AGENT_START_PROCESS.CALIBRATION=On")
            await until_getprop(port, f"{AGENT}.AGENT_START_PROCESS._STATE", "Ok", 300)
            assert await indi_getprop(port, f"{AGENT}.AGENT_GUIDER_STATE.STATE") == "Guiding"
            assert "Calibrating" in states, states

            await indi_setprop(port, f"{AGENT}.AGENT_GUIDER_DITHER.DITHER=On")
            await until_getprop(port, f"{AGENT}.AGENT_GUIDER_DITHER._STATE", "Ok", 120)
            assert await indi_getprop(port, f"{AGENT}.AGENT_GUIDER_DITHER.DITHER") == "Off"
            assert ("Busy", "") in dither and dither[-1] == ("Ok", "settled"), dither

            await indi_setprop(port, f"{AGENT}.AGENT_ABORT_PROCESS.ABORT=On")
            await until_getprop(port, f"{AGENT}.AGENT_GUIDER_STATE.STATE", "Stopped", 30)
            # The state says Stopped before AGENT_START_PROCESS's switch is turned Off (the
            # face's show, then the abort's end): the switch is waited for, not read once.
            await until_getprop(port, f"{AGENT}.AGENT_START_PROCESS.CALIBRATION", "Off", 30)

            states.clear()
            await indi_setprop(port, f"{AGENT}.AGENT_START_PROCESS.GUIDING=On")
            await until_getprop(port, f"{AGENT}.AGENT_START_PROCESS._STATE", "Ok", 120)
            assert await indi_getprop(port, f"{AGENT}.AGENT_GUIDER_STATE.STATE") == "Guiding"
            assert "Calibrating" not in states, states
            await indi_setprop(port, f"{AGENT}.AGENT_ABORT_PROCESS.ABORT=On")
            await until_getprop(port, f"{AGENT}.AGENT_GUIDER_STATE.STATE", "Stopped", 30)
