"""Issue 72 item 2: the watchdog's verdict (pure) fails closed. Any sequence of events gives a
verdict; a weather device unheard for the stale time is unsafe; Alert is unsafe; a deleted
device, a status Busy or Idle past the stale time, a device that never appears, no device
named, a heartbeat that stops: each unsafe, with its cause naming the device, and acted on
only past the threshold.

Issue 79 item 2: a lapse (the device deleted, disconnected, defined again by a restarted
driver, or WEATHER_STATUS Idle, once it has reported) is no verdict: unsafe at once, and safe
only after a fresh WEATHER_STATUS Ok has lasted the resume time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.watchdog.verdict import Event
from indipyagents.watchdog.verdict import Heartbeat
from indipyagents.watchdog.verdict import Light
from indipyagents.watchdog.verdict import Settings
from indipyagents.watchdog.verdict import Tick
from indipyagents.watchdog.verdict import Verdict
from indipyagents.watchdog.verdict import WeatherDefined
from indipyagents.watchdog.verdict import WeatherDeleted
from indipyagents.watchdog.verdict import WeatherDisconnected
from indipyagents.watchdog.verdict import WeatherHeard
from indipyagents.watchdog.verdict import WeatherStatus

W = "Weather Simulator"
WATCHING = Settings(weather=W, trigger_weather=True, threshold=5, stale=60)

times = st.floats(min_value=0, max_value=1000, allow_nan=False)
states = st.sampled_from(["Idle", "Ok", "Busy", "Alert"])
devices = st.sampled_from([W, "Other Weather"])
events: st.SearchStrategy[Event] = st.one_of(
    st.builds(WeatherStatus, devices, states, times),
    st.builds(WeatherHeard, devices, times),
    st.builds(WeatherDeleted, devices, st.sampled_from([None, "WEATHER_STATUS", "CONNECTION",
                                                        "X"]), times),
    st.builds(WeatherDefined, devices, st.sampled_from(["CONNECTION", "WEATHER_STATUS"]), times),
    st.builds(WeatherDisconnected, devices, times),
    st.builds(Heartbeat, times),
    st.builds(Tick, times))
settings = st.builds(Settings, weather=st.sampled_from([W, ""]), trigger_weather=st.booleans(),
                     trigger_client=st.booleans(),
                     threshold=st.floats(min_value=0, max_value=100),
                     heartbeat=st.floats(min_value=0, max_value=100),
                     stale=st.floats(min_value=10, max_value=300),
                     resume=st.floats(min_value=0, max_value=600))


@given(settings, st.lists(events, max_size=30), times)
def test_any_sequence_of_events_gives_a_verdict(chosen: Settings, fed: list[Event],
                                                now: float) -> None:
    """Whatever comes in whatever order, the verdict is one of the lights, a cause exactly
    when it is unsafe and known, acting only with a cause, and Ok only without one."""
    verdict = Verdict(chosen, 0.0)
    for event in fed:
        verdict.feed(event)
        judgement = verdict.judge(event.at)
        assert judgement.safe_light in Light
        assert (judgement.cause is not None) == (judgement.safe_light in (Light.BUSY,
                                                                          Light.ALERT))
        assert not judgement.act or judgement.cause is not None
        assert not judgement.safe or judgement.cause is None
    final = verdict.judge(now)
    assert final.safe_light in Light


@given(st.lists(events, max_size=30), st.floats(min_value=0, max_value=1000))
def test_nothing_heard_for_the_stale_time_is_unsafe(fed: list[Event], later: float) -> None:
    """After any events, once the weather device has been silent for the stale time (only
    ticks and heartbeats since), the verdict is unsafe, whatever it said before."""
    verdict = Verdict(WATCHING, 0.0)
    for event in fed:
        verdict.feed(event)
    last = max([event.at for event in fed] + [0.0])
    verdict.feed(Tick(last + later / 2))
    judgement = verdict.judge(last + WATCHING.stale + later)
    assert not judgement.safe
    assert judgement.cause is not None and judgement.cause.device == W


@given(st.lists(events, max_size=20), times)
def test_alert_is_unsafe(fed: list[Event], gap: float) -> None:
    """WEATHER_STATUS Alert is unsafe at once (indilib's meaning), whatever came before, and
    acts once the threshold has passed."""
    verdict = Verdict(WATCHING, 0.0)
    for event in fed:
        verdict.feed(event)
    at = max([event.at for event in fed] + [0.0]) + gap
    verdict.feed(WeatherStatus(W, "Alert", at))
    judgement = verdict.judge(at)
    assert not judgement.safe and judgement.cause is not None
    assert verdict.judge(at + WATCHING.threshold).act


def test_ok_is_safe_and_alert_waits_for_the_threshold() -> None:
    """Ok is safe; Alert is Busy (unsafe, within the threshold), then Alert and acting."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 1.0))
    assert verdict.judge(2.0).safe_light is Light.OK
    verdict.feed(WeatherStatus(W, "Alert", 10.0))
    busy = verdict.judge(12.0)
    assert busy.safe_light is Light.BUSY and not busy.act
    assert busy.cause is not None
    assert busy.cause.text == "weather 'Weather Simulator': WEATHER_STATUS is Alert"
    acting = verdict.judge(15.0)
    assert acting.safe_light is Light.ALERT and acting.act and acting.weather is Light.ALERT


def test_alert_that_clears_within_the_threshold_does_not_act() -> None:
    """As indi_watchdog's timer: an Alert that leaves before the threshold does nothing."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Alert", 1.0))
    verdict.feed(WeatherStatus(W, "Ok", 4.0))
    judgement = verdict.judge(7.0)
    assert judgement.safe and not judgement.act


def test_a_deleted_device_is_unsafe_at_once() -> None:
    """The driver killed (indiserver deletes its devices) is unsafe from that moment, and a
    deleted WEATHER_STATUS (disconnected) too; the cause says which."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 1.0))
    verdict.feed(WeatherDeleted(W, None, 2.0))
    judgement = verdict.judge(2.0)
    assert judgement.cause is not None and "deleted" in judgement.cause.text
    assert verdict.judge(7.0).act
    again = Verdict(WATCHING, 0.0)
    again.feed(WeatherStatus(W, "Ok", 1.0))
    again.feed(WeatherDeleted(W, "WEATHER_STATUS", 2.0))
    cause = again.judge(2.0).cause
    assert cause is not None and "WEATHER_STATUS was deleted" in cause.reason


def test_busy_or_idle_past_the_stale_time_is_unsafe() -> None:
    """A warning (Busy) or no verdict (Idle) is not yet unsafe, but is after the stale time,
    even while the device keeps talking."""
    for state in ("Busy", "Idle"):
        verdict = Verdict(WATCHING, 0.0)
        verdict.feed(WeatherStatus(W, state, 1.0))
        for at in range(2, 61, 5):
            verdict.feed(WeatherHeard(W, float(at)))
        assert verdict.judge(60.0).cause is None
        verdict.feed(WeatherHeard(W, 61.0))
        cause = verdict.judge(61.0).cause
        assert cause is not None and f"has been {state}" in cause.reason


def test_a_device_that_never_appears_is_unsafe_after_the_stale_time() -> None:
    """Unknown (Idle: counts as unsafe, not acted on) until the stale time from the start,
    then unsafe; naming another device starts the wait again."""
    verdict = Verdict(WATCHING, 0.0)
    first = verdict.judge(30.0)
    assert first.safe_light is Light.IDLE and not first.safe and first.cause is None
    cause = verdict.judge(60.0).cause
    assert cause is not None and "has not appeared" in cause.reason
    verdict.configure(Settings(weather="Other", trigger_weather=True, threshold=5, stale=60),
                      100.0)
    assert verdict.judge(120.0).cause is None
    cause = verdict.judge(160.0).cause
    assert cause is not None and cause.device == "Other"


def test_no_weather_device_named_is_unsafe() -> None:
    """TRIGGER_WEATHER with ACTIVE_WEATHER empty watches nothing: unsafe, said."""
    verdict = Verdict(Settings(weather="", trigger_weather=True, stale=60), 0.0)
    cause = verdict.judge(0.0).cause
    assert cause is not None and "no weather device named" in cause.reason


def test_a_quiet_device_is_asked_for_a_refresh_before_it_goes_stale() -> None:
    """After half the stale time of silence the verdict asks for WEATHER_REFRESH, once per
    half stale time; an answer keeps it safe."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 0.0))
    assert not verdict.judge(29.0).refresh
    assert verdict.judge(30.0).refresh
    verdict.refresh_asked(30.0)
    assert not verdict.judge(31.0).refresh
    verdict.feed(WeatherHeard(W, 31.0))
    assert verdict.judge(80.0).safe


def test_the_heartbeat_acts_at_its_timeout() -> None:
    """TRIGGER_CLIENT with a heartbeat of 5 s: safe while beats come, unsafe and acting 5 s
    after the last one (the value is the threshold), safe again with the next beat."""
    verdict = Verdict(Settings(weather=W, trigger_client=True, heartbeat=5), 0.0)
    verdict.feed(Heartbeat(1.0))
    assert verdict.judge(5.0).client is Light.OK
    judgement = verdict.judge(6.0)
    assert judgement.act and judgement.client is Light.ALERT
    assert judgement.cause is not None and judgement.cause.source == "client"
    verdict.feed(Heartbeat(7.0))
    assert verdict.judge(7.0).safe


def test_the_unsafe_period_keeps_its_start_across_causes() -> None:
    """An Alert, then the driver killed: the threshold counts from the Alert."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Alert", 1.0))
    verdict.judge(1.0)
    verdict.feed(WeatherDeleted(W, None, 4.0))
    assert verdict.judge(6.0).act


def test_safe_since_counts_from_the_last_unsafe() -> None:
    """`safe_since` is when the verdict last became safe (the resume's clock)."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Alert", 1.0))
    assert verdict.judge(10.0).safe_since is None
    verdict.feed(WeatherStatus(W, "Ok", 11.0))
    assert verdict.judge(11.0).safe_since == 11.0
    assert verdict.judge(20.0).safe_since == 11.0


# -- issue 79 item 2: a lapse is no verdict ------------------------------------------------

#: The lapses, each as the events that make it at a time (a restarted driver as measured under
#: both servers: the device deleted, then defined again with CONNECTION Off).
LAPSES = {
    "killed": lambda at: [WeatherDeleted(W, None, at)],
    "restarted": lambda at: [WeatherDeleted(W, None, at), WeatherDefined(W, "CONNECTION", at),
                             WeatherDisconnected(W, at)],
    "disconnected": lambda at: [WeatherDisconnected(W, at)],
    "status deleted": lambda at: [WeatherDeleted(W, "WEATHER_STATUS", at)],
    "idle": lambda at: [WeatherStatus(W, "Idle", at)],
}
lapses = st.sampled_from(sorted(LAPSES))
watching = st.builds(Settings, weather=st.just(W), trigger_weather=st.just(True),
                     trigger_client=st.booleans(),
                     threshold=st.floats(min_value=0, max_value=100),
                     heartbeat=st.floats(min_value=0, max_value=100),
                     stale=st.floats(min_value=10, max_value=300),
                     resume=st.floats(min_value=0, max_value=600))


def _lapsed(chosen: Settings, lapse: str, at: float) -> Verdict:
    """A verdict whose device reported Ok, then lapsed at `at`."""
    verdict = Verdict(chosen, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 0.0))
    for event in LAPSES[lapse](at):
        verdict.feed(event)
    return verdict


@given(watching, lapses, times, st.lists(events, max_size=40))
def test_after_a_lapse_safe_only_once_ok_has_lasted_the_resume_time(
        chosen: Settings, lapse: str, at: float, fed: list[Event]) -> None:
    """After any lapse, whatever follows in whatever order: each time the verdict says safe,
    WEATHER_STATUS Ok has been reported since the lapse, with no other state, deletion or
    disconnection of the device since, for at least the resume time."""
    verdict = _lapsed(chosen, lapse, at)
    assert not verdict.judge(at).safe
    clock, ok_from = at, None  # the model: when the unbroken Ok began, None while not Ok
    for event in fed:
        clock = max(clock, event.at)
        if not isinstance(event, Heartbeat | Tick) and event.device == W:
            if isinstance(event, WeatherStatus):
                ok_from = (ok_from if ok_from is not None else clock) if event.state == "Ok" \
                    else None
            elif isinstance(event, WeatherDisconnected) or (
                    isinstance(event, WeatherDeleted) and event.vector in (None,
                                                                           "WEATHER_STATUS")):
                ok_from = None
        verdict.feed(event)
        judgement = verdict.judge(clock)
        if judgement.safe:
            assert ok_from is not None, (lapse, fed)
            assert clock >= ok_from + chosen.resume, (lapse, ok_from, clock, fed)
            assert judgement.safe_since is not None and judgement.safe_since >= ok_from


@given(watching, lapses, times, st.lists(events.filter(
    lambda event: not (isinstance(event, WeatherStatus) and event.state == "Ok")), max_size=40))
def test_no_way_back_to_safe_without_a_fresh_ok(chosen: Settings, lapse: str, at: float,
                                                fed: list[Event]) -> None:
    """A dead or restarted station, whatever else it sends (its definitions again, CONNECTION,
    other vectors, Busy, Idle, Alert), is never safe without a WEATHER_STATUS Ok after its
    lapse."""
    verdict = _lapsed(chosen, lapse, at)
    for event in fed:
        verdict.feed(event)
        assert not verdict.judge(event.at).safe, (lapse, fed)
    assert not verdict.judge(at + 10_000).safe


@given(lapses, st.floats(min_value=0, max_value=600), st.floats(min_value=0, max_value=100))
def test_a_fresh_ok_for_the_resume_time_is_safe_again(lapse: str, resume: float,
                                                      after: float) -> None:
    """Not unsafe for ever: the station reporting Ok again (as indilib's does, reconnected:
    WEATHER_STATUS defined Ok, then WEATHER_PARAMETERS every few seconds) is unsafe until the
    resume time has passed, and safe from then, since its Ok began."""
    chosen = Settings(weather=W, trigger_weather=True, threshold=5, stale=60, resume=resume)
    verdict = _lapsed(chosen, lapse, 10.0)
    ok = 10.0 + after
    verdict.feed(WeatherHeard(W, ok))  # CONNECTION On
    verdict.feed(WeatherDefined(W, "WEATHER_STATUS", ok))
    verdict.feed(WeatherStatus(W, "Ok", ok))
    at = ok
    while at + 5 < ok + resume:
        at += 5
        verdict.feed(WeatherHeard(W, at))
        judgement = verdict.judge(at)
        assert not judgement.safe and judgement.cause is not None
    judgement = verdict.judge(ok + resume)
    assert judgement.safe, judgement
    assert judgement.safe_since == ok


def test_the_measured_restart_is_unsafe_at_once_and_acts_past_the_threshold() -> None:
    """As measured with indilib's weather simulator killed under indiserver or our server:
    the device deleted at 0.02 s, the restarted driver's CONNECTION defined Off at 0.06 s (no
    WEATHER_STATUS). Unsafe from the deletion, the reason following what is known, acting
    past the threshold counted from the deletion; reconnected and Ok, still unsafe for the
    resume time (the reason says so), then safe."""
    chosen = Settings(weather=W, trigger_weather=True, threshold=5, stale=10, resume=30)
    verdict = Verdict(chosen, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 0.0))
    assert verdict.judge(0.0).safe
    verdict.feed(WeatherDeleted(W, None, 0.02))
    cause = verdict.judge(0.02).cause
    assert cause is not None and cause.reason.startswith("the device was deleted")
    verdict.feed(WeatherDefined(W, "CONNECTION", 0.06))
    verdict.feed(WeatherDisconnected(W, 0.06))
    judgement = verdict.judge(0.5)
    assert judgement.cause is not None and not judgement.act
    assert judgement.cause.reason == "the device is disconnected (CONNECTION Off)"
    for at in range(1, 5):
        verdict.feed(WeatherHeard(W, float(at)))  # the new driver's other vectors
    assert verdict.judge(5.02).act
    verdict.feed(WeatherHeard(W, 8.0))  # CONNECTION On
    verdict.feed(WeatherDefined(W, "WEATHER_STATUS", 8.0))
    verdict.feed(WeatherStatus(W, "Ok", 8.0))
    judgement = verdict.judge(8.5)
    assert judgement.act and judgement.cause is not None
    assert judgement.cause.reason.startswith("WEATHER_STATUS Ok again but not yet for 30 s")
    for at in range(13, 38, 5):
        verdict.feed(WeatherHeard(W, float(at)))
    assert not verdict.judge(37.9).safe
    judgement = verdict.judge(38.0)
    assert judgement.safe and judgement.safe_since == 8.0


def listed_again(verdict: Verdict, at: float) -> None:
    """The station's definitions listed again at `at` (another client's getProperties):
    CONNECTION heard, WEATHER_STATUS Ok."""
    for vector in ("CONNECTION", "WEATHER_STATUS"):
        verdict.feed(WeatherDefined(W, vector, at))
        verdict.feed(WeatherStatus(W, "Ok", at) if vector == "WEATHER_STATUS"
                     else WeatherHeard(W, at))


def test_definitions_seen_again_while_defined_are_no_lapse() -> None:
    """indiserver sends every client the definitions another client's getProperties asks for
    (CONNECTION On, WEATHER_STATUS Ok again, measured): a safe verdict stays safe."""
    verdict = Verdict(Settings(weather=W, trigger_weather=True, stale=10, resume=30), 0.0)
    for vector in ("CONNECTION", "WEATHER_STATUS"):
        verdict.feed(WeatherDefined(W, vector, 0.0))
    verdict.feed(WeatherStatus(W, "Ok", 0.0))
    assert verdict.judge(1.0).safe
    listed_again(verdict, 3.0)
    judgement = verdict.judge(3.0)
    assert judgement.safe and judgement.safe_since == 1.0


def test_idle_after_a_report_is_unsafe_at_once() -> None:
    """WEATHER_STATUS Idle from a station that has reported is no reading: unsafe at once
    (before any report it is pending, as the stale test above shows)."""
    verdict = Verdict(WATCHING, 0.0)
    verdict.feed(WeatherStatus(W, "Ok", 1.0))
    verdict.feed(WeatherStatus(W, "Idle", 2.0))
    cause = verdict.judge(2.0).cause
    assert cause is not None and cause.reason == "WEATHER_STATUS is Idle (no reading)"


def test_a_silent_gap_restarts_the_resume_time() -> None:
    """After a lapse, an Ok that went unheard for the stale time is not an unbroken report:
    the resume time counts again from when the device is heard again."""
    chosen = Settings(weather=W, trigger_weather=True, stale=10, resume=30)
    verdict = _lapsed(chosen, "disconnected", 1.0)
    verdict.feed(WeatherStatus(W, "Ok", 2.0))
    verdict.feed(WeatherHeard(W, 20.0))  # 18 s of silence
    verdict.feed(WeatherHeard(W, 29.0))
    assert not verdict.judge(32.0).safe
    verdict.feed(WeatherHeard(W, 38.0))
    verdict.feed(WeatherHeard(W, 47.0))
    assert verdict.judge(50.0).safe


def test_a_watch_begun_in_the_middle_of_a_listing_is_no_lapse() -> None:
    """Issue 89 item 1's flake: the watch begins after a listing's CONNECTION (the link joined,
    or ACTIVE_WEATHER changed, meanwhile), so WEATHER_STATUS Ok is heard first; the next
    listing's CONNECTION is not a restarted driver's: safe. A deletion and a definition
    afresh after it still are (unsafe, and for the resume time after a fresh Ok)."""
    verdict = Verdict(Settings(weather=W, trigger_weather=True, stale=10, resume=30), 0.0)
    verdict.feed(WeatherDefined(W, "WEATHER_STATUS", 0.0))
    verdict.feed(WeatherStatus(W, "Ok", 0.0))
    assert verdict.judge(0.0).safe
    listed_again(verdict, 1.0)
    judgement = verdict.judge(1.0)
    assert judgement.safe and judgement.safe_since == 0.0, judgement
    verdict.feed(WeatherDeleted(W, "CONNECTION", 2.0))  # alone: no verdict lost yet
    assert verdict.judge(2.0).safe
    verdict.feed(WeatherDefined(W, "CONNECTION", 3.0))  # CONNECT On, after its deletion
    verdict.feed(WeatherHeard(W, 3.0))
    cause = verdict.judge(3.0).cause
    assert cause is not None and "defined again" in cause.reason
    verdict.feed(WeatherStatus(W, "Ok", 4.0))
    assert not verdict.judge(33.9).safe


@given(st.lists(st.tuples(st.sampled_from(["CONNECTION", "WEATHER_STATUS", "heard", "Ok"]),
                          st.floats(min_value=0, max_value=9)), max_size=30))
def test_definitions_in_any_order_with_no_deletion_are_no_lapse(
        fed: list[tuple[str, float]]) -> None:
    """A station never deleted, disconnected or Idle, heard within the stale time, reporting
    only Ok: whatever order its definitions come in (listings begun before the watch, cut
    anywhere), it is safe from its first Ok on, since that Ok."""
    verdict = Verdict(Settings(weather=W, trigger_weather=True, stale=10, resume=600), 0.0)
    clock, first_ok = 0.0, None
    for what, gap in fed:
        clock += gap
        if what in ("CONNECTION", "WEATHER_STATUS"):
            verdict.feed(WeatherDefined(W, what, clock))
        if what in ("WEATHER_STATUS", "Ok"):
            verdict.feed(WeatherStatus(W, "Ok", clock))
            first_ok = clock if first_ok is None else first_ok
        else:
            verdict.feed(WeatherHeard(W, clock))
        judgement = verdict.judge(clock)
        if first_ok is not None:
            assert judgement.safe and judgement.safe_since == first_ok, (fed, judgement)
