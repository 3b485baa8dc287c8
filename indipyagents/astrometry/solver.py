"""`Solver`: one frame solved by astrometry.net's ``solve-field``, a child process in a
process group of its own, killed (the whole group) once its time is spent: ``--cpulimit``
alone was measured not to stop a hopeless solve (42 s of CPU with a limit of 10 s). A FITS
frame is solved by its star list first (`xylist`: our sep finds the stars, solve-field skips
image2xy), and by the image itself when too few stars are found or the list does not solve,
in what is left of the time. The frame and what solve-field writes live in a temporary folder
removed whatever happens (a kill, a cancel). What is decided is pure (``hints``, ``wcs``); this is the thin layer that runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .hints import Hints
from .hints import IndexReport
from .hints import arguments
from .hints import index_report
from .hints import installed_indexes
from .wcs import Solution
from .wcs import check_image
from .wcs import solution
from .xylist import star_list

__all__ = ["INDEX_DIR", "KILL_GRACE", "SolveFailed", "Solver"]

logger = logging.getLogger(__name__)

#: Where Debian's astrometry-data-* packages put their index files.
INDEX_DIR = "/usr/share/astrometry"
#: Seconds past the limit the process is given between SIGTERM and SIGKILL.
KILL_GRACE = 2.0
#: How a solution was found, said in the log.
_VIA = {"stars": "its star list (sep)", "image": "the image (image2xy)"}
#: The last lines of solve-field's output kept to say why it failed.
_TAIL = 4000


class SolveFailed(Exception):
    """The frame was not solved; the message says why (AGENT_START_PROCESS Alert)."""


class Solver:
    """Runs `program` (``solve-field``) with the index files of `index_dir`, in temporary
    folders under `workdir`."""

    def __init__(self, program: str = "solve-field", index_dir: str = INDEX_DIR,
                 workdir: str | None = None, *, use_stars: bool = True) -> None:
        self.program = program
        self.index_dir = index_dir
        #: Where the temporary folders go (None: the system's).
        self.workdir = workdir
        #: Whether a frame is solved by its star list first (`xylist`), the image after.
        self.use_stars = use_stars
        #: The last solve's wall time, seconds, and how it solved (`Solution.via`).
        self.last_seconds = 0.0
        self.last_via = ""

    def installed(self) -> frozenset[int]:
        """The index numbers installed in `index_dir`."""
        try:
            return installed_indexes(os.listdir(self.index_dir))
        except OSError:
            return frozenset()

    def report(self, field_width: float) -> IndexReport:
        return index_report(field_width, self.installed())

    def found(self) -> str | None:
        """The program's path, None when it is not installed."""
        return shutil.which(self.program)

    async def solve(self, image: bytes, hints: Hints, *, suffix: str = ".fits",
                    field_width: float = 0.0) -> Solution:
        """`image` solved; `SolveFailed` saying why not: not an image, no solver, no index
        for a field `field_width` degrees wide (when known), killed past `hints.cpulimit`
        seconds, or no solution."""
        problem = check_image(image)
        if problem:
            raise SolveFailed(problem)
        program = self.found()
        if program is None:
            raise SolveFailed(f"{self.program} is not installed (Debian: apt-get install "
                              "astrometry.net)")
        report = self.report(field_width)
        if not report.usable or not self.installed():
            raise SolveFailed(f"no index file for this field in {self.index_dir}: "
                              f"{report.text()}")
        folder = tempfile.mkdtemp(prefix="indipy-solve-", dir=self.workdir)
        try:
            config = Path(folder, "astrometry.cfg")
            config.write_text(f"add_path {self.index_dir}\nautoindex\n")
            started = time.monotonic()
            try:
                found = await self._solve_stars(image, hints, folder, program, str(config),
                                                started)
                if found is None:
                    found = await self._solve_image(image, hints, folder, program,
                                                    str(config), suffix, started)
            finally:
                self.last_seconds = time.monotonic() - started
            self.last_via = found.via
            logger.info("solved by %s in %.1f s: RA %.5f h, Dec %.4f deg, %.3f\"/px, index %d",
                        _VIA[found.via], self.last_seconds, found.ra, found.dec, found.scale,
                        found.index)
            return found
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def _solve_stars(self, image: bytes, hints: Hints, folder: str, program: str,
                           config: str, started: float) -> Solution | None:
        """`image` solved by its star list (`xylist`); None when there is none (too few
        stars, no sep) or it did not solve: the image is then solved."""
        stars = await asyncio.to_thread(star_list, image) if self.use_stars else None
        if stars is None:
            return None
        listed = Path(folder, "stars.xyls")
        listed.write_bytes(stars.data)
        args = arguments(hints, str(listed), folder, program=program, config=config,
                         size=(stars.width, stars.height))
        said = await self._run(args, _left(hints, started), hints.cpulimit)
        found = _read(folder)
        if found is None or not found.solved:
            logger.info("the %d brightest of %d stars found did not solve (%s): the image "
                        "is solved instead", stars.kept, stars.found,
                        _why_not(said, hints) if found is None else "; ".join(found.problems))
            Path(folder, "solve.wcs").unlink(missing_ok=True)
            return None
        return replace(found, via="stars")

    async def _solve_image(self, image: bytes, hints: Hints, folder: str, program: str,
                           config: str, suffix: str, started: float) -> Solution:
        """`image` solved by solve-field's own star finder (image2xy), in what is left of
        `hints.cpulimit` since `started`."""
        frame = Path(folder, "frame" + (suffix if suffix.startswith(".") else ".fits"))
        frame.write_bytes(image)
        args = arguments(hints, str(frame), folder, program=program, config=config)
        said = await self._run(args, _left(hints, started), hints.cpulimit)
        found = _read(folder)
        if found is None:
            raise SolveFailed(_why_not(said, hints))
        if not found.solved:
            raise SolveFailed("solve-field's WCS: " + "; ".join(found.problems))
        return replace(found, via="image")

    async def _run(self, args: list[str], limit: float, said_limit: float) -> str:
        """The child run to its end or killed (its process group) after `limit` seconds
        (the failure says `said_limit`, the hint's); its output (the last `_TAIL`
        characters)."""
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        try:
            async with asyncio.timeout(limit):
                out, _ = await process.communicate()
        except TimeoutError:
            raise SolveFailed(f"solve-field ran past its limit of {said_limit:g} s: killed") \
                from None
        finally:
            if process.returncode is None:
                await _kill(process)
        return out.decode("utf-8", "replace")[-_TAIL:]


async def _kill(process: asyncio.subprocess.Process) -> None:
    """The child's whole process group ended: SIGTERM, then SIGKILL after `KILL_GRACE`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            async with asyncio.timeout(KILL_GRACE):
                await process.wait()
            return
        except TimeoutError:
            continue


def _left(hints: Hints, started: float) -> float:
    """Seconds left of `hints.cpulimit` since `started`."""
    return max(hints.cpulimit - (time.monotonic() - started), 0.001)


def _read(folder: str) -> Solution | None:
    """The solution solve-field wrote in `folder`, None when it wrote none."""
    wcs_file = Path(folder, "solve.wcs")
    return solution(wcs_file.read_bytes()) if wcs_file.exists() else None


def _why_not(output: str, hints: Hints) -> str:
    """solve-field's failure said plainly, from its output."""
    if "Did not solve" in output or "Field 1 did not solve" in output or not output.strip():
        hinted = []
        if hints.scale > 0:
            hinted.append(f"scale {hints.scale:.3g}\"/px")
        if hints.radius > 0:
            hinted.append(f"within {hints.radius:g} deg of RA {hints.ra:.4f} h, "
                          f"Dec {hints.dec:.3f} deg")
        where = f" ({', '.join(hinted)})" if hinted else " (blind)"
        return f"no solution{where}: too few stars (clouds?), or wrong hints"
    last = [line for line in output.strip().splitlines() if line.strip()][-1:]
    return f"solve-field failed: {last[0].strip() if last else 'no output'}"
