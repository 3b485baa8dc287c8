"""``indipy-calibrate NIGHT_FOLDER``: the night's lights calibrated by Siril in the morning.

``calibration.json`` is written again from the frames' headers (and the dark library's
darks, with ``--library``), then each group of lights is calibrated in
``NIGHT_FOLDER/calibrated/<group>/`` (`siril.run_group`): the masters and the calibrated
lights in its ``process/``, Siril's script and log beside them. Exit status 0 when every
group was calibrated; 2 when a group cannot be (no darks: said with the group and what to
do); 1 when Siril failed (its log's tail said).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from ..calframes.library import MAX_AGE_DAYS
from ..calframes.library import DarkLibrary
from ..calframes.matching import TOLERANCE
from ..calframes.sheet import CALIBRATED
from ..calframes.sheet import write_sheet
from ..plan.steps import sanitise
from .siril import SIRIL
from .siril import SirilFailed
from .siril import run_group

__all__ = ["calibrate_night", "group_label", "main"]


class CannotCalibrate(ValueError):
    """A group of the night lacks what its calibration needs (its darks)."""


def group_label(group: dict[str, Any]) -> str:
    """A group's folder name: ``Red_60s_bin2`` (gain and offset where said)."""
    label = f"{group.get('filter') or 'NoFilter'}_{group['exposure']:g}s_bin{group['binning']}"
    for key in ("gain", "offset"):
        if group.get(key) is not None:
            label += f"_{key}{group[key]:g}"
    return sanitise(label)


def describe(group: dict[str, Any]) -> str:
    temperature = group.get("temperature")
    return (f"{len(group['lights'])} lights of {group.get('filter') or 'no filter'}, "
            f"{group['exposure']:g} s, bin {group['binning']}, "
            f"{'no cooler' if temperature is None else f'{temperature:g} C'}")


def calibrate_night(night: Path, *, library: DarkLibrary | None = None,
                    tolerance: float = TOLERANCE, siril: str = SIRIL,
                    now: datetime | None = None) -> dict[str, list[Path]]:
    """Calibrate every group of lights of `night`; returns the calibrated lights by group
    label. `CannotCalibrate` before Siril runs when a group has no darks;
    `SirilFailed` when Siril fails."""
    if not night.is_dir():
        raise CannotCalibrate(f"{night} is not a folder")
    sheet = write_sheet(night, now or datetime.now(UTC), library, tolerance)
    groups = json.loads(sheet.read_text())["groups"]
    if not groups:
        raise CannotCalibrate(f"{night} has no light frames to calibrate")
    lacking = [group for group in groups if "darks" in group["missing"]]
    if lacking:
        raise CannotCalibrate(
            f"{night} has no darks for: "
            + "; ".join(describe(group) for group in lacking)
            + ". Take darks of the lights' exposure at their temperature "
              "(or name the dark library that has them: --library)")
    done: dict[str, list[Path]] = {}
    for group in groups:
        label = group_label(group)
        while label in done:
            label += "_"
        frames = {name: [night / path for path in group[key]] for name, key in
                  (("lights", "lights"), ("darks", "darks"), ("flats", "flats"),
                   ("flatdarks", "flat_darks"), ("biases", "biases"))}
        done[label] = run_group(night / CALIBRATED / label, frames, siril=siril)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="indipy-calibrate",
        description="Calibrate a night's light frames with Siril (siril-cli): master bias, "
                    "darks and flats per filter, the lights calibrated in "
                    "NIGHT_FOLDER/calibrated/.")
    parser.add_argument("night", metavar="NIGHT_FOLDER", type=Path,
                        help="the night's folder (lights/, darks/, flats/, biases/)")
    parser.add_argument("--library", type=Path, default=None,
                        help="a dark library's folder, for the darks the night lacks")
    parser.add_argument("--max-age-days", type=float, default=MAX_AGE_DAYS,
                        help="library darks older than this are not used (default 30)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE,
                        help="a dark matches within this many degrees C (default 1)")
    parser.add_argument("--siril", default=SIRIL, help="the Siril program (siril-cli)")
    args = parser.parse_args(argv)
    library = None if args.library is None else \
        DarkLibrary(args.library, args.max_age_days, args.tolerance)
    try:
        done = calibrate_night(args.night, library=library, tolerance=args.tolerance,
                               siril=args.siril)
    except CannotCalibrate as error:
        print(f"indipy-calibrate: {error}", file=sys.stderr)
        return 2
    except SirilFailed as error:
        print(f"indipy-calibrate: {error}", file=sys.stderr)
        return 1
    for label, lights in done.items():
        folder = lights[0].parent if lights else args.night / CALIBRATED / label
        print(f"{label}: {len(lights)} lights calibrated in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
