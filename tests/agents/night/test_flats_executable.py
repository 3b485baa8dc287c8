"""Issue 92 item 8: the imager agent as an executable (``indipy_agent_imager``, a driver of
our server run as a child process) through a short night of ``[calibration]`` panel flats
with indilib's ``indi_simulator_lightpanel``; indilib's ``indi_setprop``/``indi_getprop`` are
the only client. The night ends Ok with its light frame and its two flats, each flat within
the tolerance of its level, binned as the light frame was (binning 2: not what this proves,
only cheaper), and the panel's light is off after."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from agentkit import write_plan
from astropy.io import fits
from peers import getprop
from powercutkit import Rig
from powercutkit import frames_on_disk
from powercutkit import night_plan

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.model import Batch

PANEL = "Light Panel Simulator"
ADU = 30000.0


@pytest.mark.timeout(240)
def test_the_agent_as_an_executable_takes_a_nights_panel_flats(tmp_path: Path) -> None:
    rig = Rig(tmp_path, agent_as_executable=True, drivers=("indi_simulator_lightpanel",))
    plan = night_plan("night", count=1, dither=False)
    light = Batch(1, 0.5, "Red", binning=2)
    plan = replace(plan, targets=(replace(plan.targets[0], batches=(light,)),),
                   devices=replace(plan.devices, panel=PANEL),
                   calibration=CalibrationFrames(flats="panel", adu=ADU, count=2))
    path = write_plan(tmp_path / "plan.toml", plan)
    folder = rig.images / "night"
    try:
        rig.start()
        rig.agent_pid()  # the executable, a child of the server, is the agent answering
        rig.load_and_start(path)
        rig.wait_seen("Ok", at_least=3, timeout=180)
        flats = [f"flats/Red/Calibration_Red_Flat_{number:03d}.fits" for number in (1, 2)]
        assert frames_on_disk(folder) == sorted(["lights/Red/High_Red_Light_001.fits",
                                                 *flats])
        for name in flats:
            header = fits.getheader(folder / name)
            assert header["IMAGETYP"] == "Flat Frame" and header["XBINNING"] == 2, name
            data = fits.getdata(folder / name).astype(np.float64)
            h, w = data.shape
            level = float(np.median(data[h // 4:h - h // 4, w // 4:w - w // 4]))
            assert abs(level - ADU) <= 0.1 * ADU, (name, level)
        off = f"{PANEL}.FLAT_LIGHT_CONTROL.FLAT_LIGHT_OFF"
        assert getprop(rig.port, off).get(off) == "On", rig.log_tail()
    finally:
        rig.stop()
