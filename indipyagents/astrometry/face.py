"""`AstrometryFace`: the Astrometry Agent's vectors as one `Role` of its device, and what a
client's request on them does. Every vector is defined from the start and answers while the
device is disconnected (the agent needs no CONNECT to solve).

One process at a time: AGENT_START_PROCESS goes Busy with its member On, WCS' STATE says the
step (SOLVING, SYNCING, CENTERING), and it ends Ok, or Alert with the reason in its message
and the log (no stars, a wrong hint, no solver, no index, killed past the limit, not an
image, a camera or mount that refused, named). A start while one runs is refused (Alert,
"busy"); AGENT_ABORT_PROCESS cancels it (the solver's process group killed, its folder
removed). An image uploaded to AGENT_PLATESOLVER_IMAGE is solved as it arrives (INDIGO's way),
its answer on that vector and on WCS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from indipycore.astro import precess_to_j2000
from indipycore.interface import Interface
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newBLOBVector
from indipydriver.rxevents import newSwitchVector
from indipydriver.vectors import PropertyVector

from ..agentrole import AgentRole
from ..link import AgentLink
from ..rig.camera import IndiCamera
from ..rig.dome import IndiGuardedDomes
from ..rig.indiset import connect_device
from ..rig.mount import IndiMount
from ..rig.protocols import RigError
from .centring import CentreOffset
from .hints import Hints
from .hints import plate_scale
from .processes import Alignment
from .processes import Centring
from .processes import Processes
from .solver import SolveFailed
from .solver import Solver
from .vectors import PROCESSES
from .vectors import SAVED
from .vectors import WCS_STATES
from .vectors import AstrometryVectors
from .wcs import Solution

__all__ = ["AstrometryFace"]

logger = logging.getLogger(__name__)
#: INDI messages are short: a reason is cut here.
MESSAGE = 480
_SETTINGS = ("AGENT_PLATESOLVER_HINTS", "AGENT_PLATESOLVER_GOTO_SETTINGS",
             "AGENT_PLATESOLVER_EXPOSURE_SETTINGS", "AGENT_PLATESOLVER_CENTERING",
             "AGENT_PLATESOLVER_PA_SETTINGS", "ACTIVE_DEVICES")


def _now() -> datetime:
    return datetime.now(UTC)


class AstrometryFace(AgentRole):
    """The vectors, their requests, and the process running (at most one)."""

    def __init__(self, link: AgentLink, solver: Solver | None = None, *,
                 clock: Callable[[], datetime] = _now) -> None:
        self.link = link
        self.solver = solver or Solver()
        self.clock = clock
        made = AstrometryVectors()
        super().__init__(made.by_name(), SAVED)
        self.hints, self.wcs, self.goto = made.hints, made.wcs, made.goto
        self.exposure, self.image, self.active = made.exposure, made.image, made.active
        self.centring, self.centring_state = made.centring, made.centring_state
        self.start, self.abort = made.start, made.abort
        self.pa_settings, self.pa_state = made.pa_settings, made.pa_state
        self.index_state = made.index_state
        self._task: asyncio.Task[Any] | None = None
        self._hands: dict[tuple[str, str], Any] = {}
        self._alignment: Alignment | None = None
        self._running: str | None = None

    # -- the Role ------------------------------------------------------------------------

    @property
    def interface(self) -> Interface:
        return Interface.GENERAL

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        if name in _SETTINGS:
            for member, value in event.items():
                event.vector[member] = value
            await event.vector.send_setVector(state="Ok")
            if name == "ACTIVE_DEVICES":
                self._hands.clear()
        elif isinstance(event, newBLOBVector) and name == "AGENT_PLATESOLVER_IMAGE":
            data = event.get("IMAGE")
            suffix = event.sizeformat.get("IMAGE", (0, ".fits"))[1] or ".fits"
            await self._begin(None, self._solve_upload(bytes(data or b""), suffix))
        elif isinstance(event, newSwitchVector) and name == "AGENT_START_PROCESS":
            chosen = [member for member in PROCESSES if event.get(member) == "On"]
            if chosen:
                await self._begin(chosen[0], self._process(chosen[0]))
            else:
                await self.start.send_setVector()
        elif isinstance(event, newSwitchVector) and name == "AGENT_ABORT_PROCESS":
            await self._abort()

    # -- running one process -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _begin(self, process: str | None, work: Awaitable[str]) -> None:
        """`work` run as the one process (`process` the AGENT_START_PROCESS member, None
        for an upload), refused while another runs."""
        if self.running:
            if asyncio.iscoroutine(work):
                work.close()
            # Refused, and said, in the state of the process that goes on (not Alert: that
            # would read as the running process failing).
            vector = self.start if process is not None else self.image
            if process is not None:
                for member in PROCESSES:
                    self.start[member] = "On" if member == self._running else "Off"
            await vector.send_setVector(state="Busy",
                                        message="busy: abort the running process first")
            return
        self._running = process
        if process is not None:
            for member in PROCESSES:
                self.start[member] = "On" if member == process else "Off"
            await self.start.send_setVector(state="Busy", message=f"{process} started")
        else:
            await self.image.send_setVector(state="Busy")
        self._task = self.tasks.start(self._run(process, work), process or "upload")

    async def _run(self, process: str | None, work: Awaitable[str]) -> None:
        vector = self.start if process is not None else self.image
        state, message = "Ok", ""
        try:
            message = await work
        except asyncio.CancelledError:
            state, message = "Alert", "aborted"
            await self._end(vector, state, message)
            raise
        except (SolveFailed, RigError, ValueError, OSError) as exc:
            state, message = "Alert", str(exc)
        except Exception as exc:  # the agent keeps answering whatever went wrong
            self.log.exception("%s failed", process or "the upload's solve")
            state, message = "Alert", f"{type(exc).__name__}: {exc}"
        await self._end(vector, state, message)

    async def _end(self, vector: PropertyVector, state: str, message: str) -> None:
        what = "AGENT_START_PROCESS" if vector is self.start else vector.name
        if state == "Alert":
            self.log.error("%s: %s", what, message)
            if self.wcs.state == "Busy":
                self.wcs["STATE"] = WCS_STATES["IDLE"]
                await self.wcs.send_setVector(state="Alert")
        else:
            self.log.info("%s: %s", what, message)
        if vector is self.start:
            for member in PROCESSES:
                self.start[member] = "Off"
        else:
            # An upload's answer is a BLOB vector, which a client not taking BLOBs never
            # receives: WCS, a number vector, says it too.
            await self.wcs.send_setVector(state=state, message=message[:MESSAGE])
        await vector.send_setVector(state=state, message=message[:MESSAGE])

    async def _abort(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.abort["ABORT"] = "Off"
        await self.abort.send_setVector(state="Ok")

    # -- the processes -------------------------------------------------------------------

    def hint_values(self) -> Hints:
        """AGENT_PLATESOLVER_HINTS as `Hints`, J2000 (a JNow hint, J2000 member 0,
        precessed)."""
        value = self.hints.getfloatvalue
        ra, dec = value("RA"), value("DEC")
        if value("J2000") == 0:
            ra, dec = precess_to_j2000(ra, dec, self.clock())
        return Hints(ra=ra, dec=dec, radius=value("RADIUS"), scale=value("SCALE"),
                     parity=round(value("PARITY")), downsample=round(value("DOWNSAMPLE")),
                     depth=round(value("DEPTH")), cpulimit=value("CPULIMIT"))

    async def processes(self, *, need_mount: bool) -> Processes:
        """The processes on the devices ACTIVE_DEVICES names, through the agent's link."""
        client = await self.link.client()
        ccd = str(self.active["ACTIVE_CCD"]).strip()
        scope = str(self.active["ACTIVE_TELESCOPE"]).strip()
        camera = mount = None
        if ccd:
            camera = self._hands.get(("ccd", ccd))
            if camera is None:
                camera = self._hands[("ccd", ccd)] = IndiCamera(
                    client, ccd, sky=IndiGuardedDomes(client))
        if scope:
            try:
                await connect_device(client, scope)
            except RigError:
                if need_mount:
                    raise
            else:
                mount = self._hands.get(("mount", scope))
                if mount is None:
                    mount = self._hands[("mount", scope)] = IndiMount(client, scope,
                                                                      clock=self.clock)
        if need_mount and mount is None:
            raise SolveFailed("no mount: name one in ACTIVE_DEVICES.ACTIVE_TELESCOPE")
        if camera is not None and mount is not None:
            await self.show_indexes(plate_scale(await camera.wait_pixel_size(), mount.focal_length()),
                                    camera)
        return Processes(self.solver, camera, mount, show_step=self.show_step,
                         show_solution=self.show_solution, clock=self.clock)

    async def _process(self, process: str) -> str:
        seconds = self.exposure.getfloatvalue("EXPOSURE")
        hints = self.hint_values()
        if process == "SOLVE":
            found = await (await self.processes(need_mount=False)).expose_and_solve(
                hints, seconds)
            return _said(found)
        if process == "SYNC":
            found = await (await self.processes(need_mount=True)).sync(hints, seconds)
            return "synced on " + _said(found)
        if process in ("CENTER", "PRECISE_GOTO"):
            settings = Centring(self.centring.getfloatvalue("TOLERANCE"),
                                round(self.centring.getfloatvalue("TRIES")))
            target = None
            if process == "PRECISE_GOTO":
                target = (self.goto.getfloatvalue("RA"), self.goto.getfloatvalue("DEC"))
            self.centring_state.update({"TRY": 0, "OFFSET": 0, "RA_OFFSET": 0, "DEC_OFFSET": 0})
            await self.centring_state.send_setVector(state="Busy")
            try:
                off = await (await self.processes(need_mount=True)).centre(
                    hints, seconds, settings, target=target,
                    goto_first=process == "PRECISE_GOTO", show_try=self.show_try)
            except BaseException:
                await self.centring_state.send_setVector(state="Alert")
                raise
            await self.centring_state.send_setVector(state="Ok")
            return f"centred: {off.total:.1f}\" off the target"
        if process == "CALCULATE_PA_ERROR" or self._alignment is None:
            if process != "CALCULATE_PA_ERROR":
                raise SolveFailed("RECALCULATE_PA_ERROR needs a CALCULATE_PA_ERROR first")
            self._alignment = None
            done = await (await self.processes(need_mount=True)).calculate_polar(
                hints, self.pa_settings.getfloatvalue("EXPOSURE"),
                self.pa_settings.getfloatvalue("HA_MOVE"), self.show_alignment)
        else:
            await self.show_alignment(4, None)
            done = await (await self.processes(need_mount=True)).recalculate_polar(
                hints, self.pa_settings.getfloatvalue("EXPOSURE"), self._alignment)
        self._alignment = done
        await self.show_alignment(5, done)
        return (f"polar error {done.error.total * 60:.2f}' (altitude "
                f"{done.error.altitude * 60:+.2f}', azimuth {done.error.azimuth * 60:+.2f}')")

    async def _solve_upload(self, data: bytes, suffix: str) -> str:
        processes = Processes(self.solver, None, None, show_step=self.show_step,
                              show_solution=self.show_solution)
        found = await processes.solve_image(data, self.hint_values(), suffix)
        return _said(found)

    # -- what is shown -------------------------------------------------------------------

    async def show_step(self, step: str, message: str = "") -> None:
        self.wcs["STATE"] = WCS_STATES[step]
        await self.wcs.send_setVector(state="Busy", message=message)

    async def show_solution(self, found: Solution) -> None:
        self.wcs.update({"STATE": WCS_STATES["DONE"], "RA": found.ra, "DEC": found.dec,
                         "J2000": 2000, "ANGLE": found.angle, "WIDTH": found.width,
                         "HEIGHT": found.height, "SCALE": found.scale,
                         "PARITY": found.parity, "INDEX": found.index})
        await self.wcs.send_setVector(state="Ok")
        await self.show_indexes(found.scale, None, width=found.width)

    async def show_try(self, number: int, found: Solution, off: CentreOffset) -> None:
        self.centring_state.update({"TRY": number, "OFFSET": off.total, "RA_OFFSET": off.ra,
                                    "DEC_OFFSET": off.dec})
        await self.centring_state.send_setVector(
            state="Busy", message=f"try {number}: {off.total:.1f}\" off the target")

    async def show_alignment(self, state: int, done: Alignment | None) -> None:
        """AGENT_PLATESOLVER_PA_STATE: STATE 1-3 the frame being taken, 4 recalculating, 5
        done (the errors in degrees, INDIGO's units)."""
        self.pa_state["STATE"] = state
        if done is not None:
            error = done.error
            first = done.points[0]
            self.pa_state.update({
                "DEC_DRIFT_2": done.points[1][1] - first[1],
                "DEC_DRIFT_3": done.points[2][1] - first[1],
                "CURRENT_RA": done.solved[0], "CURRENT_DEC": done.solved[1],
                "ALT_POLAR_ERROR": error.altitude, "AZ_POLAR_ERROR": error.azimuth,
                "POLAR_ERROR": error.total, "ALT_CORRECTION_UP": int(error.up),
                "AZ_CORRECTION_CW": int(error.cw)})
        await self.pa_state.send_setVector(state="Ok" if done is not None else "Busy")

    async def show_indexes(self, scale: float, camera: IndiCamera | None, *,
                           width: float = 0.0) -> None:
        """AGENT_PLATESOLVER_INDEX_STATE for a field `width` degrees wide (else `scale`
        times the camera's CCD_INFO width)."""
        if not width and camera is not None and scale > 0:
            info = camera.client.devices.vector(camera.name, "CCD_INFO")
            pixels = float(info["CCD_MAX_X"]) if info is not None and "CCD_MAX_X" in info \
                else 0.0
            width = scale * pixels / 3600.0
        if not width:
            return
        report = self.solver.report(width)
        self.index_state.update({
            "NEEDED": ", ".join(str(index) for index in report.needed),
            "INSTALLED": ", ".join(str(index) for index in report.installed),
            "MISSING": ", ".join(f"{index}" for index in report.missing)
                       + (f" ({', '.join(report.packages())})" if report.missing else "")})
        await self.index_state.send_setVector(
            state="Ok" if not report.missing else "Alert" if not report.usable else "Busy",
            message=f"a field {width:.2f} deg wide {report.text()}"[:MESSAGE])


def _said(found: Solution) -> str:
    return (f"solved: RA {found.ra:.5f} h, Dec {found.dec:.4f} deg (J2000), "
            f"{found.scale:.3f}\"/px, angle {found.angle:.2f} deg, index {found.index}"
            + (f", by {_BY[found.via]}" if found.via in _BY else ""))


#: How it solved, said in the process's message.
_BY = {"stars": "its star list", "image": "the image"}
