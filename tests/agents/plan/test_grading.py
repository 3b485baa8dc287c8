"""Issue 93 item 2: the plan's [grading] section read (each wrong value refused at its own
line) and the verdict on a frame against its target's running median of accepted frames in
its filter (hypothesis: the rules' properties over any figures). Issue 93 item 5: every reason
splits into its rule and its figures (the night page groups the rejections by rule)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.journal.timeline import rule_counts
from indipyagents.plan.grading import GUIDING_LOST
from indipyagents.plan.grading import NO_STARS
from indipyagents.plan.grading import Grading
from indipyagents.plan.grading import judge
from indipyagents.plan.grading import reason_rule
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.stars.framemeasure import FrameMeasure

PLAN = """name = "graded"
[devices]
camera = "CCD"
[grading]
{rules}
[[targets]]
name = "M42"
[[targets.batches]]
count = 3
exposure = 1
"""

figures = st.builds(FrameMeasure, stars=st.integers(0, 5000),
                    hfr_px=st.floats(0.3, 20), fwhm_px=st.floats(0.5, 40),
                    fwhm_arcsec=st.none() | st.floats(0.5, 40),
                    eccentricity=st.floats(0, 0.99), sky=st.floats(1, 60000),
                    noise=st.floats(0.1, 500), guide_rms_arcsec=st.none() | st.floats(0, 20),
                    alt_deg=st.none() | st.floats(-5, 90))
rules = st.builds(Grading, hfr_ratio=st.none() | st.floats(1.01, 5),
                  stars_ratio=st.none() | st.floats(0.01, 1),
                  eccentricity_max=st.none() | st.floats(0.01, 1),
                  guide_rms_max=st.none() | st.floats(0.01, 10),
                  background_ratio=st.none() | st.floats(1.01, 10),
                  min_frames=st.integers(1, 6))


def test_a_plan_without_grading_grades_nothing() -> None:
    plan = parse_plan(PLAN.replace("[grading]\n{rules}\n", ""))
    assert plan.grading is None


def test_the_section_is_read() -> None:
    plan = parse_plan(PLAN.format(rules="hfr_ratio = 1.5\nstars_ratio = 0.5\n"
                                        "eccentricity_max = 0.6\nguide_rms_max = 2\n"
                                        "background_ratio = 2\nmin_frames = 4"))
    assert plan.grading == Grading(1.5, 0.5, 0.6, 2.0, 2.0, 4)
    assert parse_plan(PLAN.format(rules="")).grading == Grading()
    assert Grading().retakes == 3
    for retakes in (0, 7):
        again = parse_plan(PLAN.format(rules=f"retakes = {retakes}"))
        assert again.grading is not None and again.grading.retakes == retakes
        assert parse_plan(plan_to_toml(again)) == again


@pytest.mark.parametrize("rule", ["hfr_ratio = 0.9", "stars_ratio = 1.5", "stars_ratio = 0",
                                  "eccentricity_max = 1.2", "guide_rms_max = -1",
                                  "background_ratio = 1", "min_frames = 0",
                                  "min_frames = 2.5", 'hfr_ratio = "1.5"', "hrf_ratio = 1.5",
                                  "retakes = -1", "retakes = 1.5"])
def test_a_wrong_rule_is_refused_at_its_line(rule: str) -> None:
    before = "guide_rms_max = 3" if rule.startswith("min_frames") else "min_frames = 3"
    text = PLAN.format(rules=f"{before}\n{rule}")
    with pytest.raises(PlanError) as refused:
        parse_plan(text)
    assert refused.value.line == text.splitlines().index(rule) + 1, refused.value
    assert rule.split(" = ")[0] in str(refused.value)


@given(figures, st.lists(figures, max_size=8), rules)
def test_the_verdict_follows_each_rule(frame: FrameMeasure, accepted: list[FrameMeasure],
                                       grading: Grading) -> None:
    """A frame is rejected exactly when a rule that applies says so: the limits always, the
    ratios once `min_frames` accepted frames are there, each against their median."""
    reasons = judge(frame, accepted, grading)
    if frame.stars == 0:
        assert reasons == [NO_STARS]
        return
    ratios = len(accepted) >= grading.min_frames
    expected = [
        grading.eccentricity_max is not None and frame.eccentricity > grading.eccentricity_max,
        grading.guide_rms_max is not None and frame.guide_rms_arcsec is not None
        and frame.guide_rms_arcsec > grading.guide_rms_max,
        ratios and grading.hfr_ratio is not None
        and frame.hfr_px > grading.hfr_ratio * statistics.median(a.hfr_px for a in accepted),
        ratios and grading.stars_ratio is not None
        and frame.stars < grading.stars_ratio * statistics.median(a.stars for a in accepted),
        ratios and grading.background_ratio is not None
        and frame.sky > grading.background_ratio * statistics.median(a.sky for a in accepted)]
    assert len(reasons) == sum(expected), (reasons, expected)


@given(figures, st.lists(figures, min_size=1, max_size=8), rules)
def test_a_frame_like_the_accepted_median_passes_the_ratios(
        frame: FrameMeasure, accepted: list[FrameMeasure], grading: Grading) -> None:
    """A frame with the accepted frames' median HFR, star count and sky is never rejected by
    a ratio (only by a limit)."""
    median = FrameMeasure(max(1, math.ceil(statistics.median(a.stars for a in accepted))),
                          statistics.median(a.hfr_px for a in accepted), frame.fwhm_px, None,
                          0.0, statistics.median(a.sky for a in accepted), frame.noise)
    assert judge(median, accepted, grading) == []


@given(figures, st.lists(figures, max_size=8), rules, st.floats(1.0, 10.0))
def test_a_worse_frame_is_never_judged_better(frame: FrameMeasure, accepted: list[FrameMeasure],
                                              grading: Grading, worse: float) -> None:
    """Wider stars, fewer of them, a brighter sky: a frame so worsened is rejected for at
    least as many reasons."""
    worsened = FrameMeasure(int(frame.stars / worse), frame.hfr_px * worse, frame.fwhm_px,
                            None, frame.eccentricity, frame.sky * worse, frame.noise,
                            frame.guide_rms_arcsec)
    if worsened.stars == 0:
        assert judge(worsened, accepted, grading) == [NO_STARS]
    else:
        assert len(judge(worsened, accepted, grading)) >= len(judge(frame, accepted, grading))


@given(figures, st.lists(figures, max_size=8), rules, st.booleans())
def test_every_reason_splits_into_its_rule_and_figures(
        frame: FrameMeasure, accepted: list[FrameMeasure], grading: Grading, lost: bool) -> None:
    """Each reason `judge` writes but the two without figures has a figure (and a median for
    a ratio), and rule, figure and median rebuild it word for word: nothing is lost."""
    for reason in judge(frame, accepted, grading, guiding_lost=lost):
        split = reason_rule(reason)
        if reason in (NO_STARS, GUIDING_LOST):
            assert split.rule == reason and split.value is None
            continue
        assert split.value is not None and ("median" in split.rule) == (split.median is not None)
        head, op, limit = split.rule.rpartition(" > " if " > " in split.rule else " < ")
        rebuilt = f"{head} {split.value} {op.strip()} {limit}" + (
            f" {split.median}" if split.median else "")
        assert rebuilt == reason, (reason, split)


def test_one_rule_rejecting_many_frames_reads_as_one_line() -> None:
    """The guide's night: eight frames short of stars, each with its own count, are one line
    with the count and the range; a clouds reason, a limit and one without figures apart."""
    reasons = [f"stars {stars} < 0.5 x median 1107"
               for stars in (153, 150, 149, 148, 147, 146, 145, 154)]
    reasons += ['guide RMS 2.10" > 1.5"', 'guide RMS 3.40" > 1.5"',
                "clouds: stars 3 < 0.3 x median 1100", NO_STARS]
    assert [count.text for count in rule_counts(reasons)] == [
        "stars < 0.5 x median: 8 (145–154 of 1107)", 'guide RMS > 1.5": 2 (2.10"–3.40")',
        "clouds: stars < 0.3 x median: 1 (3 of 1100)", "no stars: 1"]
