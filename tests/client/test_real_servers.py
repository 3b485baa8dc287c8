"""The client against real servers: ours and indilib's ``indiserver``, each serving indilib's
telescope and CCD simulators and the demo thermostat (tests/client/servers.py).

Protects: every device and vector is learnt; the CCD takes three exposures and each FITS file
arrives whole in the BLOB folder (from the second image on, indilib >= 1.9.7 drivers wait for
the client's pingReply: a client that ignores pings stalls here); ``set(..., wait=True)``
returns Ok where the driver answers Ok and Alert where it answers Alert (CONFIG_LOAD with no
saved configuration); a server restart gives ConnectionLost with the model cleared, then
ConnectionMade and everything learnt again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from servers import CCD
from servers import DEVICES
from servers import TELESCOPE
from servers import THERMOSTAT
from servers import RealServer

import indipyclient
from indipyclient import ConnectionLost
from indipyclient import ConnectionMade
from indipyclient import ExponentialBackoff
from indipyclient import setBLOBVector

pytestmark = pytest.mark.interop


async def learn_everything(client: indipyclient.Client) -> None:
    for device in DEVICES:
        await client.wait_for(device, "CONNECTION" if device != THERMOSTAT else "SITE",
                              timeout=15)


async def test_learns_every_device_and_takes_three_whole_images(
        real_server: RealServer, tmp_path: Path) -> None:
    """Three exposures, three whole FITS files in the folder, names safe and distinct."""
    folder = tmp_path / "blobs"
    folder.mkdir()
    async with indipyclient.connect("127.0.0.1", real_server.port, blobfolder=folder) as client:
        await learn_everything(client)
        assert DEVICES <= set(client.devices)
        assert client[THERMOSTAT]["TARGET"].perm == "rw"
        assert client[THERMOSTAT]["HEATER_MODE"].rule == "OneOfMany"
        for device in (CCD, TELESCOPE):
            result = await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=15)
            assert result.ok, result
        await client.wait_for(CCD, "CCD_EXPOSURE", timeout=15)
        await client.wait_for(CCD, "CCD1", timeout=15)
        images = []
        async with client.events() as stream:
            for _ in range(3):
                await client.set(CCD, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1}, wait=False)
                async with asyncio.timeout(30):
                    async for event in stream:
                        if isinstance(event, setBLOBVector) and event.vectorname == "CCD1":
                            break
                images.append((Path(event.filenames["CCD1"]), event.sizeformat["CCD1"]))
        assert len({path for path, _ in images}) == 3
        for path, (size, fmt) in images:
            assert path.parent == folder and path.suffix == ".fits", (path, fmt)
            data = path.read_bytes()
            assert data.startswith(b"SIMPLE  =") and len(data) % 2880 == 0
            assert len(data) == size
        assert client[CCD]["CCD1"].member("CCD1").filename == str(images[-1][0])
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


async def test_set_waits_for_ok_and_for_alert(real_server: RealServer) -> None:
    """Ok from the thermostat's TARGET; Alert from a C driver's CONFIG_LOAD with no config."""
    async with indipyclient.connect("127.0.0.1", real_server.port) as client:
        await learn_everything(client)
        ok = await client.set(THERMOSTAT, "TARGET", {"TARGET": "21:30"}, timeout=10)
        assert ok.ok and ok.state == "Ok", ok
        assert client.get(THERMOSTAT, "TARGET", "TARGET") == 21.5
        # learn_everything waits for CONNECTION only; the CCD defines CONFIG_PROCESS after it.
        await client.wait_for(CCD, "CONFIG_PROCESS", timeout=15)
        alert = await client.set(CCD, "CONFIG_PROCESS", {"CONFIG_LOAD": "On"}, timeout=10)
        assert alert.state == "Alert" and not alert.timed_out and not alert.ok, alert
        mode = await client.set(THERMOSTAT, "HEATER_MODE", {"OFF": "On"}, timeout=10)
        assert mode.ok and client[THERMOSTAT]["HEATER_MODE"]["OFF"] == "On"
        assert client[THERMOSTAT]["HEATER_MODE"]["AUTO"] == "Off"


async def test_restart_clears_the_model_and_learns_everything_again(
        real_server: RealServer) -> None:
    """Server stops: ConnectionLost, nothing known; back: ConnectionMade, all three again."""
    fast = ExponentialBackoff(0.1, 0.5, jitter="equal")
    async with indipyclient.connect("127.0.0.1", real_server.port, backoff=fast) as client:
        await learn_everything(client)
        async with client.events() as stream:
            await real_server.stop()
            async with asyncio.timeout(10):
                async for event in stream:
                    if isinstance(event, ConnectionLost):
                        break
            assert not client.connected and len(client.devices) == 0
            await real_server.start()
            async with asyncio.timeout(15):
                async for event in stream:
                    if isinstance(event, ConnectionMade):
                        break
        assert client.connected
        await learn_everything(client)
        assert DEVICES <= set(client.devices)
