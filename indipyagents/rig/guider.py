"""`IndiGuider`: the rig's `Guider` on a guider agent's INDI vectors (our "Guider Agent",
INDIGO's names), through `indiset.command` like every instrument of the rig.

- `guide`: AGENT_GUIDER_DITHER_SETTINGS' settle set, then AGENT_START_PROCESS.GUIDING, which
  the agent answers Ok once guiding has settled, Alert with the reason when calibration or the
  settle failed (`DeviceRefused`);
- `dither`: the amount and settle set, then AGENT_GUIDER_DITHER.DITHER, answered Ok once
  settled, Alert when it did not settle within the timeout;
- `stop`: AGENT_ABORT_PROCESS; `state`: AGENT_GUIDER_STATE.STATE (PHD2's state names);
- `mark` and `rms`: the guide errors of every guide frame since `mark` (AGENT_GUIDER_STATS'
  DRIFT_X and DRIFT_Y, RA and Dec pixels, heard while the vector says Busy: guiding), so a
  frame's header says how well it was guided during its own exposure; `rms_arcsec` the same
  in arcseconds, each error at its frame's PIXEL_SCALE (the member PHD2's get_pixel_scale
  answers; None where a frame said none: an agent without it, or a scale unknown, 0);
  `lost`: whether
  AGENT_GUIDER_STATE left Guiding since `mark` (its star lost, LostLock), so a frame guided
  only for part of its exposure is rejected (issue 93 item 3).
"""

from __future__ import annotations

import contextlib
import math

from indipyclient import Client
from indipyclient.model import events as ev
from indipycore.protocol import State

from .indiset import ANSWER_WAIT
from .indiset import command
from .indiset import require
from .keeper import use_device

__all__ = ["CALIBRATION_WAIT", "IndiGuider"]

#: Seconds a start may take to find a star and calibrate before it is lost (PHD2's
#: calibration of 60 steps of 2 s frames and more; ours: under 2 minutes).
CALIBRATION_WAIT = 300.0
#: The guide errors kept since a mark (a guide frame a second: an exposure of 2 hours).
MAX_ERRORS = 7200


class IndiGuider:
    """The guider agent `device` on `client`'s server, as the sequencer's `Guider`."""

    def __init__(self, client: Client, device: str, *,
                 calibration_wait: float = CALIBRATION_WAIT) -> None:
        self.client = client
        self.name = device
        self.calibration_wait = calibration_wait
        #: Each guide frame's errors (pixels) and its scale (arcsec a pixel, None: unknown).
        self._errors: list[tuple[float, float, float | None]] = []
        self._last_frame: float | None = None
        self._lost = False
        self._listening = contextlib.ExitStack()
        self._heard = False

    async def _ready(self) -> None:
        await use_device(self.client, self.name)
        await require(self.client, self.name, "AGENT_GUIDER_STATE")
        self._listen()

    async def state(self) -> str:
        await self._ready()
        return str(self.client.get(self.name, "AGENT_GUIDER_STATE", "STATE"))

    async def _settle(self, pixels: float, seconds: float, timeout: float,
                      **more: float) -> None:
        await command(self.client, self.name, "AGENT_GUIDER_DITHER_SETTINGS",
                      {"SETTLE_PIXELS": pixels, "SETTLE_TIME": seconds,
                       "SETTLE_TIMEOUT": timeout, **more})

    async def guide(self, pixels: float, seconds: float, timeout: float) -> None:
        await self._ready()
        await self._settle(pixels, seconds, timeout)
        await command(self.client, self.name, "AGENT_START_PROCESS", {"GUIDING": "On"},
                      timeout=self.calibration_wait + timeout)

    async def dither(self, amount: float, pixels: float, seconds: float,
                     timeout: float) -> None:
        await self._ready()
        await self._settle(pixels, seconds, timeout, AMOUNT=amount)
        # The agent gives up at its timeout (Alert); past it with a margin, it is lost.
        await command(self.client, self.name, "AGENT_GUIDER_DITHER", {"DITHER": "On"},
                      timeout=timeout + ANSWER_WAIT)

    async def stop(self) -> None:
        await self._ready()
        await command(self.client, self.name, "AGENT_ABORT_PROCESS", {"ABORT": "On"})

    # -- the guide errors of a frame ---------------------------------------------------------

    def _listen(self) -> None:
        """Hear every AGENT_GUIDER_STATS from now on (once: a check on the client's events
        that never ends, removed by `close`)."""
        if self._heard:
            return
        self._heard = True
        self._listening.enter_context(self.client.waiters.watching(self._hear))

    def _hear(self, event: ev.Event) -> bool:
        if isinstance(event, ev.setTextVector) and event.devicename == self.name \
                and event.vectorname == "AGENT_GUIDER_STATE" \
                and str(event.vector["STATE"]) != "Guiding":
            self._lost = True
        elif isinstance(event, ev.setNumberVector) and event.devicename == self.name \
                and event.vectorname == "AGENT_GUIDER_STATS" \
                and event.vector.state == State.BUSY:
            vector = event.vector
            frame = float(vector["FRAME"])
            if frame != self._last_frame:
                self._last_frame = frame
                scale = float(vector["PIXEL_SCALE"]) if "PIXEL_SCALE" in vector.members() \
                    else 0.0
                error = (float(vector["DRIFT_X"]), float(vector["DRIFT_Y"]), scale or None)
                self._errors = (self._errors + [error])[-MAX_ERRORS:]
        return False

    def mark(self) -> None:
        self._errors = []
        self._lost = False

    def lost(self) -> bool:
        return self._lost

    def rms(self) -> float | None:
        errors = self._errors
        if not errors:
            return None
        return math.sqrt(sum(x * x + y * y for x, y, _scale in errors) / len(errors))

    def rms_arcsec(self) -> float | None:
        errors = self._errors
        if not errors or any(scale is None for _x, _y, scale in errors):
            return None
        return math.sqrt(sum((x * x + y * y) * (scale or 0.0) ** 2 for x, y, scale in errors)
                         / len(errors))

    def close(self) -> None:
        """Stop hearing the guide errors."""
        self._listening.close()
        self._heard = False
