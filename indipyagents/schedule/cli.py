"""``indipy-schedule``: a scheduled plan's nights, before the night.

::

    indipy-schedule PLAN.toml [--night YYYY-MM-DD] [--nights N] [--site LAT,LON[,ELEV]] [--json]
                    [--svg FILE.svg]
    indipy-schedule --import-esq FILE.esq|FILE.esl [-o PLAN.toml]

Prints each night's dusk, dawn and blocks (target, start, end, frames; UTC) as a table, or
with ``--json`` as ``{"nights": [...], "unschedulable": [...]}``; the targets not imaged in
the nights asked are listed with the reason. The plan is scheduled as the Imager Agent's
night runs it: its ``[calibration]`` dusk or dawn flats, flat-darks and library darks and
bias (all of them: which the library already has is decided at night) take blocks of their
own. ``--night`` is the night that begins on that
evening at the site (default: tonight's, or the one under way); the site defaults to the
plan's ``[site]``. ``--import-esq`` writes a plan from Ekos's capture sequence (.esq) or
scheduler list (.esl), saying on stderr (and in the plan's comments) what it could not carry
over. Exit status 0, or 2 for a plan or an option refused (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from indipyagents.plan.darknight import tonight_plan
from indipyagents.plan.scheduling import MAX_NIGHTS
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import load_plan
from indipycore.commandline import ToolkitVersion
from indipycore.commandline import configure_logging

from .ekosimport import EkosError
from .ekosimport import import_ekos
from .greedy import schedule
from .listing import as_json
from .listing import as_table
from .picture import night_svg
from .sky import Place

logger = logging.getLogger("indipy-schedule")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indipy-schedule", description=(
        "Schedule a plan's targets over one or more nights: the highest priority whose "
        "constraints hold at each moment."))
    p.add_argument("plan", nargs="?", help="the plan (TOML, with a [schedule] table)")
    p.add_argument("--night", type=_night, metavar="YYYY-MM-DD",
                   help="the night that begins on this evening at the site (default: tonight)")
    p.add_argument("--nights", type=int, default=1, metavar="N",
                   help=f"how many nights from it (default 1, at most {MAX_NIGHTS})")
    p.add_argument("--site", type=_site, metavar="LAT,LON[,ELEV]",
                   help="degrees north, degrees east, metres (default: the plan's [site]); "
                        "south or west with =: --site=-35,149,600")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--svg", type=Path, metavar="FILE.svg",
                   help="also draw the first night as a picture (altitudes, blocks, twilight, "
                        "the Moon; the block in hand if it is under way)")
    p.add_argument("--import-esq", metavar="FILE", type=Path,
                   help="write a plan from Ekos's .esq (capture sequence) or .esl "
                        "(scheduler list) instead")
    p.add_argument("-o", "--output", type=Path, metavar="PLAN.toml",
                   help="with --import-esq: the file to write (default: standard output)")
    p.add_argument("--version", action=ToolkitVersion)
    return p


def _night(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _site(text: str) -> Place:
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or not -90 <= numbers[0] <= 90 \
            or not -180 <= numbers[1] <= 360 or not all(math.isfinite(n) for n in numbers):
        raise argparse.ArgumentTypeError(
            f"not LAT,LON[,ELEV] (degrees north -90..90, degrees east, metres): {text!r}")
    longitude = numbers[1] - 360.0 if numbers[1] > 180 else numbers[1]
    return Place(numbers[0], longitude, numbers[2] if len(numbers) == 3 else 0.0)


def tonight(now: datetime, place: Place) -> date:
    """The night under way or to come at `place`: the evening's date at the site's mean time
    (before local noon, the night that began the evening before)."""
    local = now.astimezone(UTC) + timedelta(hours=place.longitude / 15.0)
    return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    configure_logging(logging.WARNING)
    if args.import_esq is not None:
        return _import(args.import_esq, args.output)
    if args.plan is None:
        p.error("give a PLAN.toml (or --import-esq FILE)")
    if not 1 <= args.nights <= MAX_NIGHTS:
        p.error(f"--nights must be from 1 to {MAX_NIGHTS}")
    try:
        plan = load_plan(args.plan)
    except PlanError as exc:
        sys.stderr.write(f"indipy-schedule: {exc}\n")
        return 2
    if plan.schedule is None:
        sys.stderr.write(f"indipy-schedule: {args.plan} has no [schedule] table: its targets "
                         "are taken in order, not scheduled\n")
        return 2
    twilight = plan.schedule.twilight
    place = args.site or (None if plan.site is None else
                          Place(plan.site.latitude, plan.site.longitude, plan.site.elevation))
    if place is None:
        sys.stderr.write(f"indipy-schedule: {args.plan} has no [site]: give "
                         "--site LAT,LON,ELEV\n")
        return 2
    first = args.night or tonight(datetime.now(UTC), place)
    plan = tonight_plan(plan)  # as the Imager Agent's night: its [calibration] frames too
    result = schedule(plan, place, first, args.nights)
    if args.svg is not None:
        now = datetime.now(UTC)
        night = result.nights[0]
        in_hand = next((b for b in night.blocks if b.start <= now < b.end), None)
        args.svg.write_text(night_svg(plan, place, night, now=now, in_hand=in_hand),
                            encoding="utf-8")
    if args.json:
        sys.stdout.write(json.dumps(as_json(result), indent=2) + "\n")
    else:
        sys.stdout.write(as_table(result, twilight))
    return 0


def _import(source: Path, output: Path | None) -> int:
    try:
        text, notes = import_ekos(source)
    except EkosError as exc:
        sys.stderr.write(f"indipy-schedule: {exc}\n")
        return 2
    for note in notes:
        sys.stderr.write(f"indipy-schedule: not carried over: {note}\n")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0
