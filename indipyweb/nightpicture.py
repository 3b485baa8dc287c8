"""A night drawn (issue 93 item 5): a `Timeline` (`indipyagents.journal.timeline`) as inline SVG
text, pure, for the ``/night`` page.

Time runs left to right (UTC marked), the night spread over about `SPREAD` pixels (between
`PER_MINUTE` and `MOST_PER_MINUTE` pixels a minute), so a long night is wide: the page lets it
scroll sideways on a phone, the rows' names at the left of the picture. From the top: the
holds' numbers (their causes as far as they fit; the page lists them whole under the same
numbers), the marks (autofocus ``F``, meridian flip ``M``, centring ``C``, slew ``S``, each
with its words as a tooltip), a row per filter with a bar per exposure coloured accepted
(green), rejected (red) or unjudged (grey), its HFR written on it where it fits and in its
tooltip; then, where the grades carry them, the guide RMS (arcseconds) and the target's
altitude (degrees) as small lines. The holds are shaded across every row. Text is DejaVu Sans
(named as `indipyagents.schedule.picture` names it: the font the tests install), so the
stored pictures compare.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from html import escape

from indipyagents.journal.timeline import Exposure
from indipyagents.journal.timeline import Timeline

__all__ = ["COLOURS", "night_svg"]

#: The width a night is spread over, and the fewest and most pixels a minute of it.
SPREAD, PER_MINUTE, MOST_PER_MINUTE = 960.0, 2.0, 16.0
#: The left margin (the rows' names), the right one, the top of the drawing (the holds' band).
LEFT, RIGHT, TOP = 76, 12, 40
HOLDS_ROW, MARKS_ROW, ROW, LINE_ROW = 16, 22, 26, 36
#: A bar's colour by verdict (None: not judged).
COLOURS = {"accepted": "#43a047", "rejected": "#e53935", None: "#90a4ae"}
HOLD = "#ffb300"
MARK_LETTER = {"autofocus": "F", "flip": "M", "centre": "C", "slew": "S", "dither": "d"}
BACKGROUND, INK, FAINT = "#0b1320", "#ffffff", "#c8d3e0"
#: A number written on a bar: DejaVu Sans at 10 px, at most 6.5 px a character.
CHAR = 6.5
#: A hold's number marker's half width, and a character of its cause (capitals and all).
HOLD_MARK, HOLD_CHAR = 8, 7.0


def _span(night: Timeline) -> tuple[datetime, datetime]:
    start = night.start or min((e.start for e in night.exposures), default=None)
    last = night.last
    if start is None or last is None:
        now = datetime.fromtimestamp(0).astimezone()
        return now, now + timedelta(hours=1)
    end = max(last, start + timedelta(minutes=30))
    return start, end


def night_svg(night: Timeline) -> str:
    """The picture of `night` (see the module's docstring)."""
    start, end = _span(night)
    minutes = (end - start).total_seconds() / 60
    scale = min(MOST_PER_MINUTE, max(PER_MINUTE, SPREAD / minutes))
    width = round(LEFT + RIGHT + minutes * scale)

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / 60 * scale, 1)

    rows = night.rows
    guide = [e for e in night.exposures if e.guide_rms is not None]
    altitude = [e for e in night.exposures if e.altitude is not None]
    rows_top = TOP + HOLDS_ROW + MARKS_ROW
    lines_top = rows_top + ROW * max(1, len(rows))
    bottom = lines_top + LINE_ROW * (bool(guide) + bool(altitude))
    height = bottom + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" '
           f'font-size="11" role="img" aria-label="The night of {escape(night.plan)}">',
           f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>',
           f'<text x="8" y="16" fill="{INK}" font-size="13">{escape(night.plan)}</text>']
    out += _hours(start, end, x, bottom)
    out += _holds(night, x, end, bottom)
    out += _marks(night, x)
    for index, row in enumerate(rows):
        top = rows_top + ROW * index
        out.append(f'<text x="8" y="{top + 16}" fill="{FAINT}">{escape(row)}</text>')
        out += [_bar(e, x, top) for e in night.exposures if e.row == row]
    if not rows:
        out.append(f'<text x="{LEFT}" y="{rows_top + 16}" fill="{FAINT}">no frame yet</text>')
    top = lines_top
    for name, points, high in (("guide RMS", guide, 4.0), ("altitude", altitude, 90.0)):
        if points:
            out += _line(name, points, x, top, high)
            top += LINE_ROW
    out += _legend(bottom + 10)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _hours(start: datetime, end: datetime, x: Callable[[datetime], float],
           bottom: int) -> list[str]:
    """A tick every 15 minutes on a night under 2 hours, 30 under 4, else every hour."""
    out = []
    length = end - start
    step = timedelta(minutes=15 if length < timedelta(hours=2) else
                     30 if length < timedelta(hours=4) else 60)
    tick = start.replace(minute=0, second=0, microsecond=0)
    while tick < start:
        tick += step
    while tick <= end:
        out.append(f'<line x1="{x(tick)}" x2="{x(tick)}" y1="{TOP - 8}" y2="{bottom}" '
                   f'stroke="{FAINT}" stroke-opacity="0.2"/>')
        out.append(f'<text x="{x(tick)}" y="{TOP - 12}" fill="{FAINT}" '
                   f'text-anchor="middle">{tick:%H:%M}</text>')
        tick += step
    out.append(f'<text x="8" y="{TOP - 12}" fill="{FAINT}">UTC</text>')
    return out


def _holds(night: Timeline, x: Callable[[datetime], float], end: datetime,
           bottom: int) -> list[str]:
    """Each hold shaded, and in the band above the rows its number (the page's Holds list
    says the whole cause, and the number links there: a phone has no tooltips), then as much
    of its cause as fits before the next hold's number, cut at the next one's start by a clip
    whatever the font's widths: two holds a minute apart never write over each other."""
    out = []
    width = x(end) + RIGHT
    beyond = 0.0  # where the last label ended
    for number, hold in enumerate(night.holds, 1):
        left, right = x(hold.start), x(hold.end or end)
        words = escape(hold.cause)
        out.append(f'<rect class="hold" x="{left}" y="{TOP}" width="{max(2.0, right - left)}" '
                   f'height="{bottom - TOP}" fill="{HOLD}" fill-opacity="0.22">'
                   f'<title>held: {words}</title></rect>')
        centre = round(max(left + HOLD_MARK, beyond + HOLD_MARK + 2), 1)
        later = [x(other.start) for other in night.holds[number:number + 1]]
        limit = later[0] - 2 if later else width - 4
        text, beyond = _cut(hold.cause, limit - centre - HOLD_MARK - 3), centre + HOLD_MARK
        label = ""
        if text:
            start = centre + HOLD_MARK + 3
            beyond = min(limit, start + HOLD_CHAR * len(text))
            label = (f'<clipPath id="hold-clip-{number}"><rect x="{start}" y="{TOP}" '
                     f'width="{round(beyond - start, 1)}" height="{HOLDS_ROW}"/></clipPath>'
                     f'<text x="{start}" y="{TOP + 12}" fill="{HOLD}" font-size="10" '
                     f'clip-path="url(#hold-clip-{number})">{escape(text)}</text>')
        out.append(f'<a href="#hold-{number}"><g class="hold-label"><title>{number}: {words}'
                   f'</title><circle cx="{centre}" cy="{TOP + 8}" r="{HOLD_MARK - 1}" '
                   f'fill="{HOLD}"/><text x="{centre}" y="{TOP + 12}" fill="{BACKGROUND}" '
                   f'font-size="10" font-weight="bold" text-anchor="middle">{number}</text>'
                   f'{label}</g></a>')
    return out


def _cut(words: str, room: float) -> str:
    """`words` as they fit in `room` pixels (an ellipsis where cut); nothing under a word."""
    most = int(room // HOLD_CHAR)
    if len(words) <= most:
        return words
    return words[:most - 1].rstrip() + "…" if most >= 8 else ""


def _marks(night: Timeline, x: Callable[[datetime], float]) -> list[str]:
    top = TOP + HOLDS_ROW
    out = [f'<text x="8" y="{top + 16}" fill="{FAINT}">events</text>'] if night.marks else []
    for mark in night.marks:
        if mark.kind == "dither":
            continue  # one a frame: they would hide the rest
        at = x(mark.time)
        out.append(f'<g class="mark {mark.kind}"><title>{mark.time:%H:%M} '
                   f'{escape(mark.text)}</title>'
                   f'<circle cx="{at}" cy="{top + 11}" r="7" fill="#4fc3f7"/>'
                   f'<text x="{at}" y="{top + 15}" fill="{BACKGROUND}" text-anchor="middle" '
                   f'font-weight="bold">{MARK_LETTER.get(mark.kind, "?")}</text></g>')
    return out


def _bar(exposure: Exposure, x: Callable[[datetime], float], top: int) -> str:
    left = x(exposure.start)
    width = max(2.0, x(exposure.end) - left)
    hfr = "" if exposure.hfr is None else f"{exposure.hfr:.1f}"
    verdict = exposure.verdict or "not judged"
    why = f" ({', '.join(exposure.reasons)})" if exposure.reasons else ""
    tip = (f"{exposure.target} {exposure.row} {exposure.end:%H:%M:%S}: {verdict}{why}"
           + (f", HFR {hfr} px" if hfr else ""))
    label = (f'<text x="{round(left + width / 2, 1)}" y="{top + 15}" fill="{INK}" '
             f'font-size="10" text-anchor="middle">{hfr}</text>'
             if hfr and width >= CHAR * len(hfr) + 2 else "")
    return (f'<g class="exposure {exposure.verdict or "unjudged"}"><title>{escape(tip)}</title>'
            f'<rect x="{left}" y="{top + 3}" width="{width}" height="{ROW - 6}" '
            f'fill="{COLOURS.get(exposure.verdict, COLOURS[None])}"/>{label}</g>')


def _line(name: str, points: Sequence[Exposure], x: Callable[[datetime], float], top: int,
          high: float) -> list[str]:
    """A small line of one measure (guide RMS, altitude) at each frame's middle, 0 at the
    row's foot and `high` (or the largest value) at its head."""
    values = [(e.start + (e.end - e.start) / 2,
               e.guide_rms if name == "guide RMS" else e.altitude) for e in points]
    most = max(high, *(v or 0.0 for _, v in values))
    coords = " ".join(f"{x(t)},{round(top + LINE_ROW - 6 - (LINE_ROW - 12) * (v or 0) / most, 1)}"
                      for t, v in values)
    last = values[-1][1] or 0.0
    return [f'<text x="8" y="{top + 16}" fill="{FAINT}">{name}</text>',
            f'<text x="8" y="{top + 28}" fill="{FAINT}" font-size="9">{last:.1f}'
            f'{"″" if name == "guide RMS" else "°"} last</text>',
            f'<polyline class="{name.replace(" ", "-")}" points="{coords}" fill="none" '
            f'stroke="#4fc3f7" stroke-width="1.5"/>']


def _legend(top: int) -> list[str]:
    out = []
    at = 8
    for words, colour in (("accepted", COLOURS["accepted"]), ("rejected", COLOURS["rejected"]),
                          ("not judged", COLOURS[None]), ("held", HOLD)):
        out.append(f'<rect x="{at}" y="{top}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{at + 14}" y="{top + 9}" fill="{FAINT}">{words}</text>')
        at += 24 + round(CHAR * len(words))
    return out
