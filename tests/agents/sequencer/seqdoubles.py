"""Test doubles for the sequencer: a rig that implements the rig's Protocols faithfully on a
clock the test drives (a camera returning a real FITS with the exposure asked, a wheel that
turns, a focuser, a German mount whose pier side is chosen at each slew and kept while it
tracks), and the real journal and frame store in the running test's `tmp_path` (conftest.py),
the journal killed at a record through its public `before_write`.
"""

from __future__ import annotations

import asyncio
import tempfile
import tomllib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from indipyagents.journal import FrameStore
from indipyagents.journal import Journal
from indipyagents.journal.records import Record
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Flip
from indipyagents.plan.model import FrameType
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.rig.dome import DomeReading
from indipyagents.rig.dome import closed_reason
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import Frame
from indipycore import astro
from indipycore.fits import fits_bytes
from indipycore.protocol import State

T0 = datetime(2026, 1, 15, 21, 0, 0, tzinfo=UTC)
#: Where the doubles' telescope stands (the mount's GEOGRAPHIC_COORD).
SITE = Site(50.0, 10.0)


class Sky:
    """The night's time, moved only by the doubles' sleeps, and what happened when: `log`
    holds (seconds since the start, what) in order."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now
        self.start = now
        self.log: list[tuple[float, str]] = []
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    @property
    def seconds(self) -> float:
        return (self.now - self.start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        """The engine's sleep: time passes at once (and the loop turns)."""
        self.slept.append(seconds)
        await self.pass_time(seconds)

    async def pass_time(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(0.0, seconds))
        await asyncio.sleep(0)

    def note(self, what: str) -> None:
        self.log.append((self.seconds, what))

    def said(self, prefix: str) -> list[str]:
        return [what for _t, what in self.log if what.startswith(prefix)]


class Failing:
    """A device's failures to come: each call pops one error (None: works)."""

    def __init__(self) -> None:
        self.errors: list[Exception | None] = []
        self.always: Exception | None = None

    def check(self) -> None:
        if self.always is not None:
            raise self.always
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error


class WheelDouble:
    def __init__(self, sky: Sky, name: str = "Filter Simulator",
                 names: tuple[str, ...] = ("Red", "Green", "Blue", "Lum")) -> None:
        self.sky = sky
        self.name = name
        self.names = list(names)
        self.current = 1

    def filters(self) -> list[str]:
        return list(self.names)

    async def slot(self) -> int:
        return self.current

    async def select(self, filter: str | int) -> int:
        slot = filter if isinstance(filter, int) else (
            self.names.index(filter) + 1 if filter in self.names else 0)
        if not 1 <= slot <= len(self.names):
            raise DeviceRefused(self.name, f"no filter {filter!r}")
        if slot != self.current:
            await self.sky.pass_time(1.5)
            self.current = slot
            self.sky.note(f"filter {self.names[slot - 1]}")
        return slot


class CameraDouble:
    """Exposes for the time asked on the sky's clock; the FITS says EXPTIME, the binning, the
    frame type and the filter of the wheel it was told of (ACTIVE_DEVICES)."""

    def __init__(self, sky: Sky, wheels: dict[str, WheelDouble], name: str = "CCD Simulator"
                 ) -> None:
        self.sky = sky
        self.name = name
        self.wheels = wheels
        self.wheel_name = ""
        self.failing = Failing()
        self.exposures: list[tuple[float, float]] = []
        self.exposing = asyncio.Event()
        self.aborted = 0
        self.warmed = 0
        #: When set, each exposure ends only once the test releases it (a frame at a time).
        self.shutter: asyncio.Semaphore | None = None
        #: CCD_INFO's pixel (um); None: a camera that does not say.
        self.pixel_um: float | None = 5.2

    async def series(self, seconds: float, count: int, *, binning: int = 1,
                     frame_type: FrameType = "Light") -> AsyncGenerator[Frame, None]:
        """The Camera protocol's series, one `expose` after another."""
        for _ in range(count):
            yield await self.expose(seconds, binning=binning, frame_type=frame_type)

    async def expose(self, seconds: float, *, binning: int = 1, frame_type: FrameType = "Light",
                     gain: float | None = None, offset: float | None = None,
                     sky: bool | None = None) -> Frame:
        self.failing.check()
        start = self.sky.seconds
        self.sky.note(f"expose {seconds:g}")
        self.exposing.set()
        try:
            if self.shutter is not None:
                await self.shutter.acquire()
            await self.sky.pass_time(seconds)
            await asyncio.sleep(0)
        finally:
            self.exposing.clear()
        self.exposures.append((start, self.sky.seconds))
        cards: list[tuple[str, Any, str]] = [
            ("EXPTIME", float(seconds), "seconds"), ("XBINNING", binning, ""),
            ("IMAGETYP", frame_type, ""), ("OBJECT", "Unknown", ""),
            ("DATE-OBS", self.sky.clock().strftime("%Y-%m-%dT%H:%M:%S"), "")]
        wheel = self.wheels.get(self.wheel_name)
        if wheel is not None:
            cards.append(("FILTER", wheel.names[wheel.current - 1], ""))
        return Frame(fits_bytes(4, 4, [int(seconds * 100) % 65536] * 16, cards=cards))

    async def abort(self) -> None:
        self.aborted += 1
        self.sky.note("abort")

    async def name_devices(self, *, mount: str = "", focuser: str = "", wheel: str = "") -> None:
        self.wheel_name = wheel

    async def warm(self) -> None:
        self.warmed += 1
        self.sky.note("warm")

    def has_gain(self) -> bool:
        return True

    def has_offset(self) -> bool:
        return True

    def pixel_size(self) -> float | None:
        return self.pixel_um

    async def wait_pixel_size(self) -> float | None:
        return self.pixel_um


class FocuserDouble:
    def __init__(self, sky: Sky, name: str = "Focuser Simulator") -> None:
        self.sky = sky
        self.name = name
        self.at = 5000
        self.celsius: float | None = 10.0

    async def position(self) -> int:
        return self.at

    async def move_to(self, position: int) -> int:
        await self.sky.pass_time(abs(position - self.at) / 500)
        self.at = position
        return position

    async def temperature(self) -> float | None:
        return self.celsius

    def limits(self) -> tuple[int, int]:
        return (0, 100000)


class MountDouble:
    """A German equatorial: the pier side is chosen at each slew (WEST, pointing east, for a
    target east of the meridian) and kept while it tracks past the meridian."""

    def __init__(self, sky: Sky, site: Site | None, name: str = "Telescope Simulator",
                 pulses: bool = True) -> None:
        self.sky = sky
        self.name = name
        self.where = site
        self.pulses = pulses
        self.side: str | None = None
        self.at = (0.0, 0.0)
        self.slews: list[tuple[float, float]] = []
        self.pulsed: list[tuple[float, float]] = []
        self.parked = True
        self.failing = Failing()
        #: A mount that stopped answering: its slews never return.
        self.silent = False
        #: TELESCOPE_INFO's focal length (mm; None: not said) and GUIDE_RATE (x sidereal).
        self.focal_mm: float | None = 900.0
        self.rates = (0.5, 0.5)
        #: A mount whose flip does not happen: its pier side stays what the first slew chose.
        self.keeps_side = False
        self.synced: list[tuple[float, float]] = []

    async def slew_to(self, ra: float, dec: float) -> None:
        self.failing.check()
        if self.silent:
            await asyncio.Event().wait()
        start = self.sky.seconds
        self.sky.note(f"slew {ra:.4f} {dec:.3f}")
        await self.sky.pass_time(10.0)
        self.at = (ra, dec)
        if self.where is not None:
            now_ra, _ = astro.precess_from_j2000(ra, dec, self.sky.now)
            ha = astro.hour_angle(astro.local_sidereal_time(self.sky.now, self.where.longitude),
                                  now_ra)
            if not (self.keeps_side and self.side is not None):
                self.side = "WEST" if ha < 0 else "EAST"
        self.slews.append((start, self.sky.seconds))

    async def pointing(self) -> tuple[float, float]:
        return self.at

    async def sync(self, ra: float, dec: float) -> None:
        """A solved frame's centre: the double keeps each (the centring's tests)."""
        self.synced.append((ra, dec))
        self.sky.note("sync")

    async def pier_side(self) -> str | None:
        return self.side

    async def site(self) -> Site | None:
        return self.where

    def can_pulse(self) -> bool:
        return self.pulses

    async def pulse(self, north_ms: float, west_ms: float) -> None:
        await self.sky.pass_time(max(abs(north_ms), abs(west_ms)) / 1000)
        self.pulsed.append((north_ms, west_ms))
        self.sky.note("pulse")

    def guide_rates(self) -> tuple[float, float]:
        return self.rates

    def focal_length(self) -> float | None:
        return self.focal_mm

    async def park(self) -> None:
        self.parked = True
        self.sky.note("park")

    async def unpark(self) -> None:
        self.parked = False
        self.sky.note("unpark")


class DomeDouble:
    """A dome that parks and has a shutter (as indilib's simulator): `open` unparks it and
    opens the shutter, `close` parks it (the shutter left as it is: indilib's default park
    policy); its state is said by the rig's own `closed_reason`. `stuck` leaves it closed
    whatever it is asked (a shutter that does not move)."""

    def __init__(self, sky: Sky, name: str = "Dome Simulator") -> None:
        self.sky = sky
        self.name = name
        self.parked = True
        self.shutter_open = False
        self.stuck = False
        self.failing = Failing()

    def closed(self) -> str | None:
        return closed_reason(DomeReading(State.OK, "PARK" if self.parked else "UNPARK"),
                             DomeReading(State.OK, "SHUTTER_OPEN" if self.shutter_open
                                  else "SHUTTER_CLOSE"))

    async def open(self) -> None:
        self.failing.check()
        await self.sky.pass_time(6.0)
        if not self.stuck:
            self.parked, self.shutter_open = False, True
        self.sky.note("dome open")

    async def close(self) -> None:
        self.failing.check()
        await self.sky.pass_time(6.0)
        self.parked = True
        self.sky.note("dome close")


class GuardedDouble:
    """The domes a watchdog guards, as the rig's `GuardedDomes` sees them."""

    def __init__(self, *domes: DomeDouble) -> None:
        self.list = list(domes)

    def domes(self) -> list[DomeDouble]:
        return list(self.list)


@dataclass
class FocusDouble:
    """An autofocus run: a few frames' time, then a result; `calls` says when and why."""

    sky: Sky
    hfr: float = 1.8
    ok: bool = True
    calls: list[float] = field(default_factory=list)

    async def __call__(self, camera: Any, focuser: Any, settings: Any) -> FocusResultDouble:
        self.calls.append(self.sky.seconds)
        self.sky.note("autofocus")
        await self.sky.pass_time(settings.points * settings.exposure)
        return FocusResultDouble(position=4990, hfr=self.hfr, frames=settings.points,
                                 points=[], ok=self.ok, reason="" if self.ok else "no stars")


@dataclass
class FocusResultDouble:
    position: int
    hfr: float
    frames: int
    points: list[tuple[int, float]]
    ok: bool
    reason: str


class Crash(BaseException):
    """The process killed at this point (nothing catches it, as nothing survives SIGKILL)."""


#: The running test's `tmp_path` (conftest.py's autouse `_doubles_folder` sets it): the
#: journals and stores live there, so pytest removes them; nothing is left in /tmp.
FOLDER: Path | None = None


def fresh_folder(prefix: str) -> Path:
    """A new folder of its own inside the running test's `tmp_path`."""
    if FOLDER is None:
        raise RuntimeError("seqdoubles' journal and store are made inside a test (its tmp_path)")
    return Path(tempfile.mkdtemp(prefix=prefix, dir=FOLDER))


class MemoryJournal(Journal):
    """The real journal in a folder of its own, which a test can also kill: `crash_at` names a
    record kind whose next write raises `Crash` instead (nothing written, as a SIGKILL before
    the write: the journal's `before_write`), and `kinds` reads its records back by kind."""

    def __init__(self) -> None:
        super().__init__(fresh_folder("journal-") / "night.journal",
                         before_write=self._maybe_crash)
        self.crash_at: str | None = None

    def _maybe_crash(self, record: Record) -> None:
        if record["kind"] == self.crash_at:
            self.crash_at = None
            raise Crash(record["kind"])

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        """The records of `kind`, without their kind and time; a note as {"kind", "data"}."""
        found = []
        for record in self.records():
            if record["kind"] != kind:
                continue
            if kind == "note":
                found.append({"kind": record["note"], "data": record["data"]})
            else:
                found.append({k: v for k, v in record.items() if k not in ("kind", "time")})
        return found

    def kinds_in_order(self) -> list[str]:
        return [record["kind"] for record in self.records()]


class MemoryStore(FrameStore):
    """The real frame store in a folder of its own, which also remembers the order frames
    were saved in (`order`) and reads them back by name (`files`)."""

    def __init__(self) -> None:
        super().__init__(fresh_folder("frames-"))
        self.order: list[str] = []

    def save(self, name: str, data: bytes, *, overwrite: bool = False) -> Path:
        path = super().save(name, data, overwrite=overwrite)
        self.order.append(name)
        return path

    @property
    def files(self) -> dict[str, bytes]:
        return {name: self.path(name).read_bytes() for name in self.frames()}


@dataclass
class Rigged:
    """One night's doubles together."""

    sky: Sky
    camera: CameraDouble
    wheel: WheelDouble
    focuser: FocuserDouble
    mount: MountDouble


def rigged(site: Site | None = SITE, *, pulses: bool = True) -> Rigged:
    sky = Sky()
    wheel = WheelDouble(sky)
    camera = CameraDouble(sky, {wheel.name: wheel})
    return Rigged(sky, camera, wheel, FocuserDouble(sky), MountDouble(sky, site, pulses=pulses))


class PlanErrorDouble(ValueError):
    """plan/toml.py's PlanError as far as the face sees it: a ValueError naming the line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}, line {line}: {reason}")
        self.source, self.line, self.reason = source, line, reason


def parse_plan_double(text: str, source: str = "<plan>") -> Plan:
    """A small reader of the plan's TOML (name, [[targets]] with ra/dec/slew and
    [[targets.batches]] with count/exposure/filter/type) standing in for plan/toml.py's
    `parse_plan` in the face's tests; a negative exposure is refused with its line."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanErrorDouble(source, 0, str(exc)) from None
    targets = []
    for t in doc.get("targets", []):
        batches = []
        for b in t.get("batches", []):
            if b["exposure"] < 0:
                line = next(n for n, row in enumerate(text.splitlines(), start=1)
                            if row.replace(" ", "") == f"exposure={b['exposure']}")
                raise PlanErrorDouble(source, line, "targets[0].batches[0].exposure must be a "
                                      f"number >= 0, not {b['exposure']}")
            batches.append(Batch(b.get("count", 1), float(b["exposure"]), b.get("filter"),
                                 frame_type=b.get("type", "Light")))
        targets.append(Target(t["name"], t.get("ra"), t.get("dec"), tuple(batches),
                              slew=t.get("slew", True)))
    return Plan(doc["name"], tuple(targets), flip=Flip(enabled=False))
