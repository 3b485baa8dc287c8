"""The resume rule: which steps of a night are done, from the journal and the frames on disk.

The sequencer saves a frame (an atomic rename) and then journals it. A kill between the two
leaves a whole frame the journal lacks; since a frame's name is fixed by the plan, the file
itself proves the step done, and the journal gains the record it missed (marked recovered).
Partial files are swept. A frame journalled rejected (graded) is not done: its step is taken
again, and a rejected frame still at its name (the kill came before its move) is moved aside. Only the files the plan names (and the journal records) are looked
at, each by its name: a file the plan does not name is left alone and unsaid, and the folder is
never walked (it may hold a shared folder's hundreds of files, or sit in one).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from .framestore import FrameStore
from .journal import Journal
from .records import JournalState
from .rejected import move_rejected
from .rejected import rejected_at_name

log = logging.getLogger(__name__)


def reconcile(state: JournalState, store: FrameStore, frame_steps: Sequence[tuple[str, str]],
              journal: Journal) -> set[str]:
    """The ids of the steps done: the journal's, where a frame step counts only with its frame
    journalled or on disk. `frame_steps` are the plan's frame steps as (step id, file name).
    Writes to `journal` what it lacked: a frame found on disk (recovered), a step done."""
    store.sweep([file for _, file in frame_steps]
                + [saved.file for saved in state.saved.values()])
    done = set(state.done) - {step for step, _ in frame_steps}
    for step, file in frame_steps:
        saved = state.saved.get(step)
        if saved is not None:  # an accepted frame was written again with its grading's cards
            _check_journalled(store, step, saved.file, None if step in state.accepted
                              else saved.size)
        elif step in state.rejecting and rejected_at_name(store, file):
            moved = move_rejected(store, file)  # journalled rejected, killed before its move
            log.info("frame %s of step %s was rejected: moved to %s, taken again", file, step,
                     moved)
            continue
        elif store.exists(file):
            _recover(store, journal, step, file)
        else:
            if step in state.done:
                log.warning("step %s is journalled done without its frame %s: taken again",
                            step, file)
            continue
        if step not in state.done:
            journal.done(step)
        done.add(step)
    return done


def _check_journalled(store: FrameStore, step: str, file: str, size: int | None) -> None:
    """A journalled frame counts as done even when its file has gone (moved away by the
    user): taking it again would repeat it. What is amiss is logged."""
    path = store.path(file)
    if not path.is_file():
        log.warning("frame %s of step %s is journalled but not in %s (moved away?): not taken "
                    "again", file, step, store.folder)
    elif size is not None and path.stat().st_size != size:
        log.warning("frame %s of step %s has %d bytes, the journal says %d", file, step,
                    path.stat().st_size, size)


def _recover(store: FrameStore, journal: Journal, step: str, file: str) -> None:
    """A whole frame on disk (saves are atomic) whose record the crash took: journal it."""
    path = store.path(file)
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    size = path.stat().st_size
    journal.frame_saved(step, file, size, digest, recovered=True)
    log.info("recovered frame %s of step %s (saved, not journalled before the stop)", file,
             step)

