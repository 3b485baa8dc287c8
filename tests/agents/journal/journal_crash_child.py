"""The crash test's child: a night of N frames, saved and journalled as the sequencer does,
resuming from its journal and folder each time it starts, with random small delays so a kill
lands anywhere. Run by test_journal_crash.py, which SIGKILLs it again and again.

    python journal_crash_child.py FOLDER JOURNAL FRAMES SEED STALL

STALL makes the run stop, print ``stalled`` and wait to be killed at one precise moment of its
K-th frame: ``mid-save:K`` (the partial written and fsynced, not yet renamed), ``after-save:K``
(the frame renamed, not yet journalled), ``torn:K`` (half its frame record written to the
journal), or ``none``. Prints ``ready`` once resumed and ``finished`` at the end.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
from typing import TYPE_CHECKING

from indipyagents.journal import FrameStore
from indipyagents.journal import Journal
from indipyagents.journal import reconcile
from indipyagents.journal.records import encode

if TYPE_CHECKING:
    from _typeshed import HasFileno

FRAME_SIZE = 256 * 1024
PLAN = 'name = "crash night"\n[[target]]\nname = "M42"\n'


def frame_steps(count: int) -> list[tuple[str, str]]:
    return [(f"M42/1/Red/Light/{n:03d}", f"M42_Red_Light_{n:03d}.fits")
            for n in range(1, count + 1)]


def frame_bytes(step: str) -> bytes:
    """A frame's content, derived from its step id, so the test can check every byte."""
    return hashlib.shake_256(step.encode()).digest(FRAME_SIZE)


def stall() -> None:
    print("stalled", flush=True)
    time.sleep(600)
    sys.exit("not killed")


def stall_mid_save() -> None:
    """Stop once a partial frame file is written and fsynced, before its rename."""
    real_fsync = os.fsync

    def fsync_then_stall(fd: int | HasFileno) -> None:
        real_fsync(fd)
        number = fd if isinstance(fd, int) else fd.fileno()
        if ".partial-" in os.readlink(f"/proc/self/fd/{number}"):
            stall()

    os.fsync = fsync_then_stall


def main(folder: str, journal_path: str, frames: str, seed: str, stall_at: str) -> None:
    rng = random.Random(seed)
    mode, _, at = stall_at.partition(":")
    steps = frame_steps(int(frames))
    store = FrameStore(folder)
    journal = Journal(journal_path)
    if journal.state().started:
        journal.resumed()
    else:
        journal.start("crash night", PLAN)
    done = reconcile(journal.state(), store, steps, journal)
    print("ready", flush=True)
    taken = 0
    for step, file in steps:
        if step in done:
            continue
        taken += 1
        stalling = mode if str(taken) == at else ""
        journal.begin(step)
        time.sleep(rng.uniform(0, 0.01))
        data = frame_bytes(step)
        if stalling == "mid-save":
            stall_mid_save()
        store.save(file, data)
        if stalling == "after-save":
            stall()
        time.sleep(rng.uniform(0, 0.01))
        digest = hashlib.sha256(data).hexdigest()
        if stalling == "torn":
            line = encode({"kind": "frame", "step": step, "file": file, "size": len(data),
                           "sha256": digest})
            with open(journal_path, "ab") as raw:
                raw.write(line[:len(line) // 2])
                raw.flush()
                os.fsync(raw.fileno())
            stall()
        journal.frame_saved(step, file, len(data), digest)
        time.sleep(rng.uniform(0, 0.005))
        journal.done(step)
    journal.finished()
    print("finished", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
