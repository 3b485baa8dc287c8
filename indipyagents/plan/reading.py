"""A parsed TOML document (the dict `tomllib` gives) read into a `Plan`, every value checked.

The layout: top-level ``name`` and ``folder``; the tables ``[devices]``, ``[dither]``,
``[autofocus]``, ``[flip]``, ``[end]``, ``[site]``, ``[safety]``, ``[notify]``; then ``[[targets]]`` in
order, each with its ``[targets.wait]``, its own ``[targets.dither]`` /
``[targets.autofocus]`` / ``[targets.flip]`` (keys not given there are the plan's) and its
``[[targets.batches]]``. A refusal is an
`fields.Invalid` naming the key path; `toml` turns it into a `PlanError` with the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from . import fields
from .calibration import CalibrationFrames
from .calibration import read_calibration
from .centresettings import CENTRE_KEYS
from .centresettings import read_centre
from .coords import parse_dec
from .coords import parse_ra
from .fields import Invalid
from .fields import Table
from .flatnight import check_calibration
from .grading import read_grading
from .locate import KeyPath
from .locate import format_path
from .model import FLAT_SOURCES
from .model import FRAME_TYPES
from .model import Autofocus
from .model import Batch
from .model import Devices
from .model import Dither
from .model import End
from .model import FlatSource
from .model import Flip
from .model import Guiding
from .model import Plan
from .model import Safety
from .model import Site
from .model import Target
from .model import Wait
from .needs import needs
from .notifying import NotifySettings
from .notifying import read_notify
from .scheduling import check_scheduled
from .scheduling import read_constraints
from .scheduling import read_schedule

PLAN_KEYS = ("name", "folder", "devices", "dither", "autofocus", "flip", "end", "site", "safety",
             "targets", "schedule", "guiding", "calibration", "grading", "notify")
DEVICE_KEYS = ("camera", "wheel", "focuser", "mount", "dome", "guider", "panel")
DITHER_KEYS = ("every", "pixels", "method", "settle", "settle_pixels", "settle_timeout")
GUIDING_KEYS = ("lost_wait",)
AUTOFOCUS_KEYS = ("at_start", "on_filter_change", "every_minutes", "temperature_delta",
                  "exposure", "step", "points", "binning", "filter")
FLIP_KEYS = ("enabled", "hour_angle_limit", "settle")
END_KEYS = ("park", "warm", "close_dome")
SITE_KEYS = ("latitude", "longitude", "elevation")
SAFETY_KEYS = ("sky_free_while_unsafe", "night_end")
TARGET_KEYS = ("name", "ra", "dec", "slew", "wait", "dither", "autofocus", "flip", "batches",
               "constraints", *CENTRE_KEYS)
WAIT_KEYS = ("until", "altitude")
BATCH_KEYS = ("count", "exposure", "filter", "binning", "type", "gain", "offset", "adu",
              "tolerance", "source")
#: The largest flat level asked for: a 16-bit camera's full scale.
MAX_ADU = 65535.0
#: A flat by level's first exposure when the plan gives none, seconds.
FLAT_START = 1.0
MAX_BINNING = 16
# Bounds that keep a typo from becoming a night that never ends (or a sleep asyncio refuses).
MAX_COUNT = 100_000
MAX_EXPOSURE = 86_400.0
MAX_SETTLE = 3_600.0


def read_plan(data: Table) -> Plan:
    """The plan a TOML document describes; `Invalid` (an `fields.Invalids` when there are
    several) naming every table, target or batch with a value that is wrong: each part is
    read even when another was refused, so the user sees every error at once."""
    problems = fields.Problems()
    problems.take(lambda: fields.only_known(data, (), PLAN_KEYS), None)

    def table(key: str) -> Table:
        return problems.take(lambda: fields.table(data, (), key) or {}, {})

    dither = problems.take(lambda: _dither(table("dither"), ("dither",), Dither()), Dither())
    autofocus = problems.take(
        lambda: _autofocus(table("autofocus"), ("autofocus",), Autofocus()), Autofocus())
    flip = problems.take(lambda: _flip(table("flip"), ("flip",), Flip()), Flip())
    name = problems.take(lambda: fields.text(
        data, (), "name", None, empty=False,
        hint='give the plan a name, e.g. name = "M42 and flats"'), "")
    folder = problems.take(lambda: _folder(data), "")
    devices = problems.take(lambda: _devices(table("devices")), Devices())
    end = problems.take(lambda: _end(table("end")), End())
    site = problems.take(lambda: _site(fields.table(data, (), "site")), None)
    safety = problems.take(lambda: _safety(table("safety")), Safety())
    schedule = problems.take(lambda: read_schedule(fields.table(data, (), "schedule")), None)
    guiding = problems.take(lambda: _guiding(table("guiding")), Guiding())
    grading = problems.take(lambda: read_grading(fields.table(data, (), "grading")), None)
    calibration = problems.take(
        lambda: read_calibration(fields.table(data, (), "calibration")), CalibrationFrames())
    notify = problems.take(lambda: read_notify(fields.table(data, (), "notify")),
                           NotifySettings())
    items: list[Table] = problems.take(lambda: fields.tables(data, (), "targets"), [])
    targets = [problems.take(lambda item=item, index=index: _target(  # type: ignore[misc]
        item, ("targets", index), dither, autofocus, flip, problems), None)
        for index, item in enumerate(items)]
    if not items and all(one.path[:1] != ("targets",) for one in problems.found):
        problems.found.append(
            Invalid(("targets",), "the plan has no targets: add a [[targets]] table"))
    plan = Plan(name=name, folder=folder, devices=devices, dither=dither,
                autofocus=autofocus, flip=flip, end=end, site=site, safety=safety, schedule=schedule,
                guiding=guiding, calibration=calibration, grading=grading, notify=notify,
                targets=tuple(target for target in targets if target is not None))
    # The whole-plan checks run in the same pass, on the targets read (each at its index in
    # the file), unless what they rest on was refused (it would be read as its default).
    at = [index for index, target in enumerate(targets) if target is not None]
    refused = {one.path[0] for one in problems.found if one.path}
    if not refused & {"devices", "site", "calibration"}:
        problems.take(lambda: _devices_named(plan, at), None)
    if "schedule" not in refused:
        problems.take(lambda: check_scheduled(plan, at), None)
    if not refused & {"schedule", "calibration"}:
        problems.take(lambda: check_calibration(plan), None)
    problems.check()
    return plan


def _folder(data: Table) -> str:
    """Relative, and never above the agent's image folder: a plan loaded by any client must
    not make the agent write elsewhere on the server."""
    folder = fields.text(data, (), "folder", "")
    parts = folder.replace("\\", "/").split("/")
    if folder.startswith(("/", "\\")) or ".." in parts or "\0" in folder:
        raise fields.wrong(("folder",), "a folder inside the agent's image folder "
                           "(relative, without ..)", folder)
    return folder


def _devices(data: Table) -> Devices:
    path: KeyPath = ("devices",)
    fields.only_known(data, path, DEVICE_KEYS)
    default = Devices()
    return Devices(
        camera=fields.text(data, path, "camera", default.camera, empty=False),
        wheel=fields.text(data, path, "wheel", default.wheel),
        focuser=fields.text(data, path, "focuser", default.focuser),
        mount=fields.text(data, path, "mount", default.mount),
        dome=fields.text(data, path, "dome", default.dome),
        guider=fields.text(data, path, "guider", default.guider),
        panel=fields.text(data, path, "panel", default.panel),
    )


def _dither(data: Table, path: KeyPath, base: Dither) -> Dither:
    fields.only_known(data, path, DITHER_KEYS)
    return Dither(
        every=fields.whole(data, path, "every", base.every, low=0, cap=MAX_COUNT),
        pixels=fields.number(data, path, "pixels", base.pixels, low=0, cap=1000, above=True),
        method=fields.choice(data, path, "method", base.method, ("pulse", "offset", "guider")),
        settle=fields.number(data, path, "settle", base.settle, low=0, cap=MAX_SETTLE),
        settle_pixels=fields.number(data, path, "settle_pixels", base.settle_pixels, low=0,
                                    cap=100, above=True),
        settle_timeout=fields.number(data, path, "settle_timeout", base.settle_timeout,
                                     low=1, cap=MAX_SETTLE),
    )


def _guiding(data: Table) -> Guiding:
    path: KeyPath = ("guiding",)
    fields.only_known(data, path, GUIDING_KEYS)
    return Guiding(lost_wait=fields.number(data, path, "lost_wait", Guiding().lost_wait,
                                           low=0, cap=MAX_EXPOSURE))


def _never_or_number(data: Table, path: KeyPath, key: str, default: float) -> float:
    """A number >= 0 where 0 (or false) means never on that account."""
    if data.get(key) is False:
        return 0.0
    return fields.number(data, path, key, default, low=0)


def _autofocus(data: Table, path: KeyPath, base: Autofocus) -> Autofocus:
    fields.only_known(data, path, AUTOFOCUS_KEYS)
    return Autofocus(
        at_start=fields.boolean(data, path, "at_start", base.at_start),
        on_filter_change=fields.boolean(data, path, "on_filter_change", base.on_filter_change),
        every_minutes=_never_or_number(data, path, "every_minutes", base.every_minutes),
        temperature_delta=_never_or_number(data, path, "temperature_delta",
                                           base.temperature_delta),
        exposure=fields.number(data, path, "exposure", base.exposure, low=0, cap=MAX_SETTLE,
                               above=True),
        step=fields.whole(data, path, "step", base.step, low=1, cap=1_000_000),
        points=fields.whole(data, path, "points", base.points, low=3, high=99),
        binning=fields.whole(data, path, "binning", base.binning, low=1, high=MAX_BINNING),
        filter=_focus_filter(data, path, base.filter),
    )


def _focus_filter(data: Table, path: KeyPath, base: str | int | None) -> str | int | None:
    """The autofocus filter; false: the filter in place (so a target can undo the plan's)."""
    if "filter" not in data:
        return base
    return None if data["filter"] is False else fields.filter_choice(data, path)


def _flip(data: Table, path: KeyPath, base: Flip) -> Flip:
    fields.only_known(data, path, FLIP_KEYS)
    return Flip(
        enabled=fields.boolean(data, path, "enabled", base.enabled),
        hour_angle_limit=fields.number(data, path, "hour_angle_limit", base.hour_angle_limit,
                                       low=0, high=90),
        settle=fields.number(data, path, "settle", base.settle, low=0, cap=MAX_SETTLE),
    )


def _end(data: Table) -> End:
    fields.only_known(data, ("end",), END_KEYS)
    return End(park=fields.boolean(data, ("end",), "park", True),
               warm=fields.boolean(data, ("end",), "warm", True),
               close_dome=fields.boolean(data, ("end",), "close_dome", True))


def _safety(data: Table) -> Safety:
    path: KeyPath = ("safety",)
    fields.only_known(data, path, SAFETY_KEYS)
    return Safety(
        sky_free_while_unsafe=fields.boolean(data, path, "sky_free_while_unsafe", False),
        night_end=_moment(data, path, "night_end"))


def _site(data: Table | None) -> Site | None:
    if data is None:
        return None
    path: KeyPath = ("site",)
    fields.only_known(data, path, SITE_KEYS)
    return Site(
        latitude=fields.number(data, path, "latitude", None, low=-90, high=90,
                               hint="degrees, north positive"),
        longitude=fields.number(data, path, "longitude", None, low=-180, high=180,
                                hint="degrees, east positive"),
        elevation=fields.number(data, path, "elevation", 0.0, low=-500, high=10000),
    )


def _coordinate(data: Table, path: KeyPath, key: str) -> float | None:
    if key not in data:
        return None
    try:
        return parse_ra(data[key]) if key == "ra" else parse_dec(data[key])
    except (TypeError, ValueError) as exc:
        what = ("hours from 0 to 24, as a number or \"05 35 17.3\" / \"5h35m17.3s\""
                if key == "ra" else
                "degrees from -90 to 90, as a number or \"-05 23 28\" / \"-5d23m28s\"")
        raise fields.wrong(path + (key,), what, data[key]) from exc


def _target(data: Table, path: KeyPath, dither: Dither, autofocus: Autofocus,
            flip: Flip, problems: fields.Problems) -> Target:
    """One target; each of its batches read on its own, a refused one kept in `problems`."""
    items = fields.tables(data, path, "batches")
    batches = [problems.take(lambda item=item, index=index: _batch(  # type: ignore[misc]
        item, path + ("batches", index)), None) for index, item in enumerate(items)]
    fields.only_known(data, path, TARGET_KEYS)
    ra, dec = _coordinate(data, path, "ra"), _coordinate(data, path, "dec")
    if (ra is None) != (dec is None):
        given, lacking = ("ra", "dec") if dec is None else ("dec", "ra")
        raise Invalid(path + (given,),
                      f"{format_path(path)} has {given} but no {lacking}: give both")
    slew = fields.boolean(data, path, "slew", ra is not None)
    if slew and ra is None:
        raise Invalid(path + ("slew",),
                      f"{format_path(path)} slews (slew = true) but has no ra and dec: "
                      "give both, or slew = false to image where the mount points")
    own_dither = fields.table(data, path, "dither")
    own_focus = fields.table(data, path, "autofocus")
    own_flip = fields.table(data, path, "flip")
    target = Target(
        name=fields.text(data, path, "name", None, empty=False,
                         hint='give the target a name, e.g. name = "M42"'),
        ra=ra, dec=dec, slew=slew,
        wait=_wait(fields.table(data, path, "wait") or {}, path + ("wait",)),
        dither=None if own_dither is None else _dither(own_dither, path + ("dither",), dither),
        autofocus=None if own_focus is None
        else _autofocus(own_focus, path + ("autofocus",), autofocus),
        flip=None if own_flip is None else _flip(own_flip, path + ("flip",), flip),
        batches=tuple(batch for batch in batches if batch is not None),
        constraints=problems.take(lambda: read_constraints(
            fields.table(data, path, "constraints"), path + ("constraints",)), None),
        centre=read_centre(data, path),
    )
    if not items:
        raise Invalid(path + ("batches",),
                      f"{format_path(path)} has no batches: add a [[targets.batches]] table")
    if target.wait.altitude is not None and ra is None:
        raise Invalid(path + ("wait", "altitude"),
                      f"{format_path(path + ('wait', 'altitude'))} needs the target's ra and dec")
    return target


def _wait(data: Table, path: KeyPath) -> Wait:
    fields.only_known(data, path, WAIT_KEYS)
    until = _moment(data, path, "until")
    altitude = None if "altitude" not in data else \
        fields.number(data, path, "altitude", None, low=-90, high=90)
    return Wait(until=until, altitude=altitude)


def _moment(data: Table, path: KeyPath, key: str) -> datetime | None:
    """A TOML datetime (or its ISO text) with its zone: a wall-clock time without one would
    mean another moment on a server in another zone."""
    moment = data.get(key)
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise fields.wrong(path + (key,), "a date and time with its zone, "
                               "e.g. 2026-11-27T22:30:00+01:00", moment) from None
    if moment is not None and not (isinstance(moment, datetime) and moment.tzinfo is not None):
        what = "a date and time with its zone (give the time zone: +01:00, Z)" \
            if isinstance(moment, datetime) else \
            "a date and time with its zone, e.g. 2026-11-27T22:30:00+01:00"
        raise fields.wrong(path + (key,), what, moment)
    return moment


def _batch(data: Table, path: KeyPath) -> Batch:
    fields.only_known(data, path, BATCH_KEYS)
    frame_type = fields.choice(data, path, "type", "Light", FRAME_TYPES)
    gain = None if "gain" not in data else fields.number(data, path, "gain", None, low=0)
    offset = None if "offset" not in data else fields.number(data, path, "offset", None, low=0)
    adu, tolerance = _level(data, path, frame_type)
    return Batch(
        count=fields.whole(data, path, "count", None, low=1, cap=MAX_COUNT,
                           hint="how many frames, e.g. 10"),
        exposure=fields.number(data, path, "exposure", None if adu is None else FLAT_START,
                               low=0, cap=MAX_EXPOSURE, above=frame_type != "Bias",
                               hint="seconds, e.g. exposure = 60 (0 for a bias)"),
        filter=fields.filter_choice(data, path),
        binning=fields.whole(data, path, "binning", 1, low=1, high=MAX_BINNING),
        frame_type=frame_type, gain=gain, offset=offset, adu=adu, tolerance=tolerance,
        source=_source(data, path, adu),
    )


def _source(data: Table, path: KeyPath, adu: float | None) -> FlatSource:
    """A flat by level's light: the plan's panel, or the twilight sky at dusk or dawn."""
    if "source" in data and adu is None:
        raise Invalid(path + ("source",), f"{format_path(path + ('source',))} is the light "
                      "of a flat by level: give adu too")
    return fields.choice(data, path, "source", "panel", FLAT_SOURCES)


def _level(data: Table, path: KeyPath, frame_type: str) -> tuple[float | None, float]:
    """A flat's `adu` and `tolerance` (a share of it, over 0 and at most 0.5): flats only."""
    if "adu" not in data:
        if "tolerance" in data:
            raise Invalid(path + ("tolerance",), f"{format_path(path + ('tolerance',))} "
                          "is a flat's tolerance about its adu: give adu too")
        return None, 0.1
    if frame_type != "Flat":
        raise Invalid(path + ("adu",), f"{format_path(path + ('adu',))}: only flats are "
                      'taken by level: type = "Flat"')
    adu = fields.number(data, path, "adu", None, low=0, high=MAX_ADU, above=True,
                        hint="the flats' median in ADU, e.g. adu = 30000")
    tolerance = fields.number(data, path, "tolerance", 0.1, low=0, high=0.5, above=True,
                              hint="a share of adu, e.g. 0.1")
    return adu, tolerance


def _devices_named(plan: Plan, at: Sequence[int] | None = None) -> None:
    """What the plan asks for needs its device named in [devices] (the rig is opened from
    there); whether that device can do it is `check.check_against`'s, once it is seen.
    Every need without its device is said (`fields.Invalids`), not only the first."""
    named = {"wheel": plan.devices.wheel, "focuser": plan.devices.focuser,
             "mount": plan.devices.mount, "guider": plan.devices.guider,
             "panel": plan.devices.panel}
    problems = fields.Problems()
    for need in needs(plan, at):
        if need.kind == "site":
            if plan.site is None and not plan.devices.mount:
                problems.found.append(Invalid(
                    need.path, f"{format_path(need.path)} needs the site: name a mount in "
                    "[devices] (it knows where it stands) or add [site]"))
        elif need.kind in named and not named[need.kind]:
            problems.found.append(Invalid(
                need.path, f"{format_path(need.path)} ({need.what}) needs a {need.kind}: "
                f"name one in [devices] {need.kind} = \"...\""))
    problems.check()
