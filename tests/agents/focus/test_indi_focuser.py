"""`indipyagents.rig.focuser.IndiFocuser` on indilib's ``indi_simulator_focus`` under our
server (issue 71 item 6): the rig's Focuser on a focuser we did not write. Protects: the
position it reads, its moves (returning where the focuser stopped), its range from
ABS_FOCUS_POSITION's minimum and FOCUS_MAX (following a client's new FOCUS_MAX), a target
outside it refused before anything moves, FOCUS_TEMPERATURE read, and a focuser that is not
connected reported lost with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.rig.focuser import IndiFocuser
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused

FOCUSER = "Focuser Simulator"


async def test_indilibs_focuser_simulator_moves_and_keeps_its_range(
        tmp_home: Path) -> None:
    """indilib's focuser simulator moves and keeps its range (it writes ~/.indi: `tmp_home`)."""
    ours = server()
    ours.add_exdriver("indi_simulator_focus")
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:
        focuser = IndiFocuser(client, FOCUSER, definition_wait=1.0)
        with pytest.raises(DeviceLost, match="ABS_FOCUS_POSITION"):
            await focuser.position()  # not connected: its focuser properties not defined
        await client.set(FOCUSER, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        focuser = IndiFocuser(client, FOCUSER)
        assert await focuser.position() == 50000
        assert focuser.limits() == (0, 100000)
        assert await focuser.temperature() == client.get(FOCUSER, "FOCUS_TEMPERATURE",
                                                         "TEMPERATURE")
        assert await focuser.move_to(50120) == 50120
        assert client.get(FOCUSER, "ABS_FOCUS_POSITION", "FOCUS_ABSOLUTE_POSITION") == 50120
        assert await focuser.move_to(49900) == 49900
        await client.set(FOCUSER, "FOCUS_MAX", {"FOCUS_MAX_VALUE": 60000}, timeout=10)
        assert focuser.limits() == (0, 60000)
        with pytest.raises(DeviceRefused, match="outside 0..60000"):
            await focuser.move_to(70000)
        with pytest.raises(DeviceRefused, match="outside"):
            await focuser.move_to(-5)
        assert await focuser.position() == 49900
