"""Issue 93 item 3, the pure rules: the [grading] keys of the causes acted on (clouds, the HFR
rise) read and written back, a frame through cloud or whose guiding was lost rejected, the
clouds counted and a test frame judged clear, and the HFR rise's decision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_grading import PLAN as GRADED

from indipyagents.plan.decisions import hfr_rise_due
from indipyagents.plan.grading import GUIDING_LOST
from indipyagents.plan.grading import NO_STARS
from indipyagents.plan.grading import Grading
from indipyagents.plan.grading import clear_again
from indipyagents.plan.grading import judge
from indipyagents.plan.grading import through_cloud
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.stars.framemeasure import FrameMeasure

#: test_grading's plan with a focuser (the HFR-autofocus rule needs one).
PLAN = GRADED.replace('camera = "CCD"\n', 'camera = "CCD"\nfocuser = "Focuser"\n')


def frame(stars: int, hfr: float = 2.0) -> FrameMeasure:
    return FrameMeasure(stars=stars, hfr_px=hfr, fwhm_px=2 * hfr, fwhm_arcsec=None,
                        eccentricity=0.1, sky=1000.0, noise=10.0)


CLEAR = [frame(200), frame(220), frame(180)]


def test_the_causes_keys_are_read_with_their_defaults_and_written_back() -> None:
    plan = parse_plan(PLAN.format(rules="clouds_after = 2\nhfr_autofocus_ratio = 1.3"))
    assert plan.grading == Grading(clouds_after=2, clouds_ratio=0.3, clouds_test=5.0,
                                   clouds_every=60.0, hfr_autofocus_ratio=1.3)
    said = PLAN.format(rules="clouds_after = 4\nclouds_ratio = 0.5\nclouds_test = 2\n"
                             "clouds_every = 10")
    plan = parse_plan(said)
    assert plan.grading == Grading(clouds_after=4, clouds_ratio=0.5, clouds_test=2.0,
                                   clouds_every=10.0)
    assert parse_plan(plan_to_toml(plan)).grading == plan.grading
    assert parse_plan(PLAN.format(rules="")).grading == Grading()  # every cause off


def test_the_hfr_rise_asks_for_a_focuser() -> None:
    with pytest.raises(PlanError, match="hfr_autofocus_ratio .* needs a focuser"):
        parse_plan(PLAN.replace('focuser = "Focuser"\n', "").format(
            rules="hfr_autofocus_ratio = 1.3"))


@pytest.mark.parametrize("rule", ["clouds_after = 0", "clouds_ratio = 1.5",
                                  "clouds_every = 601", "clouds_test = 0",
                                  "hfr_autofocus_ratio = 0.9"])
def test_a_wrong_cause_rule_is_refused_at_its_line(rule: str) -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan(PLAN.format(rules=rule), "plan.toml")
    assert "line 6" in str(refused.value), refused.value


def test_a_frame_through_cloud_is_rejected_and_counts_towards_a_hold() -> None:
    grading = Grading(clouds_after=3, min_frames=3)
    reasons = judge(frame(30), CLEAR, grading)
    assert reasons == ["clouds: stars 30 < 0.3 x median 200"]
    assert through_cloud(reasons, grading)
    assert through_cloud([NO_STARS], grading)
    assert judge(frame(70), CLEAR, grading) == []
    assert not through_cloud(["HFR 4.00 > 1.5 x median 2.00"], grading)
    # Without clouds_after no frame counts, and a thin frame passes (no stars_ratio).
    assert judge(frame(30), CLEAR, Grading()) == []
    assert not through_cloud([NO_STARS], Grading())


def test_a_frame_whose_guiding_was_lost_is_rejected_whatever_its_stars() -> None:
    assert judge(frame(200), CLEAR, Grading(), guiding_lost=True) == [GUIDING_LOST]
    assert judge(frame(200), [], Grading(), guiding_lost=True) == [GUIDING_LOST]


def test_a_test_frame_is_clear_once_its_stars_pass_the_share_of_the_median() -> None:
    grading = Grading(clouds_after=3, clouds_ratio=0.3)
    assert not clear_again(0, CLEAR, grading)
    assert not clear_again(59, CLEAR, grading)
    assert clear_again(60, CLEAR, grading)
    assert clear_again(1, [], grading) and not clear_again(0, [], grading)


@given(st.lists(st.floats(0.5, 10), min_size=0, max_size=12), st.integers(1, 5),
       st.floats(1.01, 3))
def test_the_hfr_rise_asks_only_past_its_ratio_over_whole_samples(
        hfrs: list[float], sample: int, ratio: float) -> None:
    import statistics
    why = hfr_rise_due(hfrs, ratio, sample)
    if len(hfrs) < 2 * sample:
        assert why is None
    else:
        grown = statistics.median(hfrs[-sample:]) > ratio * statistics.median(hfrs[:sample])
        assert (why is not None) == grown
    assert hfr_rise_due(hfrs, None, sample) is None


def test_the_hfr_rise_says_why() -> None:
    assert hfr_rise_due([2.0, 2.1, 3.0, 3.2], 1.3, 2) == (
        "the median HFR grew from 2.05 to 3.10 (over 1.3 x)")
    assert hfr_rise_due([2.0, 2.1, 2.4, 2.5], 1.3, 2) is None
