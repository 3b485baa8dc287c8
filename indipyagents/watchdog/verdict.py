"""The watchdog's verdict as pure code: events in (what was heard of the weather device, the
client's heartbeat, the clock), a `Judgement` out (safe or not, why, since when).

It fails closed, where indilib's ``indi_watchdog`` acts only on a change to Alert it hears:

- WEATHER_STATUS Alert is unsafe (indilib's meaning: a critical parameter in its danger zone);
- the weather device deleted (its driver died or was stopped: indiserver sends a device-wide
  delProperty), or its WEATHER_STATUS deleted (disconnected), is unsafe at once;
- a lapse is no verdict: once the device has reported (WEATHER_STATUS Ok, Busy or Alert), its
  deletion, CONNECTION Off (`WeatherDisconnected`), a WEATHER_STATUS or CONNECTION defined
  afresh after a deletion (`WeatherDefined`: a restarted driver) or WEATHER_STATUS Idle is
  unsafe at once, and stays so until WEATHER_STATUS has been Ok without a break for
  `Settings.resume` seconds (WATCHDOG_RESUME_VALUE). Our server and indilib's indiserver both
  restart a killed driver within a second, and the new one defines CONNECTION Off with no
  WEATHER_STATUS: without this, the station's death read as "safe again" and waited for the
  stale time. A definition seen again while defined is not a lapse: indiserver sends every
  client the definitions any client's getProperties asks for (measured: CONNECTION On and
  WEATHER_STATUS Ok again at each client's arrival), so only what it says counts. Nor is a
  definition first seen since the watch began (the agent's link joined, or ACTIVE_WEATHER
  changed, in the middle of such a listing: WEATHER_STATUS Ok heard, then the next listing's
  CONNECTION): only one after its deletion is afresh;
- nothing heard from the device for `Settings.stale` seconds is unsafe: any of its traffic
  counts, not only WEATHER_STATUS, because indilib's weather drivers send WEATHER_STATUS only
  when a light changes but WEATHER_PARAMETERS every WEATHER_UPDATE period (measured with
  ``indi_simulator_weather``: WEATHER_PARAMETERS every 5 s at PERIOD 5, no WEATHER_STATUS);
  so that a stale time under the device's period does not cry wolf, the verdict asks for
  WEATHER_REFRESH after half the stale time of silence (`Judgement.refresh`), and the watch
  sends it when the device defines it;
- WEATHER_STATUS Busy (a warning), or Idle or not defined before the device ever reported, for
  longer than the stale time is unsafe;
- a named device that never appears within the stale time of the start (or of ACTIVE_WEATHER's
  change) is unsafe, and so is no device named while TRIGGER_WEATHER is on;
- the heartbeat as indi_watchdog's TRIGGER_CLIENT: no WATCHDOG_HEARTBEAT set for its value's
  seconds is unsafe, and acts at once (the value is both the timeout and the threshold).

A weather cause acts after WATCHDOG_WEATHER_VALUE seconds of unsafe (`Settings.threshold`);
until then the SAFE light is Busy. Times are the caller's clock (monotonic seconds); no I/O,
no asyncio, so any sequence of events is tested with hypothesis. A duration is over when
``now >= start + duration`` (never ``now - start``, which rounding can leave a hair short).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from enum import Enum

from indipyagents import defaults

__all__ = ["DEFINING", "Cause", "Event", "Heartbeat", "Judgement", "Light", "Settings", "Tick", "Verdict",
           "WeatherDefined", "WeatherDeleted", "WeatherDisconnected", "WeatherHeard",
           "WeatherStatus"]

#: The vectors whose definition afresh says a driver (re)started.
DEFINING = ("CONNECTION", "WEATHER_STATUS")


class Light(str, Enum):
    """The INDI light states the status property shows."""

    IDLE = "Idle"
    OK = "Ok"
    BUSY = "Busy"
    ALERT = "Alert"


@dataclass(frozen=True, slots=True)
class WeatherStatus:
    """WEATHER_STATUS of `device` defined or set, in `state` (Idle, Ok, Busy, Alert)."""

    device: str
    state: str
    at: float


@dataclass(frozen=True, slots=True)
class WeatherHeard:
    """Any other vector of `device` defined or set: it is alive."""

    device: str
    at: float


@dataclass(frozen=True, slots=True)
class WeatherDeleted:
    """`device` deleted (`vector` None: the whole device, its driver gone) or one vector."""

    device: str
    vector: str | None
    at: float


@dataclass(frozen=True, slots=True)
class WeatherDefined:
    """`vector` (CONNECTION or WEATHER_STATUS) of `device` defined (defProperty); fed before
    what the definition says (`WeatherStatus`, `WeatherDisconnected`). A lapse only after the
    vector's (or its device's) deletion: a restarted driver."""

    device: str
    vector: str
    at: float


@dataclass(frozen=True, slots=True)
class WeatherDisconnected:
    """CONNECTION of `device` defined or set Off: a disconnected station reads nothing."""

    device: str
    at: float


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A client set WATCHDOG_HEARTBEAT (or the trigger): the heartbeat's timer starts again."""

    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """The clock moved on."""

    at: float


Event = (WeatherStatus | WeatherHeard | WeatherDeleted | WeatherDefined | WeatherDisconnected
         | Heartbeat | Tick)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the face's vectors say: the weather device (ACTIVE_WEATHER, "" none), the
    triggers, WATCHDOG_WEATHER_VALUE, WATCHDOG_HEARTBEAT_VALUE (0 off), WATCHDOG_STALE_VALUE,
    WATCHDOG_RESUME_VALUE (how long Ok must last after a lapse)."""

    weather: str = defaults.WEATHER
    trigger_weather: bool = False
    trigger_client: bool = False
    threshold: float = 0.0
    heartbeat: float = 0.0
    stale: float = 120.0
    resume: float = 600.0


@dataclass(frozen=True, slots=True)
class Cause:
    """Why it is unsafe: `source` "weather" or "client", the `device` concerned, the reason
    in words, and `since` when that became true (the threshold counts from there)."""

    source: str
    device: str
    reason: str
    since: float

    @property
    def text(self) -> str:
        """The reason naming the device: ``weather 'Weather Simulator': ...``."""
        if self.source == "client":
            return f"client heartbeat: {self.reason}"
        return f"weather {self.device!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict at `at`: the WEATHER and CLIENT lights, the SAFE light (Ok safe, Busy
    unsafe within the threshold, Alert unsafe and acting, Idle not known yet or nothing
    watched), the `cause` (None when safe), whether to act (`act`: the threshold passed),
    whether to ask the weather device for WEATHER_REFRESH, and since when it has been safe
    (after a lapse: since WEATHER_STATUS turned Ok, the resume time having been waited)."""

    at: float
    weather: Light
    client: Light
    safe_light: Light
    cause: Cause | None
    act: bool
    refresh: bool
    safe_since: float | None

    @property
    def safe(self) -> bool:
        """Only Ok is safe: Idle (never yet known) counts as unsafe."""
        return self.safe_light is Light.OK


class Verdict:
    """The state machine: `feed` it events, read `judge(now)`.

    Events may come in any order and any time: a time earlier than one already seen is taken
    as that one (the clock never runs backwards here)."""

    def __init__(self, settings: Settings, now: float) -> None:
        self.settings = settings
        self.now = now
        self._watch_start = now  # the named device is expected from here
        self._status: str | None = None  # WEATHER_STATUS's state, None: not defined
        self._status_since = now  # when the status (or its absence) began
        self._heard: float | None = None  # when anything was last heard from the device
        self._deleted: tuple[str | None, float] | None = None  # what was deleted, when
        self._reported = False  # WEATHER_STATUS Ok, Busy or Alert heard: a lapse is news
        # Which of DEFINING were deleted (alone or with the device) since last defined: their
        # next definition is a restarted driver's. Not "not yet defined": a watch that begins
        # in the middle of a listing hears WEATHER_STATUS before the next listing's CONNECTION.
        self._gone: set[str] = set()
        self._lapse: tuple[str, float] | None = None  # no verdict: why, since when
        self._resumed: float | None = None  # a lapse ended: when its Ok began
        self._beat = now
        self._asked: float | None = None  # when WEATHER_REFRESH was last asked for
        self._weather_since: float | None = None  # the weather's unsafe period began
        self._safe_since: float | None = None
        self._other_unsafe: float | None = None  # last judged unsafe but for a lapse

    # -- input ---------------------------------------------------------------------------

    def configure(self, settings: Settings, now: float) -> None:
        """New settings: a new weather device (or the trigger turned on) is expected within
        the stale time from now, and forgets what was heard of the old one; turning the
        client trigger on or the heartbeat's value starts its timer again."""
        now = self._clock(now)
        old = self.settings
        self.settings = settings
        if settings.weather != old.weather or (settings.trigger_weather
                                               and not old.trigger_weather):
            self._watch_start = now
            if settings.weather != old.weather:
                self._status = None
                self._status_since = now
                self._heard = None
                self._deleted = None
                self._asked = None
                self._reported = False
                self._gone.clear()
                self._lapse = self._resumed = None
        if settings.trigger_client and (not old.trigger_client
                                        or settings.heartbeat != old.heartbeat):
            self._beat = now

    def feed(self, event: Event) -> None:
        """One event; those about another device than ACTIVE_WEATHER are ignored."""
        now = self._clock(event.at)
        self._lapse_over(now)
        if isinstance(event, Heartbeat):
            self._beat = now
            return
        if isinstance(event, Tick):
            return
        if event.device != self.settings.weather or not event.device:
            return
        if isinstance(event, WeatherDeleted):
            if event.vector is None:
                self._deleted = (None, now)
                self._gone.update(DEFINING)
                self._lapsed("the device was deleted (its driver died or was stopped)", now,
                             always=True)
            elif event.vector == "WEATHER_STATUS":
                self._deleted = ("WEATHER_STATUS", now)
                self._gone.add("WEATHER_STATUS")
                self._lapsed("WEATHER_STATUS was deleted (the device was disconnected)", now,
                             always=True)
            elif event.vector == "CONNECTION":
                self._gone.add("CONNECTION")
            return
        if self._lapse is not None and self._heard is not None \
                and now >= self._heard + self.settings.stale:
            self._status_since = now  # a silent gap: the Ok's clock starts again
        self._heard = now
        self._asked = None
        if self._deleted is not None and (self._deleted[0] is None
                                          or isinstance(event, WeatherStatus)):
            self._deleted = None  # the device is back (its driver restarted)
            self._status_since = now
        if isinstance(event, WeatherDefined):
            if event.vector in self._gone:
                self._gone.discard(event.vector)
                self._lapsed("it was defined again (its driver restarted) and reports "
                             "nothing yet", now)
        elif isinstance(event, WeatherDisconnected):
            self._lapsed("the device is disconnected (CONNECTION Off)", now)
            self._status, self._status_since = None, now
        elif isinstance(event, WeatherStatus):
            if event.state == "Idle":
                self._lapsed("WEATHER_STATUS is Idle (no reading)", now)
            elif event.state in ("Ok", "Busy", "Alert"):
                self._reported = True
            if event.state != self._status:
                self._status = event.state
                self._status_since = now

    def _lapsed(self, reason: str, now: float, *, always: bool = False) -> None:
        """No verdict from `now`: the status is forgotten, a fresh Ok must last the resume
        time. Before the device ever reported, only a deletion is one (`always`): a station
        being connected at the start is pending, its stale time running."""
        if not (always or self._reported):
            return
        since = now if self._lapse is None else self._lapse[1]
        self._lapse, self._resumed = (reason, since), None
        self._status, self._status_since = None, now

    def _lapse_over(self, now: float) -> None:
        """The lapse ends once WEATHER_STATUS has been Ok for the resume time, heard
        within the stale time all along (a silent gap is no report)."""
        if self._lapse is None or self._status != "Ok" or self._heard is None:
            return
        ok_from = self._status_since
        if now >= ok_from + self.settings.resume and now < self._heard + self.settings.stale:
            self._lapse, self._resumed = None, ok_from

    def refresh_asked(self, now: float) -> None:
        """The watch sent WEATHER_REFRESH: not asked again before another half stale time."""
        self._asked = self._clock(now)

    def _clock(self, at: float) -> float:
        self.now = max(self.now, at)
        return self.now

    # -- output --------------------------------------------------------------------------

    def judge(self, now: float) -> Judgement:
        """The verdict at `now` (also a `Tick`)."""
        now = self._clock(now)
        self._lapse_over(now)
        settings = self.settings
        weather_cause = self._weather_cause(now) if settings.trigger_weather else None
        weather_pending = settings.trigger_weather and weather_cause is None and \
            self._status != "Ok"
        if weather_cause is None:
            self._weather_since = None
        else:
            # One unsafe period, whatever its causes in turn: the threshold counts from its
            # start, so a cause that changes (Alert, then the driver killed) does not reset it.
            if self._weather_since is None:
                self._weather_since = min(weather_cause.since, now)
            weather_cause = replace(weather_cause, since=self._weather_since)
        client_cause = self._client_cause(now)
        weather_act = weather_cause is not None and \
            now >= weather_cause.since + settings.threshold
        if weather_cause is None:
            weather = Light.IDLE if (not settings.trigger_weather or weather_pending) else Light.OK
        else:
            weather = Light.ALERT if weather_act else Light.BUSY
        if not settings.trigger_client or settings.heartbeat <= 0:
            client = Light.IDLE
        else:
            client = Light.OK if client_cause is None else Light.ALERT
        cause = client_cause or weather_cause
        act = client_cause is not None or weather_act
        if act:
            safe_light = Light.ALERT
        elif cause is not None:
            safe_light = Light.BUSY
        elif weather_pending or (weather is Light.IDLE and client is Light.IDLE):
            safe_light = Light.IDLE
        else:
            safe_light = Light.OK
        if client_cause is not None or (weather_cause is not None and self._lapse is None):
            self._other_unsafe = now
        if safe_light is Light.OK:
            if self._safe_since is None:
                # After a lapse the resume time was waited already: safe since its Ok began,
                # unless something else was unsafe since.
                self._safe_since = now if self._resumed is None else \
                    max(self._resumed, self._other_unsafe or self._resumed)
        else:
            self._safe_since = None
        self._resumed = None
        return Judgement(now, weather, client, safe_light, cause, act,
                         self._wants_refresh(now), self._safe_since)

    def _weather_cause(self, now: float) -> Cause | None:
        settings = self.settings
        name, stale = settings.weather, settings.stale
        if not name:
            return Cause("weather", "", "no weather device named (ACTIVE_WEATHER is empty)",
                         self._watch_start)
        if self._deleted is not None:
            what, when = self._deleted
            reason = ("the device was deleted (its driver died or was stopped)" if what is None
                      else "WEATHER_STATUS was deleted (the device was disconnected)")
            return Cause("weather", name, reason, when)
        if self._heard is None:
            if now >= self._watch_start + stale:
                return Cause("weather", name, f"the device has not appeared on the server "
                             f"in {stale:g} s", self._watch_start + stale)
            return None
        if self._lapse is not None and self._status in (None, "Idle"):
            # Said as the lapse says (a disconnected station is also silent: "disconnected"
            # is the news), not as the stale time later would.
            return Cause("weather", name, *self._lapse)
        if now >= self._heard + stale:
            return Cause("weather", name, f"nothing heard from it for {stale:g} s",
                         self._heard + stale)
        if self._status == "Alert":
            return Cause("weather", name, "WEATHER_STATUS is Alert", self._status_since)
        if self._lapse is not None:
            reason, since = self._lapse
            if self._status == "Ok":
                reason = (f"WEATHER_STATUS Ok again but not yet for {settings.resume:g} s "
                          f"(WATCHDOG_RESUME) after no verdict: {reason}")
            return Cause("weather", name, reason, since)
        if self._status != "Ok" and now >= self._status_since + stale:
            said = "not defined (is the device connected?)" if self._status is None \
                else f"{self._status}"
            return Cause("weather", name, f"WEATHER_STATUS has been {said} for {stale:g} s",
                         self._status_since + stale)
        return None

    def _client_cause(self, now: float) -> Cause | None:
        settings = self.settings
        if not settings.trigger_client or settings.heartbeat <= 0:
            return None
        if now >= self._beat + settings.heartbeat:
            return Cause("client", "", f"no heartbeat for {settings.heartbeat:g} s",
                         self._beat + settings.heartbeat)
        return None

    def _wants_refresh(self, now: float) -> bool:
        if self._heard is None or self._deleted is not None or not self.settings.weather:
            return False
        half = self.settings.stale / 2
        since = self._heard if self._asked is None else self._asked
        return now >= since + half
