"""`indiset.command` takes the driver's answer, not its reports (issue 79 item 3).

indilib's CCD reports CCD_BINNING Idle (a set, not a def) some 40 ms after it is connected;
the agent, connecting a camera whose driver the server restarted, sets the batch's binning in
that moment, and the report was taken as the answer: "CCD_BINNING went Idle", the batch
failed. Proven deterministically with a driver that reports Idle before it answers Ok, and
with indilib's CCD simulator, connected and set at once, many times over.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from serverkit import number_set
from serverkit import running
from serverkit import script_constants
from serverkit import server
from serverkit import stdio_driver

import indipyclient
from indipyagents.rig.indiset import command
from indipyagents.rig.indiset import connect_device
from indipyagents.rig.protocols import DeviceRefused
from indipycore.protocol import DefNumberVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import State
from indipycore.protocol import serialise

DEVICE = "Reporter"


def reporter(folder: Path, answer: str) -> str:
    """An executable driver of device `DEVICE`: VALUE.V, whose every set is first reported
    Idle with the old value, then, 0.3 s later, answered `answer` (Ok, Alert) with V 2. Its
    XML is the protocol's serialiser's (tests/test_xml_writers.py), passed in as constants."""
    define = serialise(DefNumberVector(DEVICE, "VALUE", State.IDLE, Perm.RW, (
        Number("V", "1", format="%.0f", min="0", max="9", step="1"),)))
    report = number_set(DEVICE, "VALUE", {"V": 1}, state=State.IDLE)
    answers = number_set(DEVICE, "VALUE", {"V": 2}, state=State(answer))
    path = folder / f"reporter_{answer.lower()}.py"
    path.write_text(f"#!{sys.executable}\n" + stdio_driver(
        "os.write(1, DEFINE)",
        "os.write(1, REPORT); time.sleep(0.3); os.write(1, ANSWER)",
        "import time\n" + script_constants(DEFINE=define, REPORT=report, ANSWER=answers)))
    path.chmod(0o755)
    return str(path)


@contextlib.asynccontextmanager
async def serving(program: str) -> AsyncIterator[indipyclient.Client]:
    served = server()
    served.add_exdriver(program, max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(DEVICE, "VALUE", timeout=10)
        yield client


async def test_an_idle_report_before_the_answer_is_not_the_answer(tmp_path: Path) -> None:
    async with serving(reporter(tmp_path, "Ok")) as client:
        await command(client, DEVICE, "VALUE", {"V": 2})
        assert client.get(DEVICE, "VALUE", "V") == 2
        assert client.vector(DEVICE, "VALUE").state == State.OK


async def test_an_alert_after_an_idle_report_is_still_a_refusal(tmp_path: Path) -> None:
    async with serving(reporter(tmp_path, "Alert")) as client:
        with pytest.raises(DeviceRefused, match="VALUE went Alert"):
            await command(client, DEVICE, "VALUE", {"V": 2})


async def test_idle_accepted_is_still_an_answer(tmp_path: Path) -> None:
    """Where `accept` names Idle (a park done, a cooler off), the first Idle ends the set."""
    async with serving(reporter(tmp_path, "Alert")) as client:
        await command(client, DEVICE, "VALUE", {"V": 2}, accept=(State.OK, State.IDLE))
        assert client.get(DEVICE, "VALUE", "V") == 1


@pytest.mark.timeout(120)
async def test_indilibs_ccd_binned_in_the_moment_it_is_connected() -> None:
    """indi_simulator_ccd connected, and CCD_BINNING set the moment it is (as the batch
    sets a restarted camera up), 10 times: each set answered Ok, and the camera binned as
    asked.

    Once it has a binning to forget, indilib's CCD also resets it to 1 as it connects: a set
    Ok of 1 x 1 right after its definition (seen on the wire, 2026-11-28). It comes before the
    driver reads ours, so the camera ends binned as asked, but the client may take that report
    for the answer (INDI cannot tell them apart) and hear the true answer a moment later: the
    binning is waited for, 5 s at most, not read at the instant `command` returns (CI failed
    once on exactly that: 1.0 == 2)."""
    served = server()
    served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        for binning in (2, 1) * 5:
            await connect_device(client, "CCD Simulator")
            await client.wait_for("CCD Simulator", "CCD_BINNING", timeout=10)
            await command(client, "CCD Simulator", "CCD_BINNING",
                          {"HOR_BIN": binning, "VER_BIN": binning})
            if client.get("CCD Simulator", "CCD_BINNING", "HOR_BIN") != binning:
                await client.waiters.until(lambda _event, wanted=binning: client.get(
                    "CCD Simulator", "CCD_BINNING", "HOR_BIN") == wanted, 5)
            assert client.get("CCD Simulator", "CCD_BINNING", "HOR_BIN") == binning
            assert client.get("CCD Simulator", "CCD_BINNING", "VER_BIN") == binning
            await command(client, "CCD Simulator", "CONNECTION", {"DISCONNECT": "On"},
                          accept=(State.OK, State.IDLE))
