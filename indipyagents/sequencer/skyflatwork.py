"""`SkyFlatWork`: a flat by level from the twilight sky (a batch's ``source = "dusk"`` or
``"dawn"``), the thin side of `plan.skyflats.SkyFlats`. Each frame: the mount pointed opposite
the Sun, 20 degrees from the zenith, a little apart from the last (`skyflats.pointing`: the
stars that show through do not stack; where the mount then says it points is journalled,
``sky_flat_pointing``: J2000 RA and Dec, and the sky's time the pointing was reckoned for),
the exposure the last frame's level and the sky's
fading say, its median measured (`flatwork.flat_median`); a flat within the tolerance is
kept, one outside is a test exposure, not kept (journalled ``sky_flat_test``). A sky too
bright at dusk (too dark at dawn) is waited for in naps a pause cuts short; once a filter's
exposure leaves the camera's range (or `TRIES` frames in a row miss), its flats are over: its
frames left are skipped, journalled ``skipped`` with why, and after the batch's last frame
the filters that got fewer flats than asked are said (``sky_flats``, a warning).

Sky flats need the sky: the engine never starts them while unsafe (an unsafe sky cuts the
frame in hand), the dome trigger opens the plan's dome first, and a dome found closed before
an exposure is `DeviceRefused`. The pace of the sky's clock (a rehearsal's runs faster) is
measured over each frame, sky seconds against the wall's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from ..plan.skyflats import SkyExpose
from ..plan.skyflats import SkyFlats
from ..plan.skyflats import SkyOver
from ..plan.skyflats import Source
from ..plan.skyflats import fading
from ..plan.skyflats import pointing
from ..plan.skyflats import radec_of
from ..plan.skyflats import shortfall
from ..plan.steps import FrameStep
from ..plan.steps import expand
from ..plan.steps import filter_label
from ..plan.steps import frames
from ..rig.protocols import DeviceRefused
from ..rig.protocols import Frame
from ..schedule import sky
from ..schedule.sky import Place
from .flatwork import FULL
from .flatwork import FlatWork
from .flatwork import flat_median
from .hands import Hands

__all__ = ["TRIES", "SkyFlatWork", "sun_rate"]

logger = logging.getLogger(__name__)

#: Frames in a row outside the tolerance before a filter's sky flats are given up.
TRIES = 5
#: The longest sky flat, seconds (the stars show through a longer one).
LONGEST = 60.0
#: A sky clock's pace is believed between these (sky seconds a wall second).
PACE = (0.01, 3600.0)

Group = tuple[int, str]


def sun_rate(when: datetime, place: Place, seconds: float = 60.0) -> float:
    """The Sun's altitude's rate now (degrees a second; negative as it sets)."""
    half = timedelta(seconds=seconds / 2)
    return (sky.sun_altitude(when + half, place) - sky.sun_altitude(when - half, place)) \
        / seconds


class SkyFlatWork:
    """Sky flats on `hands`' rig; `flats` the panel's flats (the camera's bias, measured once
    a run for both); `unsafe` says whether the sky is unsafe now."""

    def __init__(self, hands: Hands, flats: FlatWork, unsafe: Callable[[], bool]) -> None:
        self.hands = hands
        self.flats = flats
        self.unsafe = unsafe
        self.tests = 0
        self.pace = 1.0
        self._epoch: datetime | None = None
        self._flats: dict[Group, SkyFlats] = {}
        self._over: dict[tuple[Group, str], str] = {}
        self._kept: dict[Group, dict[str, int]] = {}
        self._asked: dict[Group, dict[str, int]] = {}
        self._last: dict[Group, str] = {}
        #: Each group's shortfall with why, once its last sky flat is done ("" none short).
        self._short: dict[Group, str] = {}
        self._frame = 0
        for one in frames(expand(hands.plan)):
            if one.batch.adu is not None and one.batch.source != "panel":
                group = (one.target_index, one.batch.source)
                asked = self._asked.setdefault(group, {})
                label = filter_label(one.batch.filter)
                asked[label] = asked.get(label, 0) + 1
                self._last[group] = one.id

    async def take(self, step: FrameStep) -> Frame | str | None:
        """The sky flat of `step` within its tolerance; a str (why) when the sky no longer
        allows it (the frame skipped); None when a pause cut a wait short."""
        batch = step.batch
        assert batch.source != "panel"
        group, label = (step.target_index, batch.source), filter_label(batch.filter)
        over = self._over.get((group, label))
        if over is not None:
            return self._skipped(step, over)
        flats = await self._session(step)
        place = await self._place()
        misses = 0
        while True:
            self._sky_open()
            if self.unsafe():
                return None
            await self._point(step, place)
            now = self.hands.clock()
            verdict = flats.next(label, self._seconds(now), fading(sun_rate(now, place)),
                                 self.pace)
            if isinstance(verdict, SkyOver):
                return self._give_up(step, verdict.why)
            if not isinstance(verdict, SkyExpose):
                logger.info("%s: %s", step.id, verdict.why)
                self.hands.journal.note("sky_flat_wait", step=step.id, why=verdict.why)
                if not await self.hands.nap(verdict.seconds, pausable=True):
                    return None
                continue
            frame, median = await self._expose(step, verdict.seconds)
            if flats.measured(label, self._seconds(now), verdict.seconds, median, self.pace):
                kept = self._kept.setdefault(group, {})
                kept[label] = kept.get(label, 0) + 1
                self._said(step)
                return frame
            self.tests += 1
            misses += 1
            self.hands.journal.note("sky_flat_test", step=step.id, seconds=verdict.seconds,
                                    median=round(median, 1))
            if misses >= TRIES:
                return self._give_up(step, f"no flat within {batch.tolerance * 100:g}% of "
                                           f"{batch.adu:g} ADU in {TRIES} tries "
                                           f"({flats.levels(label)})")

    async def _point(self, step: FrameStep, place: Place) -> None:
        """The mount pointed opposite the Sun, a little apart from its last pointing; where
        it says it points then, journalled (the frames' pointings can be checked apart)."""
        hands, mount = self.hands, self.hands.rig.mount
        if mount is None:
            raise DeviceRefused(hands.plan.name, "sky flats need the plan's mount")
        if self._frame == 0:
            await hands.move(mount.unpark(), mount.name)
        now = hands.clock()
        sun = sky.altaz(*sky.sun_radec(now), now, place)[1]
        altitude, azimuth = pointing(sun, self._frame)
        self._frame += 1
        await hands.move(mount.slew_to(*radec_of(altitude, azimuth, now, place.latitude,
                                                 place.longitude)), mount.name)
        ra, dec = await hands.move(mount.pointing(), mount.name)
        hands.journal.note("sky_flat_pointing", step=step.id, ra=round(ra, 5),
                           dec=round(dec, 4), when=now.isoformat())

    async def _expose(self, step: FrameStep, seconds: float) -> tuple[Frame, float]:
        """A flat of `seconds` and its median; the sky clock's pace measured over it."""
        hands, batch, camera = self.hands, step.batch, self.hands.rig.camera
        sky, wall = hands.clock(), time.monotonic()
        frame = await hands.bounded(
            camera.expose(seconds, binning=batch.binning, frame_type="Flat", gain=batch.gain,
                          offset=batch.offset), seconds + hands.camera_margin, camera.name)
        elapsed = time.monotonic() - wall
        if elapsed > 0.05:
            pace = (hands.clock() - sky).total_seconds() / elapsed
            self.pace = min(max(pace, PACE[0]), PACE[1])
        return frame, flat_median(frame.data)

    async def _session(self, step: FrameStep) -> SkyFlats:
        """The flats of `step`'s target and source: the camera's range (at most `LONGEST`),
        full scale and bias (`FlatWork.bias`: a bias frame, once a run at each binning)."""
        group = (step.target_index, step.batch.source)
        if group not in self._flats:
            batch, camera = step.batch, self.hands.rig.camera
            assert batch.adu is not None
            source: Source = "dawn" if batch.source == "dawn" else "dusk"
            shortest, longest = camera.exposure_range() or (0.001, 3600.0)
            self._flats[group] = SkyFlats(
                batch.adu, batch.tolerance, source, shortest=shortest,
                longest=min(longest, LONGEST), full=camera.full_scale() or FULL,
                bias=await self.flats.bias(step), first=batch.exposure)
        return self._flats[group]

    async def _place(self) -> Place:
        site = await self.hands.site()
        if site is None:
            who = self.hands.rig.mount.name if self.hands.rig.mount else self.hands.plan.name
            raise DeviceRefused(who, "sky flats need the site (the mount's GEOGRAPHIC_COORD "
                                     "or the plan's [site])")
        return Place(site.latitude, site.longitude, site.elevation)

    def _sky_open(self) -> None:
        """A closed dome refuses the sky flat (the dome trigger opened it before the step)."""
        dome = self.hands.rig.dome
        why = None if dome is None else dome.closed()
        if dome is not None and why is not None:
            raise DeviceRefused(dome.name, f"the dome is closed ({why}): no sky flats")

    def _seconds(self, now: datetime) -> float:
        if self._epoch is None:
            self._epoch = now
        return (now - self._epoch).total_seconds()

    def _give_up(self, step: FrameStep, why: str) -> str:
        """`step`'s filter's sky flats are over: said once, its frames left skipped."""
        group = (step.target_index, step.batch.source)
        self._over[(group, filter_label(step.batch.filter))] = why
        logger.warning("%s: sky flats over: %s", step.id, why)
        self.hands.journal.note("sky_flats_over", step=step.id, why=why)
        return self._skipped(step, why)

    def _skipped(self, step: FrameStep, why: str) -> str:
        self._said(step)
        return why

    @property
    def short(self) -> str:
        """The night's sky flats fewer than asked, with why (the sky too dark, too bright),
        as the run's report says them at its end ("": none short)."""
        return "; ".join(text for text in self._short.values() if text)

    def _said(self, step: FrameStep) -> None:
        """After the batch's last sky flat: the filters that got fewer than asked, said, with
        why their flats were over (the run's end says it too: `short`)."""
        group = (step.target_index, step.batch.source)
        if self._last.get(group) != step.id:
            return
        text = shortfall(self._asked.get(group, {}), self._kept.get(group, {}))
        self.hands.journal.note("sky_flats", source=group[1], kept=self._kept.get(group, {}),
                                asked=self._asked.get(group, {}), said=text)
        if text:
            logger.warning("%s sky flats: %s", group[1], text)
            whys = list(dict.fromkeys(_gist(why, label) for (where, label), why
                                      in self._over.items() if where == group))
            self._short[group] = f"{text} ({group[1]}: {', '.join(whys)})" if whys \
                else f"{text} ({group[1]})"


def _gist(why: str, label: str) -> str:
    """Why a filter's sky flats were over, without its figures or its filter ("the sky is
    too dark"), so that the filters over for one reason say it once."""
    cut = min((at for at in (why.find(": "), why.find(" (")) if at >= 0), default=len(why))
    return why[:cut].replace(f" for {label}", "")
