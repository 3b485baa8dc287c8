"""The schedule picture's names never overlap, and tonight's done blocks stay drawn (issue 89
item 11): `place_labels` over any wished places, and the whole picture over random schedules
(the boxes measured from the SVG's own label elements, with the font's advance over-estimated
as `label_box` says)."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from itertools import combinations
from pathlib import Path

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.plan.toml import load_plan
from indipyagents.schedule.greedy import Block
from indipyagents.schedule.greedy import ScheduledNight
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.order import done_tonight
from indipyagents.schedule.picture import LEFT
from indipyagents.schedule.picture import PLOT
from indipyagents.schedule.picture import RIGHT
from indipyagents.schedule.picture import TOP
from indipyagents.schedule.picture import WIDTH
from indipyagents.schedule.picture import Box
from indipyagents.schedule.picture import label_box
from indipyagents.schedule.picture import night_svg
from indipyagents.schedule.picture import place_labels
from indipyagents.schedule.sky import Place

REPO = Path(__file__).resolve().parents[3]
PLAN = load_plan(REPO / "examples" / "five_targets.toml")
PLACE = Place(48.0, 2.0, 100.0)
NIGHT = date(2026, 12, 3)
DUSK = datetime(2026, 12, 3, 17, 52, tzinfo=UTC)
LABEL = re.compile(r'<text class="label" x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>')
NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", min_size=1, max_size=14)


def disjoint(boxes: list[Box]) -> bool:
    return not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                   for a, b in combinations(boxes, 2))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 400), st.floats(0, 300), NAMES), max_size=30))
def test_placed_names_never_overlap_and_stay_in_the_plot(
        wanted: list[tuple[float, float, str]]) -> None:
    spots = place_labels(wanted, LEFT, TOP, WIDTH - RIGHT, TOP + PLOT)
    boxes = [label_box(*spot, text) for (_, _, text), spot in zip(wanted, spots, strict=True)
             if spot is not None]
    assert disjoint(boxes)
    for (_, _, text), box in zip(wanted, boxes, strict=False):
        assert box[1] >= TOP and box[3] <= TOP + PLOT
        if len(text) * 8 + 4 <= WIDTH - RIGHT - LEFT:
            assert box[0] >= LEFT and box[2] <= WIDTH - RIGHT
    # a lone name always finds its place
    if wanted:
        assert place_labels(wanted[:1], LEFT, TOP, WIDTH - RIGHT, TOP + PLOT)[0] is not None


blocks = st.lists(st.tuples(st.integers(0, len(PLAN.targets) - 1), st.integers(0, 700),
                            st.integers(5, 180)), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None)
@given(blocks)
def test_no_two_names_overlap_on_any_schedule(drawn: list[tuple[int, int, int]]) -> None:
    made = tuple(Block(PLAN.targets[i].name, DUSK + timedelta(minutes=at),
                       DUSK + timedelta(minutes=at + length), 10, i)
                 for i, at, length in sorted(drawn, key=lambda row: row[1]))
    night = ScheduledNight(NIGHT, DUSK, DUSK + timedelta(hours=11, minutes=39), made)
    svg = night_svg(PLAN, PLACE, night)
    labels = [(float(x), float(y), text) for x, y, text in LABEL.findall(svg)]
    assert disjoint([label_box(*label) for label in labels]
                    + [label_box(336.0, TOP + PLOT - 4, "Moon")])
    assert len(labels) >= 1


def test_the_blocks_done_tonight_stay_drawn_marked_done() -> None:
    plan_night, = schedule(PLAN, PLACE, NIGHT).nights
    now = plan_night.blocks[2].start + timedelta(minutes=20)
    done = done_tonight((), plan_night, now)
    assert [b.target for b in done] == [b.target for b in plan_night.blocks[:3]]
    assert done[-1].end == now and done[0].end == plan_night.blocks[0].end
    later = ScheduledNight(NIGHT, plan_night.dusk, plan_night.dawn, plan_night.blocks[3:])
    svg = night_svg(PLAN, PLACE, later, now=now, done=done)
    for block in done:
        assert f"{block.target} " in svg and f">{block.target}</text>" in svg
    assert svg.count(" (done)</text>") == len(done)
    assert svg.count('stroke-dasharray="6 3"') == len(done)  # each done block's faded bar
    # a second re-plan keeps the first's done blocks
    assert done_tonight(done, later, now + timedelta(hours=20))[:3] == done
