"""The settle an INDI request waits for (`settlewatch`), pure: a dither's own settle, a guide's
settle begun frames later, what ends a request early; any events end each watch at most once,
and a stop ends them all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.guider.events import Calibrating
from indipyagents.guider.events import CalibrationComplete
from indipyagents.guider.events import CalibrationFailed
from indipyagents.guider.events import GuideEvent
from indipyagents.guider.events import GuideStep
from indipyagents.guider.events import GuidingDithered
from indipyagents.guider.events import GuidingStopped
from indipyagents.guider.events import LoopingExposuresStopped
from indipyagents.guider.events import SettleBegin
from indipyagents.guider.events import SettleDone
from indipyagents.guider.events import Settling
from indipyagents.guider.events import StarLost
from indipyagents.guider.events import StartCalibration
from indipyagents.guider.events import StartGuiding
from indipyagents.guider.settlewatch import SettleWatches
from indipyagents.guider.settlewatch import Watch

DONE_OK = SettleDone(status=0, total_frames=5, dropped_frames=0)


def done_failed(error: str) -> SettleDone:
    return SettleDone(status=1, error=error, total_frames=5, dropped_frames=0)


def test_a_dither_waits_for_its_own_settle_not_the_one_it_ended() -> None:
    watches = SettleWatches()
    first = Watch("DITHER")
    assert watches.feed([GuidingDithered(dx=1.0, dy=0.0), SettleBegin()], first) == []
    second = Watch("DITHER")
    # The second dither's step ends the first's settle, then begins its own.
    ended = watches.feed([done_failed("a new settle began"), GuidingDithered(dx=1.0, dy=0.0),
                          SettleBegin()], second)
    assert ended == [first] and not first.ok and first.reason == "a new settle began"
    assert watches.feed([Settling(distance=2.0, time=0.0, settle_time=10.0,
                                  star_locked=True)]) == []
    assert watches.feed([DONE_OK]) == [second] and second.ok and second.reason == ""


def test_a_guide_waits_for_the_settle_begun_after_calibration() -> None:
    watches = SettleWatches()
    guide = Watch("GUIDING")
    assert watches.feed([], guide) == []  # looping first: no settle yet
    assert watches.feed([StartCalibration(mount="M"), Calibrating(
        mount="M", direction="West", dist=0.0, dx=0.0, dy=0.0, pos=(1.0, 1.0), step=0,
        state="West step 0")]) == []
    assert watches.feed([CalibrationComplete(mount="M"), StartGuiding(), SettleBegin()]) == []
    assert guide.serial == 1
    assert watches.feed([DONE_OK]) == [guide] and guide.ok


def test_a_failed_calibration_or_no_star_or_a_stop_ends_a_waiting_guide() -> None:
    watches = SettleWatches()
    calibrating = Watch("CALIBRATION")
    watches.feed([], calibrating)
    ended = watches.feed([CalibrationFailed(mount="M", reason="the mount refused a guide "
                                                              "pulse: went Alert"),
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
    assert watches.feed([LoopingExposuresStopped()]) == [stopped]
    assert stopped.reason == "guiding stopped" and watches.waiting == []


TEXT = st.text(max_size=5)
EVENT: st.SearchStrategy[GuideEvent] = st.one_of(
    st.just(SettleBegin()),
    st.builds(Settling, distance=st.floats(0, 5), time=st.floats(0, 5), settle_time=st.just(3.0),
              star_locked=st.booleans()),
    st.builds(SettleDone, status=st.sampled_from([0, 1]), error=st.none() | TEXT,
              total_frames=st.just(5), dropped_frames=st.just(0)),
    st.builds(CalibrationFailed, mount=st.just("M"), reason=TEXT),
    st.just(GuidingStopped()), st.just(LoopingExposuresStopped()),
    st.builds(GuideStep, frame=st.just(1), time=st.just(1.0), mount=st.just("M"),
              dx=st.just(0.1), dy=st.just(0.1), ra_distance_raw=st.just(0.1),
              dec_distance_raw=st.just(0.1), ra_distance_guide=st.just(0.1),
              dec_distance_guide=st.just(0.1), star_mass=st.just(1000), snr=st.just(50.0),
              hfd=st.just(2.0), avg_dist=st.just(0.1)),
    st.builds(StarLost, frame=st.just(1), time=st.just(1.0), star_mass=st.just(0),
              snr=st.just(0.0), avg_dist=st.just(0.0), error_code=st.sampled_from([1, 2]),
              status=TEXT))
EVENTS = st.lists(EVENT, max_size=6)


@given(st.lists(st.tuples(EVENTS, st.booleans()), max_size=12))
def test_any_events_end_each_watch_at_most_once_and_a_stop_ends_all(
        steps: list[tuple[list[GuideEvent], bool]]) -> None:
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
    watches.feed([GuidingStopped()])
    assert watches.waiting == []
