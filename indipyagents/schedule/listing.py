"""A schedule as the command shows it: a table a person reads, or the JSON a program reads
(issue 82's shape exactly: ``{"nights": [{"date", "dusk", "dawn", "blocks": [{"target",
"start", "end", "frames"}]}], "unschedulable": [{"target", "reason"}]}``, times ISO 8601 in
UTC to the second; a block of sky flats has ``"flats": "dusk"`` or ``"dawn"`` too, and the
table says ``(dusk sky flats)`` after its target; one of darks or bias ``"no_sky": true``,
``(no sky)`` in the table). Pure."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from .greedy import Block
from .greedy import Result

COLUMNS = ("TARGET", "START", "END", "FRAMES")


def iso(moment: datetime | None) -> str | None:
    """``2026-12-03T17:52:28Z``: UTC, to the nearest second."""
    if moment is None:
        return None
    moment = (moment.astimezone(UTC) + timedelta(microseconds=500_000)).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(result: Result) -> dict[str, object]:
    return {
        "nights": [{"date": night.date.isoformat(), "dusk": iso(night.dusk),
                    "dawn": iso(night.dawn),
                    "blocks": [{"target": block.target, "start": iso(block.start),
                                "end": iso(block.end), "frames": block.frames,
                                **({"flats": block.flats} if block.flats else {}),
                                **({"no_sky": True} if block.no_sky else {})}
                               for block in night.blocks]}
                   for night in result.nights],
        "unschedulable": [{"target": item.target, "reason": item.reason}
                          for item in result.unschedulable]}


def _hhmm(moment: datetime | None) -> str:
    text = iso(moment)
    return "-" if text is None else text[11:16]


def _named(block: Block) -> str:
    """A block's target, its sky flats said: ``Flats (dusk sky flats)``, its darks
    ``Flat darks (no sky)``."""
    if block.no_sky:
        return f"{block.target} (no sky)"
    return f"{block.target} ({block.flats} sky flats)" if block.flats else block.target


def as_table(result: Result, twilight: str) -> str:
    """Each night's dusk and dawn (of `twilight`) and its blocks, in UTC; then the targets
    that could not be imaged, each with its reason."""
    lines = []
    for night in result.nights:
        if night.dusk is None:
            lines.append(f"Night of {night.date.isoformat()}: no {twilight} night")
        else:
            lines.append(f"Night of {night.date.isoformat()}: {twilight} dusk "
                         f"{_hhmm(night.dusk)}, dawn {_hhmm(night.dawn)} UTC")
        rows = [COLUMNS] + [(_named(block), _hhmm(block.start), _hhmm(block.end),
                             str(block.frames)) for block in night.blocks]
        if len(rows) == 1:
            lines.append("  (nothing to image)")
        else:
            widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
            lines.extend("  " + "  ".join(cell.ljust(width) for cell, width
                                          in zip(row, widths, strict=True)).rstrip()
                         for row in rows)
        lines.append("")
    if result.unschedulable:
        lines.append("Not imaged in these nights:")
        width = max(len(item.target) for item in result.unschedulable)
        lines.extend(f"  {item.target.ljust(width)}  {item.reason}"
                     for item in result.unschedulable)
    return "\n".join(lines).rstrip() + "\n"
