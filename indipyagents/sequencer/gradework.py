"""`GradeWork`: each light frame measured and judged off the night's path (issue 93 items 1
and 2), when the plan has a ``[grading]`` section.

Once a light frame is saved and journalled, `begin` starts its work:
`framemeasure.measure_frame` in the night's worker process (`stars.measureworker`: sep holds
the GIL, and in a thread it held the loop that asks the next exposure, issue 93 item 1), then
in a thread the verdict (`plan.grading.judge`, against the running median of the target's
frames ACCEPTED in that filter and binning), and the frame written again whole
(`FrameStore.save`, atomic) with its cards: HFR, FWHM, STARS, ECCENTR, SKYLEVEL, SKYNOISE,
OBJCTALT (the target's altitude at mid exposure), and REJECTED with its reasons for a rejected
one. The next exposure starts meanwhile.

`settle` takes the verdicts in: before the next frame is saved, before a slew, a wait or the
end, at a pause and at an abort's close. Each is journalled (`Journal.frame_graded`); a rejected
frame is then moved to ``rejected/<filter>/`` (`journal.rejected`) and its step undone, so the
run takes it again (the first step not done) and the scheduler's frames done, which count the
steps done, count accepted frames only; a frame rejected again after its ``retakes`` is given
up tonight (its step stays done, said at the night's end): a rig whose frames always fail a
rule ends its night. The accepted frames' figures are read back from the
journal at the first frame, so a resumed night judges against the same medians.

Each verdict is told (`hands.Graded`: the HFR trigger's figures) and seen by the cloud hold
(`cloudhold.CloudHold`: frames in a row through cloud hold the night). A guided frame whose
guider lost its star during the exposure (`Guider.lost`, read as it is saved) is rejected.

The guider's RMS over the exposure (``guide_rms_arcsec``, judged by ``guide_rms_max``) is the
GUIDERMS card the guiding trigger wrote in the frame at its end, in arcseconds where the guider
said its pixel scale (GUIDESCL beside it); a frame without them (unguided, or a guider that
says no scale) has None, and its GUIDERMS in guide pixels is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from indipycore import astro
from indipycore.fits import Card
from indipycore.fits import read_header

from ..journal import FrameStore
from ..journal.rejected import move_rejected
from ..plan.grading import Grading
from ..plan.grading import judge
from ..plan.grading import through_cloud
from ..plan.steps import FrameStep
from ..plan.steps import expand
from ..plan.steps import frames
from ..rig.protocols import RigError
from ..stars.measureworker import MeasureWorker
from ..stars.measureworker import WorkerLost
from .cloudhold import CloudHold
from .control import Control
from .hands import Graded
from .hands import Hands
from .headers import with_cards

if TYPE_CHECKING:  # numpy and sep are imported by a night that grades only
    from ..stars.framemeasure import FrameMeasure

logger = logging.getLogger(__name__)

#: Frames of one target, filter and binning are judged together.
Kind = tuple[int, str, int]


@dataclass
class Pending:
    """A frame's work under way: the step, its file, and the thread's outcome (the measure's
    journal record and the reasons it is rejected; None: it could not be measured)."""

    step: FrameStep
    file: str
    filter_name: str | None
    work: asyncio.Future[tuple[dict[str, object], list[str]] | None]


class GradeWork:
    """The grading of `hands`' plan (nothing when it has no ``[grading]``), frames in `store`;
    `control` the run's: a rejected step is undone there, clouds hold it there."""

    def __init__(self, hands: Hands, store: FrameStore, control: Control[Any]) -> None:
        self.hands = hands
        self.store = store
        self.undo = control.undo
        self.grading: Grading | None = hands.plan.grading
        self.worker = MeasureWorker()  # the night's frames measured in a process of its own
        self.clouds = CloudHold(hands, self.grading, control, self.worker,
                                lambda step: self.accepted().get(kind_of(step), []),
                                self.settle)
        self.pending: list[Pending] = []
        self._retaken: dict[str, int] = {}  # a step's rejections this run
        self._gave_up: dict[str, str] = {}  # the steps given up tonight, with why
        self._accepted: dict[Kind, list[FrameMeasure]] | None = None
        self._looked = self.grading is None  # the journal's ungraded frames looked for

    def wanted(self, step: FrameStep, data: bytes) -> bool:
        """Whether `step`'s frame is graded: a light frame (not a flat by level) saved as
        plain FITS, in a plan that grades."""
        batch = step.batch
        return self.grading is not None and batch.frame_type == "Light" \
            and batch.adu is None and data[:6] == b"SIMPLE"

    async def begin(self, step: FrameStep, data: bytes, *, late: bool = False) -> None:
        """`step`'s saved frame `data` measured, judged and its cards written, in a thread;
        `late`: a frame saved before a restart (its altitude at mid exposure unknown now: the
        one its header has, the camera's OBJCTALT, is journalled, as where the mount is lost)."""
        assert self.grading is not None
        hands, target = self.hands, self.hands.plan.targets[step.target_index]
        altitude = None
        if target.ra is not None and target.dec is not None and not late:
            try:  # the frame is saved: a mount lost now costs its altitude, not the frame
                site = await hands.site()
            except RigError as error:
                logger.warning("%s: no altitude: %s", step.id, error)
                site = None
            if site is not None:
                middle = hands.clock() - timedelta(seconds=step.batch.exposure / 2)
                altitude = altitude_at(target.ra, target.dec, site.latitude, site.longitude,
                                       middle)
        accepted = list(self.accepted().get(kind_of(step), []))
        guider = hands.rig.guider
        lost = guider is not None and target.slew and not late and guider.lost()
        try:
            from ..stars import framemeasure  # noqa: F401 - numpy and sep: a graded night's
        except ImportError as error:
            logger.warning("frames are not graded: %s", error)
            self.grading = None
            return
        filter_name = None if step.batch.filter is None else str(step.batch.filter)
        work = self._grade(step, data, accepted, altitude, lost=lost)
        self.pending.append(Pending(step, step.file_name, filter_name,
                                    asyncio.ensure_future(work)))

    async def _grade(self, step: FrameStep, data: bytes, accepted: list[FrameMeasure],
                     altitude: float | None, *, lost: bool
                     ) -> tuple[dict[str, object], list[str]] | None:
        """`begin`'s work: measured in the night's worker process (sep holds the GIL: in a
        thread it would hold the loop that asks the next exposure), then judged and written
        again in a thread. None: not measured (the frame still counts)."""
        grading = self.grading
        assert grading is not None
        try:
            measured = await self.worker.measure(data)
        except WorkerLost as error:
            logger.error("%s: not graded: %s", step.id, error)
            return None
        except Exception as error:  # noqa: BLE001 - a frame not measured still counts
            logger.warning("%s: not measured, not graded: %s", step.id, error)
            return None

        def finish() -> tuple[dict[str, object], list[str]]:
            told = altitude_of(data) if altitude is None else None
            figures = measured.with_context(guide_rms_of(data),
                                            altitude if told is None else told)
            reasons = judge(figures, accepted, grading, guiding_lost=lost)
            cards: list[Card] = [card for card in figures.cards()  # the camera's card kept
                                 if told is None or card[0] != "OBJCTALT"]
            if reasons:
                cards.append(("REJECTED", "; ".join(reasons)[:68], "rejected by [grading]"))
            self.store.save(step.file_name, with_cards(data, cards), overwrite=True)
            return figures.as_record(), reasons

        return await asyncio.to_thread(finish)

    async def close(self) -> None:
        """The night's measuring worker ended (the run's end); a later frame starts another."""
        await self.worker.close()

    async def settle(self) -> bool:
        """Every verdict under way taken in (waiting for its thread): journalled, a rejected
        frame moved aside and its step undone. True when one was rejected."""
        rejected = False
        if not self._looked:
            await self._look_back()
        while self.pending:
            pending = self.pending.pop(0)
            try:
                outcome = await pending.work
            except Exception:  # a frame whose cards could not be written: it counts
                logger.exception("%s: its grading failed", pending.step.id)
                continue
            if outcome is not None:
                rejected |= self._verdict(pending, *outcome)
        return rejected

    async def _look_back(self) -> None:
        """The frames a kill left saved and not graded (the journal's), graded now: a
        resumed night counts none unjudged."""
        self._looked = True
        steps = {step.id: step for step in frames(expand(self.hands.plan))}
        for step_id, file in self.hands.journal.state().ungraded.items():
            step = steps.get(step_id)
            if step is None or file != step.file_name or not self.store.exists(file):
                continue
            data = await asyncio.to_thread(self.store.path(file).read_bytes)
            if self.wanted(step, data):
                logger.info("%s: saved before the restart, graded now", step_id)
                await self.begin(step, data, late=True)

    def _verdict(self, pending: Pending, measure: dict[str, object], reasons: list[str]) -> bool:
        step, journal = pending.step, self.hands.journal
        journal.frame_graded(step.id, pending.file, measure,
                             "rejected" if reasons else "accepted", reasons)
        stars, hfr = measure.get("stars"), measure.get("hfr_px")
        if isinstance(stars, int) and isinstance(hfr, int | float):
            self.hands.tell(Graded(step, stars, float(hfr)))
        self.clouds.seen(step, reasons)
        if not reasons:
            self._remember(step, measure)
            return False
        try:
            moved = move_rejected(self.store, pending.file, pending.filter_name)
        except OSError as error:  # at its name still: the resume moves it (its REJECTED card)
            logger.error("%s: rejected, not moved aside: %s", step.id, error)
            return False
        if self._spent(step, reasons):
            return False
        self.undo(step.id)
        logger.warning("%s: rejected (%s), moved to %s: taken again", step.id,
                       "; ".join(reasons), moved)
        return True

    def _spent(self, step: FrameStep, reasons: list[str]) -> bool:
        """Whether `step` has been taken again its ``retakes`` times: then it is given up
        tonight (its step stays done, the run goes on), journalled and said. A frame through
        cloud that the cloud hold watches for is the weather's, never counted."""
        assert self.grading is not None
        if through_cloud(reasons, self.grading):
            return False
        count = self._retaken[step.id] = self._retaken.get(step.id, 0) + 1
        if count <= self.grading.retakes:
            return False
        why = f"{step.id} rejected {count} times ({'; '.join(reasons)})"
        self._gave_up[step.id] = why
        logger.warning("%s: given up tonight", why)
        self.hands.journal.note("retakes_spent", step=step.id, times=count, reasons=reasons)
        return True

    @property
    def given_up(self) -> str:
        """The frames given up this run after their retakes, with why ("": none), as the
        run's report says them at its end."""
        return "; ".join(self._gave_up.values())

    def accepted(self) -> dict[Kind, list[FrameMeasure]]:
        """The accepted frames' figures by target, filter and binning; read from the journal
        the first time (a resumed night's)."""
        if self._accepted is None:
            self._accepted = {}
            steps = {step.id: step for step in frames(expand(self.hands.plan))}
            for record in self.hands.journal.state().graded:
                step = steps.get(record["step"])
                if step is not None and record["verdict"] == "accepted":
                    self._remember(step, record["measure"])
        return self._accepted

    def _remember(self, step: FrameStep, measure: dict[str, object]) -> None:
        from ..stars import framemeasure
        try:
            figures = framemeasure.FrameMeasure.from_record(measure)
        except (KeyError, TypeError, ValueError):
            return
        self.accepted().setdefault(kind_of(step), []).append(figures)


def guide_rms_of(data: bytes) -> float | None:
    """The frame's GUIDERMS in arcseconds (the guiding trigger's card, with its GUIDESCL);
    None: none, or in guide pixels."""
    values = read_header(data).values
    rms = values.get("GUIDERMS")
    if "GUIDESCL" not in values or isinstance(rms, bool) or not isinstance(rms, int | float):
        return None
    return float(rms)


def altitude_of(data: bytes) -> float | None:
    """The frame's OBJCTALT (degrees: the camera's, from the mount it snoops), None: none."""
    altitude = read_header(data).values.get("OBJCTALT")
    return None if isinstance(altitude, bool) or not isinstance(altitude, int | float) \
        else float(altitude)


def kind_of(step: FrameStep) -> Kind:
    return step.target_index, str(step.batch.filter), step.batch.binning


def altitude_at(ra: float, dec: float, latitude: float, longitude: float,
                when: datetime) -> float:
    """The altitude (degrees) at `when` of the J2000 (`ra` hours, `dec` degrees)."""
    now_ra, now_dec = astro.precess_from_j2000(ra, dec, when)
    hour_angle = astro.hour_angle(astro.local_sidereal_time(when, longitude), now_ra)
    return astro.altitude(hour_angle, now_dec, latitude)
