"""PHD2's ``capture_single_frame`` and ``save_image`` (``event_server.cpp``,
``SingleExposure`` in ``myframe_events.cpp``), which `phd2client` (PyPI) and imaging programs
call: the parameters read as PHD2 reads them, with its messages (`single_frame_params`, pure),
the frame taken at the binning asked and the camera put back to its own after (`take`), and a
frame written as the FITS the camera sent (`save_fits`). One frame alone, while nothing else
is captured: PHD2 refuses it while capture is active.

Where we differ on purpose: ``gain`` (PHD2's 0 to 100) and ``subframe`` are checked as PHD2
checks them but not applied (PHD2's gain is a percentage of its own driver's range, and an
INDI camera's CCD_GAIN is in the camera's units); the frame is the full frame at the camera's
gain. A failed exposure's Error is the camera's reason, not PHD2's "see debug log".
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Protocol

from indipyclient import Client

from ..rig.camera import IndiCamera
from ..rig.indiset import command
from ..rig.protocols import RigError
from .events import GuideEvent
from .events import SingleFrameComplete
from .face import GuiderFace
from .phd2wire import InvalidParams
from .phd2wire import bool_param
from .phd2wire import param

__all__ = ["SingleFrame", "capture", "save_fits", "single_frame_params", "take"]

logger = logging.getLogger(__name__)

#: capture_single_frame's parameters, in PHD2's order (positional params).
NAMES = ("exposure", "binning", "gain", "subframe", "path", "save")
#: PHD2's longest single exposure, ms (ten minutes).
MAX_EXPOSURE_MS = 10 * 60_000


@dataclass(frozen=True, slots=True)
class SingleFrame:
    """One frame asked for: `exposure_ms` at `binning`, written to `path` ("" : a file the
    guider names) when `save`."""

    exposure_ms: int
    binning: int
    gain: int | None = None
    subframe: tuple[int, int, int, int] | None = None
    path: str = ""
    save: bool = False


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def single_frame_params(params: list[Any] | dict[str, Any] | None, exposure_ms: int,
                        binning: int, max_binning: int) -> SingleFrame:
    """The request `params` asks for (the guide exposure and the camera's binning unless
    said); `InvalidParams` with PHD2's message for the first bad one, in PHD2's order."""
    exposure = param(params, NAMES, "exposure")
    if exposure is not None:
        if not _int(exposure) or not 1 <= exposure <= MAX_EXPOSURE_MS:
            raise InvalidParams("expected exposure param")
        exposure_ms = exposure
    asked = param(params, NAMES, "binning")
    if asked is not None:
        if not _int(asked):
            raise InvalidParams("binning value must be an integer")
        if not 1 <= asked <= max_binning:
            choices = ", ".join(str(b) for b in range(1, max_binning + 1))
            raise InvalidParams(f"Invalid binning value ({asked}). "
                                f"Valid choices are: {choices}")
        binning = asked
    gain = param(params, NAMES, "gain")
    if gain is not None and (not _int(gain) or not 0 <= gain <= 100):
        raise InvalidParams("invalid gain value: must be between 0 and 100")
    subframe = param(params, NAMES, "subframe")
    if subframe is not None and not (isinstance(subframe, list) and len(subframe) == 4
                                     and all(_int(v) for v in subframe)):
        raise InvalidParams("invalid subframe param")
    path = param(params, NAMES, "path")
    if path is not None:
        if not isinstance(path, str):
            raise InvalidParams("invalid path param: string expected")
        if not os.path.isabs(path):
            raise InvalidParams("path param must be an absolute path")
        if os.path.exists(path):
            raise InvalidParams("destination file already exists")
    save = bool(path)
    said = param(params, NAMES, "save")
    if said is not None:
        save = bool_param(said, "save param must be a boolean")
    if not save and path:
        raise InvalidParams("path param not allowed when save = false")
    return SingleFrame(exposure_ms, binning, gain,
                       None if subframe is None else (subframe[0], subframe[1], subframe[2],
                                                      subframe[3]),
                       path or "", save)


def save_fits(data: bytes, path: str = "", folder: str | None = None) -> str:
    """`data` (a FITS file's bytes) written to `path`, else to a new ``save_image_*.fits`` in
    `folder` (the system's temporary folder if None), as PHD2 names its own; the path. A
    write that fails raises OSError and leaves no file of its own making behind."""
    if path:
        Path(path).write_bytes(data)
        return path
    handle, name = tempfile.mkstemp(prefix="save_image_", suffix=".fits", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return name


async def take(client: Client, camera: IndiCamera, request: SingleFrame,
               binning: int) -> tuple[bytes, SingleFrameComplete]:
    """The frame `request` asks of `camera` (at `binning` now, put back after) and PHD2's
    SingleFrameComplete: success, the error when it failed, the path when saved."""
    error: str | None = None
    path: str | None = None
    data = b""
    try:
        frame = await camera.expose(request.exposure_ms / 1000, binning=request.binning)
        data = frame.data
    except RigError as exc:
        error = str(exc)
    finally:
        if request.binning != binning:
            try:
                await command(client, camera.name, "CCD_BINNING",
                              {"HOR_BIN": binning, "VER_BIN": binning})
            except RigError as exc:
                logger.warning("%s: binning %d not restored after a single frame: %s",
                               camera.name, binning, exc)
    if data and request.save:
        try:
            path = save_fits(data, request.path)
        except OSError as exc:
            error, path = f"error saving image file [{request.path}]: {exc}", request.path
    elif request.save:
        path = request.path
    return data, SingleFrameComplete(success=error is None, error=error, path=path)


class Taker(Protocol):
    """What `capture` needs of the `Session` (which imports this module)."""

    face: GuiderFace
    frames: int
    last_frame: tuple[int, bytes] | None
    single: SingleFrame | None
    publish: Callable[[GuideEvent], None]

    async def client(self) -> Client: ...

    def camera(self, client: Client) -> IndiCamera: ...


async def capture(session: Taker, request: SingleFrame) -> None:
    """`request` taken for `session` (its frames loop, nothing else capturing), its frame the
    current one after (save_image's, get_star_image's), SingleFrameComplete said."""
    try:
        client = await session.client()
        found = client.devices.vector(session.face.camera(), "CCD_BINNING")
        binning = int(float(found["HOR_BIN"])) if found is not None and "HOR_BIN" in found \
            else 1
        data, said = await take(client, session.camera(client), request, binning)
    except (ConnectionError, OSError) as exc:
        data, said = b"", SingleFrameComplete(success=False, error=str(exc))
    finally:
        session.single = None
    if data:
        session.frames += 1
        session.last_frame = (session.frames, data)
    session.publish(said)
