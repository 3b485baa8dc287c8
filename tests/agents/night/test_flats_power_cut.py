"""Issue 92 item 7: a night killed with SIGKILL during its ``[calibration]`` panel flats and
started again with the same command (no client action) keeps the flats already taken and
the exposure learnt. Our server as a child process holds the imager agent, our camera, wheel
and mount simulators and indilib's ``indi_simulator_lightpanel``; indilib's
``indi_setprop``/``indi_getprop`` are the only client. The first flat on disk, the whole
server is killed; once resumed, the night ends Ok with exactly its light frame and its three
flats (each journalled once, whole), the first flat untouched (the same bytes), no test
exposure after the restart: the later flats take the exposure learnt before the kill
(``flats.json``), every flat within the tolerance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from agentkit import write_plan
from astropy.io import fits
from powercutkit import Rig
from powercutkit import frames_on_disk
from powercutkit import night_plan
from powercutkit import wait_frames

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.model import Batch

PANEL = "Light Panel Simulator"
ADU = 30000.0


def flat_tests(folder: Path) -> int:
    """The test exposures the night's journal notes (``flat_test``)."""
    count = 0
    for journal in folder.glob(".journal/*.journal"):
        for line in journal.read_text().splitlines():
            record = json.loads(line)
            count += record.get("kind") == "note" and record.get("note") == "flat_test"
    return count


@pytest.mark.timeout(300)
def test_a_night_killed_during_its_flats_keeps_them_and_the_exposure_learnt(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path, drivers=("indi_simulator_lightpanel",))
    plan = night_plan("night", count=1, dither=False)
    plan = replace(plan, targets=(replace(plan.targets[0], batches=(Batch(1, 0.5, "Red"),)),),
                   devices=replace(plan.devices, panel=PANEL),
                   calibration=CalibrationFrames(flats="panel", adu=ADU, count=3))
    path = write_plan(tmp_path / "plan.toml", plan)
    folder = rig.images / "night"
    first = folder / "flats/Red/Calibration_Red_Flat_001.fits"
    try:
        rig.start()
        rig.load_and_start(path)
        wait_frames(folder, 2, rig)  # the light frame, then the first flat
        assert first.exists()
        before = hashlib.sha256(first.read_bytes()).hexdigest()
        tests_before = flat_tests(folder)
        book = json.loads((rig.state / "flats.json").read_text())
        assert len(book) == 1, book
        rig.kill_all()
        rig.start()  # the same command; no client action follows
        rig.wait_seen("Ok", at_least=4, timeout=120)
        flats = [f"flats/Red/Calibration_Red_Flat_{number:03d}.fits" for number in (1, 2, 3)]
        expected = sorted(["lights/Red/High_Red_Light_001.fits", *flats])
        assert frames_on_disk(folder) == expected
        journal, = folder.glob(".journal/*.journal")
        saved = [json.loads(line) for line in journal.read_text().splitlines()]
        saved = [record for record in saved if record["kind"] == "frame"]
        assert sorted(str(record["file"]) for record in saved) == expected  # each once
        for record in saved:
            data = (folder / str(record["file"])).read_bytes()
            assert record["sha256"] == hashlib.sha256(data).hexdigest(), record
        assert hashlib.sha256(first.read_bytes()).hexdigest() == before
        assert flat_tests(folder) == tests_before, "a test exposure after the restart"
        learnt = {fits.getheader(folder / name)["EXPTIME"] for name in flats}
        assert len(learnt) == 1, learnt  # the exposure learnt before the kill, kept
        for name in flats:
            data = fits.getdata(folder / name).astype(np.float64)
            h, w = data.shape
            level = float(np.median(data[h // 4:h - h // 4, w // 4:w - w // 4]))
            assert abs(level - ADU) <= 0.1 * ADU, (name, level)
    finally:
        rig.stop()
