"""Issue 92 item 5: ``indipy-calibrate NIGHT_FOLDER`` runs Debian's Siril (``siril-cli``,
scripts/run-tests installs it) on a night of our camera simulator's frames (`simnight`: the
sky's lights at a warm 20 C, darks, panel flats per filter, bias), and the frames come out
right, measured with numpy: the raw light's sky is 15 % or more darker in the corners than in
the middle, the calibrated one within 3 %; the hot pixels that stand out of the raw frame are
gone; and the same lights calibrated with another filter's flat are measurably worse, at the
filters' own dust motes. A night with flat-darks (``darkflats/<filter>/``) and no bias: the
flats are calibrated with the flat-darks' master, the light as flat. Bad input: a night without darks says so, Siril failing says how,
with its log's tail."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from simnight import BINNING
from simnight import make_night

from indipyagents.calibrate.siril import SirilFailed
from indipyagents.calibrate.siril import run_group
from indipysimulators import ccd
from indipysimulators import sensorfaults

pytestmark = pytest.mark.timeout(600)

CALIBRATE = Path(sys.executable).with_name("indipy-calibrate")
SENSOR = sensorfaults.defects(ccd.SENSOR.width, ccd.SENSOR.height, ccd.SENSOR.pixel_size)
#: A box's half side (binned pixels) where a level is read, and its corners' distance in.
HALF, INSET = 20, 24


@pytest.fixture(scope="module")
def night(module_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The night's folder, calibrated by the console script."""
    folder = make_night(tmp_path_factory.mktemp("night") / "Sky-2026-11-28")
    done = subprocess.run([str(CALIBRATE), str(folder)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Red_60s_bin2: 4 lights calibrated" in done.stdout, done.stdout
    return folder


def read(path: Path) -> np.ndarray:
    """A frame in ADU (Siril writes 32-bit floats scaled to 0..1)."""
    data = np.asarray(fits.getdata(path), dtype=np.float64)
    return data * 65535 if data.max() <= 1.5 else data


def level(pixels: np.ndarray, x: int, y: int) -> float:
    return float(np.median(pixels[y - HALF:y + HALF, x - HALF:x + HALF]))


def corner_drop(sky: np.ndarray) -> float:
    """How much darker (a share) the darkest corner's sky is than the middle's."""
    h, w = sky.shape
    middle = level(sky, w // 2, h // 2)
    corners = [level(sky, x, y) for x in (INSET, w - INSET) for y in (INSET, h - INSET)]
    return max(abs(middle - corner) for corner in corners) / middle


def robust_sigma(pixels: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(pixels - np.median(pixels))))


def hot_excess(frame: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Each of the sensor's hot pixels (binned) above its eight neighbours, in the frame's
    noise; those on a star (the raw light's neighbours bright) left out."""
    h, w = frame.shape
    sigma, raw_sigma, raw_sky = robust_sigma(frame), robust_sigma(raw), np.median(raw)
    found = []
    for x, y, _factor in SENSOR.hot:
        col, row = x // BINNING, y // BINNING
        if not (2 <= col < w - 2 and 2 <= row < h - 2):
            continue
        around = np.delete(raw[row - 1:row + 2, col - 1:col + 2].ravel(), 4)
        if np.max(around) > raw_sky + 5 * raw_sigma:
            continue  # a star's light there
        neighbours = np.delete(frame[row - 1:row + 2, col - 1:col + 2].ravel(), 4)
        found.append((frame[row, col] - np.median(neighbours)) / sigma)
    return np.array(found)


def test_a_calibrated_light_is_flat_and_its_hot_pixels_are_gone(night: Path) -> None:
    """The raw sky (the dark master off) 15 % or more darker in a corner; calibrated, within
    3 %. The hot pixels stand out of the raw light (median 10 sigma or more); calibrated,
    within the noise (median under 1 sigma, none over 6)."""
    work = night / "calibrated" / "Red_60s_bin2" / "process"
    raw = read(night / "lights" / "Red" / "Sky_Red_Light_001.fits")
    dark = read(work / "dark_stacked.fits")
    calibrated = read(work / "pp_light_00001.fits")
    assert corner_drop(raw - dark) >= 0.15
    assert corner_drop(calibrated) <= 0.03
    raw_hot, calibrated_hot = hot_excess(raw, raw), hot_excess(calibrated, raw)
    assert len(raw_hot) >= 100 and np.median(raw_hot) >= 10
    assert np.median(np.abs(calibrated_hot)) < 1 and np.max(np.abs(calibrated_hot)) < 6
    sheet = json.loads((night / "calibration.json").read_text())
    group, = sheet["groups"]
    assert group["filter"] == "Red" and len(group["lights"]) == 4
    assert len(group["darks"]) == 5 and len(group["biases"]) == 5
    assert [Path(flat).parent.name for flat in group["flats"]] == ["Red"] * 5


def mote_residual(calibrated: np.ndarray, mote: sensorfaults.Dust) -> float:
    """How far (a share) the sky inside a dust mote's ring is from the sky just outside."""
    h, w = calibrated.shape
    ys, xs = np.mgrid[0:h, 0:w]
    r = np.hypot((xs + 0.5) * BINNING - mote.x, (ys + 0.5) * BINNING - mote.y)
    inside = np.median(calibrated[(r >= mote.radius * 0.55) & (r < mote.radius * 0.95)])
    outside = np.median(calibrated[(r >= mote.radius * 1.3) & (r < mote.radius * 2.0)])
    return float(abs(inside / outside - 1))


def test_the_wrong_filters_flat_calibrates_measurably_worse(night: Path) -> None:
    """The Red lights calibrated with the Green flats: the Red filter's dust is left in and
    the Green filter's put in (each mote 4-10 % deep): the worst mote is off by 3 % or more,
    three times the right flat's."""
    right = read(night / "calibrated" / "Red_60s_bin2" / "process" / "pp_light_00001.fits")
    frames = {"lights": sorted((night / "lights" / "Red").glob("*.fits")),
              "darks": sorted((night / "darks").glob("*.fits")),
              "flats": sorted((night / "flats" / "Green").glob("*.fits")),
              "biases": sorted((night / "biases").glob("*.fits"))}
    wrong_path, *_ = run_group(night / "wrong-flat", frames)
    wrong = read(wrong_path)
    motes = [mote for name in ("Red", "Green")
             for mote in sensorfaults.through_filter(SENSOR, name).dust[len(SENSOR.dust):]]
    right_worst = max(mote_residual(right, mote) for mote in motes)
    wrong_worst = max(mote_residual(wrong, mote) for mote in motes)
    assert wrong_worst >= 0.03 and wrong_worst >= 3 * right_worst, (right_worst, wrong_worst)


def test_a_night_without_darks_says_so(night: Path, tmp_path: Path) -> None:
    """No darks for the lights: exit status 2, naming the group and what to do; Siril is not
    run."""
    folder = tmp_path / "nodarks"
    for kind in ("lights", "flats", "biases"):
        shutil.copytree(night / kind, folder / kind)
    done = subprocess.run([str(CALIBRATE), str(folder)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "has no darks for: 4 lights of Red, 60 s, bin 2, 20 C" in done.stderr, done.stderr
    assert "--library" in done.stderr and not (folder / "calibrated").exists()


def test_siril_failing_says_how_with_its_logs_tail(night: Path, tmp_path: Path) -> None:
    """A light cut short (its header whole, its pixels not): Siril fails, and the error says
    its exit status, the script and the last lines of its log."""
    cut = tmp_path / "cut.fits"
    whole = (night / "lights" / "Red" / "Sky_Red_Light_001.fits").read_bytes()
    cut.write_bytes(whole[:len(whole) // 3])
    frames = {"lights": [cut], "darks": sorted((night / "darks").glob("*.fits"))}
    with pytest.raises(SirilFailed) as failed:
        run_group(tmp_path / "work", frames)
    said = str(failed.value)
    assert "siril-cli failed (exit status" in said and "0 of 1 lights calibrated" in said, said
    assert "calibrate.ssf" in said and "the last lines of" in said and "log:" in said, said


def test_flat_darks_take_the_bias_place_for_the_flats(tmp_path: Path) -> None:
    """``flat_darks = true``'s night: darks at the flats' exposure in ``darkflats/<filter>/``
    and no bias. ``calibration.json`` names them against the Red flats; Siril stacks them
    and calibrates the flats with that master as their offset (``-bias=flatdark_stacked``),
    and the calibrated light is flat within 3 % corner to centre (15 % or more raw)."""
    folder = make_night(tmp_path / "Sky-2026-11-28", biases=0, flats=("Red",), flat_darks=5)
    done = subprocess.run([str(CALIBRATE), str(folder)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    group, = json.loads((folder / "calibration.json").read_text())["groups"]
    assert group["flat_darks"] == [f"darkflats/Red/Flat_darks_Red_Dark_{n:03d}.fits"
                                   for n in range(1, 6)]
    assert group["biases"] == [] and len(group["flats"]) == 5
    work = folder / "calibrated" / "Red_60s_bin2"
    assert "preprocess flat -bias=flatdark_stacked" in (work / "calibrate.ssf").read_text()
    assert (work / "process" / "flatdark_stacked.fits").is_file()
    raw = read(folder / "lights" / "Red" / "Sky_Red_Light_001.fits")
    dark = read(work / "process" / "dark_stacked.fits")
    calibrated = read(work / "process" / "pp_light_00001.fits")
    assert corner_drop(raw - dark) >= 0.15
    assert corner_drop(calibrated) <= 0.03, corner_drop(calibrated)
