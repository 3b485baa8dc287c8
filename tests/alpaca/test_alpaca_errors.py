"""An Alpaca device's error reaches INDI clients: the vector concerned goes Alert and its
message carries the Alpaca device's own ErrorMessage (alpaca-simulators, our client library)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alpacapeers import AlpacaSimulators
from test_focuser_wheel import serve

import indipyclient

MOUNT = "Simulator Telescope"


async def test_goto_refused_by_the_alpaca_mount_is_alert_with_its_message(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """The INDI mount is unparked, then the Alpaca mount is parked behind the bridge's back: a
    goto goes Busy, and when the Alpaca mount refuses it (0x408 "Telescope is parked")
    EQUATORIAL_EOD_COORD ends Alert with that ErrorMessage in its message."""
    server = serve(our_server, alpaca_sim, "telescope/0", MOUNT)
    async with indipyclient.connect("127.0.0.1", server.port) as client:
        await client.wait_for(MOUNT, "CONNECTION", timeout=15)
        assert (await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=15)).ok
        await client.wait_for(MOUNT, "TELESCOPE_PARK", timeout=15)
        assert (await client.set(MOUNT, "TELESCOPE_PARK", {"UNPARK": "On"}, timeout=15)).ok
        alpaca_sim.put("telescope/0/park")
        assert alpaca_sim.get("telescope/0/atpark") is True
        result = await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": 3.0, "DEC": 50.0},
                                  timeout=15)
        vector = client[MOUNT]["EQUATORIAL_EOD_COORD"]
        async with asyncio.timeout(15):
            while vector.state != "Alert":
                await asyncio.sleep(0.05)
        assert "Telescope is parked" in vector.message, (result, vector.message)
        assert "0x408" in vector.message
