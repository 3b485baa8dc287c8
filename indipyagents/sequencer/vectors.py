"""The sequencer's INDI vectors, with INDIGO's names where it has them, all in the group
"Sequence" and defined from the start (a night resumed after a restart runs, and is shown,
with no client and the agent not connected).

- AGENT_PLAN (text FILE: a path on the server) and AGENT_PLAN_UPLOAD (BLOB PLAN, format
  ``.toml``, for a client that sends the file itself) load a plan; PLAN_STATUS says what is
  loaded (name, source, targets, frames, seconds of exposure); PLAN_CHECK a scheduled plan's
  targets no night can image with why (NEVER), and the plan refused since the loaded one, with
  why (REFUSED): values, so a client that connects later (a restart, the web page) reads them.
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


def _count(name: str, label: str, most: float = 1e6) -> NumberMember:
    """A whole number counted from 0 (steps, frames, targets)."""
    return NumberMember(name, label, "%.0f", 0, most, 1, 0)


def _seconds(name: str, label: str) -> NumberMember:
    """Seconds of exposure, to a tenth."""
    return NumberMember(name, label, "%.1f", 0, 1e9, 0, 0)


def _process(what: str, label: str, *members: SwitchMember) -> SwitchVector:
    """INDIGO's AGENT_<what>_PROCESS: a client starts, pauses or aborts by turning one On."""
    return SwitchVector(f"AGENT_{what}_PROCESS", label, GROUP, "rw", "AtMostOne", "Idle",
                        list(members))


class SequencerVectors:
    """One face's vectors, each made afresh."""

    def __init__(self) -> None:
        self.plan_file = TextVector("AGENT_PLAN", "Plan", GROUP, "rw", "Idle", [
            TextMember("FILE", "Plan file on the server", "")])
        self.upload = BLOBVector("AGENT_PLAN_UPLOAD", "Upload a plan", GROUP, "wo", "Idle", [
            BLOBMember("PLAN", "Plan (.toml)")])
        self.status = TextVector("PLAN_STATUS", "Loaded plan", GROUP, "ro", "Idle", [
            TextMember("NAME", "Name", ""), TextMember("SOURCE", "From", ""),
            TextMember("TARGETS", "Targets", ""), TextMember("FRAMES", "Frames", "0"),
            TextMember("EXPOSURE", "Exposure (s)", "0")])
        self.check = TextVector("PLAN_CHECK", "Plan check", GROUP, "ro", "Idle", [
            TextMember("NEVER", "Never imaged", ""),
            TextMember("REFUSED", "Last refused", "")])
        self.state = NumberVector("SEQUENCE_STATE", "Sequence", GROUP, "ro", "Idle", [
            _count("STEP", "Step"), _count("PROGRESS", "Frames done"),
            _count("PROGRESS_TOTAL", "Frames"), _seconds("EXPOSURE", "Exposure done (s)"),
            _seconds("EXPOSURE_TOTAL", "Exposure (s)")])
        self.start = _process("START", "Start", SwitchMember("SEQUENCE", "Sequence"),
                              SwitchMember("FOCUSING", "Autofocus"))
        self.pause = _process("PAUSE", "Pause", SwitchMember("PAUSE", "Pause"))
        self.abort = _process("ABORT", "Abort", SwitchMember("ABORT", "Abort"))
        self.stats = NumberVector("AGENT_IMAGER_STATS", "Statistics", GROUP, "ro", "Idle", [
            _count("TARGET", "Target", 1e4), _count("BATCH", "Batch", 1e4),
            _count("FRAME", "Frame"), _count("FRAMES", "Frames in batch"),
            NumberMember("HFD", "HFD (px)", "%.2f", 0, 1e3, 0, 0)])
        self.last_frame = BLOBVector("AGENT_LAST_FRAME", "Last frame", GROUP, "ro", "Idle", [
            BLOBMember("FRAME", "Frame")])
        self.safety = SwitchVector("AGENT_SAFETY", "Safety", GROUP, "rw", "OneOfMany", "Idle", [
            SwitchMember("SAFE", "Safe", "On"), SwitchMember("UNSAFE", "Unsafe", "Off")])
        self.safety_cause = TextVector("AGENT_SAFETY_CAUSE", "Unsafe because", GROUP, "rw",
                                       "Idle", [TextMember("CAUSE", "Cause", "")])
        self.schedule = TextVector("AGENT_SCHEDULE", "Tonight's schedule", GROUP, "ro", "Idle", [
            TextMember("BLOCKS", "Blocks (UTC)", ""), TextMember("IN_HAND", "Block in hand", "")])
        self.picture = TextVector("AGENT_SCHEDULE_PICTURE", "Tonight as a picture", GROUP, "ro",
                                  "Idle", [TextMember("SVG", "SVG", "")])

    def all(self) -> list[PropertyVector]:
        """In the order they are defined."""
        return [self.plan_file, self.upload, self.status, self.state, self.start, self.pause,
                self.abort, self.stats, self.last_frame, self.safety, self.safety_cause,
                self.schedule, self.picture, self.check]
