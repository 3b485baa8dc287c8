"""The time to measure a light frame for grading (issue 93 item 7): one call of
`indipyagents.stars.framemeasure.measure_frame`, what each light frame of a graded night costs
off the night's path (in a thread while the next exposure runs).

    python bench/framemeasure.py                     # 16 MP (an ASI1600's 4656 x 3520), 5 runs
    python bench/framemeasure.py --width 1280 --height 1024 --runs 3   # a quick try

The frame is drawn by our camera simulator's own code (`indipysimulators.ccd.SimulatedCamera`
on a sensor of the size asked, 3.8 um pixels, its sky, bias, dark current, hot pixels, dust,
vignetting and noise, ``--stars`` stars (2000) of its seeded random field, a 120 s light) and
written as the camera writes it (16-bit FITS) with PIXSIZE1 and FOCALLEN (530 mm), so the
measure gives its FWHM in arcseconds as on a night. The process is pinned to one core where
the system allows (`os.sched_setaffinity`), and numpy's and sep's threads held to one.

- measure: the median wall time of ``--runs`` calls (each a whole `measure_frame`: reading the
  FITS, sep's background and detection, HFR, FWHM, eccentricity). Target: under 10 s, the
  shortest light exposure a plan of 16 MP frames takes (a frame is measured while the next
  exposes: a measure longer than the exposure would make the verdicts fall behind and the
  next frame wait for the one before's, `gradework.settle`, so the night's dead time grows).

The figure is printed with its target and PASS or FAIL, then the load average; the exit status
is 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import os

# One core: numpy's and sep's threads held to one before they are imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import statistics
import sys
import time

from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor

#: Seconds: the shortest light exposure a plan of such frames takes.
TARGET = 10.0
FOCAL_MM = 530.0
PIXEL_UM = 3.8


def frame(width: int, height: int, stars: int) -> bytes:
    """A 120 s light frame of our camera simulator's code, `width` x `height`, as FITS."""
    from indipysimulators.ccd import SimulatedCamera

    camera = SimulatedCamera(Sensor(width=width, height=height, pixel_size=PIXEL_UM, bits=16,
                                    max_binning=4), stars=stars)
    image = camera.render(Exposure(120.0, 0, 0, width, height))
    return fits_bytes(image.width, image.height, image.pixels,
                      cards=[("EXPTIME", 120.0, "s"), ("PIXSIZE1", PIXEL_UM, "um"),
                             ("FOCALLEN", FOCAL_MM, "mm"), ("IMAGETYP", "Light Frame", "")])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=4656)
    parser.add_argument("--height", type=int, default=3520)
    parser.add_argument("--stars", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from indipyagents.stars.framemeasure import measure_frame

    drawn = time.perf_counter()
    data = frame(args.width, args.height, args.stars)
    drawn = time.perf_counter() - drawn
    megapixels = args.width * args.height / 1e6
    print(f"frame: {args.width} x {args.height} ({megapixels:.1f} MP), our camera simulator's "
          f"code, {args.stars} stars, drawn in {drawn:.1f} s")
    times = []
    measured = None
    for _ in range(args.runs):
        start = time.perf_counter()
        measured = measure_frame(data)
        times.append(time.perf_counter() - start)
    assert measured is not None
    print(f"measured: {measured.stars} stars, HFR {measured.hfr_px:.2f} px, FWHM "
          f"{measured.fwhm_arcsec or 0:.2f}\", eccentricity {measured.eccentricity:.2f}")
    median = statistics.median(times)
    ok = median < TARGET and measured.stars > 0
    print(f"measure a {megapixels:.1f} MP frame, one core: median {median:.2f} s of "
          f"{args.runs} (min {min(times):.2f}, max {max(times):.2f}) "
          f"(target: under {TARGET:g} s, with stars found) -> {'PASS' if ok else 'FAIL'}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("all targets met" if ok else "missed: measure")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
