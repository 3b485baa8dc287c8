"""`CentreTarget`: a target that says ``centre = true`` (plan/centresettings.py) is centred by plate
solving before its first light frame after its slew, after its meridian flip and after it is
pointed at again (a restart, a hold); and, when its frames are solved (``solve_frames``),
before the next frame once a solved frame's centre drifted past ``centre_drift``.

The centring is the Astrometry Agent's own CENTER (`astrometry.processes.Processes.centre`:
expose, solve with astrometry.net's ``solve-field``, sync the mount, slew, until within the
tolerance or the tries are spent), run in-process on the night's own rig, bounded as every
call of the night is: no second client, no vectors to wait on, and the camera's frames stay
the night's. A failure follows the target's ``centre_policy``: "retry" is a `ToolLost`
naming the solver (the run's retry policy, then a wait of ``centre_retry_after`` on the
night's clock, said with its next try's time, and the centring tried again by itself; 0: a
pause saying why. Never a wait for a device of that name, which no server defines), "skip"
skips the
target's remaining frames (each step done, nothing saved, journalled "skipped"), "uncentred"
goes on where the mount points. A mount that refuses the sync or the slew pauses the night
naming it (`DeviceRefused`).

A solved frame's WCS (CRVAL, CRPIX, the CD matrix, TAN, EQUINOX 2000, as solve-field writes
them) goes into its FITS header; a frame that does not solve is saved without it.

Memory: the targets centred since their last slew, flip or pointing (not restored: a restarted
run points again, and so centres again), the targets skipped (note "centre", restored).
"""

from __future__ import annotations

import logging

from indipycore.fits import Card

from ...astrometry.centring import ladder_exposure
from ...astrometry.centring import offset
from ...astrometry.hints import Hints
from ...astrometry.processes import Centring
from ...astrometry.processes import Processes
from ...astrometry.solver import SolveFailed
from ...astrometry.solver import Solver
from ...astrometry.wcs import Solution
from ...plan.steps import FrameStep
from ...rig.protocols import DeviceLost
from ...rig.protocols import ToolLost
from ..hands import Flipped
from ..hands import Hands
from ..hands import News
from ..hands import Pointed
from ..hands import SkipFrame
from ..hands import Slewed
from .trigger import Due
from .trigger import FrameAt
from .trigger import Notes

logger = logging.getLogger(__name__)

#: Who a failed solve names (SEQUENCE_STATE's Alert).
SOLVER = "the plate solver"
#: The hint's radius around the target, degrees: a mount off by up to a degree still solves.
RADIUS = 2.0
#: Seconds one solve may run (solve-field killed past it).
CPULIMIT = 60.0


class CentreTarget:
    def __init__(self, hands: Hands, solver: Solver | None = None) -> None:
        self.hands = hands
        self.solver = solver or hands.solver
        self.centred: set[int] = set()
        self.skipped: set[int] = set()
        self.why: dict[int, str] = {}
        hands.frame_readers.append(self.read_frame)

    def restore(self, notes: Notes) -> None:
        note = notes.get("centre")
        if note is not None and note.get("skipped"):
            self.skipped.add(int(note["target"]))

    def hear(self, news: News) -> None:
        if isinstance(news, Slewed | Flipped | Pointed):
            self.centred.discard(news.target)
            self.why[news.target] = {Slewed: "after its slew", Flipped: "after the meridian flip",
                                     Pointed: "pointed at again"}[type(news)]

    async def due(self, at: FrameAt) -> Due | None:
        index, target = at.step.target_index, at.target
        if index in self.skipped:
            return Due("its centring failed: the plan skips it")
        if not target.centre.enabled or not target.slew or at.step.batch.frame_type != "Light" \
                or self.hands.rig.mount is None or index in self.centred or at.unsafe:
            return None
        return Due(self.why.get(index, "not centred yet"))

    async def carry_out(self, at: FrameAt, due: Due) -> None:
        hands, index, target = self.hands, at.step.target_index, at.target
        if index in self.skipped:
            raise SkipFrame(f"{target.name}: {due.why}")
        mount, centre = hands.rig.mount, target.centre
        assert mount is not None and target.ra is not None and target.dec is not None
        logger.info("%s: centring %s (within %g\")", target.name, due.why, centre.tolerance)
        processes = Processes(self.solver, hands.rig.camera, mount, clock=hands.clock)
        # Each try's solve may be tried twice more, longer (`centring.rung`).
        bound = centre.tries * (centre.exposure + ladder_exposure(centre.exposure)
                                + 3 * (hands.camera_margin + CPULIMIT) + 2 * hands.move_bound)
        try:
            off = await hands.bounded(processes.centre(
                Hints(radius=RADIUS, cpulimit=CPULIMIT), centre.exposure,
                Centring(centre.tolerance, centre.tries), target=(target.ra, target.dec)),
                bound, SOLVER)
        except SolveFailed as failed:
            self._failed(at, str(failed))
            return
        except DeviceLost as lost:
            if lost.device != SOLVER:
                raise  # the camera or the mount: a device the rig's presence sees come back
            self._failed(at, lost.reason)
            return
        self.centred.add(index)
        hands.journal.note("centre", target=index, ok=True, why=due.why,
                           off_arcsec=round(off.total, 1), solved_by=self.solver.last_via)
        logger.info("%s: centred, %.1f\" off", target.name, off.total)

    def _failed(self, at: FrameAt, reason: str) -> None:
        """The target's policy on a failed centring."""
        hands, index, target = self.hands, at.step.target_index, at.target
        policy = target.centre.policy
        said = f"centring {target.name} failed: {reason}"
        hands.journal.note("centre", target=index, ok=False, reason=reason, policy=policy,
                           skipped=policy == "skip")
        if policy == "retry":
            raise ToolLost(SOLVER, said, retry_after=target.centre.retry_after)
        if policy == "skip":
            self.skipped.add(index)
            raise SkipFrame(f"{said}; its remaining frames are skipped (centre_policy = skip)")
        logger.warning("%s; imaging where the mount points (centre_policy = uncentred)", said)
        self.centred.add(index)

    async def read_frame(self, step: FrameStep, data: bytes) -> list[Card]:
        """A light frame of a target whose frames are solved: its WCS cards (none when it does
        not solve), and the drift past the limit remembered so the next frame re-centres."""
        hands, index = self.hands, step.target_index
        target = hands.plan.targets[index]
        if not target.centre.solve_frames or step.batch.frame_type != "Light" \
                or target.ra is None or target.dec is None:
            return []
        processes = Processes(self.solver, None, None, clock=hands.clock)
        hints = Hints(ra=target.ra, dec=target.dec, radius=RADIUS, cpulimit=CPULIMIT)
        try:
            found = await hands.bounded(processes.solve_image(data, hints), CPULIMIT + 10.0,
                                        SOLVER)
        except (SolveFailed, DeviceLost) as failed:
            logger.warning("%s: not solved, saved without its WCS: %s", step.id, failed)
            return []
        off = offset(target.ra, target.dec, found.ra, found.dec)
        if target.centre.enabled and off.total > target.centre.drift:
            logger.info("%s: drifted %.1f\" off %s: centring before the next frame", step.id,
                        off.total, target.name)
            self.centred.discard(index)
            self.why[index] = f"drifted {off.total:.0f}\" (past {target.centre.drift:g}\")"
        return wcs_cards(found)

    def cards(self) -> list[Card]:
        return []


def wcs_cards(found: Solution) -> list[Card]:
    """A solution's WCS as FITS cards, as astrometry.net's solve-field writes them."""
    cards: list[Card] = [("CTYPE1", "RA---TAN", "TAN (gnomonic) projection"),
                         ("CTYPE2", "DEC--TAN", "TAN (gnomonic) projection"),
                         ("EQUINOX", 2000.0, "Equatorial coordinates definition (yr)")]
    comments = {"CRVAL1": "RA  of reference point", "CRVAL2": "DEC of reference point",
                "CRPIX1": "X reference pixel", "CRPIX2": "Y reference pixel",
                "CD1_1": "Transformation matrix", "CD1_2": "no comment",
                "CD2_1": "no comment", "CD2_2": "no comment"}
    cards += [(key, value, comments[key]) for key, value in found.wcs]
    return cards
