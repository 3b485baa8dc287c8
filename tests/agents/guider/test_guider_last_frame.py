"""Issue 81 item 2, the last guide frame as a BLOB for clients that watch: a second client of
our server enables BLOBs for the Guider Agent (enableBLOB Also) and, while the agent guides on
our mount and guide camera simulators (AGENT_START_PROCESS.CALIBRATION, 0.5 s frames),
receives AGENT_LAST_FRAME frame after frame: a FITS of the guide camera's size (640 x 512),
each a new frame (its DATE-OBS later than the one before); a client that did not enable BLOBs
gets none."""

from __future__ import annotations

import pytest
from guiderkit import AGENT
from guiderkit import MOUNT
from guiderkit import field_now
from guiderkit import guided_sky
from waiting import until

import indipyclient
from indipyclient import setBLOBVector
from indipycore.fits import read_header
from indipysimulators import guidecamera

FRAMES = 4


@pytest.mark.timeout(240)
async def test_a_watching_client_gets_each_guide_frame_as_a_fits_blob() -> None:
    async with guided_sky() as (ours, client), \
            indipyclient.connect("127.0.0.1", ours.port) as watcher:
        await watcher.wait_for(AGENT, "AGENT_LAST_FRAME", timeout=10)
        await watcher.send_enableBLOB("Also", AGENT, "AGENT_LAST_FRAME")
        frames: list[bytes] = []
        unasked: list[str] = []

        def take(event: object) -> bool:
            if isinstance(event, setBLOBVector) and event.vectorname == "AGENT_LAST_FRAME":
                frames.append(bytes(event["FRAME"]))
            return False

        def refuse(event: object) -> bool:
            if isinstance(event, setBLOBVector):
                unasked.append(event.vectorname)
            return False

        ra, dec = field_now()
        await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=30)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": 0.5}, timeout=10)
        with watcher.waiters.watching(take), client.waiters.watching(refuse):
            await client.set(AGENT, "AGENT_START_PROCESS", {"CALIBRATION": "On"}, timeout=10,
                             wait=False)
            await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE")
                        != "Stopped", timeout=60)
            start = len(frames)
            await until(lambda: len(frames) >= start + FRAMES, timeout=60,
                        what=lambda: f"{len(frames) - start} frames")
        await client.set(AGENT, "AGENT_ABORT_PROCESS", {"ABORT": "On"}, timeout=10)

        dates = []
        for data in frames[start:]:
            header = read_header(data)
            assert (header["NAXIS1"], header["NAXIS2"]) == (guidecamera.SENSOR.width,
                                                            guidecamera.SENSOR.height)
            assert data[:9] == b"SIMPLE  =" and len(data) >= 640 * 512 * 2
            dates.append(header["DATE-OBS"])
        assert dates == sorted(dates) and len(set(dates)) == len(dates), dates
        assert not unasked, unasked
