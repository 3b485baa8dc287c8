"""The sequencer's INDI vectors, with INDIGO's names where it has them, all in the group
"Sequence" and defined from the start (a night resumed after a restart runs, and is shown,
with no client and the agent not connected).

- AGENT_PLAN (text FILE: a path on the server) and AGENT_PLAN_UPLOAD (BLOB PLAN, format
  ``.toml``, for a client that sends the file itself) load a plan; PLAN_STATUS says what is
  loaded (name, source, targets, frames, seconds of exposure).
- SEQUENCE_STATE (STEP, PROGRESS, PROGRESS_TOTAL, EXPOSURE, EXPOSURE_TOTAL): Busy while it
  runs, Ok once done, Alert with the reason, Idle when a client paused it.
- AGENT_SCHEDULE (ro text BLOCKS: a scheduled plan's blocks tonight, "HH:MM-HH:MM target
  (N frames)" a line each, UTC; IN_HAND: the block in hand and the next, also PLAN_STATUS's
  and SEQUENCE_STATE's message while it runs); AGENT_SCHEDULE_PICTURE (SVG: tonight drawn,
  the altitudes, the blocks, the twilight, the Moon, the block in hand; the web client's
  schedule page shows it).
- AGENT_START_PROCESS (AtMostOne: SEQUENCE, FOCUSING), AGENT_PAUSE_PROCESS (PAUSE),
  AGENT_ABORT_PROCESS (ABORT).
- AGENT_IMAGER_STATS (TARGET, BATCH, FRAME, FRAMES, HFD) and AGENT_LAST_FRAME (the last frame
  saved, for clients that watch).
- AGENT_SAFETY (OneOfMany SAFE, UNSAFE) and AGENT_SAFETY_CAUSE (CAUSE): the sky's verdict, set
  by a watchdog or any client.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from indipydriver.members import BLOBMember
from indipydriver.members import NumberMember
from indipydriver.members import SwitchMember
from indipydriver.members import TextMember
from indipydriver.vectors import BLOBVector
from indipydriver.vectors import NumberVector
from indipydriver.vectors import PropertyVector
from indipydriver.vectors import SwitchVector
from indipydriver.vectors import TextVector

__all__ = ["GROUP", "MESSAGE", "SequencerVectors"]

GROUP = "Sequence"
#: The longest message a vector carries (the journal and the log keep the whole text).
MESSAGE = 250


def _plan_file() -> TextVector:
    return TextVector("AGENT_PLAN", "Plan", GROUP, "rw", "Idle", [
        TextMember("FILE", "Plan file on the server", "")])


def _upload() -> BLOBVector:
    return BLOBVector("AGENT_PLAN_UPLOAD", "Upload a plan", GROUP, "wo", "Idle", [
        BLOBMember("PLAN", "Plan (.toml)")])


def _status() -> TextVector:
    return TextVector("PLAN_STATUS", "Loaded plan", GROUP, "ro", "Idle", [
        TextMember("NAME", "Name", ""), TextMember("SOURCE", "From", ""),
        TextMember("TARGETS", "Targets", ""), TextMember("FRAMES", "Frames", "0"),
        TextMember("EXPOSURE", "Exposure (s)", "0")])


def _state() -> NumberVector:
    return NumberVector("SEQUENCE_STATE", "Sequence", GROUP, "ro", "Idle", [
        NumberMember("STEP", "Step", "%.0f", 0, 1e6, 1, 0),
        NumberMember("PROGRESS", "Frames done", "%.0f", 0, 1e6, 1, 0),
        NumberMember("PROGRESS_TOTAL", "Frames", "%.0f", 0, 1e6, 1, 0),
        NumberMember("EXPOSURE", "Exposure done (s)", "%.1f", 0, 1e9, 0, 0),
        NumberMember("EXPOSURE_TOTAL", "Exposure (s)", "%.1f", 0, 1e9, 0, 0)])


def _start() -> SwitchVector:
    return SwitchVector("AGENT_START_PROCESS", "Start", GROUP, "rw", "AtMostOne", "Idle", [
        SwitchMember("SEQUENCE", "Sequence"), SwitchMember("FOCUSING", "Autofocus")])


def _pause() -> SwitchVector:
    return SwitchVector("AGENT_PAUSE_PROCESS", "Pause", GROUP, "rw", "AtMostOne", "Idle", [
        SwitchMember("PAUSE", "Pause")])


def _abort() -> SwitchVector:
    return SwitchVector("AGENT_ABORT_PROCESS", "Abort", GROUP, "rw", "AtMostOne", "Idle", [
        SwitchMember("ABORT", "Abort")])


def _stats() -> NumberVector:
    return NumberVector("AGENT_IMAGER_STATS", "Statistics", GROUP, "ro", "Idle", [
        NumberMember("TARGET", "Target", "%.0f", 0, 1e4, 1, 0),
        NumberMember("BATCH", "Batch", "%.0f", 0, 1e4, 1, 0),
        NumberMember("FRAME", "Frame", "%.0f", 0, 1e6, 1, 0),
        NumberMember("FRAMES", "Frames in batch", "%.0f", 0, 1e6, 1, 0),
        NumberMember("HFD", "HFD (px)", "%.2f", 0, 1e3, 0, 0)])


def _last_frame() -> BLOBVector:
    return BLOBVector("AGENT_LAST_FRAME", "Last frame", GROUP, "ro", "Idle", [
        BLOBMember("FRAME", "Frame")])


def _safety() -> SwitchVector:
    return SwitchVector("AGENT_SAFETY", "Safety", GROUP, "rw", "OneOfMany", "Idle", [
        SwitchMember("SAFE", "Safe", "On"), SwitchMember("UNSAFE", "Unsafe", "Off")])


def _safety_cause() -> TextVector:
    return TextVector("AGENT_SAFETY_CAUSE", "Unsafe because", GROUP, "rw", "Idle", [
        TextMember("CAUSE", "Cause", "")])


def _schedule() -> TextVector:
    return TextVector("AGENT_SCHEDULE", "Tonight's schedule", GROUP, "ro", "Idle", [
        TextMember("BLOCKS", "Blocks (UTC)", ""), TextMember("IN_HAND", "Block in hand", "")])


def _picture() -> TextVector:
    return TextVector("AGENT_SCHEDULE_PICTURE", "Tonight as a picture", GROUP, "ro", "Idle", [
        TextMember("SVG", "SVG", "")])


@dataclass
class SequencerVectors:
    """One face's vectors, each made afresh."""

    plan_file: TextVector = field(default_factory=_plan_file)
    upload: BLOBVector = field(default_factory=_upload)
    status: TextVector = field(default_factory=_status)
    state: NumberVector = field(default_factory=_state)
    start: SwitchVector = field(default_factory=_start)
    pause: SwitchVector = field(default_factory=_pause)
    abort: SwitchVector = field(default_factory=_abort)
    stats: NumberVector = field(default_factory=_stats)
    last_frame: BLOBVector = field(default_factory=_last_frame)
    safety: SwitchVector = field(default_factory=_safety)
    safety_cause: TextVector = field(default_factory=_safety_cause)
    schedule: TextVector = field(default_factory=_schedule)
    picture: TextVector = field(default_factory=_picture)

    def all(self) -> list[PropertyVector]:
        """In the order they are defined."""
        return [self.plan_file, self.upload, self.status, self.state, self.start, self.pause,
                self.abort, self.stats, self.last_frame, self.safety, self.safety_cause,
                self.schedule, self.picture]
