"""Issue 91 item 3, "one pair of hands": the rig's one guide port (`GuidePort`), the mount's and
the guider's, against real peers: indilib's ``indi_simulator_ccd`` (1.9.9, its ST4 port) and
``indi_simulator_telescope``, and our telescope simulator, under our IPyServer.

Protects: each axis is sent with both its members. indilib's CCD simulator keeps the members a
pulse set (its ST4 pulse ends at once, Ok, and nothing zeroes them), and its GuiderInterface
pulses the first non-zero member: a south pulse sent as TIMED_GUIDE_S alone after a north one
is taken as north again (measured here first, so the peer's quirk is on record). A pulse longer
than the member's range (as the device defines it: 0..60000 ms, indilib's and ours) is clipped
to it, never refused; both axes run at once and are both waited for."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from peers import HOST
from peers import find_binary
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.rig.guideport import PULSE_MAX_MS
from indipyagents.rig.guideport import GuidePort
from indipyagents.rig.mount import IndiMount
from indipyagents.rig.protocols import DeviceRefused
from indipysimulators import telescope

CCD = "CCD Simulator"
THEIRS = "Telescope Simulator"
OURS = telescope.DEVICE
NS, WE = "TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE"


@pytest.fixture
async def ports(tmp_home: Path) -> AsyncIterator[indipyclient.Client]:
    """A client of one server holding indilib's CCD and telescope simulators and our
    telescope, all connected, their guide vectors defined."""
    find_binary("indi_simulator_ccd")
    ipy = server(telescope.make_driver())
    for program in ("indi_simulator_ccd", "indi_simulator_telescope"):
        ipy.add_exdriver(program, max_restarts=0)
    async with running(ipy), indipyclient.connect(HOST, ipy.port) as client:
        for device in (CCD, THEIRS, OURS):
            await client.wait_for(device, "CONNECTION", timeout=30)
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            await client.wait_for(device, WE, timeout=10)
        yield client


def values(client: indipyclient.Client, device: str, vector: str) -> dict[str, float]:
    found = client.devices.vector(device, vector)
    assert found is not None
    return {name: float(found[name]) for name in found}


async def test_the_st4_port_gets_both_members_so_a_left_over_one_is_not_taken_again(
        ports: indipyclient.Client) -> None:
    client = ports
    port = GuidePort(client, CCD)
    assert port.present()
    assert port.longest("TIMED_GUIDE_S") == port.longest("TIMED_GUIDE_E") == 60000.0
    # The peer's quirk, measured: one member sent alone leaves the other where it was.
    await client.set(CCD, NS, {"TIMED_GUIDE_N": 500}, timeout=10)
    await client.set(CCD, NS, {"TIMED_GUIDE_S": 300}, timeout=10)
    assert values(client, CCD, NS) == {"TIMED_GUIDE_N": 500.0, "TIMED_GUIDE_S": 0.0}
    # Through the port: south is south, east is east, after north and west.
    await port.pulse(-300, 0)
    assert values(client, CCD, NS) == {"TIMED_GUIDE_N": 0.0, "TIMED_GUIDE_S": 300.0}
    await port.pulse(200, 400)
    assert values(client, CCD, NS) == {"TIMED_GUIDE_N": 200.0, "TIMED_GUIDE_S": 0.0}
    assert values(client, CCD, WE) == {"TIMED_GUIDE_W": 400.0, "TIMED_GUIDE_E": 0.0}
    await port.pulse(0, -250)
    assert values(client, CCD, WE) == {"TIMED_GUIDE_W": 0.0, "TIMED_GUIDE_E": 250.0}
    assert values(client, CCD, NS) == {"TIMED_GUIDE_N": 200.0, "TIMED_GUIDE_S": 0.0}


async def test_a_mounts_pulse_runs_both_axes_at_once_and_waits_for_both(
        ports: indipyclient.Client) -> None:
    """`IndiMount.pulse` is the port's: indilib's telescope (ends Idle) and ours (ends Ok) run
    a 600 ms south and a 600 ms east pulse side by side, returning once both ended."""
    client = ports
    for device in (THEIRS, OURS):
        mount = IndiMount(client, device)
        assert mount.can_pulse()
        started = time.monotonic()
        await mount.pulse(-600, -600)
        took = time.monotonic() - started
        assert 0.55 <= took < 1.15, (device, took)  # together, not one after the other
        for vector in (NS, WE):
            found = client.devices.vector(device, vector)
            assert found is not None and found.state.value in ("Ok", "Idle"), (device, found)


@pytest.mark.timeout(120)
async def test_a_pulse_beyond_the_range_is_clipped_to_it(ports: indipyclient.Client) -> None:
    """A 70 s north pulse to our telescope is sent as the range's 60 s (and south 0); the
    pulse is then stopped by a zero, as a guider stopping does."""
    client = ports
    port = GuidePort(client, OURS)
    assert port.longest("TIMED_GUIDE_N") == 60000.0
    pulse = asyncio.create_task(port.pulse(70000, 0))
    try:
        await until(lambda: (vector := client.devices.vector(OURS, NS)) is not None
                    and vector.state.value == "Busy"
                    and float(vector["TIMED_GUIDE_N"]) == 60000.0, 10, "the 60 s pulse")
        assert float(client.get(OURS, NS, "TIMED_GUIDE_S")) == 0.0
    finally:
        pulse.cancel()
        await client.set(OURS, NS, {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 0}, timeout=10)
    await until(lambda: client.devices.vector(OURS, NS).state.value == "Ok", 10, "stopped")


async def test_the_sets_a_pulse_makes_where_no_range_is_defined(
        ports: indipyclient.Client) -> None:
    """Both members on each axis with a length, the sign choosing the member, a zero axis not
    sent, `PULSE_MAX_MS` for a device that defines no range (none on the server), a length
    that is no number refused; such a device's pulse is refused naming it."""
    port = GuidePort(ports, "Nothing")
    assert port.members(-120.4, 0) == [(NS, {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 120})]
    assert port.members(0, 90000) == [(WE, {"TIMED_GUIDE_W": int(PULSE_MAX_MS),
                                            "TIMED_GUIDE_E": 0})]
    assert port.members(0, 0) == []
    with pytest.raises(ValueError, match="not a length"):
        port.members(math.nan, 10)
    with pytest.raises(DeviceRefused, match="Nothing"):
        await port.pulse(100, 0)
