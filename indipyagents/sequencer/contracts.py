"""What the engine asks of its collaborators, as Protocols: an autofocus run and its result
(the focus folder's `autofocus` fits as it is; tests hand their own), and the observer its
progress is told to (the INDI face implements it); and what it tells: `RunState`, `Progress`.
The journal and the frame store are the journal folder's own classes.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Protocol

from ..plan.model import Autofocus
from ..rig.protocols import Camera
from ..rig.protocols import Focuser


class FocusOutcome(Protocol):
    """What an autofocus run ended with (the focus folder's `FocusResult`; read-only)."""

    @property
    def position(self) -> int: ...

    @property
    def hfr(self) -> float | None: ...

    @property
    def frames(self) -> int: ...

    @property
    def ok(self) -> bool: ...

    @property
    def reason(self) -> str: ...


#: An autofocus run: `focus/autofocus.py`'s ``autofocus(camera, focuser, settings)``.
FocusRun = Callable[[Camera, Focuser, Autofocus], Awaitable[FocusOutcome]]


class RunState(enum.Enum):
    """Where a run stands. PAUSED with a reason is a failure (the face says Alert), without
    one a client's pause."""

    IDLE = "Idle"
    RUNNING = "Running"
    PAUSED = "Paused"
    ABORTED = "Aborted"
    DONE = "Done"


@dataclass(frozen=True)
class Progress:
    """One report of the run, sent at each change (SEQUENCE_STATE, AGENT_IMAGER_STATS)."""

    state: RunState
    step: int                   # 1-based index of the step in hand (0: none yet)
    steps: int
    frames_done: int
    frames_total: int
    exposure_done: float        # seconds of saved exposure
    exposure_total: float
    target: str = ""
    target_index: int = 0       # 1-based
    batch: int = 0              # 1-based, within the target
    frame: int = 0              # 1-based, within the batch
    frames_in_batch: int = 0
    hfd: float = 0.0            # of the last autofocus (2 x HFR); 0: none
    reason: str = ""            # why it paused or aborted, naming the device
    unsafe: bool = False        # told the sky is unsafe (AGENT_SAFETY.UNSAFE)
    held: bool = False          # waiting for safe before a step that needs the sky
    waiting: str = ""           # the device lost past the retries the run waits for
    cause: str = ""             # why unsafe (AGENT_SAFETY_CAUSE), "" when safe
    block: str = ""             # a scheduled plan's block in hand and the next
    schedule: str = ""          # a scheduled plan's blocks tonight, a line each
    picture: str = ""           # tonight as SVG (schedule/picture.py)
    note: str = ""              # what the night said at its start (e.g. its mount's sky)
    given_up: str = ""          # the [calibration] flats given up (panel, levels), "" none
    sky_short: str = ""         # the sky flats fewer than asked, and why; "" none
    frames_given_up: str = ""   # light frames given up after their retakes, and why; "" none


class Observer(Protocol):
    """Told the run's progress, and each frame once saved. Both are awaited in the run's
    task: keep them short (the face sends a vector)."""

    async def progress(self, progress: Progress) -> None: ...

    async def frame(self, name: str, data: bytes) -> None: ...


class Silent:
    """The observer of a run nobody watches."""

    async def progress(self, progress: Progress) -> None:
        """Nobody to tell."""

    async def frame(self, name: str, data: bytes) -> None:
        """Nobody to show it to."""


def utcnow() -> datetime:
    """The engine's clock unless one is injected."""
    return datetime.now(UTC)
