"""Siril run on one group of a night: its frames linked into the work folder's folders
(`script.FOLDERS`), the script written beside them, ``siril-cli -d WORK -s SCRIPT`` run, its
output kept in ``siril.log``; a failure (`SirilFailed`) says the exit status and the log's
last lines. The calibrated lights are ``process/pp_light_NNNNN.fits``, in the order of the
lights' names (``convert`` numbers the files of a folder in their names' order).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from .script import GroupWork
from .script import siril_script

__all__ = ["SIRIL", "SirilFailed", "calibrated", "run_group"]

#: The program run (Debian's siril package).
SIRIL = "siril-cli"
#: Lines of Siril's log a failure quotes.
TAIL = 15
#: Seconds one group's calibration may take.
TIMEOUT = 3600.0


class SirilFailed(RuntimeError):
    """siril-cli is missing or failed; the message says how, with its log's tail."""


def _link(folder: Path, frames: Sequence[Path]) -> None:
    """`folder` holding links to `frames` only (a folder of a run before is emptied)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for number, frame in enumerate(frames, 1):
        # numbered, so Siril's sequence keeps the order given (and two nights' same names)
        (folder / f"{number:05d}_{frame.name}").symlink_to(frame.resolve())


def run_group(work: Path, frames: Mapping[str, Sequence[Path]], *, siril: str = SIRIL,
              timeout: float = TIMEOUT) -> list[Path]:
    """Calibrate one group in `work`: `frames` by folder name (`script.FOLDERS`). Returns the
    calibrated lights, in the order of ``frames["lights"]``."""
    counts = {name: len(frames.get(name, ())) for name in ("lights", "darks", "flats",
                                                             "flatdarks", "biases")}
    text = siril_script(GroupWork(counts["lights"], counts["darks"], counts["flats"],
                                  counts["flatdarks"], counts["biases"]))
    if (work / "process").exists():
        shutil.rmtree(work / "process")
    for name, paths in frames.items():
        if paths:
            _link(work / name, paths)
    script = work / "calibrate.ssf"
    script.write_text(text)
    program = shutil.which(siril)
    if program is None:
        raise SirilFailed(f"{siril} is not installed (Debian: apt-get install siril)")
    log = work / "siril.log"
    try:
        with log.open("wb") as output:
            done = subprocess.run([program, "-d", str(work), "-s", str(script)],
                                  stdout=output, stderr=subprocess.STDOUT, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False,
                                  env={**os.environ, "LC_ALL": "C.UTF-8"})
    except subprocess.TimeoutExpired:
        raise SirilFailed(f"{siril} took over {timeout:g} s on {script}:\n"
                          f"{_tail(log)}") from None
    out = calibrated(work, counts["lights"])
    if done.returncode != 0 or len(out) != counts["lights"]:
        raise SirilFailed(f"{siril} failed (exit status {done.returncode}, "
                          f"{len(out)} of {counts['lights']} lights calibrated) on {script}; "
                          f"the last lines of {log}:\n{_tail(log)}")
    return out


def calibrated(work: Path, count: int) -> list[Path]:
    """The calibrated lights Siril left in `work`, in order (those there of `count`)."""
    found = [work / "process" / f"pp_light_{n:05d}.fits" for n in range(1, count + 1)]
    return [path for path in found if path.is_file()]


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-TAIL:])
