"""The agent's processes, each a short list: SOLVE (expose, solve), SYNC (and sync the mount
on the solution), CENTER and PRECISE_GOTO (expose, solve, sync, slew, until a solved frame is
within the tolerance of the target or the tries are spent, `centring.judge`).

The hands are the rig's (`Camera`, `Mount` of ``rig.protocols``: IndiCamera and IndiMount on
the agent's link), so a camera or mount that refuses is `DeviceRefused` naming it; what is
shown goes through `Show`, the face's. The mount speaks JNow, the solver and the plan J2000:
`IndiMount` precesses (``indipycore.astro``), so every position here is J2000.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Protocol

from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000

from ..rig.protocols import Camera
from ..rig.protocols import Mount
from .centring import CentreOffset
from .centring import CentreVerdict
from .centring import judge
from .centring import offset
from .centring import rung
from .hints import Hints
from .hints import plate_scale
from .polar import PolarError
from .polar import fit_axis
from .polar import from_vector
from .polar import knob_turns
from .polar import mount_to_sky
from .polar import polar_error
from .polar import to_vector
from .polar import tracked
from .solver import SolveFailed
from .solver import Solver
from .wcs import Solution
from .wcs import read_cards

__all__ = ["Alignment", "Centring", "Processes", "scale_from_header"]

logger = logging.getLogger(__name__)


def scale_from_header(image: bytes) -> tuple[float, float]:
    """(arcsec a pixel, field width in degrees) a frame's FITS header says by its PIXSIZE1
    (binned, as indilib writes it), FOCALLEN and NAXIS1; zeros where it does not say."""
    cards, _comments, _problems = read_cards(image[:2880 * 20])
    pixel, focal, width = (cards.get(key) for key in ("PIXSIZE1", "FOCALLEN", "NAXIS1"))
    if not isinstance(pixel, float) or not isinstance(focal, float):
        return 0.0, 0.0
    scale = plate_scale(pixel, focal)
    return scale, scale * width / 3600.0 if isinstance(width, float) else 0.0


@dataclass(frozen=True, slots=True)
class Centring:
    """CENTER's and PRECISE_GOTO's settings: the tolerance (arcsec) and the tries."""

    tolerance: float = 30.0
    tries: int = 5


@dataclass(frozen=True, slots=True)
class Alignment:
    """A polar alignment's state: the mount's axis and its `error`, the last point solved
    (hour angle, dec of date) and when, the site's latitude, and the points (for the face)."""

    axis: tuple[float, float]
    error: PolarError
    point: tuple[float, float]
    when: datetime
    latitude: float
    points: tuple[tuple[float, float], ...]
    solved: tuple[float, float]  # the last frame's centre, J2000


#: What the face shows of a try: (try number, the solution, its offset from the target).
ShowTry = Callable[[int, Solution, CentreOffset], Awaitable[None]]
class ShowStep(Protocol):
    """What the face shows of a step: "SOLVING", "SYNCING", "CENTERING" (WCS' STATE names),
    with what it says (a solve's retry)."""

    def __call__(self, step: str, message: str = "") -> Awaitable[None]: ...


async def _nothing(step: str, message: str = "") -> None:
    return None


class Processes:
    """The processes on `camera` and `mount` (None: a process that needs it says so) with
    `solver`; `show_step` and `show_solution` are the face's."""

    def __init__(self, solver: Solver, camera: Camera | None, mount: Mount | None, *,
                 show_step: ShowStep = _nothing,
                 show_solution: Callable[[Solution], Awaitable[None]] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.solver = solver
        self.camera = camera
        self.mount = mount
        self.show_step = show_step
        self.show_solution = show_solution
        self.clock = clock

    async def hinted(self, hints: Hints, *, use_mount: bool = True) -> Hints:
        """`hints` with the mount's position (J2000) when it is there and the radius is
        not 0 (blind)."""
        if use_mount and self.mount is not None and hints.radius > 0:
            ra, dec = await self.mount.pointing()
            hints = replace(hints, ra=ra, dec=dec)
        return hints

    async def solve_image(self, image: bytes, hints: Hints, suffix: str = ".fits") -> Solution:
        """An image solved (an uploaded one, or a frame): its scale from the hint, else
        from its header; `SolveFailed` why not."""
        scale, width = scale_from_header(image) if suffix == ".fits" else (0.0, 0.0)
        if hints.scale <= 0 and scale > 0:
            hints = replace(hints, scale=scale)
        await self.show_step("SOLVING")
        found = await self.solver.solve(image, hints, suffix=suffix, field_width=width)
        if self.show_solution is not None:
            await self.show_solution(found)
        return found

    async def expose_and_solve(self, hints: Hints, seconds: float) -> Solution:
        """A frame taken (the camera's), then solved, hinted by the mount."""
        if self.camera is None:
            raise SolveFailed("no camera: name one in ACTIVE_DEVICES.ACTIVE_CCD")
        hints = await self.hinted(hints)
        await self.show_step("WAITING_FOR_IMAGE")
        frame = await self.camera.expose(seconds)
        return await self.solve_image(frame.data, hints, frame.format or ".fits")

    async def solve_laddered(self, hints: Hints, seconds: float) -> Solution:
        """A frame solved, a failed solve tried again by `centring.rung` (a longer exposure,
        then a wider search) before `SolveFailed` says every try."""
        if self.camera is None:
            raise SolveFailed("no camera: name one in ACTIVE_DEVICES.ACTIVE_CCD")
        failures: list[str] = []
        number = 1
        while (step := rung(number, seconds, hints)) is not None:
            if number > 1:
                logger.warning("solve try %d: %s", number, step.said)
                await self.show_step("SOLVING", f"solve try {number}: {step.said}")
            try:
                return await self.expose_and_solve(step.hints, step.seconds)
            except SolveFailed as failed:
                failures.append(str(failed))
                logger.warning("solve try %d (%s) failed: %s", number, step.said, failed)
            number += 1
        raise SolveFailed(f"{failures[0]} (and in {len(failures) - 1} more tries: a longer "
                          "exposure, a wider search)")

    def _the_mount(self) -> Mount:
        if self.mount is None:
            raise SolveFailed("no mount: name one in ACTIVE_DEVICES.ACTIVE_TELESCOPE")
        return self.mount

    async def sync(self, hints: Hints, seconds: float) -> Solution:
        """SYNC: solve a frame, tell the mount where it points."""
        mount = self._the_mount()
        found = await self.expose_and_solve(hints, seconds)
        await self.show_step("SYNCING")
        await mount.sync(found.ra, found.dec)
        return found

    async def centre(self, hints: Hints, seconds: float, settings: Centring, *,
                     target: tuple[float, float] | None = None, goto_first: bool = False,
                     show_try: ShowTry | None = None) -> CentreOffset:
        """CENTER (`target` None: where the mount says it points now) or PRECISE_GOTO
        (`goto_first`: a slew to `target` first). Returns the last offset once within the
        tolerance; `SolveFailed` when the tries are spent, saying how far it stayed."""
        mount = self._the_mount()
        if target is None:
            target = await mount.pointing()
        ra, dec = target
        if goto_first:
            await self.show_step("CENTERING")
            await mount.slew_to(ra, dec)
        tries = 0
        while True:
            tries += 1
            found = await self.solve_laddered(hints, seconds)
            off = offset(ra, dec, found.ra, found.dec)
            logger.info("centring, try %d of %d: %.1f\" off the target (RA %+.1f\", Dec "
                        "%+.1f\")", tries, settings.tries, off.total, off.ra, off.dec)
            if show_try is not None:
                await show_try(tries, found, off)
            verdict = judge(off, settings.tolerance, tries, settings.tries)
            if verdict is CentreVerdict.CENTRED:
                return off
            if verdict is CentreVerdict.SPENT:
                raise SolveFailed(f"not centred after {tries} tries: {off.total:.1f}\" off "
                                  f"the target (tolerance {settings.tolerance:g}\")")
            await self.show_step("SYNCING")
            await mount.sync(found.ra, found.dec)
            await self.show_step("CENTERING")
            await mount.slew_to(ra, dec)

    async def _point(self, hints: Hints, seconds: float,
                     longitude: float) -> tuple[tuple[float, float], datetime, Solution]:
        """A frame solved where the mount points: (hour angle, dec of date), when, the
        solution."""
        found = await self.expose_and_solve(hints, seconds)
        when = self.clock()
        ra, dec = precess_from_j2000(found.ra, found.dec, when)
        return (hour_angle(local_sidereal_time(when, longitude), ra), dec), when, found

    async def _site(self) -> tuple[float, float]:
        site = await self._the_mount().site()
        if site is None:
            raise SolveFailed("the mount says no site (GEOGRAPHIC_COORD): polar alignment "
                              "needs its latitude")
        return site.latitude, site.longitude

    async def calculate_polar(self, hints: Hints, seconds: float, ha_move: float,
                              show: Callable[[int, Alignment | None], Awaitable[None]]
                              ) -> Alignment:
        """CALCULATE_PA_ERROR: three frames solved, the mount turned `ha_move` degrees in RA
        (eastwards) between them; the axis through them and its error."""
        mount = self._the_mount()
        latitude, longitude = await self._site()
        # Turned in RA alone, its declination axis kept: the move is made in the mount's
        # coordinates (JNow), where J2000's declination would change with the RA.
        ra0, dec0 = precess_from_j2000(*await mount.pointing(), self.clock())
        points, when, found = [], self.clock(), None
        for number in range(3):
            if number:
                await self.show_step("CENTERING")
                await mount.slew_to(*precess_to_j2000((ra0 + number * ha_move / 15.0) % 24.0,
                                                      dec0, self.clock()))
            point, when, found = await self._point(hints, seconds, longitude)
            points.append(point)
            await show(number + 1, None)
        assert found is not None
        try:
            axis = fit_axis(points)
        except ValueError as exc:
            raise SolveFailed(str(exc)) from None
        done = Alignment(axis, polar_error(axis, latitude), points[-1], when, latitude,
                         tuple(points), (found.ra, found.dec))
        logger.info("polar error: %.2f' (altitude %+.2f', azimuth %+.2f')",
                    done.error.total * 60, done.error.altitude * 60, done.error.azimuth * 60)
        return done

    async def recalculate_polar(self, hints: Hints, seconds: float,
                                last: Alignment) -> Alignment:
        """RECALCULATE_PA_ERROR: a frame solved where the mount still points (the knobs
        turned since): the turns that moved it, and the axis moved by them."""
        _, longitude = await self._site()
        seen, when, found = await self._point(hints, seconds, longitude)
        expected = tracked(last.point, last.axis, (when - last.when).total_seconds())
        try:
            turns = knob_turns(expected, seen, last.latitude, last.error)
        except ValueError as exc:
            raise SolveFailed(str(exc)) from None
        axis = from_vector(mount_to_sky(to_vector(0.0, 90.0), last.error.altitude + turns[0],
                                        last.error.azimuth + turns[1], last.latitude))
        done = Alignment(axis, polar_error(axis, last.latitude), seen, when, last.latitude,
                         last.points, (found.ra, found.dec))
        logger.info("polar error now: %.2f' (altitude %+.2f', azimuth %+.2f')",
                    done.error.total * 60, done.error.altitude * 60, done.error.azimuth * 60)
        return done
