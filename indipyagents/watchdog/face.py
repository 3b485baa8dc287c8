"""`WatchdogFace`: the watchdog's vectors as one `Role` of its device, and what a client's
request on them does; the watching itself is the `Guard`'s (``guard``).

Every vector is defined from the start and answers while the device is disconnected, as
indilib's ``indi_watchdog`` does (measured: its heartbeat parks the mount with CONNECTION
off). Its requests as indilib's: TRIGGER_CLIENT refused (Alert, "Heart beat timeout should be
set first.") while WATCHDOG_HEARTBEAT_VALUE is 0; setting WATCHDOG_HEARTBEAT is the client's
heartbeat. Unlike indilib's, a name in ACTIVE_DEVICES that the server does not hold is said
(the vector Alert, a message naming it; it is kept: the device may come later), and so is a
SHUTDOWN_SCRIPT that is missing or not executable. Out-of-range numbers are refused by the
driver framework (Alert, the range in the message). WATCHDOG_SETTINGS' host and port are
where the watchdog's client connects (indilib's meaning), unless the command line said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from typing import Protocol

from indipycore.interface import Interface
from indipydriver.rxevents import ClientVectorEvent

from ..agentrole import AgentRole
from ..link import AgentLink
from .shutdown import Targets
from .shutdown import script_problem
from .vectors import SAVED
from .vectors import STEPS
from .vectors import WatchdogVectors
from .verdict import Judgement
from .verdict import Light
from .verdict import Settings

__all__ = ["WatchdogFace", "Watcher"]

logger = logging.getLogger(__name__)

#: Seconds a name in ACTIVE_DEVICES is waited for before it is said to be missing.
APPEAR_WAIT = 3.0
_ACTIVE = ("ACTIVE_TELESCOPE", "ACTIVE_DOME", "ACTIVE_WEATHER", "ACTIVE_CCD",
           "ACTIVE_SEQUENCER")


class Watcher(Protocol):
    """Who the face tells what a client's requests changed (the `Guard`)."""

    def configure(self) -> None:
        """After any setting changed."""

    def heartbeat(self) -> None:
        """A client's heartbeat (WATCHDOG_HEARTBEAT set, TRIGGER_CLIENT set)."""

    def relink(self) -> None:
        """WATCHDOG_SETTINGS named another server."""


class WatchdogFace(AgentRole):
    """The vectors and their requests; `settings()` and `targets()` are what they say, and
    `watcher` gives who is told of each change (the guard, made after the face: asked at
    each change; None: nobody)."""

    def __init__(self, link: AgentLink, *,
                 watcher: Callable[[], Watcher] | None = None) -> None:
        self.link = link
        made = WatchdogVectors(link.host, link.port)
        # The saved settings are taken from the file when the device is made: a watchdog
        # restarted after a power cut guards with its saved settings, no client needed.
        super().__init__(made.by_name(), SAVED)
        self.heartbeat, self.weather, self.server = made.heartbeat, made.weather, made.server
        self.trigger, self.shutdown, self.policy = made.trigger, made.shutdown, made.policy
        self.active, self.stale, self.resume = made.active, made.stale, made.resume
        self.status, self.cause, self.steps = made.status, made.cause, made.steps
        self._watcher = watcher
        self._shown: tuple[object, ...] | None = None

    # -- the Role ------------------------------------------------------------------------

    @property
    def interface(self) -> Interface:
        return Interface.AUX  # indi_watchdog says 32768

    async def started(self) -> None:
        """The saved settings taken at start name the server to watch, if they do."""
        self.point_link()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        vector = event.vector
        if name == "WATCHDOG_Trigger":
            await self._trigger(event)
        elif name == "WATCHDOG_SETTINGS":
            await self._settings(event)
        elif name == "ACTIVE_DEVICES":
            _take(event)
            await self.active.send_setVector(state="Busy")
            self.tasks.start(self._check_active(), "checking ACTIVE_DEVICES")
        elif name == "WATCHDOG_SHUTDOWN":
            _take(event)
            problem = script_problem(self.server["SHUTDOWN_SCRIPT"]) \
                if self.shutdown["EXECUTE_SCRIPT"] == "On" else ""
            if problem:
                self.log.error("EXECUTE_SCRIPT is on but %s", problem)
            await vector.send_setVector(state="Alert" if problem else "Ok")
        elif name in ("WATCHDOG_HEARTBEAT", "WATCHDOG_WEATHER", "WATCHDOG_STALE",
                      "WATCHDOG_RESUME", "WATCHDOG_MOUNT_POLICY"):
            _take(event)
            await vector.send_setVector(state="Ok")
            if name == "WATCHDOG_HEARTBEAT":
                seconds = self.heartbeat.getfloatvalue("WATCHDOG_HEARTBEAT_VALUE")
                if seconds > 0 and self.trigger["TRIGGER_CLIENT"] == "On":
                    self.log.info("Client Watchdog is enabled. Shutdown is triggered after %g "
                                  "seconds of communication loss with the client.", seconds)
                if self._watcher is not None:
                    self._watcher().heartbeat()
        else:
            return
        self._changed()

    def _changed(self) -> None:
        if self._watcher is not None:
            self._watcher().configure()

    async def _trigger(self, event: ClientVectorEvent[Any]) -> None:
        _take(event)
        refused = (self.trigger["TRIGGER_CLIENT"] == "On"
                   and self.heartbeat.getfloatvalue("WATCHDOG_HEARTBEAT_VALUE") <= 0)
        if refused:
            self.trigger["TRIGGER_CLIENT"] = "Off"
            self.log.error("Heart beat timeout should be set first.")
        await self.trigger.send_setVector(state="Alert" if refused else "Ok")
        if not refused and self._watcher is not None:
            self._watcher().heartbeat()  # indilib: each set restarts the timer

    async def _settings(self, event: ClientVectorEvent[Any]) -> None:
        old = (self.server["INDISERVER_HOST"], self.server["INDISERVER_PORT"])
        _take(event)
        problems = []
        port = str(self.server["INDISERVER_PORT"]).strip()
        if not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(f"INDISERVER_PORT {port!r} is not a port (1..65535)")
            self.server["INDISERVER_PORT"] = old[1]
        if not str(self.server["INDISERVER_HOST"]).strip():
            problems.append("INDISERVER_HOST is empty")
            self.server["INDISERVER_HOST"] = old[0]
        script = self.server["SHUTDOWN_SCRIPT"]
        if script and script_problem(script):
            problems.append(script_problem(script))
        for problem in problems:
            self.log.error("WATCHDOG_SETTINGS: %s", problem)
        await self.server.send_setVector(state="Alert" if problems else "Ok")
        if (self.server["INDISERVER_HOST"], self.server["INDISERVER_PORT"]) != old:
            self.point_link(force=True)
            if self._watcher is not None:
                self._watcher().relink()

    def point_link(self, *, force: bool = False) -> None:
        """The link connects where WATCHDOG_SETTINGS says when a client (or the saved file)
        said so, unless the command line fixed it; otherwise the vector shows the link's."""
        host = str(self.server["INDISERVER_HOST"]).strip()
        port = int(self.server["INDISERVER_PORT"])
        link = self.link
        if force or (not link.fixed and (host, port) != ("localhost", 7624)):
            link.host, link.port = host, port
            link.fixed = link.known = True

    def server_listening(self, host: str, port: int) -> None:
        """The hosting server's address, shown unless a client or the file chose another."""
        if self.link.host == host and self.link.port == port:
            self.server["INDISERVER_HOST"] = host
            self.server["INDISERVER_PORT"] = str(port)

    async def _check_active(self) -> None:
        """The named devices looked for on the server; those missing said (Alert)."""
        missing: list[str] = []
        try:
            client = await self.link.client()
            names = {member: str(self.active[member]).strip() for member in _ACTIVE}
            loop = asyncio.get_running_loop()
            until = loop.time() + APPEAR_WAIT
            while True:
                missing = [f"{member} {name!r}" for member, name in names.items()
                           if name and name not in client]
                if not missing or loop.time() >= until:
                    break
                await asyncio.sleep(0.1)
            where = f"{client.host}:{client.port}"
        except (ConnectionError, OSError) as exc:
            missing, where = [f"all ({exc})"], self.link.address
        if missing:
            self.log.error("ACTIVE_DEVICES: %s not on the server at %s (kept: watched for)",
                           ", ".join(missing), where)
        await self.active.send_setVector(state="Alert" if missing else "Ok")

    # -- what the vectors say ------------------------------------------------------------

    def settings(self) -> Settings:
        return Settings(
            weather=str(self.active["ACTIVE_WEATHER"]).strip(),
            trigger_weather=self.trigger["TRIGGER_WEATHER"] == "On",
            trigger_client=self.trigger["TRIGGER_CLIENT"] == "On",
            threshold=self.weather.getfloatvalue("WATCHDOG_WEATHER_VALUE"),
            heartbeat=self.heartbeat.getfloatvalue("WATCHDOG_HEARTBEAT_VALUE"),
            stale=self.stale.getfloatvalue("WATCHDOG_STALE_VALUE"),
            resume=self.resume_seconds)

    def targets(self) -> Targets:
        return Targets(
            mount=str(self.active["ACTIVE_TELESCOPE"]).strip(),
            dome=str(self.active["ACTIVE_DOME"]).strip(),
            ccd=str(self.active["ACTIVE_CCD"]).strip(),
            sequencer=str(self.active["ACTIVE_SEQUENCER"]).strip(),
            guider=str(self.active["ACTIVE_GUIDER"]).strip(),
            script=str(self.server["SHUTDOWN_SCRIPT"]).strip(),
            mount_locks=self.policy["MOUNT_LOCKS"] == "On",
            enabled=frozenset(step for step in STEPS if self.shutdown[step] == "On"))

    @property
    def resume_seconds(self) -> float:
        return self.resume.getfloatvalue("WATCHDOG_RESUME_VALUE")

    async def show(self, judgement: Judgement) -> None:
        """WATCHDOG_STATUS and WATCHDOG_CAUSE as the verdict says, sent when they change."""
        cause = judgement.cause.text if judgement.cause is not None else ""
        shown = (judgement.weather, judgement.client, judgement.safe_light, cause)
        if shown == self._shown:
            return
        self._shown = shown
        self.status["WEATHER"] = judgement.weather.value
        self.status["CLIENT"] = judgement.client.value
        self.status["SAFE"] = judgement.safe_light.value
        await self.status.send_setVector(state=judgement.safe_light.value)
        self.cause["CAUSE"] = cause
        state = "Alert" if judgement.cause is not None else (
            "Ok" if judgement.safe else "Idle")
        await self.cause.send_setVector(state=state)

    async def show_step(self, step: str, light: Light) -> None:
        self.steps[step] = light.value
        lights = {str(self.steps[name]) for name in STEPS}
        state = "Alert" if "Alert" in lights else "Busy" if "Busy" in lights else (
            "Ok" if "Ok" in lights else "Idle")
        await self.steps.send_setVector(state=state)

    async def clear_steps(self) -> None:
        for step in STEPS:
            self.steps[step] = "Idle"
        await self.steps.send_setVector(state="Idle")


def _take(event: ClientVectorEvent[Any]) -> None:
    vector = event.vector
    for member, value in event.items():
        vector[member] = value
