"""examples/third_party.py: indilib's telescope and CCD simulators plus the in-process
thermostat on one server; an exposure taken as the example's top comment says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import third_party
from blobwatch import EnableBlobWatch
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value
from waiting import until


async def test_all_three_devices_are_served_and_an_exposure_is_saved(
    tmp_home: Path, tmp_path: Path
) -> None:
    """The server lists Telescope Simulator, CCD Simulator and Thermostat; connecting the CCD
    and exposing makes indi_getprop save a FITS image (twice: the CCD's pings are answered)."""
    port = free_port()
    async with serving(third_party.make_server("127.0.0.1", port), ports=[port]):
        for spec in ("Telescope Simulator.CONNECTION.CONNECT", "CCD Simulator.CONNECTION.CONNECT",
                     "Thermostat.SITE.FIRMWARE"):
            await wait_for_value(port, spec, lambda v: v != "", timeout=20)
        await setprop(port, "Telescope Simulator.CONNECTION.CONNECT=On")
        await setprop(port, "CCD Simulator.CONNECTION.CONNECT=On")
        await wait_for_value(port, "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE",
                             lambda v: v != "", timeout=20)
        for attempt in range(2):
            folder = tmp_path / f"image{attempt}"
            folder.mkdir()
            # indi_getprop must be waiting (BLOBs enabled) before the exposure starts: its
            # enableBLOB has passed the relay.
            relay = EnableBlobWatch(port)
            try:
                waiting = asyncio.create_task(
                    getprop(relay.port, "CCD Simulator.CCD1.CCD1", timeout=20, cwd=folder))
                await until(lambda r=relay, w=waiting: r.enabled == 1 or w.done(), timeout=20,
                            what="indi_getprop's enableBLOB")
                await setprop(port, "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=0.1")
                result = await waiting
            finally:
                await asyncio.to_thread(relay.close)
            assert result.returncode == 0, result.result.describe()
            image = folder / "CCD Simulator.CCD1.CCD1.fits"
            assert image.read_bytes().startswith(b"SIMPLE  =")
