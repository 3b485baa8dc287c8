"""A night's schedule as a picture (SVG text, pure): each scheduled target's altitude through
the night with its blocks drawn thick on it, the twilight as the sky's shade behind (day,
civil, nautical, astronomical, night), the Moon's altitude dashed, and the block in hand
ringed with a line at the moment given; a legend of the blocks below, so the picture reads on
a phone 360 pixels wide (issue 82 item 5). The web client or `indipy-schedule --svg` shows it.
Target names on the blocks are placed so no two overlap (`place_labels`), and the blocks
already done tonight stay drawn, marked done (issue 89 item 11).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from html import escape

from indipyagents.plan.model import Plan
from indipycore import astro

from . import sky
from .greedy import Block
from .greedy import ScheduledNight
from .listing import iso
from .sky import Place

WIDTH = 360
LEFT, RIGHT, TOP, PLOT = 30, 8, 34, 210
ROW = 18
STEP = timedelta(minutes=10)
# Colours a person tells apart on a dark sky (the blocks), then the sky's shades.
PALETTE = ("#ffb000", "#4fc3f7", "#ef5da8", "#8bd450", "#c792ea", "#ff7043", "#26c6da",
           "#fff176")
SHADES = ((-18.0, "#0d1b2a"), (-12.0, "#1f3350"), (-6.0, "#3d5a80"), (0.0, "#6d8fb5"))
DAY = "#a9c3dd"
# A block's name: DejaVu Sans Bold at 12 px (the font run-tests installs), its advance at most
# 8 px a character, 11 px above the baseline and 3 below; a line is 14 px.
CHAR, ASCENT, DESCENT = 8.0, 11.0, 3.0
LINE = ASCENT + DESCENT
MOON = (WIDTH - RIGHT - 30, TOP + PLOT - 4)  # the Moon's name, left-anchored
MOON_BOX = (MOON[0] + 14.0, float(MOON[1]), "Moon")  # its box, as a centred name's
Box = tuple[float, float, float, float]  # left, top, right, bottom


def label_box(x: float, y: float, text: str) -> Box:
    """The box a name centred at `x` on baseline `y` covers (its advance over-estimated, so
    two boxes apart are two names apart whatever the font's real widths)."""
    half = CHAR * len(text) / 2 + 2
    return (x - half, y - ASCENT, x + half, y + DESCENT)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(wanted: Iterable[tuple[float, float, str]], left: float, top: float,
                 right: float, bottom: float,
                 taken: Iterable[Box] = ()) -> list[tuple[float, float] | None]:
    """Where to write each name (x, baseline) so that no two boxes overlap and each stays in
    the plot: its wished place, else the nearest free line above or below; None where the
    plot has no room left (the legend below names every block anyway)."""
    placed, out = list(taken), []
    for x, y, text in wanted:
        half = label_box(0.0, 0.0, text)[2]
        x = round(min(max(x, left + half), max(right - half, left + half)), 1)
        lines = int((bottom - top) / LINE) + 1
        steps = sorted(range(-lines, lines + 1), key=lambda k: (abs(k), k))
        spot = None
        for k in steps:
            at = round(y + k * LINE, 1)
            box = label_box(x, at, text)
            if box[1] < top or box[3] > bottom:
                continue
            if not any(_overlap(box, other) for other in placed):
                spot = (x, at)
                placed.append(box)
                break
        out.append(spot)
    return out


def _shade(sun_altitude: float) -> str:
    for limit, colour in SHADES:
        if sun_altitude < limit:
            return colour
    return DAY


def night_svg(plan: Plan, place: Place, night: ScheduledNight, *, now: datetime | None = None,
              in_hand: Block | None = None, done: Sequence[Block] = ()) -> str:
    """The picture of `night` (one of `greedy.schedule`'s) for `plan` at `place`; `in_hand`
    (a block of the night) is ringed and `now` drawn as a line, where given; the blocks `done`
    tonight (gone from a schedule made again later) drawn faded and marked done."""
    noon = sky.local_noon(datetime(night.date.year, night.date.month, night.date.day), place)
    span = sky.dark_spans(place, noon, noon + timedelta(days=1), 0.0)
    start, end = (span[0][0], span[-1][1]) if span else (noon, noon + timedelta(days=1))
    times = [start + index * STEP for index in range(int((end - start) / STEP) + 1)]

    def x(moment: datetime) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * ((moment - start) / (end - start)), 1)

    def y(altitude: float) -> float:
        return round(TOP + PLOT * (1.0 - max(0.0, altitude) / 90.0), 1)

    targets = sorted({block.index for block in (*done, *night.blocks)})
    colour = {index: PALETTE[n % len(PALETTE)] for n, index in enumerate(targets)}
    height = TOP + PLOT + 22 + ROW * (len(done) + len(night.blocks) + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'width="100%" font-family="DejaVu Sans, sans-serif" font-size="12" role="img" '
           f'aria-label="Schedule of the night of {night.date.isoformat()}">',
           f'<rect width="{WIDTH}" height="{height}" fill="#0b1320"/>',
           f'<text x="{LEFT}" y="14" fill="#ffffff" font-size="13">Night of '
           f'{night.date.isoformat()}</text>',
           f'<text x="{LEFT}" y="28" fill="#c8d3e0" font-size="11">{_dusk_dawn(night)}</text>']
    for moment in times[:-1]:  # the sky's shade, a strip every ten minutes
        out.append(f'<rect x="{x(moment)}" y="{TOP}" width="{round(x(moment + STEP) - x(moment) + 0.6, 1)}" '
                   f'height="{PLOT}" fill="{_shade(sky.sun_altitude(moment, place))}"/>')
    out += _grid(start, end, x, y)
    moon = [(x(t), y(alt)) for t in times
            for alt in [sky.altaz(*sky.moon_radec(t, place), t, place)[0]]]
    out.append(f'<polyline points="{_points(moon)}" fill="none" stroke="#f2ecd0" '
               'stroke-width="1.5" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{MOON[0]}" y="{MOON[1]}" fill="#f2ecd0" '
               'font-size="11">Moon</text>')
    drawn = _Drawn(times, x, y, colour, in_hand, tuple(done))
    out += _curves(plan, place, night, drawn)
    if now is not None and start <= now <= end:
        out.append(f'<line x1="{x(now)}" x2="{x(now)}" y1="{TOP}" y2="{TOP + PLOT}" '
                   'stroke="#ff5252" stroke-width="2"/>')
    out += _legend(night, colour, in_hand, tuple(done))
    out.append("</svg>")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class _Drawn:
    """How the plot is drawn: its moments, its axes, each target's colour, the block in hand
    and the blocks done."""

    times: list[datetime]
    x: Callable[[datetime], float]
    y: Callable[[float], float]
    colour: dict[int, str]
    in_hand: Block | None
    done: tuple[Block, ...]


def _curves(plan: Plan, place: Place, night: ScheduledNight, d: _Drawn) -> list[str]:
    """Each scheduled target's altitude through the night, its blocks thick on it (the one in
    hand ringed in white, the ones done faded), its name over each block where there is room."""
    out, wanted = [], []
    for index in sorted(d.colour):
        target = plan.targets[index]
        placed = target.ra is not None and target.dec is not None
        ra, dec = astro.precess_from_j2000(target.ra or 0.0, target.dec or 0.0, d.times[0])

        def altitude(moment: datetime, ra: float = ra, dec: float = dec,
                     placed: bool = placed) -> float:
            # sky flats, darks and bias have no place in the sky: their blocks on the horizon
            return sky.altaz(ra, dec, moment, place)[0] if placed else 0.0

        if placed:
            curve = [(d.x(t), d.y(altitude(t))) for t in d.times]
            out.append(f'<polyline points="{_points(curve)}" fill="none" '
                       f'stroke="{d.colour[index]}" stroke-width="1" stroke-opacity="0.7"/>')
        for block in (*d.done, *night.blocks):
            if block.index != index:
                continue
            moments = [block.start, *(t for t in d.times if block.start < t < block.end),
                       block.end]
            line = _points((d.x(t), d.y(altitude(t))) for t in moments)
            if block == d.in_hand:
                out.append(f'<polyline points="{line}" fill="none" stroke="#ffffff" '
                           'stroke-width="9" stroke-linecap="round"/>')
            faded = ' stroke-opacity="0.45" stroke-dasharray="6 3"' if block in d.done else ""
            out.append(f'<polyline points="{line}" fill="none" stroke="{d.colour[index]}" '
                       f'stroke-width="5" stroke-linecap="round"{faded}/>')
            middle = block.start + (block.end - block.start) / 2
            wanted.append((d.x(middle), max(TOP + ASCENT, d.y(altitude(middle)) - 7),
                           block.target, d.colour[index]))
    spots = place_labels([(px, py, text) for px, py, text, _ in wanted], LEFT, TOP,
                         WIDTH - RIGHT, TOP + PLOT, [label_box(*MOON_BOX)])
    for (_, _, text, paint), spot in zip(wanted, spots, strict=True):
        if spot is not None:
            out.append(f'<text class="label" x="{spot[0]}" y="{spot[1]}" fill="{paint}" '
                       f'text-anchor="middle" font-weight="bold">{escape(text)}</text>')
    return out


def _dusk_dawn(night: ScheduledNight) -> str:
    if night.dusk is None:
        return "no astronomical night"
    return f"dusk {(iso(night.dusk) or '')[11:16]}, dawn {(iso(night.dawn) or '')[11:16]} UTC"


def _points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{px},{py}" for px, py in points)


def _grid(start: datetime, end: datetime, at_x: Callable[[datetime], float],
          at_y: Callable[[float], float]) -> list[str]:
    """Altitude lines every 30 degrees, the hours (UTC) every two."""
    out = []
    for altitude in (30, 60):
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at_y(altitude)}" '
                   f'y2="{at_y(altitude)}" stroke="#ffffff" stroke-opacity="0.25"/>')
        out.append(f'<text x="{LEFT - 4}" y="{at_y(altitude) + 4}" fill="#c8d3e0" '
                   f'text-anchor="end" font-size="11">{altitude}°</text>')
    hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while hour < end:
        if hour.hour % 2 == 0:
            out.append(f'<line x1="{at_x(hour)}" x2="{at_x(hour)}" y1="{TOP + PLOT}" '
                       f'y2="{TOP + PLOT + 4}" stroke="#c8d3e0"/>')
            out.append(f'<text x="{at_x(hour)}" y="{TOP + PLOT + 16}" fill="#c8d3e0" '
                       f'text-anchor="middle" font-size="11">{hour.hour:02d}</text>')
        hour += timedelta(hours=1)
    return out


def _legend(night: ScheduledNight, colour: dict[int, str], in_hand: Block | None,
            done: tuple[Block, ...]) -> list[str]:
    top = TOP + PLOT + 22
    if not night.blocks and not done:
        return [f'<text x="{LEFT}" y="{top + 12}" fill="#c8d3e0">nothing to image</text>']
    out = []
    for row, block in enumerate((*done, *night.blocks)):
        line = top + ROW * row + 12
        start, end = (iso(block.start) or "")[11:16], (iso(block.end) or "")[11:16]
        mark = " (in hand)" if block == in_hand else " (done)" if row < len(done) else ""
        out.append(f'<rect x="{LEFT}" y="{line - 9}" width="10" height="10" '
                   f'fill="{colour[block.index]}"/>')
        out.append(f'<text x="{LEFT + 16}" y="{line}" fill="#ffffff">{escape(block.target)} '
                   f'{start}–{end} UTC, {block.frames} frames{mark}</text>')
    return out
