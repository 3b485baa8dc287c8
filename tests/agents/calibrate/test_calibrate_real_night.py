"""Issue 92 items 4, 5 and 8 end to end: a short real night through the imager agent, then
``indipy-calibrate`` on that very folder. Our server hosts the agent in-process beside our
camera simulator's and focuser/wheel simulator's executables and indilib's
``indi_simulator_lightpanel``; the plan takes three 3 s light frames through Red (binned 2),
panel flats by level and the library's darks and bias (an empty library: the night takes
them). Siril calibrates the lights in the morning (``--library`` the agent's), and the
calibrated sky (the three lights averaged) is flat within 3 % corner to centre, where the raw
sky less the master dark is 15 % or more darker in a corner, as ``bench/calibrate_night.py``
measures."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_calibrate_siril import CALIBRATE
from test_calibrate_siril import read

sys.path.insert(0, str(Path(__file__).parents[1] / "night"))

from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import panel_night

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.model import Batch

pytestmark = pytest.mark.timeout(600)



def corner_drop(image: np.ndarray) -> float:
    """How much darker (a share) the four corners' median is than the centre's, boxes of a
    tenth of the frame: ``bench/calibrate_night.py``'s measure."""
    h, w = image.shape
    bh, bw = h // 10, w // 10
    centre = np.median(image[h // 2 - bh // 2:h // 2 + bh // 2,
                             w // 2 - bw // 2:w // 2 + bw // 2])
    corners = np.median(np.concatenate([part.ravel() for part in (
        image[:bh, :bw], image[:bh, -bw:], image[-bh:, :bw], image[-bh:, -bw:])]))
    return float(1.0 - corners / centre)


async def test_a_real_night_calibrated_by_siril_is_flat(tmp_path: Path) -> None:
    plan = night("calibrated", target("Sky", Batch(3, 3.0, "Red", 2)), folder="calibrated",
                 camera=CCD, calibration=CalibrationFrames(flats="panel", count=5,
                                                           darks="library"))
    async with panel_night(tmp_path, plan, 400) as rig:
        folder = rig.frames / "calibrated"
    done = await asyncio.to_thread(
        subprocess.run, [str(CALIBRATE), str(folder), "--library",
                         str(tmp_path / "state" / "darks")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Red_3s_bin2: 3 lights calibrated" in done.stdout, done.stdout
    work = folder / "calibrated" / "Red_3s_bin2" / "process"
    dark = read(work / "dark_stacked.fits")
    raw = np.mean([read(path) for path in sorted((folder / "lights" / "Red").glob("*.fits"))],
                  axis=0)
    calibrated = np.mean([read(path) for path in sorted(work.glob("pp_light_*.fits"))], axis=0)
    raw_drop, calibrated_drop = corner_drop(raw - dark), corner_drop(calibrated)
    assert raw_drop >= 0.15, (raw_drop, calibrated_drop)  # measured: 17.7 %, -0.6 %
    assert abs(calibrated_drop) <= 0.03, (raw_drop, calibrated_drop)
