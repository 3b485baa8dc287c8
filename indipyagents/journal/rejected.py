"""A rejected frame moved aside (issue 93 item 2): kept, below the night's folder in
``rejected/<filter>/``, under its own name (``-2``, ``-3``... when a frame of that name was
rejected before), by one rename made durable in both folders. Standard library only.

The sequencer writes the REJECTED card into the frame, journals the verdict, then moves it; a
kill between the two leaves the frame at its name with its REJECTED card, which the resume
(`resume.reconcile`) moves aside, not counts (`rejected_at_name`).
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath

from .durable import fsync_folder
from .durable import make_folder
from .framestore import FrameStore

__all__ = ["REJECTED", "move_rejected", "rejected_at_name"]

#: The folder below the night's, and the card a rejected frame carries.
REJECTED = "rejected"
CARD, BLOCK = 80, 2880


def move_rejected(store: FrameStore, file: str, filter_name: str | None = None) -> str:
    """The frame `file` moved to ``rejected/<filter>/`` (`filter_name`, else its header's
    FILTER, else "none"); returns its new name relative to the store's folder."""
    source = store.path(file)
    if filter_name is None:
        said = header_cards(source).get("FILTER")
        filter_name = said if isinstance(said, str) and said else None
    folder = f"{REJECTED}/{_safe(filter_name or 'none')}"
    name = PurePosixPath(file)
    wanted = f"{folder}/{name.name}"
    number = 2
    while store.path(wanted).exists():
        wanted = f"{folder}/{name.stem}-{number}{name.suffix}"
        number += 1
    target = store.path(wanted)
    make_folder(target.parent)
    os.rename(source, target)
    fsync_folder(target.parent)
    fsync_folder(source.parent)
    return wanted


def rejected_at_name(store: FrameStore, file: str) -> bool:
    """Whether the frame at `file` carries the REJECTED card (rejected, not yet moved)."""
    path = store.path(file)
    return path.is_file() and "REJECTED" in header_cards(path)


def header_cards(path: os.PathLike[str] | str) -> dict[str, str | None]:
    """The primary header's keywords and their string values (None for any other value):
    what the move needs, read without a FITS library."""
    cards: dict[str, str | None] = {}
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            for start in range(0, len(block) - CARD + 1, CARD):
                card = block[start:start + CARD].decode("ascii", "replace")
                key = card[:8].rstrip()
                if key == "END":
                    return cards
                if card[8:10] == "= ":
                    text = re.match(r"\s*'((?:[^']|'')*)'", card[10:])
                    cards[key] = text.group(1).replace("''", "'").rstrip() if text else None
    return cards


def _safe(name: str) -> str:
    """A filter's name as one folder's name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.+-]+", "_", name).strip("._")
    return cleaned or "none"
