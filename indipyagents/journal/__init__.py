"""A night's crash-proof state, standard library only: the frames on disk (`framestore`, each
written whole or not at all), the journal of what was done (`journal`, one fsynced JSON line a
record, read by `records`) and the rule that tells a restart where to go on (`resume`); and
`durable`, the one way the agents write a file whole and durable (`write_whole`), also used
for the imager face's frames, its ``current.json`` and its batch journal.

A SIGKILL or a power cut at any moment costs at most the frame being taken: the frame is saved
(atomic rename), then journalled; at the restart `reconcile` counts the frames on disk, and the
journal lists each exactly once.
"""

from __future__ import annotations

from .framestore import FrameExists
from .framestore import FrameStore
from .journal import Journal
from .records import JournalError
from .records import JournalState
from .records import SavedFrame
from .resume import reconcile

__all__ = ["FrameExists", "FrameStore", "Journal", "JournalError", "JournalState",
           "SavedFrame", "reconcile"]
