"""A night's frames calibrated by Siril in the morning: how flat a calibrated light is, corner
to centre, and its noise, against the raw light's (issue 92 items 5 and 9).

    python bench/calibrate_night.py
    python bench/calibrate_night.py --lights 6 --exposure 20
    python bench/calibrate_night.py --lights 2 --exposure 2.5 --binning 4   # its smoke test

A real night, as a user runs it: our ``indipyserver`` with our camera simulator and
focuser/wheel simulator (executables) and indilib's ``indi_simulator_lightpanel``, our imager
agent as an executable (``indipy_agent_imager``, a state folder of its own). The plan takes
``--lights`` light frames through Red (binned ``--binning``, 2 by default; no slew), bias
frames, and a ``[calibration]`` section: panel flats by level and darks from the agent's library. Then
``indipy-calibrate NIGHT --library STATE/darks`` (Debian's ``siril-cli``) calibrates the
lights. Each frame is measured with numpy:

- flatness: how much darker the four corners' median is than the centre's (boxes of a tenth
  of the frame), in %, for the raw light less the master dark (the optical path's
  vignetting and dust, the dark current taken off) and for the calibrated light;
- noise: the robust sigma (1.4826 x the median absolute deviation) of a centre box of the raw
  light less the dark and of the calibrated light, with their levels.

Targets (the issue's): the calibrated light flat within 3 % corner to centre, the raw 15 % or
more; the noise is reported, not judged (a flat with noise of its own adds some). The last
line says ``all targets met`` (exit status 0) or ``missed: ...`` (1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["INDIPY_MDNS_INTERFACES"] = "lo"
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import numpy as np
from astropy.io import fits

sys.path.insert(1, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))
from agentkit import PANEL_RIG
from agentkit import plan_toml
from agentkit import target_toml
from flats import BIN
from flats import rig
from flats import run_night


def plan_text(lights: int, exposure: float, binning: int = 2) -> str:
    return plan_toml(
        "calibrated night", PANEL_RIG,
        target_toml("Sky", {"count": lights, "exposure": exposure, "filter": "Red",
                            "binning": binning},
                    {"type": "Bias", "count": 5, "exposure": 0, "binning": binning}),
        folder="night",
        calibration={"flats": "panel", "adu": 30000, "count": 5, "darks": "library"})


def read(path: Path) -> np.ndarray:
    """A frame in ADU: Siril writes its results as 32-bit floats scaled to 0..1."""
    data = fits.getdata(path)
    image = np.asarray(data, dtype=np.float64)
    if data.dtype.kind == "f" and float(np.nanmax(image)) <= 1.0:
        image *= 65535.0
    return image


def corner_drop(image: np.ndarray) -> float:
    """How much darker (%) the four corners' median is than the centre's."""
    h, w = image.shape
    bh, bw = h // 10, w // 10
    centre = np.median(image[h // 2 - bh // 2:h // 2 + bh // 2, w // 2 - bw // 2:w // 2 + bw // 2])
    corners = np.median(np.concatenate([part.ravel() for part in (
        image[:bh, :bw], image[:bh, -bw:], image[-bh:, :bw], image[-bh:, -bw:])]))
    return float(100.0 * (1.0 - corners / centre))


def robust_sigma(box: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(box - np.median(box))))


def centre_box(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    return image[h // 2 - 50:h // 2 + 50, w // 2 - 50:w // 2 + 50]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lights", type=int, default=4)
    parser.add_argument("--exposure", type=float, default=10.0)
    parser.add_argument("--binning", type=int, default=2, choices=(1, 2, 3, 4))
    parser.add_argument("--keep", action="store_true", help="keep the night's folder")
    args = parser.parse_args()
    for program in ("indi_simulator_lightpanel", "siril-cli"):
        if shutil.which(program) is None:
            sys.exit(f"{program} is missing (scripts/run-tests installs it)")
    work = Path(tempfile.mkdtemp(prefix="bench-calibrate-"))
    plan = work / "night.toml"
    plan.write_text(plan_text(args.lights, args.exposure, args.binning))
    with rig(work) as port:
        took = asyncio.run(run_night(port, work, plan, 1800))
    night = work / "frames" / "night"
    began = time.monotonic()
    done = subprocess.run([str(BIN / "indipy-calibrate"), str(night), "--library",
                           str(work / "state" / "darks")], check=False, capture_output=True,
                          text=True)
    calibrating = time.monotonic() - began
    if done.returncode != 0:
        sys.exit(f"indipy-calibrate failed ({done.returncode}): {done.stderr}")
    print(done.stdout.strip())
    raws = sorted((night / "lights" / "Red").glob("*.fits"))
    processed = sorted(night.glob("calibrated/*/process/pp_light_*.fits"))
    darks = sorted(night.glob("calibrated/*/process/dark_stacked.fits"))
    assert len(processed) == len(raws) and darks, (raws, processed, darks)
    dark = read(darks[0])
    raw_drops = [corner_drop(read(path) - dark) for path in raws]
    cal_drops = [corner_drop(read(path)) for path in processed]
    raw_noise = [robust_sigma(centre_box(read(path) - dark)) for path in raws]
    cal_noise = [robust_sigma(centre_box(read(path))) for path in processed]
    raw_level = float(np.median(centre_box(read(raws[0]) - dark)))
    cal_level = float(np.median(centre_box(read(processed[0]))))
    worst = max(abs(drop) for drop in cal_drops)
    print(f"night: {args.lights} lights of {args.exposure:g} s, bias, panel flats, library "
          f"darks in {took:.0f} s; Siril in {calibrating:.0f} s")
    print(f"corner to centre, raw less dark: {min(raw_drops):.1f}-{max(raw_drops):.1f} % "
          f"(target: 15 % or more) -> {'PASS' if min(raw_drops) >= 15 else 'FAIL'}")
    print(f"corner to centre, calibrated: worst {worst:.2f} % (target: within 3 %) -> "
          f"{'PASS' if worst <= 3 else 'FAIL'}")
    print(f"noise in the centre: raw less dark {np.median(raw_noise):.1f} ADU at {raw_level:.0f}"
          f" ADU; calibrated {np.median(cal_noise):.1f} ADU at {cal_level:.0f} ADU")
    if args.keep:
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    missed = [name for name, met in (("raw flatness", min(raw_drops) >= 15),
                                     ("calibrated flatness", worst <= 3)) if not met]
    print(f"missed: {', '.join(missed)}" if missed else "all targets met")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
