"""`SequenceReport`: the run's `Observer`, told each `Progress` and each frame saved by the
engine, shown on the face's vectors: SEQUENCE_STATE (Busy while it runs, Ok once done (Alert
"done; flats given up: ..." when the night's [calibration] flats of a filter were; Ok "done;
fewer sky flats than asked: ... (dusk: the sky is too dark)" when the sky allowed fewer), Alert
with the reason, Idle when a client paused it, Busy "held: unsafe (<cause>)" while held for
safety, Alert "<device>: ...; waiting for <device> to come back" while a lost device is awaited), AGENT_IMAGER_STATS, AGENT_LAST_FRAME, and AGENT_SAFETY as the run has it (a run
resumed after a restart holds by its journal, and shows it). A note the night said at its
start (`Progress.note`) follows the message until it moves on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .contracts import Progress
from .contracts import RunState
from .engine import Sequencer
from .vectors import MESSAGE
from .vectors import SequencerVectors

__all__ = ["SequenceReport"]

_STATES = {RunState.IDLE: "Idle", RunState.RUNNING: "Busy", RunState.DONE: "Ok",
           RunState.ABORTED: "Alert"}


class SequenceReport:
    """The `Observer` of the runs of one face: its `vectors`, and `sequencer` the run the
    face holds now (None: none), whose safety AGENT_SAFETY shows."""

    def __init__(self, vectors: SequencerVectors,
                 sequencer: Callable[[], Sequencer | None]) -> None:
        self.vectors = vectors
        self._sequencer = sequencer

    async def progress(self, progress: Progress) -> None:
        """The run's report, as SEQUENCE_STATE and AGENT_IMAGER_STATS."""
        made = self.vectors
        made.state.update({"STEP": progress.step, "PROGRESS": progress.frames_done,
                           "PROGRESS_TOTAL": progress.frames_total,
                           "EXPOSURE": progress.exposure_done,
                           "EXPOSURE_TOTAL": progress.exposure_total})
        if progress.state is RunState.PAUSED:
            state = "Alert" if progress.reason else "Idle"
            message = progress.reason or "paused"
        elif progress.state is RunState.RUNNING and progress.waiting:
            state, message = "Alert", progress.reason
        elif progress.state is RunState.RUNNING and progress.unsafe and not progress.reason:
            state = "Busy"
            why = f"unsafe ({progress.cause})" if progress.cause else "unsafe"
            message = f"held: {why}" if progress.held else f"{why}: darks and bias only"
        elif progress.state is RunState.DONE and (progress.given_up or progress.sky_short
                                                  or progress.frames_given_up):
            state, message = _short(progress)
        else:
            state = _STATES[progress.state]
            message = progress.reason or ("done" if progress.state is RunState.DONE else "")
        for said in (progress.block, progress.note):
            message = f"{message}; {said}" if message and said else message or said
        await made.state.send_setVector(state=state, message=message[:MESSAGE])
        await self._show_schedule(progress)
        sequencer = self._sequencer()
        if sequencer is not None:
            await self._show_safety(sequencer)
        made.stats.update({"TARGET": progress.target_index, "BATCH": progress.batch,
                           "FRAME": progress.frame, "FRAMES": progress.frames_in_batch,
                           "HFD": progress.hfd})
        await made.stats.send_setVector(state=state if state != "Alert" else "Idle")

    async def _show_schedule(self, progress: Progress) -> None:
        """A scheduled plan's blocks tonight (AGENT_SCHEDULE), and the block in hand and the
        next as PLAN_STATUS's message, sent when they change."""
        made = self.vectors
        if not progress.schedule or (made.schedule["BLOCKS"], made.schedule["IN_HAND"]) == (
                progress.schedule, progress.block):
            return
        made.schedule.update({"BLOCKS": progress.schedule, "IN_HAND": progress.block})
        await made.schedule.send_setVector(state="Ok")
        await made.status.send_setVector(message=(progress.block or "between blocks")[:MESSAGE])
        if progress.picture and made.picture["SVG"] != progress.picture:
            made.picture["SVG"] = progress.picture
            await made.picture.send_setVector(state="Ok")

    async def frame(self, name: str, data: bytes) -> None:
        """The frame just saved, for clients that watch (AGENT_LAST_FRAME)."""
        last = self.vectors.last_frame
        last["FRAME"] = data
        last.set_blobformat("FRAME", Path(name).suffix or ".fits")
        await last.send_setVector(state="Ok", message=name)

    async def _show_safety(self, sequencer: Sequencer) -> None:
        """AGENT_SAFETY as the run has it: a run resumed after a restart holds by its
        journal, and shows it."""
        safety, cause = self.vectors.safety, self.vectors.safety_cause
        unsafe = sequencer.unsafe
        if unsafe == (safety["UNSAFE"] == "On"):
            return
        safety.update({"SAFE": "Off" if unsafe else "On", "UNSAFE": "On" if unsafe else "Off"})
        if unsafe:
            cause["CAUSE"] = sequencer.cause
            await cause.send_setVector(state="Ok")
        await safety.send_setVector(state="Ok")


def _short(progress: Progress) -> tuple[str, str]:
    """A night done with fewer frames than asked: Alert where a device or a rule gave some
    up (flats, light frames after their retakes), Ok where only the sky was short."""
    parts = [*([f"flats given up: {progress.given_up}"] if progress.given_up else []),
             *([f"frames given up: {progress.frames_given_up}"]
               if progress.frames_given_up else []),
             *([progress.sky_short] if progress.sky_short else [])]
    state = "Alert" if progress.given_up or progress.frames_given_up else "Ok"
    return state, "done; " + "; ".join(parts)
