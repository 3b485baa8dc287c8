"""The indilib face's batch made crash-proof: `BatchLog` journals a batch (BATCH START over
GROUP_nn) with the plans' machinery (`journal`: `Journal`, `FrameStore`, `reconcile`), so a
batch the server or the agent was running when it died is continued at the next start, no
client needed, and ends with exactly its frames: none repeated, none missing, none torn.

Why not a `Plan` run by the sequencer's engine: indilib's batch differs from a plan in what
a client sees of it. Its names (``PREFIX_G_NNN.fits``), the wheel by slot (0: left alone), the
camera's own headers untouched, a file of a previous batch overwritten in place, a device that
does not come back ending the batch with BATCH Alert (no pause to START again) and PROGRESS
counting group and image are all the face's, and the engine would need each as an option. What the two share is the
bookkeeping, and that is all this module takes: a batch is a list of frame steps
(``G/NNN`` -> ``PREFIX_G_NNN.fits``) recorded in a `Journal` whose start record holds the
batch's description (`BatchSpec` as JSON: folder, prefix, devices, groups), each frame saved
through `FrameStore` (whole or not at all) and then journalled, and `reconcile` deciding at a
restart which frames are done.

Where: one journal per agent, ``batch.journal`` in the agent's state folder (beside the
night's ``current.json``), replaced by each START, never beside the frames: IMAGE_FOLDER holds
exactly the files indilib's agent would (a client listing it, or DOWNLOAD, sees no other).

indilib's agent overwrites a file of an earlier batch of the same prefix when it takes that
frame again; so a file already on disk at START is not proof that this batch took it. START
records such files (size, mtime, inode: a save replaces the inode) in a ``stale`` note, and
at a restart a file still matching its note is left out of the frames `reconcile` may count
as saved before the crash.

A batch ends finished, aborted (ABORT, or the agent DISCONNECTed: indilib's agent aborts
then) or failed (a device lost past the retries: journalled as paused with the reason). Only the first two
are final: a batch that failed, or was cut by a kill or a power cut, is continued at the next
start, since a dying server takes its devices with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..journal import FrameStore
from ..journal import Journal
from ..journal import JournalError
from ..journal import reconcile
from ..journal.durable import replace

__all__ = ["JOURNAL", "BatchLog", "BatchSpec", "Group", "RunningBatch", "frame_name"]

logger = logging.getLogger(__name__)

#: The batch's journal, in the agent's state folder.
JOURNAL = "batch.journal"
#: The start record's name for a batch (a plan's is the plan's name).
KIND = "indilib imager batch"
STALE = "stale"


def frame_name(prefix: str, group: int, image: int, suffix: str = ".fits") -> str:
    """indilib's name below IMAGE_FOLDER: ``PREFIX_G_NNN.fits`` (as `files.frame_path`)."""
    return f"{prefix}_{group}_{image:03d}{suffix}"


@dataclass(frozen=True)
class Group:
    """One GROUP_nn: `count` frames of `exposure` s at `binning`, through wheel slot `slot`
    (0: the wheel left alone)."""

    count: int
    binning: int
    slot: int
    exposure: float


@dataclass(frozen=True)
class BatchSpec:
    """What a START ran: the folder and prefix, the devices (CCD, and the wheel when a group
    turns it, else ""), and the groups, in order."""

    folder: str
    prefix: str
    ccd: str
    wheel: str
    groups: tuple[Group, ...]

    def steps(self) -> list[tuple[str, int, int]]:
        """Each frame as (step id ``G/NNN``, group, image), in the order taken."""
        return [(step_id(group, image), group, image)
                for group, spec in enumerate(self.groups, 1)
                for image in range(1, spec.count + 1)]

    def to_text(self) -> str:
        return json.dumps({"kind": KIND, "folder": self.folder, "prefix": self.prefix,
                           "ccd": self.ccd, "wheel": self.wheel,
                           "groups": [[g.count, g.binning, g.slot, g.exposure]
                                      for g in self.groups]}, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> BatchSpec:
        """The spec `to_text` wrote; ValueError saying what is wrong with any other text."""
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("kind") != KIND:
                raise ValueError(f"not a batch of the imager agent ({data.get('kind')!r})")
            groups = tuple(Group(int(c), int(b), int(s), float(e))
                           for c, b, s, e in data["groups"])
            return cls(str(data["folder"]), str(data["prefix"]), str(data["ccd"]),
                       str(data["wheel"]), groups)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a batch description: {exc!r}") from None


def step_id(group: int, image: int) -> str:
    return f"{group}/{image:03d}"


class RunningBatch:
    """A started (or resumed) batch: its spec, the frames done (step ids), and the records
    its run writes. Blocking calls (each record fsynced): run them off the event loop."""

    def __init__(self, spec: BatchSpec, journal: Journal, done: set[str]) -> None:
        self.spec = spec
        self.journal = journal
        self.store = FrameStore(spec.folder)
        self.done = done

    def first_to_take(self) -> tuple[int, int] | None:
        """The (group, image) the run goes on with, or None when every frame is done."""
        for step, group, image in self.spec.steps():
            if step not in self.done:
                return group, image
        return None

    def save(self, group: int, image: int, data: bytes, suffix: str = ".fits") -> Path:
        """The frame saved whole (over a file of an earlier batch, as indilib's agent does),
        then journalled, then its step done."""
        step = step_id(group, image)
        name = frame_name(self.spec.prefix, group, image, suffix)
        path = self.store.save(name, data, overwrite=True)
        try:
            self.journal.frame_saved(step, name, len(data), _sha256(data))
            self.journal.done(step)
        except JournalError as exc:  # e.g. another agent took the journal: said as the OSError it is
            raise OSError(str(exc)) from exc
        self.done.add(step)
        return path

    def finished(self) -> None:
        self.journal.finished()
        self.journal.close()

    def aborted(self, reason: str) -> None:
        self.journal.aborted(reason)
        self.journal.close()

    def failed(self, reason: str) -> None:
        """A device lost: the batch stops, and a restart continues it."""
        self.journal.paused(reason)
        self.journal.close()


class BatchLog:
    """The batch's journal in the state folder `state`: `begin` a new batch, `unfinished` the
    one a restart continues."""

    def __init__(self, state: str | os.PathLike[str]) -> None:
        self.state = Path(state)

    @property
    def path(self) -> Path:
        return self.state / JOURNAL

    def begin(self, spec: BatchSpec) -> RunningBatch:
        """A new batch: the previous journal replaced by one holding `spec` and the files of
        earlier batches its frames will overwrite. Raises OSError (the state folder not
        writable) or ValueError (a prefix that is no file name): the batch is then refused."""
        store = FrameStore(spec.folder)
        names = {frame_name(spec.prefix, group, image) for _step, group, image in spec.steps()}
        for name in names:
            store.path(name)  # ValueError: a prefix FrameStore cannot name
        self.state.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{JOURNAL}.new-{os.getpid()}")
        partial.unlink(missing_ok=True)
        journal = Journal(partial)
        try:
            journal.start(spec.prefix, spec.to_text())
            journal.note(STALE, files={name: _identity(store.path(name))
                                       for name in sorted(names) if store.exists(name)})
            replace(partial, self.path)  # the old batch's journal goes in the same step
        except BaseException:
            journal.close()
            partial.unlink(missing_ok=True)
            raise
        # The file is open and locked under its new name: the run keeps writing it.
        journal.path = self.path
        return RunningBatch(spec, journal, set())

    def unfinished(self) -> RunningBatch | None:
        """The batch a restart continues, its frames done reconciled with the folder (a frame
        saved but not journalled before the kill counted and journalled), or None: none
        recorded, finished or aborted, or a journal not to be trusted (logged)."""
        journal = Journal(self.path)
        try:
            state = journal.state()
            if not state.started or state.finished or state.aborted:
                return None
            spec = BatchSpec.from_text(state.plan_text)
            store = FrameStore(spec.folder)
            stale = state.notes.get(STALE, {}).get("files", {})
            frames = [(step, frame_name(spec.prefix, group, image))
                      for step, group, image in spec.steps()]
            countable = [(step, name) for step, name in frames
                         if step in state.saved or not _unchanged(store, name, stale)]
            done = reconcile(state, store, countable, journal)
        except (JournalError, OSError, ValueError) as exc:
            logger.error("not continuing the batch of %s: %s", self.path, exc)
            journal.close()
            return None
        if state.paused is not None:
            journal.resumed()
        return RunningBatch(spec, journal, done)


def _identity(path: Path) -> list[int]:
    found = path.stat()
    return [found.st_size, found.st_mtime_ns, found.st_ino]


def _unchanged(store: FrameStore, name: str, stale: dict[str, Any]) -> bool:
    """Whether `name` is still the earlier batch's file START found there."""
    was = stale.get(name)
    if was is None or not store.exists(name):
        return False
    return _identity(store.path(name)) == list(was)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
