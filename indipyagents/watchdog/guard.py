"""`Guard`: the watchdog's watching, a thin asyncio layer on the pure `Verdict`.

It reads the server through the agent's link (an INDI client: the weather device's
definitions, sets, deletions and messages become the verdict's events; CONNECTION Off and a
definition of WEATHER_STATUS or CONNECTION are events of their own, since a driver its server
restarted comes back so), ticks the verdict every `TICK` seconds, shows it on the face, and
acts on it: WEATHER_REFRESH when the verdict asks, the `Shutdown` once unsafe past the
threshold, a mount or dome found unparked while unsafe parked again (indilib's does so within
0.5 s: the tick), and AGENT_SAFETY.SAFE on the sequencer once the verdict has been safe for
WATCHDOG_RESUME_VALUE seconds after a shutdown that paused it. The link lost is the weather
unheard: the verdict fails closed on its own. The devices it needs (the weather station while
TRIGGER_WEATHER is on, the mount and dome it is to park) are kept connected by the rig's
`Keeper`: a driver restarted, or a server started again after a power cut, leaves them
disconnected, and a station nobody connects is a shutdown nobody asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from indipyclient import Client
from indipyclient.model import events as ev
from indipyclient.model.properties import PropertyVector
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipydriver.standard.role import RoleTasks

from ..rig.dome import IndiDome
from ..rig.keeper import Keeper
from ..rig.mount import IndiMount
from .face import WatchdogFace
from .shutdown import Shutdown
from .shutdown import Targets
from .verdict import DEFINING
from .verdict import Cause
from .verdict import Event
from .verdict import Heartbeat
from .verdict import Judgement
from .verdict import Verdict
from .verdict import WeatherDefined
from .verdict import WeatherDeleted
from .verdict import WeatherDisconnected
from .verdict import WeatherHeard
from .verdict import WeatherStatus

__all__ = ["LINK_RETRY", "REPARK_AFTER", "TICK", "Guard"]

logger = logging.getLogger(__name__)

#: Seconds between two looks at the verdict (indilib's watchdog re-parks within 0.5 s).
TICK = 0.5
#: Seconds after a failed park before the watchdog tries again while still unsafe.
REPARK_AFTER = 30.0
#: The link to the server kept up: 1, 2, 4... 10 s between tries, for ever.
LINK_RETRY = Retry(ExponentialBackoff(initial=1.0, cap=10.0, jitter="equal"))


class Guard:
    """The verdict fed from the link and acted on, for the face's device."""

    def __init__(self, face: WatchdogFace, shutdown: Shutdown, *,
                 clock: Callable[[], float] = time.monotonic,
                 repark_after: float = REPARK_AFTER) -> None:
        self.face = face
        self.shutdown = shutdown
        self.clock = clock
        self.repark_after = repark_after
        self.verdict = Verdict(face.settings(), clock())
        self._relink = asyncio.Event()
        self._shut_down = False  # a shutdown ran (or runs) and the resume is not yet due
        self._paused = False  # the sequencer was told UNSAFE
        self._cleared = False  # the verdict was safe since the last shutdown
        self.tasks = RoleTasks()  # the shutdown, the re-parks, the resume: stopped with run()
        self._running: asyncio.Task[None] | None = None
        self._reparking: dict[str, asyncio.Task[None]] = {}
        self._park_failed: dict[str, float] = {}
        self._said: str | None = None
        self._client: Client | None = None
        self.keeper = Keeper(self._needed, lambda: face.log)

    def _needed(self) -> list[str]:
        """The devices the watchdog reads or parks, as its settings say now."""
        settings, targets = self.verdict.settings, self.face.targets()
        return [name for name, needed in (
            (settings.weather, settings.trigger_weather),
            (targets.mount, "PARK_MOUNT" in targets.enabled),
            (targets.dome, "PARK_DOME" in targets.enabled)) if name and needed]

    def configure(self) -> None:
        """The face's settings changed (the face's `Watcher`): the verdict takes them."""
        before = self.verdict.settings.weather
        self.verdict.configure(self.face.settings(), self.clock())
        weather, client = self.verdict.settings.weather, self._client
        if weather != before and client is not None and weather in client:
            # A station named since is known from what the link holds, as at the link's
            # start: its WEATHER_STATUS Ok is not sent again until it changes, and a listing
            # under way must not read as its driver restarting.
            self._known(client, weather)
        self.keeper.look()  # a device named or needed since

    def heartbeat(self) -> None:
        """A client's heartbeat (the face's `Watcher`)."""
        self.verdict.feed(Heartbeat(self.clock()))

    @property
    def log(self) -> logging.Logger:
        return self.face.log

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch for ever: the link kept up, the verdict ticked."""
        self.tasks.logger = self.log
        try:
            await self.keeper.beside(("watchdog: reading the server", self._read()),
                                     ("watchdog: the verdict", self._tick()))
        finally:
            await self.tasks.stop()

    def relink(self) -> None:
        """WATCHDOG_SETTINGS named another server: the link is opened there at once, not
        after the connection attempt in hand (up to its connect timeout) and its backoff."""
        self._relink.set()

    async def _read(self) -> None:
        while True:
            self._relink.clear()
            reading = asyncio.create_task(LINK_RETRY.call_with_retry(
                self._read_once, errors=(ConnectionError, OSError)), name="watchdog link")
            relinked = asyncio.create_task(self._relink.wait(), name="watchdog relink")
            try:
                done, _ = await asyncio.wait({reading, relinked},
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reading, relinked):
                    task.cancel()
                await asyncio.gather(reading, relinked, return_exceptions=True)
            if reading in done:
                reading.result()  # a defect: the task group says it
            await self.face.link.close()

    async def _read_once(self) -> None:
        """One client of the server read until its address changes."""
        client = await self.face.link.client()
        stream = client.events()
        try:
            self.attach(client)
            while (client.host, client.port) == (self.face.link.host, self.face.link.port):
                try:
                    async with asyncio.timeout(TICK):
                        event = await anext(stream)
                except TimeoutError:
                    continue
                except StopAsyncIteration:
                    raise ConnectionError(f"the link to {client.host}:{client.port} gave "
                                          "up") from None
                self.hear(event)
        finally:
            stream.close()
            self._client = None

    def attach(self, client: Client) -> None:
        """`client` is the link from now on: what it holds of the weather device (a
        reconnect, an address change: it knew it before its events were read) is known."""
        self._client = client
        weather = self.verdict.settings.weather
        if weather and weather in client:
            self._known(client, weather)
        self.keeper.attach(client)

    def hear(self, event: ev.Event) -> None:
        """One of the link's events, in the order the client made them."""
        self.keeper.event(event)
        self._event(event)

    def _known(self, client: Client, device: str) -> None:
        """What the client holds of the device, as if it had just been defined."""
        now = self.clock()
        events: list[Event] = [WeatherHeard(device, now)]
        for name in DEFINING:
            vector = client.devices.vector(device, name)
            if vector is not None:
                events += [WeatherDefined(device, name, now),
                           *self._content(device, name, vector, now)]
        for event in events:
            self.verdict.feed(event)

    def _event(self, event: ev.Event) -> None:
        device = event.devicename
        if device is None or device != self.verdict.settings.weather:
            return
        now = self.clock()
        if isinstance(event, ev.delProperty):
            self.verdict.feed(WeatherDeleted(device, event.vectorname, now))
            return
        if not isinstance(event, ev.defVector | ev.setVector | ev.Message):
            return  # the client's own events (a timeout of a set it sent) are not the device
        if not isinstance(event, ev.VectorEvent):
            self.verdict.feed(WeatherHeard(device, now))
            return
        name = event.vectorname or ""
        if isinstance(event, ev.defVector) and name in DEFINING:
            self.verdict.feed(WeatherDefined(device, name, now))
        for said in self._content(device, name, event.vector, now):
            self.verdict.feed(said)

    @staticmethod
    def _content(device: str, name: str, vector: PropertyVector, now: float) -> list[Event]:
        """What a vector of the weather device says: WEATHER_STATUS's state, CONNECTION Off
        (a restarted driver defines it so, with no WEATHER_STATUS), or only that it lives."""
        if name == "WEATHER_STATUS":
            return [WeatherStatus(device, str(vector.state), now)]
        if name == "CONNECTION" and vector["CONNECT"] != "On":
            return [WeatherDisconnected(device, now)]
        return [WeatherHeard(device, now)]

    async def _tick(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a defect: logged, and the watchdog watches on
                logger.exception("the watchdog's tick failed")
            await asyncio.sleep(TICK)

    async def step(self) -> Judgement:
        """One look: the verdict judged, shown, and acted on."""
        now = self.clock()
        judgement = self.verdict.judge(now)
        await self.face.show(judgement)
        self._say(judgement)
        if judgement.refresh:
            self.verdict.refresh_asked(now)
            await self._refresh()
        running = self._running is not None and not self._running.done()
        cause = judgement.cause
        if judgement.safe:
            self._cleared = True
        if judgement.act and cause is not None and not running and (
                not self._shut_down or self._cleared):
            # A new unsafe period (safe in between, even if not yet for the resume time):
            # the whole shutdown again, as indi_watchdog's timers do.
            self._shut_down, self._cleared = True, False
            self._running = self.tasks.start(self._shutdown(cause), "watchdog shutdown")
        elif self._shut_down and not running:
            if cause is not None:
                self._repark(cause, now)
            elif judgement.safe and judgement.safe_since is not None \
                    and now - judgement.safe_since >= self.face.resume_seconds:
                self._shut_down = False
                self.log.info("safe for %g s: the watchdog stands down",
                              self.face.resume_seconds)
                if self._paused:
                    self._paused = False
                    self._running = self.tasks.start(self._resume(), "watchdog resume")
        return judgement

    def _say(self, judgement: Judgement) -> None:
        """Each cause logged once, with the device and the reason; "safe again" once, only
        when the verdict is safe (no cause but not yet known, SAFE Idle, is not safe)."""
        text = judgement.cause.text if judgement.cause is not None else None
        if text is not None:
            if text != self._said:
                self.log.warning("unsafe: %s", text)
                self._said = text
        elif judgement.safe and self._said is not None:
            self.log.info("safe again")
            self._said = None

    async def _refresh(self) -> None:
        client, device = self._client, self.verdict.settings.weather
        if client is None or client.devices.vector(device, "WEATHER_REFRESH") is None:
            return
        with contextlib.suppress(Exception):
            await client.set(device, "WEATHER_REFRESH", {"REFRESH": "On"}, wait=False)

    # -- acting --------------------------------------------------------------------------

    async def _shutdown(self, cause: Cause) -> None:
        targets = self.face.targets()
        self.log.warning("Warning! %s: executing shutdown procedure...", cause.text)
        await self.face.clear_steps()
        await self.face.shutdown.send_setVector(state="Busy")
        results = await self.shutdown.run(targets, cause)
        self._paused = self._paused or bool(results.get("PAUSE_SEQUENCE"))
        for step in ("PARK_MOUNT", "PARK_DOME"):
            if results.get(step) is False:
                self._park_failed[step] = self.clock()
        failed = [step for step, done in results.items() if not done]
        if failed:
            self.log.error("Shutdown procedure ended; failed: %s", ", ".join(failed))
        else:
            self.log.info("Shutdown procedure complete.")
        await self.face.shutdown.send_setVector(state="Alert" if failed else "Ok")

    async def _resume(self) -> None:
        sequencer = self.face.targets().sequencer
        try:
            await self.shutdown.resume_sequence(sequencer)
        except Exception as exc:  # noqa: BLE001  # said, and the watchdog watches on
            self.log.error("could not tell %r it is safe again: %s", sequencer, exc)
            return
        self.log.info("told %r it is safe again (AGENT_SAFETY SAFE)", sequencer)

    def _repark(self, cause: Cause, now: float) -> None:
        """A mount or dome found unparked while unsafe is parked again; one whose park
        failed is tried again after `repark_after` seconds."""
        client = self._client
        if client is None:
            return
        targets = self.face.targets()
        for step, device in (("PARK_MOUNT", targets.mount), ("PARK_DOME", targets.dome)):
            if step not in targets.enabled or not device:
                continue
            task = self._reparking.get(step)
            if task is not None and not task.done():
                continue
            if not (IndiMount(client, device).left_unparked() if step == "PARK_MOUNT"
                    else IndiDome(client, device).left_open()):
                continue
            failed = self._park_failed.get(step)
            if failed is not None and now - failed < self.repark_after:
                continue
            what = "Mount" if step == "PARK_MOUNT" else "Dome"
            self.log.warning("%s %r unparked while unsafe (%s): parking it again", what,
                             device, cause.text)
            self._reparking[step] = self.tasks.start(self._park_again(step, targets, cause),
                                                     f"watchdog {step}")

    async def _park_again(self, step: str, targets: Targets, cause: Cause) -> None:
        done = await self.shutdown.step(step, targets, cause)
        if done is False:
            self._park_failed[step] = self.clock()
        else:
            self._park_failed.pop(step, None)
