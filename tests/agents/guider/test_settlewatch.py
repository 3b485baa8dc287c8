"""The settle an INDI request waits for (`settlewatch`), pure: a dither's own settle, a guide's
settle begun frames later, what ends a request early; any events end each watch at most once,
and a stop ends them all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.guider.settlewatch import SettleWatches
from indipyagents.guider.settlewatch import Watch

DONE_OK = ("SettleDone", {"Status": 0, "TotalFrames": 5, "DroppedFrames": 0})


def done_failed(error: str) -> tuple[str, dict[str, object]]:
    return ("SettleDone", {"Status": 1, "Error": error, "TotalFrames": 5, "DroppedFrames": 0})


def test_a_dither_waits_for_its_own_settle_not_the_one_it_ended() -> None:
    watches = SettleWatches()
    first = Watch("DITHER")
    assert watches.feed([("GuidingDithered", {}), ("SettleBegin", {})], first) == []
    second = Watch("DITHER")
    # The second dither's step ends the first's settle, then begins its own.
    ended = watches.feed([done_failed("a new settle began"), ("GuidingDithered", {}),
                          ("SettleBegin", {})], second)
    assert ended == [first] and not first.ok and first.reason == "a new settle began"
    assert watches.feed([("Settling", {})]) == []
    assert watches.feed([DONE_OK]) == [second] and second.ok and second.reason == ""


def test_a_guide_waits_for_the_settle_begun_after_calibration() -> None:
    watches = SettleWatches()
    guide = Watch("GUIDING")
    assert watches.feed([], guide) == []  # looping first: no settle yet
    assert watches.feed([("StartCalibration", {}), ("Calibrating", {})]) == []
    assert watches.feed([("CalibrationComplete", {}), ("StartGuiding", {}),
                         ("SettleBegin", {})]) == []
    assert guide.serial == 1
    assert watches.feed([DONE_OK]) == [guide] and guide.ok


def test_a_failed_calibration_or_no_star_or_a_stop_ends_a_waiting_guide() -> None:
    watches = SettleWatches()
    calibrating = Watch("CALIBRATION")
    watches.feed([], calibrating)
    ended = watches.feed([("CalibrationFailed", {"Reason": "the mount refused a guide "
                                                            "pulse: went Alert"}),
                          done_failed("calibration failed")])
    assert ended == [calibrating]
    assert calibrating.reason == "calibration failed: the mount refused a guide pulse: " \
                                 "went Alert"
    starless = Watch("GUIDING")
    watches.feed([], starless)
    assert watches.feed([done_failed("no usable guide star: no star in the frame")]) \
        == [starless]
    assert starless.reason == "no usable guide star: no star in the frame"
    stopped = Watch("GUIDING")
    watches.feed([], stopped)
    assert watches.feed([("LoopingExposuresStopped", {})]) == [stopped]
    assert stopped.reason == "guiding stopped" and watches.waiting == []


NAMES = st.sampled_from(["SettleBegin", "Settling", "SettleDone", "CalibrationFailed",
                         "GuidingStopped", "LoopingExposuresStopped", "GuideStep", "StarLost"])
EVENTS = st.lists(st.tuples(NAMES, st.fixed_dictionaries(
    {"Status": st.sampled_from([0, 1]), "Error": st.text(max_size=5),
     "Reason": st.text(max_size=5)})), max_size=6)


@given(st.lists(st.tuples(EVENTS, st.booleans()), max_size=12))
def test_any_events_end_each_watch_at_most_once_and_a_stop_ends_all(
        steps: list[tuple[list[tuple[str, dict[str, object]]], bool]]) -> None:
    watches = SettleWatches()
    made: list[Watch] = []
    ended: list[Watch] = []
    for events, asks in steps:
        watch = Watch("DITHER") if asks else None
        if watch is not None:
            made.append(watch)
        ended += watches.feed(events, watch)
    assert len(ended) == len({id(w) for w in ended})
    assert all(w.done for w in ended) and all(not w.done for w in watches.waiting)
    assert {id(w) for w in ended} | {id(w) for w in watches.waiting} == {id(w) for w in made}
    watches.feed([("GuidingStopped", {})])
    assert watches.waiting == []
