"""`GuiderFace`: the Guider Agent's vectors (``vectors``) as one `Role` of its device, and what
a client's request on them does. Every vector is defined from the start, as our other agents'.
AGENT_START_PROCESS GUIDING guides (calibrating first if not calibrated), CALIBRATION
calibrates afresh and guides; AGENT_ABORT_PROCESS stops; AGENT_GUIDER_DITHER dithers by
AGENT_GUIDER_DITHER_SETTINGS. What the session does with them is the `Commands`' (the
`Session`): the face only says Busy, then Ok, or Alert with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import Protocol

from indipyagents import defaults
from indipycore.interface import Interface
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.vectors import PropertyVector

from ..agentrole import AgentRole
from .guidemath import ControllerSettings
from .machine import GuiderMachine
from .machine import Tuning
from .phd2wire import Settle
from .settlewatch import Watch
from .states import AppState
from .vectors import SAVED
from .vectors import GuiderVectors

__all__ = ["Commands", "GuiderFace"]

logger = logging.getLogger(__name__)


class Commands(Protocol):
    """What the face's requests ask of the session (each raises with the reason)."""

    async def start_guiding(self, settle: Settle, recalibrate: bool,
                            watch: Watch | None = None) -> None: ...

    async def stop(self) -> None: ...

    async def dither(self, amount: float, ra_only: bool, settle: Settle,
                     watch: Watch | None = None) -> None: ...


class GuiderFace(AgentRole):
    """The vectors and their requests; `commands` gives what they ask of (the agent's
    session, made after the face: asked at each request; None: requests say not ready)."""

    def __init__(self, camera: str = defaults.GUIDE_CAMERA,
                 mount: str = defaults.MOUNT, *,
                 commands: Callable[[], Commands] | None = None) -> None:
        made = GuiderVectors(camera, mount)
        super().__init__(made.by_name(), SAVED)
        self.active, self.start, self.abort = made.active, made.start, made.abort
        self.settings, self.dithering = made.settings, made.dithering
        self.dither_now, self.stats, self.state = made.dither_now, made.stats, made.state
        self.phd2, self.last_frame = made.phd2, made.last_frame
        self._commands = commands
        self._shown_state = ""

    # -- the Role ------------------------------------------------------------------------

    @property
    def interface(self) -> Interface:
        return Interface.AUX

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        vector = event.vector
        if name in ("ACTIVE_DEVICES", "AGENT_GUIDER_SETTINGS", "AGENT_GUIDER_DITHER_SETTINGS"):
            for member, value in event.items():
                vector[member] = value
            await vector.send_setVector(state="Ok")
        elif name == "AGENT_START_PROCESS":
            recalibrate = event.get("CALIBRATION") == "On"
            if recalibrate or event.get("GUIDING") == "On":
                member = "CALIBRATION" if recalibrate else "GUIDING"
                watch = Watch(member)
                await self._run(vector, lambda c: c.start_guiding(self.settle(), recalibrate,
                                                                  watch), member)
        elif name == "AGENT_ABORT_PROCESS":
            await self._run(vector, lambda c: c.stop(), "ABORT", end_off=True)
            self.start["CALIBRATION"] = self.start["GUIDING"] = "Off"
            await self.start.send_setVector(state="Idle")
        elif name == "AGENT_GUIDER_DITHER" and event.get("DITHER") == "On":
            d = self.dithering
            watch = Watch("DITHER")
            await self._run(vector, lambda c: c.dither(d.getfloatvalue("AMOUNT"),
                                                       d.getfloatvalue("RA_ONLY") >= 0.5,
                                                       self.settle(), watch), "DITHER")

    async def _run(self, vector: PropertyVector, call: Callable[[Commands], Awaitable[None]],
                   member: str, end_off: bool = False) -> None:
        if self._commands is None:
            await vector.send_setVector(state="Alert", message="the guider is not ready")
            return
        vector[member] = "On"
        await vector.send_setVector(state="Busy")
        try:
            await call(self._commands())
        except Exception as exc:  # noqa: BLE001 - the reason goes to the client
            vector[member] = "Off"
            await vector.send_setVector(state="Alert", message=str(exc))
            return
        if end_off:
            vector[member] = "Off"
        await vector.send_setVector(state="Ok" if end_off else "Busy")

    async def settled(self, watch: Watch) -> None:
        """A request's settle is done: its vector Ok, or Alert with the reason (the dither's
        switch and a failed start's Off)."""
        vector = self.dither_now if watch.name == "DITHER" else self.start
        if vector[watch.name] != "On":
            return  # stopped or asked again meanwhile: nothing to say
        if watch.name == "DITHER" or not watch.ok:
            vector[watch.name] = "Off"
        if watch.ok:
            await vector.send_setVector(state="Ok", message="settled")
        else:
            await vector.send_setVector(state="Alert", message=f"not settled: {watch.reason}")

    # -- what the session reads and shows ------------------------------------------------

    def camera(self) -> str:
        return str(self.active["ACTIVE_CCD"])

    def mount(self) -> str:
        return str(self.active["ACTIVE_TELESCOPE"])

    def guider(self) -> str:
        """The device that takes the pulses: ACTIVE_GUIDER (a camera's ST4 port), else the
        mount."""
        return str(self.active["ACTIVE_GUIDER"] or "").strip() or self.mount()

    def value(self, member: str) -> float:
        return self.settings.getfloatvalue(member)

    def exposure(self) -> float:
        return self.value("EXPOSURE")

    def settle(self) -> Settle:
        d = self.dithering
        return Settle(d.getfloatvalue("SETTLE_PIXELS"), int(d.getfloatvalue("SETTLE_TIME")),
                      int(d.getfloatvalue("SETTLE_TIMEOUT")))

    def tuning(self, step_ms: int) -> Tuning:
        """The machine's settings from AGENT_GUIDER_SETTINGS, the calibration step given."""
        v = self.value

        def axis(name: str) -> ControllerSettings:
            return ControllerSettings(v(f"AGGRESSIVITY_{name}") / 100, v(f"I_GAIN_{name}"),
                                      int(v("STACK")), v("HYSTERESIS") / 100, v("MIN_ERROR"),
                                      v("MIN_PULSE"), v("MAX_PULSE"))

        step = int(v("STEP") * 1000) or step_ms
        return Tuning(step_ms=step, cal_drift=v("MIN_CALIBRATION_DRIFT"),
                      cal_steps=int(v("MAX_CALIBRATION_STEPS")), bl_drift=v("MIN_BL_DRIFT"),
                      bl_steps=int(v("MAX_BL_STEPS")), ra=axis("RA"), dec=axis("DEC"),
                      flip_dec=v("FLIP_REVERSES_DEC") >= 0.5)

    async def show(self, machine: GuiderMachine, frame: int = 0,
                   snr: float | None = None, reason: str = "", *,
                   scale: float | None = None) -> None:
        """The machine's state and statistics on AGENT_GUIDER_STATE and AGENT_GUIDER_STATS;
        `reason`: why the state changed, in the state's message; `scale`: the frame's
        arcseconds a pixel (None: as before)."""
        state = machine.app_state
        if state != self._shown_state or reason:
            self._shown_state = state
            self.state["STATE"] = state.value
            busy = state is not AppState.STOPPED
            await self.state.send_setVector(state="Alert" if state is AppState.LOST_LOCK
                                            else "Busy" if busy else "Idle", message=reason)
            if state is AppState.STOPPED and "On" in (self.start["CALIBRATION"], self.start["GUIDING"]):
                self.start["CALIBRATION"] = self.start["GUIDING"] = "Off"
                await self.start.send_setVector(state="Idle")
        rms_ra, rms_dec = machine.rms()
        dithered = machine.rms(machine.since_dither)
        s = self.stats
        s["FRAME"] = float(frame)
        s["DRIFT_X"], s["DRIFT_Y"] = machine.last_error
        s["RMSE_RA"], s["RMSE_DEC"] = rms_ra, rms_dec
        s["RMSE_DITHERING"] = (dithered[0] ** 2 + dithered[1] ** 2) ** 0.5
        if snr is not None:
            s["SNR"] = snr
        if scale is not None:
            s["PIXEL_SCALE"] = scale
        await s.send_setVector(state="Busy" if state is AppState.GUIDING else "Idle")

    async def frame(self, data: bytes) -> None:
        """The last guide frame, for clients that watch."""
        self.last_frame["FRAME"] = data
        self.last_frame.set_blobformat("FRAME", ".fits")
        await self.last_frame.send_setVector(state="Ok")

    async def show_port(self, port: int) -> None:
        self.phd2["PORT"] = float(port)
        await self.phd2.send_setVector(state="Ok" if port else "Idle")

