"""Hypothesis strategies for valid `indipyagents.plan.model.Plan`s, shared by the plan's tests
(round trip through TOML, the steps' ids and file names)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from hypothesis import strategies as st

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.constraints import Twilight
from indipyagents.plan.grading import Grading
from indipyagents.plan.model import FRAME_TYPES
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Dither
from indipyagents.plan.model import End
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Guiding
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Safety
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.plan.model import Wait
from indipyagents.plan.needs import needs
from indipyagents.plan.notifying import EVENTS
from indipyagents.plan.notifying import NotifySettings

names = st.text(min_size=1, max_size=12).filter(str.strip)
filters = st.none() | st.integers(1, 12) | names


def _number(low: float, high: float, *, above: bool = False) -> st.SearchStrategy[float]:
    return st.floats(low, high, exclude_min=above, allow_nan=False, allow_infinity=False)


dithers = st.builds(Dither, every=st.integers(0, 50), pixels=_number(0, 100, above=True),
                    method=st.sampled_from(("pulse", "offset", "guider")),
                    settle=_number(0, 600), settle_pixels=_number(0, 100, above=True),
                    settle_timeout=_number(1, 3600))
autofocuses = st.builds(
    Autofocus, at_start=st.booleans(), on_filter_change=st.booleans(),
    every_minutes=_number(0, 600), temperature_delta=_number(0, 20),
    exposure=_number(0, 60, above=True), step=st.integers(1, 1000), points=st.integers(3, 99),
    binning=st.integers(1, 16), filter=filters)
flips = st.builds(Flip, enabled=st.booleans(), hour_angle_limit=_number(0, 90),
                  settle=_number(0, 600))


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    frame_type = draw(st.sampled_from(FRAME_TYPES))
    return Batch(count=draw(st.integers(1, 30)),
                 exposure=draw(_number(0, 3600, above=frame_type != "Bias")),
                 filter=draw(filters), binning=draw(st.integers(1, 16)),
                 frame_type=frame_type, gain=draw(st.none() | _number(0, 1000)),
                 offset=draw(st.none() | _number(0, 1000)))


moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)), st.integers(-1439, 1439))


@st.composite
def targets(draw: st.DrawFn) -> Target:
    placed = draw(st.booleans())
    ra = draw(_number(0, 23.999)) if placed else None
    dec = draw(_number(-90, 90)) if placed else None
    altitude = draw(st.none() | _number(-90, 90)) if placed else None
    return Target(name=draw(names), ra=ra, dec=dec,
                  slew=placed and draw(st.booleans()),
                  wait=Wait(until=draw(st.none() | moments), altitude=altitude),
                  batches=tuple(draw(st.lists(batches(), min_size=1, max_size=4))),
                  dither=draw(st.none() | dithers), autofocus=draw(st.none() | autofocuses),
                  flip=draw(st.none() | flips))


def _rule(low: float, high: float) -> st.SearchStrategy[float | None]:
    """An optional [grading] rule: a number over `low`, up to `high`."""
    return st.none() | _number(low, high).filter(lambda value: value > low)


gradings = st.builds(Grading, hfr_ratio=_rule(1, 100), stars_ratio=_rule(0, 1),
                     eccentricity_max=_rule(0, 1), guide_rms_max=_rule(0, 100),
                     background_ratio=_rule(1, 1000), min_frames=st.integers(1, 1000))


#: Apprise URLs it parses, of several services (a user's password with a quote in it too).
APPRISE_URLS = ("json://127.0.0.1:8000/night", "ntfy://observatory-night",
                "mqtt://broker.local:1883/observatory/night", 'mailto://me:p"w@example.com',
                "mailto://127.0.0.1:2525?mode=insecure&from=a@example.com&to=b@example.com")
notifies = st.builds(
    NotifySettings,
    urls=st.lists(st.sampled_from(APPRISE_URLS), max_size=3, unique=True).map(tuple),
    events=st.lists(st.sampled_from(EVENTS), min_size=1, unique=True).map(tuple),
    rejected_in_a_row=st.integers(1, 1000),
    web=st.sampled_from(["", "http://observatory.local:8000", "https://h.example/night"]))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """A plan `parse_plan` accepts: every device it needs is named."""
    folder = draw(st.text(max_size=12).filter(
        lambda f: not f.startswith(("/", "\\")) and ".." not in f and "\0" not in f))
    safety = Safety(sky_free_while_unsafe=draw(st.booleans()),
                    night_end=draw(st.none() | moments))
    plan = Plan(name=draw(names), folder=folder, safety=safety,
                guiding=Guiding(lost_wait=draw(_number(0, 86_400))),
                grading=draw(st.none() | gradings),
                targets=tuple(draw(st.lists(targets(), min_size=1, max_size=4))),
                devices=Devices(camera=draw(names), wheel=draw(st.just("") | names),
                                dome=draw(st.just("") | names)),
                end=End(park=draw(st.booleans()), warm=draw(st.booleans()),
                        close_dome=draw(st.booleans())),
                dither=draw(dithers), autofocus=draw(autofocuses), flip=draw(flips),
                notify=draw(notifies),
                site=draw(st.none() | st.builds(Site, _number(-90, 90), _number(-180, 180),
                                                _number(-500, 10000))))
    kinds = {need.kind for need in needs(plan)}
    return replace(plan, devices=replace(
        plan.devices,
        wheel=plan.devices.wheel or ("Wheel" if "wheel" in kinds else ""),
        focuser="Focuser" if "focuser" in kinds else "",
        mount="Mount" if kinds & {"mount", "site"} else draw(st.just("") | names),
        guider="Guider Agent" if "guider" in kinds else draw(st.just("") | names)))


# --- scheduled plans ([schedule] and [targets.constraints]) ---------------------------------

twilights: st.SearchStrategy[Twilight] = st.sampled_from(("civil", "nautical", "astronomical"))
horizons = st.lists(st.tuples(_number(0, 359.999), _number(0, 90)), max_size=6,
                    unique_by=lambda point: point[0]).map(tuple)
schedules = st.builds(Schedule, twilight=twilights, horizon=horizons,
                      min_altitude=_number(0, 90), moon_separation=_number(0, 180),
                      min_minutes=_number(0, 1440), frame_overhead=_number(0, 600))


@st.composite
def constraints(draw: st.DrawFn) -> Constraints:
    after = draw(st.none() | moments)
    before = draw(st.none() | moments)
    if after is not None and before is not None and after >= before:
        after = None
    return Constraints(min_altitude=draw(st.none() | _number(0, 90)),
                       moon_separation=draw(st.none() | _number(0, 180)),
                       twilight=draw(st.none() | twilights), priority=draw(st.integers(1, 20)),
                       min_minutes=draw(st.none() | _number(0, 1440)),
                       after=after, before=before)


@st.composite
def scheduled_plans(draw: st.DrawFn) -> Plan:
    """A plan `parse_plan` accepts with a [schedule]: every target placed, none waiting."""
    plan = draw(plans())
    placed = tuple(
        replace(target, ra=draw(_number(0, 23.999)), dec=draw(_number(-90, 90)), slew=True,
                wait=Wait(), constraints=draw(st.none() | constraints()))
        for target in plan.targets)
    plan = replace(plan, targets=placed, schedule=draw(schedules))
    return replace(plan, devices=replace(plan.devices, mount=plan.devices.mount or "Mount"))
