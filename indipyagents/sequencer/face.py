"""`SequencerFace`: the sequencer as INDI vectors (``vectors``: INDIGO's names where it has
them), a role an agent's device composes (``Device("Imager Agent", roles=[...,
SequencerFace(factory, parse)])``).

- AGENT_PLAN (a file on the server) or AGENT_PLAN_UPLOAD (the file itself) loads a plan; a
  bad one is refused with the plan's own errors ("night.toml, line 12: ...") as the vector's
  Alert and PLAN_STATUS's, before anything moves; so is one its `vet` refuses (the agent's
  devices as its server already shows them).
- AGENT_START_PROCESS: SEQUENCE runs the loaded plan, or resumes it where it stopped;
  FOCUSING runs autofocus alone. Either is refused at once (Alert naming what runs) while
  anything else runs on the agent's camera (its `Runner`, shared with indilib's face).
  AGENT_PAUSE_PROCESS: the frame in hand is finished first; AGENT_ABORT_PROCESS: at once,
  the camera aborted.
- AGENT_SAFETY (SAFE, UNSAFE, with AGENT_SAFETY_CAUSE first): set by a watchdog or any
  client. UNSAFE cuts a sky frame in hand and holds the run; SAFE lets it go on. The face
  keeps the verdict for the next run (``safetyverdict.py``).
- What the run reports is shown by its `Observer`, ``report.SequenceReport``.

The face holds no rig, journal or store: `factory` builds the `Sequencer` for a loaded plan
(opening the rig by the plan's devices, the journal and the frame folder), `parse` reads a
plan's text (``plan/toml.py``'s ``parse_plan(text, source)``; its `PlanError` is a ValueError
whose text names the line), `focusing` runs autofocus alone. The run is the face's task, not
a client's: clients may all leave and it goes on. A DISCONNECT of the agent pauses it.
START after a pause, a failure or an abort continues the same run from its journal (no frame
taken twice); loading a plan again hands the next START to `factory` afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Protocol

from indipycore.interface import Interface
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newBLOBVector
from indipydriver.rxevents import newSwitchVector
from indipydriver.rxevents import newTextVector
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import run_chosen
from indipydriver.vectors import PropertyVector

from ..calframes.tonight import tonight_plan as tonight
from ..plan.model import Plan
from ..plan.toml import PlanError
from ..rig.protocols import DeviceLost
from ..rig.protocols import RigError
from ..runner import Busy
from ..runner import Claim
from ..runner import Runner
from .contracts import FocusOutcome
from .contracts import Observer
from .contracts import RunState
from .engine import Sequencer
from .plancheck import PlanCheck
from .report import SequenceReport
from .safetyverdict import SafetyVerdict
from .vectors import GROUP
from .vectors import MESSAGE
from .vectors import SequencerVectors

__all__ = ["GROUP", "SequenceFactory", "SequencerFace"]

logger = logging.getLogger(__name__)

#: Where an uploaded plan's errors say they are.
UPLOADED = "the uploaded plan"
#: What the agent's `Runner` says runs while autofocus alone does.
FOCUSING_RUNS = "focusing"


class SequenceFactory(Protocol):
    """Builds the run of a loaded plan: the rig opened by ``plan.devices``, the journal and
    the frame store in the agent's folder, the plan checked against the devices (raise
    `PlanError`, a ValueError, to refuse it), `observer` the face."""

    async def __call__(self, plan: Plan, plan_text: str, observer: Observer) -> Sequencer: ...


#: Autofocus alone (AGENT_START_PROCESS.FOCUSING), with the face told its progress.
Focusing = Callable[[Observer], Awaitable[FocusOutcome]]
#: A parsed plan checked at load, `(plan, text, source)`: raise `PlanError` to refuse it.
Vet = Callable[[Plan, str, str], Awaitable[None]]


class SequencerFace:
    """The sequencer's vectors and what a client's values on them do (a `Role`)."""

    def __init__(self, factory: SequenceFactory, parse: Callable[[str, str], Plan], *,
                 focusing: Focusing | None = None, runner: Runner | None = None,
                 vet: Vet | None = None) -> None:
        self.factory = factory
        self.vet = vet
        #: One runner at a time on the agent's camera: shared with indilib's face.
        self.runner = runner if runner is not None else Runner()
        self.parse = parse
        self.focusing = focusing
        self.logger = logger
        self.device: RoleDevice | None = None
        self.plan: Plan | None = None
        self.plan_text = ""
        #: Where the loaded plan came from ("night.toml", "the uploaded plan"), as refusals
        #: name it.
        self.plan_source = ""
        self.sequencer: Sequencer | None = None
        self._task: asyncio.Task[None] | None = None
        made = SequencerVectors()
        self.plan_file, self.upload, self.status = made.plan_file, made.upload, made.status
        self.state, self.start, self.pause = made.state, made.start, made.pause
        self.check = PlanCheck(made.check)
        self.abort, self.stats, self.last_frame = made.abort, made.stats, made.last_frame
        self.safety, self.safety_cause = made.safety, made.safety_cause
        self._made = made
        #: The runs' `Observer`: what they report, shown on these vectors.
        self.report = SequenceReport(made, lambda: self.sequencer)
        #: AGENT_SAFETY and its cause, a client's verdict kept for the next run.
        self.verdict = SafetyVerdict(made.safety, made.safety_cause)

    # -- the Role ----------------------------------------------------------------------------

    @property
    def interface(self) -> Interface:
        return Interface(0)

    def vectors(self) -> Sequence[PropertyVector]:
        return self._made.all()

    #: Defined from the start, not on CONNECT: a night resumed after a restart runs, and is
    #: shown, with no client and the agent not connected.
    always_names = tuple(vector.name for vector in SequencerVectors().all())

    def attach(self, device: RoleDevice) -> None:
        self.device = device
        self.logger = self.verdict.logger = device.logger

    async def connected(self) -> None:
        """Nothing starts by itself: a client loads a plan and starts it."""

    async def disconnected(self) -> None:
        """The agent disconnected: a running sequence pauses after its frame in hand."""
        if self.sequencer is not None:
            self.sequencer.pause()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if isinstance(event, newTextVector) and event.vectorname == "AGENT_PLAN":
            await self._load_file(str(event.get("FILE", "")).strip())
        elif isinstance(event, newTextVector) and event.vectorname == "AGENT_SAFETY_CAUSE":
            await self.verdict.cause_said(event)
        elif isinstance(event, newSwitchVector) and event.vectorname == "AGENT_SAFETY":
            await self.verdict.said(event, self.sequencer)
        elif isinstance(event, newBLOBVector) and event.vectorname == "AGENT_PLAN_UPLOAD":
            await self._load_upload(event)
        elif isinstance(event, newSwitchVector):
            if event.vectorname == "AGENT_START_PROCESS":
                await run_chosen(event, {"SEQUENCE": self._start_sequence,
                                         "FOCUSING": self._start_focusing})
            elif event.vectorname == "AGENT_PAUSE_PROCESS" and event.get("PAUSE") == "On":
                await self._pause()
            elif event.vectorname == "AGENT_ABORT_PROCESS" and event.get("ABORT") == "On":
                await self._abort()
            else:
                await event.vector.send_setVector()

    # -- loading -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _load_file(self, path: str) -> None:
        self.plan_file["FILE"] = path
        if not path:
            await self.plan_file.send_setVector(state="Alert", message="name a plan file")
            return
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            await self.plan_file.send_setVector(
                state="Alert", message=f"cannot read {path}: {exc}"[:MESSAGE])
            return
        await self._load(self.plan_file, text, Path(path).name)

    async def _load_upload(self, event: newBLOBVector) -> None:
        data = event.get("PLAN")
        try:
            text = bytes(data or b"").decode("utf-8")
        except UnicodeDecodeError:
            await self.upload.send_setVector(state="Alert",
                                             message="the plan is not UTF-8 text")
            return
        await self._load(self.upload, text, UPLOADED)

    async def _load(self, vector: PropertyVector, text: str, source: str) -> None:
        """Parse `text`: a refusal is the vector's Alert with the plan's error; a plan that
        reads well replaces the loaded one (never while one runs: refused, naming it)."""
        try:
            plan = self.parse(text, source)
            if self.vet is not None:
                await self.vet(plan, text, source)
            if self.running:  # after the vet's wait: a START in it is seen
                raise ValueError(f"{source}: {plan.name} not loaded")
        except ValueError as exc:
            # Said on the vector written and on PLAN_STATUS, which every client receives (an
            # upload's answer is a BLOB vector); every error whole in the log (messages).
            self._said_refused("plan refused", exc)
            said = await self.check.refused(exc, self.plan, self.plan_source,
                                            running=self.running)
            await vector.send_setVector(state="Alert", message=said[:MESSAGE])
            await self.status.send_setVector(state="Alert", message=said[:MESSAGE])
            return
        if self.sequencer is not None:  # its journal's lock released for the next run's
            self.sequencer.journal.close()
        self.plan, self.plan_text, self.plan_source, self.sequencer = plan, text, source, None
        self.status.update({"NAME": plan.name, "SOURCE": source,
                            "TARGETS": ", ".join(t.name for t in plan.targets)[:MESSAGE],
                            "FRAMES": str(tonight(plan).frames_total),
                            "EXPOSURE": f"{tonight(plan).exposure_total:g}"})
        self.state.update({"STEP": 0, "PROGRESS": 0, "PROGRESS_TOTAL": tonight(plan).frames_total,
                           "EXPOSURE": 0, "EXPOSURE_TOTAL": tonight(plan).exposure_total})
        self.logger.info("plan %s loaded from %s: %d frames", plan.name, source,
                         tonight(plan).frames_total)
        never = await self.check.loaded(plan)  # "; never imaged: ...", or ""
        await vector.send_setVector(state="Ok")
        await self.status.send_setVector(state="Ok", message=never[2:MESSAGE])
        await self.state.send_setVector(state="Idle", message=f"{plan.name} loaded{never}"[:MESSAGE])

    async def load_file(self, path: str, *, start: bool = False) -> None:
        """Load the plan file `path` as a client's AGENT_PLAN would (the command line's
        ``--plan``), and with `start` run it at once (``--start``)."""
        await self._load_file(path)
        if start and self.plan is not None:
            await self._start_sequence()

    async def resume(self, text: str, source: str, *, retry: Retry | None = None) -> None:
        """Load `text` and start it, as a client's load and START would: the agent resuming a
        night it was running when it stopped (the factory finds its journal). With `retry`,
        a rig not there yet (its drivers still starting after a power cut: `DeviceLost`, the
        server not listening yet: `ConnectionError`) is waited for by the project's retry
        policy, said on SEQUENCE_STATE; once it gives up, the Alert names the device."""
        await self._load(self.status, text, source)
        plan = self.plan
        if plan is None:
            return
        if retry is None:
            await self._start_sequence()
            return

        claim = await self._claim(_sequence_runs(plan))
        if claim is None:
            return

        async def build() -> Sequencer:
            return await self.factory(plan, text, self.report)

        async def waiting(error: BaseException) -> None:
            await self.state.send_setVector(
                state="Busy", message=f"resuming: waiting for {error}"[:MESSAGE])

        try:
            sequencer = await retry.call_with_retry(build, waiting,
                                                    errors=(DeviceLost, ConnectionError))
        except RetriesExhausted as exhausted:
            claim.release()
            await self._refuse_start(f"not resumed: {exhausted.__cause__}")
            return
        except (RigError, OSError, ValueError) as exc:
            claim.release()
            await self._refuse_start(f"not resumed: {exc}")
            return
        except BaseException:
            claim.release()
            raise
        if self.plan is not plan or self.running:  # a client loaded or started another
            claim.release()
            return
        self.sequencer = sequencer
        await self._start_sequence(claim)

    # -- running -----------------------------------------------------------------------------

    async def _claim(self, what: str) -> Claim | None:
        """The agent's camera claimed for `what`, or None: then AGENT_START_PROCESS is
        Alert naming what runs (a batch of indilib's face, the sequence, focusing), which
        goes on untouched."""
        try:
            return self.runner.claim(what)
        except Busy as busy:
            self.logger.warning("AGENT_START_PROCESS refused: %s", busy)
            if not self.running:
                self.start.update({"SEQUENCE": "Off", "FOCUSING": "Off"})
            await self.start.send_setVector(state="Alert", message=str(busy)[:MESSAGE])
            return None

    async def _launch(self, work: Coroutine[Any, Any, None], claim: Claim, name: str) -> None:
        """AGENT_START_PROCESS Busy, then `work` as the face's task; `claim` released however
        it ends, also when Busy could not be said (then `work` never starts)."""
        try:
            await self.start.send_setVector(state="Busy")
        except BaseException:
            work.close()
            claim.release()
            raise
        self._task = asyncio.get_running_loop().create_task(work, name=name)
        self._task.add_done_callback(lambda _task: claim.release())

    async def _start_sequence(self, claim: Claim | None = None) -> None:
        plan = self.plan
        if plan is None:
            await self._refuse_start("load a plan first (AGENT_PLAN or AGENT_PLAN_UPLOAD)")
            return
        if claim is None:
            claim = await self._claim(_sequence_runs(plan))
            if claim is None:
                return
        try:
            if self.sequencer is None:
                try:
                    self.sequencer = await self.factory(plan, self.plan_text, self.report)
                except PlanError as exc:  # the plan against the devices: its file named
                    claim.release()
                    refused = exc.named(self.plan_source)
                    self._said_refused("the sequence did not start", refused)
                    await self._refuse_start(str(refused))
                    return
                except (RigError, OSError, ValueError) as exc:
                    claim.release()
                    await self._refuse_start(str(exc))
                    return
            await self.verdict.hand_to(self.sequencer)
        except BaseException:
            claim.release()
            raise
        self.start.update({"SEQUENCE": "On", "FOCUSING": "Off"})
        await self._launch(self._run(self.sequencer, claim), claim, "sequence")

    async def _run(self, sequencer: Sequencer, claim: Claim) -> None:
        try:
            ended = await sequencer.run()
        except Exception as exc:
            # A defect, not a device: said to clients, the agent stays up.
            self.logger.exception("the sequence failed")
            ended = RunState.PAUSED
            sequencer.reason = f"{type(exc).__name__}: {exc}"
            await self.state.send_setVector(state="Alert", message=sequencer.reason[:MESSAGE])
        if ended is RunState.DONE:
            self.sequencer = None  # a new START begins again (the factory's journal decides)
        claim.release()  # before its end is said: a client told may start another at once
        self.start["SEQUENCE"] = "Off"
        failed = ended is RunState.ABORTED or bool(sequencer.reason)
        await self.start.send_setVector(state="Alert" if failed else "Ok")
        if self.pause["PAUSE"] == "On":
            self.pause["PAUSE"] = "Off"
            await self.pause.send_setVector(state="Ok")

    async def _start_focusing(self) -> None:
        if self.focusing is None:
            await self._refuse_start("autofocus needs a focuser and the [agents] extra")
            return
        claim = await self._claim(FOCUSING_RUNS)
        if claim is None:
            return
        self.start.update({"SEQUENCE": "Off", "FOCUSING": "On"})
        await self._launch(self._focus(self.focusing, claim), claim, "autofocus")

    async def _focus(self, focusing: Focusing, claim: Claim) -> None:
        """Autofocus alone: AGENT_START_PROCESS Ok saying where it focused, else Alert."""
        state, message = "Alert", "autofocus aborted"
        try:
            result = await focusing(self.report)
            if result.ok and result.hfr is not None:
                self.stats["HFD"] = 2.0 * result.hfr
                await self.stats.send_setVector(state="Ok")
                state, message = "Ok", (f"focused at {result.position} in {result.frames} "
                                        f"frames, HFR {result.hfr:.2f}")
            else:
                message = f"autofocus failed: {result.reason}"
        except (RigError, OSError) as exc:
            message = str(exc)[:MESSAGE]
        finally:
            claim.release()
            self.start["FOCUSING"] = "Off"
            await self.start.send_setVector(state=state, message=message)

    def _said_refused(self, what: str, exc: ValueError) -> None:
        """Each error of a refused plan in the log, whole (a vector's message is cut at
        indilib's 255 characters): a plan with three errors is said three times."""
        problems = exc.problems if isinstance(exc, PlanError) else (exc,)
        for problem in problems:
            self.logger.warning("%s: %s", what, problem)

    async def _refuse_start(self, reason: str) -> None:
        self.logger.warning("the sequence did not start: %s", reason)
        self.start.update({"SEQUENCE": "Off", "FOCUSING": "Off"})
        await self.start.send_setVector(state="Alert", message=reason[:MESSAGE])
        await self.state.send_setVector(state="Alert", message=reason[:MESSAGE])

    async def _pause(self) -> None:
        if not self.running or self.sequencer is None:
            self.pause["PAUSE"] = "Off"
            await self.pause.send_setVector(state="Alert", message="no sequence is running")
            return
        self.pause["PAUSE"] = "On"
        await self.pause.send_setVector(state="Busy", message="after the frame in hand")
        self.sequencer.pause()

    async def _abort(self) -> None:
        self.abort["ABORT"] = "On"
        await self.abort.send_setVector(state="Busy")
        task = self._task
        if self.sequencer is not None and self.sequencer.state in (
                RunState.RUNNING, RunState.PAUSED, RunState.IDLE):
            await self.sequencer.abort()
        elif task is not None and not task.done():  # autofocus alone
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self.abort["ABORT"] = "Off"
        await self.abort.send_setVector(state="Ok")


def _sequence_runs(plan: Plan) -> str:
    """What the agent's `Runner` says runs while `plan` does."""
    return f"the sequence {plan.name!r}"
