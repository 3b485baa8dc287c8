"""The shutdown: the steps the watchdog takes once unsafe past the threshold, each done by the
rig's hands (`IndiCamera`, `IndiMount`, `IndiDome`: the sequencer's own, indilib's quirks
handled there once) or a command on the server, each Busy while it runs, bounded in time,
retried by the project's retry policy, and then Ok or Alert; a step that fails lets the rest
run.

In order: PAUSE_SEQUENCE (the sequencer's AGENT_SAFETY_CAUSE, then AGENT_SAFETY.UNSAFE, done
when the sequencer answers Ok with UNSAFE on), STOP_GUIDING (the guider agent's
AGENT_ABORT_PROCESS: no pulses while the mount parks; the night starts it again after the
hold), ABORT_EXPOSURE (CCD_ABORT_EXPOSURE), PARK_MOUNT
(TELESCOPE_PARK.PARK) and PARK_DOME (DOME_PARK.PARK, or DOME_SHUTTER.SHUTTER_CLOSE on a dome
without DOME_PARK) side by side as indilib's do with MOUNT_IGNORED, the dome after the mount
with MOUNT_LOCKS, then WARM_CAMERA (CCD_COOLER.COOLER_OFF) and EXECUTE_SCRIPT (SHUTDOWN_SCRIPT,
the cause in its environment: ``INDIPY_WATCHDOG_CAUSE``, ``INDIPY_WATCHDOG_DEVICE``,
``INDIPY_WATCHDOG_SOURCE``). A step whose device is named "" is skipped (said once).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indipyclient import Client
from indipycore.protocol import State
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry

from ..rig.camera import IndiCamera
from ..rig.dome import IndiDome
from ..rig.indiset import command
from ..rig.indiset import connect_device
from ..rig.indiset import require
from ..rig.mount import IndiMount
from ..rig.protocols import DeviceLost
from ..rig.protocols import DeviceRefused
from ..rig.protocols import Dome
from ..rig.protocols import Mount
from ..rig.protocols import RigError
from .verdict import Cause
from .verdict import Light

__all__ = ["BOUNDS", "STEP_RETRY", "DeviceAbsent", "ScriptUnusable", "Shutdown", "StepFailed", "Targets",
           "script_problem"]

logger = logging.getLogger(__name__)

#: A failed step is tried again after 2 s, then 4 s; then it is Alert and the rest go on.
STEP_RETRY = Retry(ExponentialBackoff(initial=2.0, cap=8.0), retries=2)
#: Seconds each step may take, per try (the sequencer's 10 s is the contract's).
BOUNDS = {"PAUSE_SEQUENCE": 10.0, "STOP_GUIDING": 10.0, "ABORT_EXPOSURE": 10.0, "PARK_MOUNT": 180.0,
          "PARK_DOME": 180.0, "WARM_CAMERA": 30.0, "EXECUTE_SCRIPT": 120.0}
#: Seconds a device's CONNECTION is waited for before a step says it is not on the server.
APPEAR = 5.0


class StepFailed(RigError):
    """A step's command did not do what it should (a script's exit status, a switch)."""


class ScriptUnusable(Exception):
    """The shutdown script is missing or not executable: trying again will not help."""


class DeviceAbsent(DeviceLost):
    """The step's device is not on the server: said at once, not retried, so a sequencer or
    camera that is not there does not hold up the parks behind it."""


@dataclass(frozen=True)
class Targets:
    """What the shutdown acts on, from ACTIVE_DEVICES, WATCHDOG_SETTINGS and
    WATCHDOG_MOUNT_POLICY ("" : none), and which of WATCHDOG_SHUTDOWN's steps are on."""

    mount: str = ""
    dome: str = ""
    ccd: str = ""
    sequencer: str = ""
    guider: str = ""
    script: str = ""
    mount_locks: bool = False
    enabled: frozenset[str] = frozenset()

    def device_of(self, step: str) -> str | None:
        """The device `step` acts on ("" none), None for the script."""
        return {"PAUSE_SEQUENCE": self.sequencer, "STOP_GUIDING": self.guider,
                "ABORT_EXPOSURE": self.ccd,
                "WARM_CAMERA": self.ccd, "PARK_MOUNT": self.mount,
                "PARK_DOME": self.dome}.get(step)


def script_problem(path: str) -> str:
    """Why `path` cannot run as the shutdown script ("" when it can)."""
    if not path:
        return "no SHUTDOWN_SCRIPT is set"
    file = Path(path).expanduser()
    if not file.is_file():
        return f"the shutdown script {path!r} does not exist"
    if not os.access(file, os.X_OK):
        return f"the shutdown script {path!r} is not executable (chmod +x)"
    return ""


#: Shows one step's light (the face's WATCHDOG_STEPS).
ShowStep = Callable[[str, Light], Awaitable[None]]


class Shutdown:
    """Runs the steps on the client `client()` gives, telling `show` each step's light and
    `log` (the device's logger: clients see it) why a step failed."""

    def __init__(self, client: Callable[[], Awaitable[Client]], show: ShowStep,
                 log: logging.Logger, *, retry: Retry = STEP_RETRY,
                 bounds: dict[str, float] | None = None) -> None:
        self.client = client
        self.show = show
        self.log = log
        self.retry = retry
        self.bounds = dict(BOUNDS if bounds is None else bounds)
        self._skipped: set[tuple[str, str]] = set()  # (step, why) said once

    async def run(self, targets: Targets, cause: Cause) -> dict[str, bool]:
        """Every enabled step in order; returns which ran and whether each worked."""
        results: dict[str, bool] = {}

        async def one(step: str) -> None:
            done = await self.step(step, targets, cause)
            if done is not None:
                results[step] = done

        await one("PAUSE_SEQUENCE")
        await one("STOP_GUIDING")
        await one("ABORT_EXPOSURE")
        if targets.mount_locks:
            await one("PARK_MOUNT")
            await one("PARK_DOME")
        else:
            await asyncio.gather(one("PARK_MOUNT"), one("PARK_DOME"))
        await one("WARM_CAMERA")
        await one("EXECUTE_SCRIPT")
        return results

    async def step(self, step: str, targets: Targets, cause: Cause) -> bool | None:
        """One step, retried: True done (Ok), False failed (Alert), None not run (off, or
        its device named "")."""
        if step not in targets.enabled:
            return None
        device = targets.device_of(step)
        if device == "":
            self._say_once(step, f"{step} skipped: no device named for it in ACTIVE_DEVICES")
            return None
        action = self._action(step, targets, cause)
        bound = self.bounds[step]

        async def attempt() -> None:
            async with asyncio.timeout(bound):
                await action()

        def said(error: BaseException, delay: float) -> None:
            self.log.warning("%s: %s; trying again in %.0f s", step, _why(error, bound), delay)

        await self.show(step, Light.BUSY)
        try:
            await self.retry.call_with_retry(
                attempt, errors=(RigError, TimeoutError, OSError), log=said,
                retryable=lambda error: not isinstance(error, DeviceAbsent))
        except RetriesExhausted as exc:
            self.log.error("%s failed: %s", step, _why(exc.__cause__ or exc, bound))
            await self.show(step, Light.ALERT)
            return False
        except (ScriptUnusable, DeviceAbsent) as exc:
            self.log.error("%s failed: %s", step, _why(exc, bound))
            await self.show(step, Light.ALERT)
            return False
        await self.show(step, Light.OK)
        return True

    def _say_once(self, step: str, text: str) -> None:
        if (step, text) not in self._skipped:
            self._skipped.add((step, text))
            self.log.info("%s", text)

    def _action(self, step: str, targets: Targets,
                cause: Cause) -> Callable[[], Awaitable[None]]:
        actions: dict[str, Callable[[], Awaitable[None]]] = {
            "PAUSE_SEQUENCE": lambda: self.pause_sequence(targets.sequencer, cause),
            "STOP_GUIDING": lambda: self.stop_guiding(targets.guider),
            "ABORT_EXPOSURE": lambda: self.abort_exposure(targets.ccd),
            "PARK_MOUNT": lambda: self.park_mount(targets.mount),
            "PARK_DOME": lambda: self.park_dome(targets.dome),
            "WARM_CAMERA": lambda: self.warm_camera(targets.ccd),
            "EXECUTE_SCRIPT": lambda: self.execute_script(targets.script, cause),
        }
        return actions[step]

    # -- the steps -----------------------------------------------------------------------

    async def _ready(self, device: str) -> Client:
        client = await self.client()
        if client.connected and device not in client:
            raise DeviceAbsent(device, f"not on the server at {client.host}:{client.port}")
        await connect_device(client, device, appear=APPEAR)
        return client

    async def _sequencer(self, sequencer: str) -> Client:
        """The sequencer's AGENT_SAFETY waited for, the device not CONNECTed: connecting an
        agent starts its own work (the imager agent connects its camera and wheel)."""
        client = await self.client()
        if client.connected and sequencer not in client:
            raise DeviceAbsent(sequencer, f"not on the server at {client.host}:{client.port}")
        await require(client, sequencer, "AGENT_SAFETY", timeout=APPEAR)
        return client

    async def pause_sequence(self, sequencer: str, cause: Cause) -> None:
        """The sequencer's side of the contract: the cause, then UNSAFE, answered Ok."""
        client = await self._sequencer(sequencer)
        bound = self.bounds["PAUSE_SEQUENCE"]
        await command(client, sequencer, "AGENT_SAFETY_CAUSE", {"CAUSE": cause.text},
                      timeout=bound, accept=(State.OK, State.IDLE))
        await command(client, sequencer, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=bound)
        if client.get(sequencer, "AGENT_SAFETY", "UNSAFE") != "On":
            raise StepFailed(sequencer, "AGENT_SAFETY answered Ok without UNSAFE on")

    async def resume_sequence(self, sequencer: str) -> None:
        """Safe again for long enough: AGENT_SAFETY.SAFE, retried."""
        bound = self.bounds["PAUSE_SEQUENCE"]

        async def attempt() -> None:
            client = await self._sequencer(sequencer)
            await command(client, sequencer, "AGENT_SAFETY", {"SAFE": "On"}, timeout=bound)

        await self.retry.call_with_retry(attempt, errors=(RigError, TimeoutError, OSError))

    async def stop_guiding(self, guider: str) -> None:
        """The guider agent's AGENT_ABORT_PROCESS, answered Ok (the agent not CONNECTed:
        it needs no connection to stop)."""
        client = await self.client()
        if client.connected and guider not in client:
            raise DeviceAbsent(guider, f"not on the server at {client.host}:{client.port}")
        await require(client, guider, "AGENT_ABORT_PROCESS", timeout=APPEAR)
        await command(client, guider, "AGENT_ABORT_PROCESS", {"ABORT": "On"},
                      timeout=self.bounds["STOP_GUIDING"])

    async def abort_exposure(self, ccd: str) -> None:
        client = await self._ready(ccd)
        await self._camera(client, ccd).abort(timeout=self.bounds["ABORT_EXPOSURE"])

    async def park_mount(self, mount: str) -> None:
        """The rig's park: done when parked, a park under way waited for, not asked again
        (`rig.indiset.park_switch`)."""
        client = await self._ready(mount)
        await self._mount(client, mount).park()

    async def park_dome(self, dome: str) -> None:
        """The rig's close: DOME_PARK.PARK, or DOME_SHUTTER.SHUTTER_CLOSE for a roof that
        cannot park."""
        client = await self._ready(dome)
        await self._dome(client, dome).close()

    async def warm_camera(self, ccd: str) -> None:
        """The rig's warm; a camera without CCD_COOLER is a step that could not be done."""
        client = await self._ready(ccd)
        if client.devices.vector(ccd, "CCD_COOLER") is None:
            raise DeviceRefused(ccd, "has no CCD_COOLER")
        await self._camera(client, ccd).warm(timeout=self.bounds["WARM_CAMERA"])

    # The rig's hands, one per step and device: every indilib quirk lives in ``rig/``.

    def _camera(self, client: Client, ccd: str) -> IndiCamera:
        return IndiCamera(client, ccd)

    def _mount(self, client: Client, mount: str) -> Mount:
        return IndiMount(client, mount, park_timeout=self.bounds["PARK_MOUNT"])

    def _dome(self, client: Client, dome: str) -> Dome:
        return IndiDome(client, dome, timeout=self.bounds["PARK_DOME"], appear=APPEAR)

    async def execute_script(self, script: str, cause: Cause) -> None:
        """SHUTDOWN_SCRIPT run with the cause in its environment; exit status 0 is done."""
        problem = script_problem(script)
        if problem:
            raise ScriptUnusable(problem)
        env = dict(os.environ, INDIPY_WATCHDOG_CAUSE=cause.text,
                   INDIPY_WATCHDOG_DEVICE=cause.device, INDIPY_WATCHDOG_SOURCE=cause.source)
        process = await asyncio.create_subprocess_exec(
            str(Path(script).expanduser()), env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        text = output.decode(errors="replace").strip()
        if text:
            self.log.info("shutdown script: %s", text[-2000:])
        if process.returncode != 0:
            raise StepFailed("", f"the shutdown script exited with status "
                             f"{process.returncode}")


def _why(error: BaseException, bound: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {bound:g} s"
    if isinstance(error, RigError):
        return f"{error.device!r}: {error.reason}" if error.device else error.reason
    return str(error) or type(error).__name__

