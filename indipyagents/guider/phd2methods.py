"""`Phd2Methods`: PHD2's methods (the ones imaging programs call: Ekos, NINA, CCDciel) on the
`Session`, for the `Phd2Server`. Names, parameters, results and error messages are PHD2's
(``src/event_server.cpp``): a result of 0 where PHD2 answers 0, code 1 with the reason where
an operation fails, -32602 for bad parameters, -32601 for any other method.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from ..rig.indiset import is_connected
from ..rig.protocols import RigError
from .events import CalibrationComplete
from .events import GuideEvent
from .events import LockPositionSet
from .events import Paused
from .events import StarSelected
from .events import StartCalibration
from .events import StartGuiding
from .machine import Refused
from .phd2server import MethodNotFound
from .phd2server import OperationFailed
from .phd2wire import InvalidParams
from .phd2wire import bool_param
from .phd2wire import dither_params
from .phd2wire import exposure_param
from .phd2wire import guide_params
from .phd2wire import param
from .session import Session
from .singleframe import save_fits
from .singleframe import single_frame_params
from .starimage import DEFAULT_SIZE
from .starimage import FITSError
from .starimage import star_image
from .states import AppState

__all__ = ["Phd2Methods"]

logger = logging.getLogger(__name__)

Params = list[Any] | dict[str, Any] | None
#: The one profile this guider has (PHD2 keeps several; clients list and select them).
PROFILE = {"id": 1, "name": "indipy"}
#: The exposures offered (ms, PHD2's menu of them; AGENT_GUIDER_SETTINGS takes any).
EXPOSURE_DURATIONS = (10, 100, 200, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000,
                      6000, 7000, 8000, 9000, 10000, 15000)
#: PHD2's Dec guide modes (Scope::DecGuideModeStr); this guider guides Dec both ways, "Auto".
DEC_GUIDE_MODES = ("Off", "Auto", "North", "South")


class Phd2Methods:
    """The `Phd2Handler` for `session`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.table: dict[str, Callable[[Params], Awaitable[Any]]] = {
            "get_app_state": self._app_state, "get_connected": self._get_connected,
            "set_connected": self._set_connected, "get_pixel_scale": self._pixel_scale,
            "get_exposure": self._get_exposure, "set_exposure": self._set_exposure,
            "loop": self._loop, "find_star": self._find_star, "guide": self._guide,
            "dither": self._dither, "stop_capture": self._stop, "set_paused": self._set_paused,
            "get_paused": self._get_paused, "get_settling": self._settling,
            "get_calibrated": self._calibrated, "clear_calibration": self._clear,
            "flip_calibration": self._flip, "get_lock_position": self._lock,
            "get_current_equipment": self._equipment, "get_profiles": self._profiles,
            "get_profile": self._profile, "get_calibration_data": self._calibration_data,
            "get_exposure_durations": self._exposure_durations,
            "get_dec_guide_mode": self._get_dec_mode, "set_dec_guide_mode": self._set_dec_mode,
            "get_star_image": self._star_image, "save_image": self._save_image,
            "capture_single_frame": self._single_frame,
        }

    async def call(self, method: str, params: Params) -> Any:
        handler = self.table.get(method)
        if handler is None:
            raise MethodNotFound(method)
        try:
            return await handler(params)
        except Refused as exc:
            raise OperationFailed(str(exc)) from None
        except (RigError, ConnectionError) as exc:
            raise OperationFailed(str(exc)) from None

    def app_state(self) -> str:
        return self.session.machine.app_state

    def catchup(self) -> list[GuideEvent]:
        machine = self.session.machine
        events: list[GuideEvent] = []
        if machine.lock is not None:
            events.append(LockPositionSet(x=machine.lock[0], y=machine.lock[1]))
        if machine.position is not None:
            events.append(StarSelected(x=machine.position[0], y=machine.position[1]))
        if machine.calibration is not None:
            events.append(CalibrationComplete(mount=machine.mount))
        state = machine.app_state
        if state is AppState.GUIDING:
            events.append(StartGuiding())
        elif state is AppState.CALIBRATING:
            events.append(StartCalibration(mount=machine.mount))
        elif state is AppState.PAUSED:
            events.append(Paused())
        return events

    # -- the methods -------------------------------------------------------------------

    async def _app_state(self, params: Params) -> Any:
        return self.app_state()

    async def _get_connected(self, params: Params) -> Any:
        return await self.session.connected()

    async def _set_connected(self, params: Params) -> Any:
        value = param(params, ("connected",), "connected")
        if value is None or not bool_param(value, "expected connected boolean param"):
            if value is None:
                raise InvalidParams("expected connected boolean param")
            await self.session.stop()
            return 0
        await self.session.connect()
        return 0

    async def _pixel_scale(self, params: Params) -> Any:
        return await self.session.frame_scale()

    async def _get_exposure(self, params: Params) -> Any:
        return round(self.session.face.exposure() * 1000)

    async def _set_exposure(self, params: Params) -> Any:
        ms = exposure_param(params)
        self.session.face.settings["EXPOSURE"] = ms / 1000
        await self.session.face.settings.send_setVector(state="Ok")
        return 0

    async def _exposure_durations(self, params: Params) -> Any:
        return list(EXPOSURE_DURATIONS)

    async def _get_dec_mode(self, params: Params) -> Any:
        return "Auto"

    async def _set_dec_mode(self, params: Params) -> Any:
        """Ekos sends it when its Dec guiding options change. PHD2's errors are code 1 (not
        -32602) for a missing or unknown mode; a mode other than Auto is refused plainly."""
        mode = param(params, ("mode",), "mode")
        if not isinstance(mode, str):
            raise OperationFailed("expected mode param")
        known = {m.lower(): m for m in DEC_GUIDE_MODES}
        if mode.lower() not in known:
            raise OperationFailed("invalid dec guide mode param")
        if known[mode.lower()] != "Auto":
            raise OperationFailed(f"dec guide mode {known[mode.lower()]} not supported: "
                                  f"this guider guides Dec both ways (Auto)")
        return 0

    async def _loop(self, params: Params) -> Any:
        await self.session.loop()
        return 0

    async def _find_star(self, params: Params) -> Any:
        session = self.session
        width, height = session.size
        x, y = session.machine.find_star(tuple(session.last_stars), width, height)
        return [round(x, 3), round(y, 3)]

    async def _guide(self, params: Params) -> Any:
        settle, recalibrate = guide_params(params)
        await self.session.start_guiding(settle, recalibrate)
        return 0

    async def _dither(self, params: Params) -> Any:
        amount, ra_only, settle = dither_params(params)
        await self.session.dither(amount, ra_only, settle)
        return 0

    async def _stop(self, params: Params) -> Any:
        await self.session.stop()
        return 0

    async def _set_paused(self, params: Params) -> Any:
        """PHD2: ``[true]`` pauses the guiding (frames go on, no GuideStep); ``[true,
        "full"]`` stops the frames too; a type not a string is refused."""
        value = param(params, ("paused", "type"), "paused")
        if value is None:
            raise InvalidParams("expected bool param at index 0")
        paused = bool_param(value, "expected bool param at index 0")
        kind = param(params, ("paused", "type"), "type") if paused else None
        if kind is not None and not isinstance(kind, str):
            raise InvalidParams("expected string param at index 1")
        self.session.set_paused(paused, full=kind == "full")
        return 0

    async def _get_paused(self, params: Params) -> Any:
        return self.session.machine.paused

    async def _settling(self, params: Params) -> Any:
        machine = self.session.machine
        return machine.settling is not None or machine.calibrator.pending_settle is not None

    async def _calibrated(self, params: Params) -> Any:
        return self.session.machine.calibration is not None

    async def _clear(self, params: Params) -> Any:
        self.session.apply(self.session.machine.clear_calibration())
        self.session.forget_calibration()
        return 0

    async def _flip(self, params: Params) -> Any:
        try:
            self.session.apply(self.session.machine.flip())
        except Refused:
            raise OperationFailed("could not flip calibration") from None
        return 0

    async def _lock(self, params: Params) -> Any:
        lock = self.session.machine.lock
        return None if lock is None else [round(lock[0], 3), round(lock[1], 3)]

    async def _equipment(self, params: Params) -> Any:
        session = self.session
        client = await session.client()
        return {name: {"name": device, "connected": is_connected(client, device)}
                for name, device in (("camera", session.face.camera()),
                                     ("mount", session.face.mount()))}

    async def _profiles(self, params: Params) -> Any:
        return [{**PROFILE, "selected": True}]

    async def _profile(self, params: Params) -> Any:
        return dict(PROFILE)

    async def _star_image(self, params: Params) -> Any:
        """Ekos asks it after every GuideStep. PHD2: size an integer of 15 or more (-32602
        otherwise), code 2 "no star selected" before a star and a frame."""
        size = param(params, ("size",), "size")
        if size is None:
            size = DEFAULT_SIZE
        elif isinstance(size, bool) or not isinstance(size, int) or size < DEFAULT_SIZE:
            raise InvalidParams("invalid image size param")
        session = self.session
        star, frame = session.machine.position, session.last_frame
        if star is None or frame is None:
            raise OperationFailed("no star selected", code=2)
        try:
            return star_image(frame[1], frame[0], star, size)
        except FITSError as exc:
            raise OperationFailed(f"no star selected: {exc}", code=2) from None

    async def _save_image(self, params: Params) -> Any:
        """PHD2: the current frame as a FITS file the caller removes, ``{"filename": path}``;
        code 2 "no image available" before a frame, 3 "error saving image"."""
        frame = self.session.last_frame
        if frame is None:
            raise OperationFailed("no image available", code=2)
        try:
            return {"filename": save_fits(frame[1])}
        except OSError as exc:
            logger.warning("save_image: %s", exc)
            raise OperationFailed("error saving image", code=3) from None

    async def _single_frame(self, params: Params) -> Any:
        """PHD2: one frame while nothing is captured, answered 0 at once, its end said by
        SingleFrameComplete (`singleframe`)."""
        session = self.session
        if session.machine.state is not AppState.STOPPED or session.single is not None:
            raise OperationFailed("cannot capture single frame when capture is currently "
                                  "active")
        client = await session.client()
        camera = session.face.camera()
        if not is_connected(client, camera):
            raise OperationFailed("cannot capture single frame when camera is not connected")
        found = client.devices.vector(camera, "CCD_BINNING")
        binning, most = 1, 1
        if found is not None and "HOR_BIN" in found:
            binning = int(float(found["HOR_BIN"]))
            with contextlib.suppress(TypeError, ValueError):
                most = int(float(found.member("HOR_BIN").max))
        request = single_frame_params(params, round(session.face.exposure() * 1000), binning,
                                      max(most, binning))
        session.single_frame(request)
        return 0

    async def _calibration_data(self, params: Params) -> Any:
        cal = self.session.machine.calibration
        if cal is None:
            return {"calibrated": False}
        return {"calibrated": True, "xAngle": round(cal.angle, 1),
                "xRate": round(math.hypot(*cal.ra) * 1000, 3), "xParity": "+",
                "yAngle": round(math.degrees(math.atan2(cal.dec[1], cal.dec[0])), 1),
                "yRate": round(math.hypot(*cal.dec) * 1000, 3), "yParity": "+",
                "declination": cal.declination}
