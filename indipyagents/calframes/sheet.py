"""``calibration.json`` beside a night's frames: which darks, flats and bias go with which
lights (`matching.assign`), written whole (`durable.write_whole`), so the morning's
calibration (``indipy-calibrate``, Siril) and a person read the same answer.

The night's frames are read from their headers below its folder (a folder per frame type:
``lights/<filter>/``, ``flats/<filter>/``, ``darks/``, ``biases/``); where the night has no
darks (or bias frames) for a group of lights, the dark library's fresh ones are named
(absolute paths), the night's own by their path relative to its folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from ..journal.durable import write_whole
from ..journal.rejected import REJECTED
from .facts import FrameFacts
from .library import DarkLibrary
from .library import bias_needs_of
from .library import found
from .library import needs_of
from .library import read_facts
from .matching import TOLERANCE
from .matching import Assignment
from .matching import assign

__all__ = ["CALIBRATED", "SHEET", "night_frames", "read_sheet", "sheet_of", "write_sheet"]

#: The file's name, beside the night's frames.
SHEET = "calibration.json"
#: The folder below the night's where the morning's calibration works (not the night's frames).
CALIBRATED = "calibrated"


def night_frames(folder: Path) -> list[FrameFacts]:
    """The frames below `folder` (no hidden part: no partial, not the journal; not the
    ``calibrated/`` folder's, nor ``rejected/``'s: a frame the grading rejected is not
    calibrated for stacking), each named by its path relative to `folder`."""
    found = []
    for path in sorted(folder.rglob("*.fit*")):
        relative = path.relative_to(folder)
        if path.suffix.lower() not in (".fits", ".fit", ".fts") or \
                any(part.startswith(".") for part in relative.parts) or \
                relative.parts[0] in (CALIBRATED, REJECTED):
            continue
        facts = read_facts(path)
        if facts is not None:
            found.append(FrameFacts(relative.as_posix(), facts.kind, facts.setting,
                                    facts.exposure, facts.temperature, facts.filter,
                                    facts.taken))
    return found


def sheet_of(folder: Path, now: datetime, library: DarkLibrary | None = None,
             tolerance: float = TOLERANCE) -> dict[str, Any]:
    """What ``calibration.json`` says for the night in `folder` (see the module docstring)."""
    frames = night_frames(folder)
    if library is not None:
        tolerance = library.tolerance
        kept = library.frames()
        taken = [frame for frame in frames if frame.kind in ("Light", "Flat")]
        for need in needs_of(taken) + bias_needs_of(taken):
            if not any(need.met_by(frame, tolerance) for frame in frames):
                frames += found(need, kept, now, library.max_age_days, tolerance)
    return {"night": folder.name, "written": now.isoformat(), "tolerance": tolerance,
            "groups": [_group(group) for group in assign(frames, tolerance)]}


def _group(group: Assignment) -> dict[str, Any]:
    return {**asdict(group.setting), "exposure": group.exposure, "filter": group.filter,
            "temperature": group.temperature, "lights": group.lights, "darks": group.darks,
            "flats": group.flats, "flat_darks": group.flat_darks, "biases": group.biases,
            "missing": group.missing}


def write_sheet(folder: str | os.PathLike[str], now: datetime,
                library: DarkLibrary | None = None, tolerance: float = TOLERANCE) -> Path:
    """Write ``calibration.json`` in `folder`, whole; returns its path."""
    night = Path(folder)
    text = json.dumps(sheet_of(night, now, library, tolerance), indent=1) + "\n"
    return write_whole(night / SHEET, text.encode())


def read_sheet(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``calibration.json`` of the night in `folder` (OSError, ValueError when unreadable)."""
    data = json.loads((Path(folder) / SHEET).read_text())
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ValueError(f"{Path(folder) / SHEET} has no groups")  # noqa: TRY004 (bad data)
    return data
