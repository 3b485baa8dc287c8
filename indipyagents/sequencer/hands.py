"""`Hands`: what a step and a trigger act through. The rig with every call bounded (a device
that stops answering is a `DeviceLost`, never a hang), the night's clock and naps (a pause cuts
a pausable one short; an abort or unsafe cancels the step's task, and so the nap), the journal,
the site (the mount's, else the plan's), and `tell`, the news one trigger's act gives the others
(a slew or a flip resets the dither's count, a hold forgets where the mount points).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from typing import TypeVar

from indipycore import astro
from indipycore.fits import Card

from ..astrometry.solver import Solver
from ..calframes.tonight import NightLibrary
from ..journal import Journal
from ..plan.model import Plan
from ..plan.model import Site
from ..plan.model import Target
from ..plan.steps import FrameStep
from ..rig.protocols import DeviceLost
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from .contracts import FocusRun

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: The longest nap between two looks at the clock, the sky or a pause (a wait's, a hold's).
NAP = 30.0


@dataclass(frozen=True, slots=True)
class Slewed:
    """The slew step pointed the mount at target `target`; `pier_side` as it says."""

    target: int
    pier_side: str | None


@dataclass(frozen=True, slots=True)
class Flipped:
    """The meridian flip slewed target `target` again, now on `pier_side`."""

    target: int
    pier_side: str | None


@dataclass(frozen=True, slots=True)
class Pointed:
    """The mount pointed at target `target` again (after a restart or a hold)."""

    target: int


@dataclass(frozen=True, slots=True)
class Framing:
    """A frame step begins (before the triggers are asked)."""

    step: FrameStep


@dataclass(frozen=True, slots=True)
class Framed:
    """A frame step's frame was saved."""

    step: FrameStep


@dataclass(frozen=True, slots=True)
class Held:
    """The run held for safety: a watchdog may park the mount meanwhile."""


@dataclass(frozen=True, slots=True)
class Graded:
    """A light frame's grading came in: its star count and median HFR (pixels)."""

    step: FrameStep
    stars: int
    hfr: float


News = Slewed | Flipped | Pointed | Framing | Framed | Held | Graded


class Listener(Protocol):
    def hear(self, news: News) -> None: ...


class SkipFrame(Exception):
    """A trigger's word that the frame in hand is not taken (a target the plan skips when
    its centring failed): the step is done, nothing saved; the message says why."""


#: What looks at a frame before it is saved (the centring's solve): its cards for the header.
FrameReader = Callable[[FrameStep, bytes], Awaitable[list[Card]]]


class Hands:
    """The rig, bounded; `move_bound` and `camera_margin` are real seconds; `clock` (an aware
    datetime), `sleep` and `rng` are injected so tests run a night in a moment; `solver` is
    the plate solver the centring runs (astrometry.net's ``solve-field`` by default);
    `listeners` gives who hears `tell`'s news (the triggers, made from these hands, and the
    run), asked at each news."""

    def __init__(self, plan: Plan, rig: Rig, journal: Journal, *, focus: FocusRun | None,
                 clock: Callable[[], datetime], sleep: Callable[[float], Awaitable[object]],
                 rng: random.Random, move_bound: float, camera_margin: float,
                 solver: Solver | None = None,
                 listeners: Callable[[], Sequence[Listener]] = tuple,
                 pausing: Callable[[], bool] = lambda: False) -> None:
        self.plan = plan
        self.rig = rig
        self.journal = journal
        self.focus = focus
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.move_bound = move_bound
        self.camera_margin = camera_margin
        self.solver = solver or Solver()
        #: Whether a client's pause is asked: the control's phase, the one place it is kept.
        self.pausing = pausing
        #: Rung when a pause is asked, so a pausable nap looks at `pausing` at once.
        self._bell = asyncio.Event()
        self.listeners = listeners
        #: Each reads a frame (FITS) before it is saved; a trigger registers its own.
        self.frame_readers: list[FrameReader] = []
        #: The dark library the night keeps (`triggers.librarydarks`), None: it keeps none.
        self.night_library: NightLibrary | None = None
        self._site: Site | None = None

    def tell(self, news: News) -> None:
        for listener in self.listeners():
            listener.hear(news)

    async def bounded(self, call: Awaitable[T], seconds: float, device: str) -> T:
        """`call`, or `DeviceLost` naming `device` when it has not answered in `seconds`."""
        try:
            return await asyncio.wait_for(call, seconds)
        except TimeoutError:
            raise DeviceLost(device, f"no answer within {seconds:g} s") from None

    async def quietly(self, call: Awaitable[object], device: str, what: str, *,
                      bound: float | None = None) -> None:
        """A call of an abort's path: a failure is logged, the abort goes on."""
        try:
            await self.bounded(call, self.move_bound if bound is None else bound, device)
        except (RigError, OSError) as exc:
            logger.warning("%s: %s failed: %s", device, what, exc)

    async def move(self, call: Awaitable[T], device: str) -> T:
        """A move (slew, park, wheel, focuser) or a question, bounded by `move_bound`."""
        return await self.bounded(call, self.move_bound, device)

    async def nap_until(self, until: datetime) -> bool:
        """Pausable naps of at most `NAP` until `until` on the night's clock (a clock moved
        by a client or a test between naps is read again at each); False when a pause cut
        them short."""
        while self.clock() < until:
            if not await self.nap(min(NAP, (until - self.clock()).total_seconds()),
                                  pausable=True):
                return False
        return True

    def ring(self) -> None:
        """A pause was asked (`pausing` says so now): the pausable naps look."""
        self._bell.set()

    async def nap(self, seconds: float, *, pausable: bool) -> bool:
        """Sleep `seconds`; False when a pause cut it short (only if `pausable`)."""
        if seconds <= 0:
            return True
        if not pausable:
            await self.sleep(seconds)
            return True
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        try:
            while not self.pausing():
                if sleeper.done():
                    await sleeper
                    return True
                self._bell.clear()  # a ring of an earlier run's pause is stale
                waker = asyncio.ensure_future(self._bell.wait())
                try:
                    await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waker.cancel()
        except BaseException:
            sleeper.cancel()
            raise
        sleeper.cancel()
        return False

    async def site(self) -> Site | None:
        """Where the telescope stands: the mount's GEOGRAPHIC_COORD as it says it now, else
        the last it said, else the plan's. Read at each call, never kept from the first: a
        GPS fix or a client moves the mount's site mid-night, and the mount chooses its pier
        side by its own site, so a flip decided by a stale one would not flip (or too late)."""
        mount = self.rig.mount
        if mount is not None:
            said = await self.move(mount.site(), mount.name)
            if said is not None:
                self._site = said
        return self._site or self.plan.site

    def altitude(self, target: Target, site: Site) -> float:
        """The target's altitude now, degrees."""
        assert target.ra is not None and target.dec is not None
        now = self.clock()
        ra, dec = astro.precess_from_j2000(target.ra, target.dec, now)
        ha = astro.hour_angle(astro.local_sidereal_time(now, site.longitude), ra)
        return astro.altitude(ha, dec, site.latitude)
