"""`FlatBook`: the flat exposures learnt, kept across nights in the agent's state folder
(``flats.json``), so the next night's flats start at the exposure that gave the level and
need no test exposure (NINA's trained flats). One entry per camera, filter, binning, panel
and the adu asked for: the exposure (s), the panel's brightness, the level it gave, the date.
Written whole (`durable.write_whole`): a kill leaves the old book or the new one; a book
that cannot be read is said in the log and taken as empty (it only saves test exposures).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path

from .durable import write_whole

__all__ = ["FlatBook", "Learnt"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Learnt:
    """An exposure that gave a flat's level: `seconds` at the panel's `brightness` (None:
    none set), the `median` measured, on `date` (ISO); the camera's `bias` where measured."""

    seconds: float
    brightness: float | None
    median: float
    date: str = ""
    bias: float | None = None


def key_of(camera: str, filter: str, binning: int, panel: str, adu: float) -> str:
    """The book's key: what the exposure depends on."""
    return json.dumps([camera, filter, binning, panel, round(adu)])


class FlatBook:
    """The book at `path` (read at each call: two agents may share a state folder)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Learnt]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {key: Learnt(**value) for key, value in raw.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.warning("%s cannot be read (%s): flats start from test exposures",
                           self.path, exc)
            return {}

    def get(self, key: str) -> Learnt | None:
        return self._read().get(key)

    def learn(self, key: str, learnt: Learnt) -> None:
        book = self._read()
        book[key] = learnt
        data = json.dumps({name: asdict(one) for name, one in sorted(book.items())}, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(self.path, data.encode("utf-8"))
