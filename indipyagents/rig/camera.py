"""`IndiCamera`: the rig's `Camera` on any INDI CCD (indilib's, ours, a remote's, Alpaca's
through ``alpaca://``), driven through its standard properties with `indiset.command`.

The frame comes as the CCD1 BLOB (UPLOAD_MODE Client), or, when the agent names a local
folder the camera's driver writes to (UPLOAD_MODE Local, as indilib's agent), as its file,
renamed to the agent's own name at once and read only when the bytes are wanted, so the next
exposure is asked for first. Either way the agent writes each frame whole or not at all; a
file not on this machine (a remote server, an Alpaca device) sends the agent back to BLOBs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator
from collections.abc import AsyncIterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indipyclient import Client
from indipyclient import ConnectionLost
from indipyclient import InvalidValue
from indipyclient import NotConnected
from indipyclient import UnknownVector
from indipyclient import delProperty
from indipyclient import setBLOBVector
from indipyclient import setSwitchVector
from indipyclient import setTextVector
from indipyclient import setVector
from indipyclient.model.events import Event
from indipycore.protocol import State

from ..plan.model import FrameType
from .indiset import ANSWER_WAIT
from .indiset import OPTIONAL_WAIT
from .indiset import command
from .indiset import defined
from .indiset import holds
from .indiset import require
from .keeper import lost
from .keeper import use_device
from .protocols import DeviceLost
from .protocols import DeviceRefused
from .protocols import Frame
from .protocols import GuardedDomes
from .skyguard import SkyGuard

__all__ = ["READOUT_MARGIN", "TAKEN", "IndiCamera"]

logger = logging.getLogger(__name__)

#: The prefix of a frame file the agent took from the camera and has not read yet, followed
#: by the process id: a file whose process is gone is left over from a kill and removed.
TAKEN = "_TAKEN_"

#: Seconds an exposure may take beyond its length (readout, download, a slow USB camera)
#: before the camera counts as lost.
READOUT_MARGIN = 60.0


#: The plan's frame types -> CCD_FRAME_TYPE's members.
FRAME_SWITCHES: Mapping[FrameType, str] = {
    "Light": "FRAME_LIGHT", "Dark": "FRAME_DARK", "Flat": "FRAME_FLAT", "Bias": "FRAME_BIAS"}

#: ACTIVE_DEVICES' members, by the keyword of `IndiCamera.name_devices`.
ACTIVE_MEMBERS = {"mount": "ACTIVE_TELESCOPE", "focuser": "ACTIVE_FOCUSER",
                  "wheel": "ACTIVE_FILTER", "panel": "ACTIVE_LIGHTBOX"}


class _NotHere(Exception):
    """The camera wrote its frame to a file this machine does not have."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


class IndiCamera:
    """The INDI CCD `device` on `client` (a connection to the server that holds it).

    `prepare` (by `open_rig`, and before each frame) connects it, asks for BLOBs, sets
    UPLOAD_MODE and ACTIVE_DEVICES (a restarted driver forgot). `expose` sets only what differs (binning,
    frame type, gain, offset), then CCD_EXPOSURE, and returns the BLOB that follows.
    `sky`: the guarded domes; no light or flat is started while one is closed (`SkyGuard`)."""

    def __init__(self, client: Client, device: str, *,
                 local: str | os.PathLike[str] | None = None,
                 sky: GuardedDomes | None = None) -> None:
        self.client = client
        self.name = device
        self._sky = SkyGuard(sky, device)  # every face's frames pass here
        #: A folder here the camera may write its frames to (None: BLOBs).
        self._local = Path(local) if local is not None else None
        self._local_off = False  # the camera's files were not on this machine
        self._taken = 0  # frames taken from the camera's files so far
        self._blobs_asked = False
        self._absent: set[str] = set()  # vectors waited for in vain since it was connected
        #: What `name_devices` asked for, ACTIVE_DEVICES' members -> device names.
        self._named: dict[str, str] = {}

    # -- what the device has -------------------------------------------------------------

    def _vector(self, name: str) -> Any:
        return self.client.devices.vector(self.name, name)

    def _member(self, vector: str, member: str) -> Any:
        found = self._vector(vector)
        return None if found is None or member not in found else found[member]

    def _control(self, kind: str) -> tuple[str, str] | None:
        """Where gain or offset (`kind` "GAIN"/"OFFSET") is set: CCD_GAIN.GAIN (indilib's
        standard), or CCD_CONTROLS.Gain as some of indilib's cameras (ZWO, QHY) have it."""
        own = f"CCD_{kind}"
        if self._member(own, kind) is not None:
            return own, kind
        control = kind.capitalize()
        if self._member("CCD_CONTROLS", control) is not None:
            return "CCD_CONTROLS", control
        return None

    async def wait_control(self, kind: str) -> bool:
        """`_control` found, CCD_`kind` waited for as `_has` does (indilib's CCD_GAIN is late)."""
        return self._control(kind) is not None or (
            await self._has(f"CCD_{kind}") and self._control(kind) is not None)

    def has_gain(self) -> bool:
        return self._control("GAIN") is not None

    def has_offset(self) -> bool:
        return self._control("OFFSET") is not None

    def pixel_size(self) -> float | None:
        """CCD_INFO's CCD_PIXEL_SIZE (um; CCD_PIXEL_SIZE_X where only that is said), None
        where the camera says none or 0 (a driver that has not read its sensor yet)."""
        for member in ("CCD_PIXEL_SIZE", "CCD_PIXEL_SIZE_X"):
            with contextlib.suppress(TypeError, ValueError):
                if (size := float(self._member("CCD_INFO", member))) > 0:
                    return size
        return None

    async def wait_pixel_size(self, timeout: float = OPTIONAL_WAIT) -> float | None:
        """`pixel_size`, waited for by event (`timeout` s at most): indilib's CCD defines
        CCD_INFO with zeros on a connect and sets the size a moment later."""
        if self.pixel_size() is None:
            with contextlib.suppress(TimeoutError):
                await self.client.waiters.until(lambda _: self.pixel_size() is not None, timeout)
        return self.pixel_size()

    # -- commands ------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Ready for `expose`: connected and defined (CCD_BINNING too: a client connected a
        moment ago may hold CCD_EXPOSURE before the rest), CCD1 BLOBs asked for, the upload
        mode set, `name_devices`' names again (a restarted driver forgot them)."""
        connected_now = await use_device(self.client, self.name)
        if connected_now:
            logger.warning("%s was not connected (its driver restarted?): connected again",
                           self.name)
        await require(self.client, self.name, "CCD_EXPOSURE")
        await require(self.client, self.name, "CCD_BINNING")
        if connected_now:
            self._absent.clear()
        await self._has("UPLOAD_MODE")
        if self._local is not None and not self._local_off:
            await self._has("UPLOAD_SETTINGS")
        if not self._blobs_asked:  # the client repeats it after a reconnect
            await self.client.send_enableBLOB("Also", self.name, "CCD1")
            self._blobs_asked = True
        if self._local is not None and self._uses_local():
            self._local.mkdir(parents=True, exist_ok=True)
            if not self._taken:
                _remove_orphans(self._local)
            await self._set_if_different("UPLOAD_SETTINGS", {
                "UPLOAD_DIR": str(self._local), "UPLOAD_PREFIX": f"_TMP_{os.getpid()}_XXX"})
            if self._member("UPLOAD_MODE", "UPLOAD_LOCAL") != "On":
                await command(self.client, self.name, "UPLOAD_MODE", {"UPLOAD_LOCAL": "On"})
        elif (self._member("UPLOAD_MODE", "UPLOAD_CLIENT") not in (None, "On")):
            await command(self.client, self.name, "UPLOAD_MODE", {"UPLOAD_CLIENT": "On"})
        if self._named:
            await self._set_if_different("ACTIVE_DEVICES", self._named)

    def _uses_local(self) -> bool:
        """Whether frames come as files here (a local folder, Local mode, files found)."""
        return (self._local is not None and not self._local_off
                and self._member("UPLOAD_MODE", "UPLOAD_LOCAL") is not None
                and self._vector("UPLOAD_SETTINGS") is not None)

    async def _has(self, vector: str) -> bool:
        """Whether `vector` is defined, waited for (`OPTIONAL_WAIT`, once a connection):
        indilib's CCD defines CCD_FRAME_TYPE well after CCD_EXPOSURE (a bias is no Light)."""
        if (self._vector(vector) is None and vector not in self._absent
                and not await defined(self.client, self.name, vector, OPTIONAL_WAIT)):
            self._absent.add(vector)
        return self._vector(vector) is not None

    async def _set_if_different(self, vector: str, values: Mapping[str, Any]) -> None:
        found = self._vector(vector)
        if found is None:
            raise DeviceRefused(self.name, f"has no {vector}")
        current = dict(found)
        if all(holds(current.get(member), value) for member, value in values.items()):
            return
        await command(self.client, self.name, vector, values)

    async def expose(self, seconds: float, *, binning: int = 1, frame_type: FrameType = "Light",
                     gain: float | None = None, offset: float | None = None,
                     sky: bool | None = None) -> Frame:
        """Take one frame; `DeviceRefused` when the camera answers Alert (or lacks what is
        asked: gain on a camera without it), `DeviceLost` when it goes away or is silent past
        `seconds` + `READOUT_MARGIN`."""
        await self.prepare()
        self._sky.check(frame_type, sky)  # sky False: a panel's flat, under a closed dome
        seconds = self._within_range(seconds, frame_type)
        await self._set_if_different("CCD_BINNING", {"HOR_BIN": binning, "VER_BIN": binning})
        if await self._has("CCD_FRAME_TYPE"):
            await self._set_if_different("CCD_FRAME_TYPE", {FRAME_SWITCHES[frame_type]: "On"})
        for kind, value in (("GAIN", gain), ("OFFSET", offset)):
            if value is None:
                continue
            where = self._control(kind) if await self.wait_control(kind) else None
            if where is None:
                raise DeviceRefused(self.name, f"has no {kind.lower()} (CCD_{kind})")
            await self._set_if_different(where[0], {where[1]: value})
        return await self._exposure(seconds)

    def exposure_range(self) -> tuple[float, float] | None:
        """CCD_EXPOSURE_VALUE's min and max (s), None where not said."""
        vector = self._vector("CCD_EXPOSURE")
        if vector is None or "CCD_EXPOSURE_VALUE" not in vector:
            return None
        member = vector.member("CCD_EXPOSURE_VALUE")
        with contextlib.suppress(TypeError, ValueError):
            if (low := float(member.min)) < (high := float(member.max)):
                return low, high
        return None

    def full_scale(self) -> float | None:
        """The largest pixel value, by CCD_INFO's CCD_BITSPERPIXEL (None where not said)."""
        with contextlib.suppress(TypeError, ValueError):
            if 0 < (bits := int(float(self._member("CCD_INFO", "CCD_BITSPERPIXEL")))) <= 32:
                return float(2 ** bits - 1)
        return None

    def _within_range(self, seconds: float, frame_type: FrameType) -> float:
        """`seconds` in `exposure_range`: a bias below it (a plan's 0 s; indilib's simulator
        takes 0.01 s at least) is taken at the shortest; anything else outside is refused."""
        if (span := self.exposure_range()) is None:
            return seconds
        low, high = span
        if frame_type == "Bias" and seconds < low:
            logger.info("%s: a bias of %g s is taken at its shortest exposure, %g s",
                        self.name, seconds, low)
            return low
        if not low <= seconds <= high:
            raise DeviceRefused(self.name, f"a {seconds:g} s exposure is outside its "
                                           f"CCD_EXPOSURE range, {low:g} to {high:g} s")
        return seconds

    async def _exposure(self, seconds: float) -> Frame:
        """CCD_EXPOSURE set, then the CCD1 BLOB waited for in an event stream opened before
        the request (so the BLOB cannot slip past); the camera deleted, disconnected or the
        server lost meanwhile is `DeviceLost`, an Alert `DeviceRefused`."""
        bound = seconds + READOUT_MARGIN
        try:
            return await self._exposure_once(seconds, bound)
        except _NotHere as missing:
            # A camera on another machine (a chained server) wrote the file there: its
            # frames come as BLOBs from now on, and this one is taken again.
            logger.warning("%s wrote %s, which is not on this machine: its frames come as "
                           "BLOBs from now on", self.name, missing.path)
            self._local_off = True
            await self.prepare()
            return await self._exposure_once(seconds, bound)

    async def _exposure_once(self, seconds: float, bound: float) -> Frame:
        async with self.client.events(maxsize=256) as stream:
            await self._request(seconds)
            return await self._frame(stream, seconds, bound)

    async def _request(self, seconds: float) -> None:
        """CCD_EXPOSURE set, not waited for (the frame is)."""
        try:
            await self.client.set(self.name, "CCD_EXPOSURE",
                                  {"CCD_EXPOSURE_VALUE": seconds}, wait=False)
        except (UnknownVector, NotConnected) as exc:
            raise DeviceLost(self.name, str(exc)) from None
        except InvalidValue as exc:
            raise DeviceRefused(self.name, str(exc)) from None

    async def _frame(self, stream: AsyncIterator[object], seconds: float,
                     bound: float) -> Frame:
        """The frame `stream` brings within `bound` seconds of its request."""
        try:
            async with asyncio.timeout(bound):
                async for event in stream:
                    frame = self._frame_from(event)
                    if frame is not None:
                        return frame
        except TimeoutError:
            raise DeviceLost(self.name, f"no frame within {bound:g} s of a {seconds:g} s "
                             "exposure") from None
        raise DeviceLost(self.name, "the connection to the INDI server ended")

    async def series(self, seconds: float, count: int, *, binning: int = 1,
                     frame_type: FrameType = "Light") -> AsyncGenerator[Frame, None]:
        """`count` frames alike (a group of indilib's face): the camera made ready and set
        once, then each next exposure asked for in the moment the previous frame comes, in
        this task, before that frame is handed over: the agent's share of the time between
        two frames is the parsing of one message and the writing of one (as indilib's own
        agent, which asks from its frame callback). Left early (an error, a cancel), the
        exposure asked for and not taken is aborted."""
        if count < 1:
            return
        await self.prepare()
        seconds = self._within_range(seconds, frame_type)
        await self._set_if_different("CCD_BINNING", {"HOR_BIN": binning, "VER_BIN": binning})
        if await self._has("CCD_FRAME_TYPE"):
            await self._set_if_different("CCD_FRAME_TYPE", {FRAME_SWITCHES[frame_type]: "On"})
        bound = seconds + READOUT_MARGIN
        left = count
        asked = False
        try:
            async with self.client.events(maxsize=256) as stream:
                self._sky.check(frame_type)
                await self._request(seconds)
                asked = True
                while left:
                    try:
                        frame = await self._frame(stream, seconds, bound)
                    except _NotHere as missing:
                        logger.warning("%s wrote %s, which is not on this machine: its frames "
                                       "come as BLOBs from now on", self.name, missing.path)
                        self._local_off = True
                        await self.prepare()
                        await self._request(seconds)
                        continue
                    asked = False
                    left -= 1
                    refused = self._sky.refusal(frame_type) if left else None
                    if left and refused is None:  # a dome closed: this frame given, no next
                        await self._request(seconds)
                        asked = True
                    yield frame
                    if refused is not None:
                        raise refused
        finally:
            # A camera whose driver died has no exposure to abort: its restarted driver
            # (defined again a moment later) would only be kept waiting for an abort.
            if asked and self._vector("CCD_EXPOSURE") is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(10):
                        await self.abort()

    def _frame_from(self, event: object) -> Frame | None:
        """The frame `event` brings, None for anything else; raises for an event that ends
        the exposure without one."""
        if isinstance(event, ConnectionLost):
            raise DeviceLost(self.name, "the INDI server connection was lost")
        if not isinstance(event, Event) or event.devicename != self.name:
            return None
        if isinstance(event, delProperty):
            if event.vectorname in (None, "CCD_EXPOSURE", "CCD1"):
                raise lost(self.client, self.name, "its driver deleted it (gone, or it died)")
            return None
        if not isinstance(event, setVector):
            return None
        if isinstance(event, setTextVector) and event.vectorname == "CCD_FILE_PATH" \
                and self._uses_local():
            return self._read_local(str(dict(event).get("FILE_PATH", "")))
        if isinstance(event, setBLOBVector) and event.vectorname == "CCD1":
            if event.state is not None and event.state.value == "Alert":
                raise DeviceRefused(self.name, f"CCD1 went Alert: {event.message or ''}")
            for member in event:
                data = event[member]
                size_format = event.sizeformat.get(member)
                suffix = size_format[1] if size_format else ".fits"
                return Frame(bytes(data), suffix or ".fits")
            return None
        if event.vectorname == "CCD_EXPOSURE" and event.state is not None \
                and event.state.value == "Alert":
            said = f": {event.message}" if event.message else ""
            raise DeviceRefused(self.name, f"CCD_EXPOSURE went Alert{said}")
        if isinstance(event, setSwitchVector) and event.vectorname == "CONNECTION" \
                and dict(event).get("CONNECT") == "Off":
            raise lost(self.client, self.name, "disconnected during the exposure")
        return None

    def _read_local(self, name: str) -> Frame:
        """The frame the camera wrote to `name` in the local folder, its file renamed to one
        of this process's (the camera reuses `name` for its next frame) and read later, by
        whoever reads `Frame.data`; `_NotHere` when the file is not on this machine."""
        path = Path(name)
        self._taken += 1
        taken = path.with_name(f"{TAKEN}{os.getpid()}_{self._taken}{path.suffix}")
        try:
            os.rename(path, taken)
        except OSError:
            raise _NotHere(path) from None
        return Frame(format=path.suffix or ".fits", path=taken)

    async def abort(self, *, timeout: float = ANSWER_WAIT) -> None:
        """CCD_ABORT_EXPOSURE, done when Ok or Idle (within `timeout`: one just connected is
        waited for); a camera defined without it has nothing to abort."""
        if self._vector("CCD_ABORT_EXPOSURE") is None and self._vector("CCD_EXPOSURE") is not None:
            return
        await command(self.client, self.name, "CCD_ABORT_EXPOSURE", {"ABORT": "On"},
                      timeout=timeout, accept=(State.OK, State.IDLE))

    async def name_devices(self, *, mount: str = "", focuser: str = "",
                           wheel: str = "", panel: str = "") -> None:
        """ACTIVE_DEVICES: only the members given (and the camera has: the panel is our
        simulator's ACTIVE_LIGHTBOX), and only when they differ."""
        given = {"mount": mount, "focuser": focuser, "wheel": wheel, "panel": panel}
        active = self._vector("ACTIVE_DEVICES")
        if active is None:
            return
        values = {ACTIVE_MEMBERS[key]: name for key, name in given.items()
                  if name and ACTIVE_MEMBERS[key] in active}
        self._named = values
        if values:
            await self._set_if_different("ACTIVE_DEVICES", values)

    async def warm(self, *, timeout: float = ANSWER_WAIT) -> None:
        """The cooler off where there is CCD_COOLER (on): indilib's cameras answer that Idle,
        not Ok, so done when the switch says COOLER_OFF, refused otherwise."""
        cooler = self._vector("CCD_COOLER")
        if cooler is None or cooler["COOLER_OFF"] == "On":
            return
        await command(self.client, self.name, "CCD_COOLER", {"COOLER_OFF": "On"},
                      timeout=timeout, accept=(State.OK, State.IDLE))
        if self._member("CCD_COOLER", "COOLER_OFF") != "On":
            raise DeviceRefused(self.name, "CCD_COOLER answered without COOLER_OFF on")


def _remove_orphans(folder: Path) -> None:
    """Frame files taken by an agent process now gone, never saved (the batch retakes them)."""
    for path in folder.glob(f"{TAKEN}*"):
        pid = path.name[len(TAKEN):].split("_", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except PermissionError:  # another user's live process
            continue
