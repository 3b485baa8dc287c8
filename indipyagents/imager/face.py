"""`ImagerFace`: indilib 1.9.9's ``indi_imager_agent`` face and behaviour, as one part (a
`Role`) of an agent device, so that other parts (the sequencer's) can sit beside it.

What a client sees is indilib's (``vectors``): GROUPS, DEVICES, IMAGE_NAME and GROUP_nn from
the start (GROUP_nn deleted and defined again whenever GROUP_COUNT is set), STATUS, PROGRESS,
BATCH, DOWNLOAD and IMAGE once connected. CONNECT connects the controlled devices (STATUS's
lights: Alert, Busy while connecting, Ok). BATCH.START runs the groups in order: the wheel
turned to the group's slot (0: left alone), the camera's binning and exposure set, each frame
saved as ``IMAGE_FOLDER/PREFIX_G_NNN.fits``; PROGRESS says the group, the image and the
exposure's remaining time (Busy, then Ok "Batch done"; Alert "Batch aborted" on ABORT).
DOWNLOAD sends a saved file as IMAGE and deletes it.

On purpose unlike indilib's: the frame comes to the agent as a BLOB and is written by the
agent, whole or not at all (`files.write_atomically`); before exposing, the camera's
ACTIVE_DEVICES.ACTIVE_FILTER is set to the wheel the agent drives, so the frame's FITS FILTER
card is that wheel's filter (indilib's CCD simulator otherwise reads its own built-in wheel);
and a controlled device that disconnects or dies turns its STATUS light and the vector Alert,
and a batch then ends with BATCH and PROGRESS Alert naming it, where indilib's waits forever.

Given a `BatchLog` (the agent's state folder), a batch is journalled (``batchjournal``): each
frame saved whole and then recorded, so that a batch the server or the agent was running when
it died is continued by `resume` when the agent starts again (`AgentDriver.hardware`), no
client needed: the face's vectors show the batch's settings, PROGRESS goes on from the first
frame not taken, and only the frames missing are taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import TypeVar

from indipyclient import Client
from indipyclient import ConnectionLost
from indipyclient import delProperty
from indipyclient import setNumberVector
from indipyclient import setSwitchVector
from indipyclient.model.events import Event
from indipycore.interface import Interface
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipydriver import BLOBVector
from indipydriver import LightVector
from indipydriver import NumberVector
from indipydriver import SwitchVector
from indipydriver import TextVector
from indipydriver import newNumberVector
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.standard.role import RoleDevice
from indipydriver.vectors import PropertyVector

from ..journal import JournalError
from ..link import AgentLink
from ..plan.model import Devices
from ..rig.connect import connect_device
from ..rig.connect import open_rig
from ..rig.protocols import DeviceLost
from ..rig.protocols import Frame
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from ..rig.protocols import Wheel
from ..runner import Busy
from ..runner import Claim
from ..runner import Runner
from .batchjournal import BatchLog
from .batchjournal import BatchSpec
from .batchjournal import Group
from .batchjournal import RunningBatch
from .batchjournal import step_id
from .files import frame_path
from .files import write_atomically
from .vectors import MAX_GROUPS
from .vectors import group_vector
from .vectors import make_vectors

__all__ = ["ImagerFace", "RigOpener"]

_V = TypeVar("_V", bound=PropertyVector)

logger = logging.getLogger(__name__)

#: How the face gets its instruments (`open_rig`; a test may hand its own).
RigOpener = Callable[[Client, Devices], Awaitable[Rig]]
#: A batch continued after a restart waits for its devices (the server starts their drivers
#: beside the agent) by the project's retry policy: after 1, 2, 4, 8, 8 s, then it fails.
RESUME_RETRY = Retry(ExponentialBackoff(initial=1.0, cap=8.0, jitter="none"), retries=5)


#: What the agent's `Runner` says runs while a batch does.
BATCH_RUNS = "a batch"
#: Seconds a frame's save waits, so the next exposure is asked for first (`_save`).
SAVE_DELAY = 0.05
#: Where a camera of this machine writes the batch's frames before the agent saves them under
#: indilib's names (UPLOAD_MODE Local, as indilib's agent has it): no BLOB crosses the server.
INCOMING = Path(tempfile.gettempdir()) / f"indipy-agent-incoming-{os.getuid()}"


async def _open_camera_and_wheel(client: Client, devices: Devices) -> Rig:
    return await open_rig(client, devices, local=INCOMING)


class ImagerFace:
    """indilib's imager agent as a `Role` of an agent `Device`, driving the devices through
    `link` (the agent's client of its own server)."""

    def __init__(self, link: AgentLink, *, rig: RigOpener = _open_camera_and_wheel,
                 batches: BatchLog | None = None, runner: Runner | None = None) -> None:
        self.link = link
        #: One runner at a time on the agent's camera: shared with the sequencer's face.
        self.runner = runner if runner is not None else Runner()
        self._claim: Claim | None = None
        self.open_rig = rig
        #: Where batches are journalled (None: not journalled, as indilib's agent).
        self.batches = batches
        self._record: RunningBatch | None = None
        made = make_vectors()
        self.groups = _kind(made["GROUPS"], NumberVector)
        self.devices = _kind(made["DEVICES"], TextVector)
        self.image_name = _kind(made["IMAGE_NAME"], TextVector)
        self.status = _kind(made["STATUS"], LightVector)
        self.progress = _kind(made["PROGRESS"], NumberVector)
        self.batch = _kind(made["BATCH"], SwitchVector)
        self.download = _kind(made["DOWNLOAD"], NumberVector)
        self.image = _kind(made["IMAGE"], BLOBVector)
        self.group_vectors = [group_vector(group) for group in range(1, MAX_GROUPS + 1)]
        for vector in self.group_vectors[1:]:
            vector.enable = False  # defined when GROUP_COUNT grows
        self.always_names = ("GROUPS", "DEVICES", "IMAGE_NAME",
                             *(vector.name for vector in self.group_vectors))
        self.config_names = self.always_names
        self._device: RoleDevice | None = None
        self._batch_task: asyncio.Task[None] | None = None
        self._saving: asyncio.Task[None] | None = None  # the last frame's save, at most one
        self._monitor_task: asyncio.Task[None] | None = None
        self._failure: RigError | None = None
        self._using: set[str] = set()  # the devices the running batch drives

    # -- the Role ------------------------------------------------------------------------

    @property
    def interface(self) -> Interface:
        return Interface.GENERAL  # indilib's agent says 0: no device role

    def vectors(self) -> Sequence[PropertyVector]:
        return [self.groups, self.devices, self.image_name, *self.group_vectors,
                self.status, self.progress, self.batch, self.download, self.image]

    def attach(self, device: RoleDevice) -> None:
        self._device = device

    @property
    def log(self) -> logging.Logger:
        return self._device.logger if self._device is not None else logger

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        if name == "GROUPS":
            await self._set_count(round(_number(event, "GROUP_COUNT")))
        elif name is not None and name.startswith("GROUP_"):
            vector = event.vector
            for member, value in event.items():
                vector[member] = value
            await vector.send_setVector(state="Ok")
        elif name in ("DEVICES", "IMAGE_NAME"):
            vector = event.vector
            for member, value in event.items():
                vector[member] = value
            if name == "DEVICES":  # the lights are labelled by the devices (next definition)
                self.status.data["CCD"].label = self.devices["CCD"]
                self.status.data["FILTER"].label = self.devices["FILTER"]
            await vector.send_setVector()
        elif name == "BATCH":
            if event.get("ABORT") == "On":
                await self._abort()
            elif event.get("START") == "On":
                await self._start()
            else:
                await self.batch.send_setVector()
        elif name == "DOWNLOAD":
            await self._download(round(_number(event, "GROUP")),
                                 round(_number(event, "IMAGE")))

    async def connected(self) -> None:
        """As indilib's: the controlled devices connected (STATUS's lights), then watched."""
        self._monitor_task = asyncio.create_task(self._monitor(), name="imager agent STATUS")

    async def disconnected(self) -> None:
        """The agent DISCONNECTed: a running batch is aborted (as indilib's agent does)."""
        running = self._batch_task is not None and not self._batch_task.done()
        for task in (self._batch_task, self._monitor_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._batch_task = self._monitor_task = None
        if running:
            await self._journal("aborted", "the agent was disconnected")

    # -- groups --------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return round(self.groups.getfloatvalue("GROUP_COUNT"))

    async def _set_count(self, count: int) -> None:
        """indilib's way: every group vector deleted, then the `count` first defined (their
        values kept), then GROUPS Ok."""
        for vector in self.group_vectors:
            if vector.enable:
                await vector.send_delProperty()
        for vector in self.group_vectors[:count]:
            vector.enable = True
            await vector.send_defVector()
        self.groups["GROUP_COUNT"] = count
        await self.groups.send_setVector(state="Ok")

    def _spec(self) -> BatchSpec:
        """The batch START runs: the folder, the prefix, the CCD, the wheel when a group
        turns it, each group's count, binning, slot and exposure."""
        groups = tuple(Group(round(vector.getfloatvalue("IMAGE_COUNT")),
                             round(vector.getfloatvalue("CCD_BINNING")),
                             round(vector.getfloatvalue("FILTER_SLOT")),
                             vector.getfloatvalue("CCD_EXPOSURE_VALUE"))
                       for vector in self.group_vectors[:self.count])
        uses_wheel = any(group.slot > 0 for group in groups)
        return BatchSpec(folder=str(self.image_name["IMAGE_FOLDER"]),
                         prefix=str(self.image_name["IMAGE_PREFIX"]),
                         ccd=str(self.devices["CCD"]),
                         wheel=str(self.devices["FILTER"]) if uses_wheel else "",
                         groups=groups)

    # -- STATUS --------------------------------------------------------------------------

    def _light_of(self, device: str) -> str | None:
        if device == self.devices["CCD"]:
            return "CCD"
        if device == self.devices["FILTER"]:
            return "FILTER"
        return None

    async def _light(self, light: str, state: str) -> None:
        if self.status[light] != state:
            self.status[light] = state
            await self.status.send_setVector()

    async def _monitor(self) -> None:
        """Connect the controlled devices (Busy, then Ok or Alert), then follow them: a
        device deleted, disconnected or unreachable turns its light Alert and ends a running
        batch with it named."""
        try:
            client = await self.link.client()
        except (ConnectionError, OSError) as exc:
            self.log.error("Imager agent cannot reach the INDI server at %s: %s",
                           self.link.address, exc)
            await self.status.send_setVector(state="Alert", message=str(exc))
            return
        async with client.events(maxsize=256) as stream:
            for light in ("CCD", "FILTER"):
                name = self.devices[light]
                if not name:
                    continue
                await self._light(light, "Busy")
                try:
                    await connect_device(client, name)
                except RigError as exc:
                    self.log.error("%s", exc)
                    await self._light(light, "Alert")
                else:
                    await self._light(light, "Ok")
            async for event in stream:
                await self._follow(event)

    async def _follow(self, event: object) -> None:
        if isinstance(event, ConnectionLost):
            for light in ("CCD", "FILTER"):
                await self._light(light, "Alert")
            self._lost(DeviceLost(self.devices["CCD"], "the INDI server connection was lost"))
            return
        if not isinstance(event, Event) or event.devicename is None:
            return
        device = event.devicename
        which = self._light_of(device)
        if which is None:
            return
        if isinstance(event, delProperty) and event.vectorname is None:
            await self._light(which, "Alert")
            self._lost(DeviceLost(device, "its driver deleted it (gone, or its driver died)"))
        elif isinstance(event, setSwitchVector) and event.vectorname == "CONNECTION":
            on = dict(event).get("CONNECT") == "On"
            await self._light(which, "Ok" if on else "Alert")
            if not on:
                self._lost(DeviceLost(device, "it was disconnected"))

    def _lost(self, failure: RigError) -> None:
        """A controlled device is gone: a running batch that uses it stops and says so."""
        task = self._batch_task
        if task is not None and not task.done() and self._failure is None \
                and failure.device in self._using:
            self._failure = failure
            task.cancel()

    # -- the batch -----------------------------------------------------------------------

    async def _progress(self, state: str, group: int, image: int, remaining: float,
                        message: str = "") -> None:
        self.progress["GROUP"] = group
        self.progress["IMAGE"] = image
        self.progress["REMAINING_TIME"] = remaining
        await self.progress.send_setVector(state=state, message=message)

    async def _start(self) -> None:
        try:
            claim = self.runner.claim(BATCH_RUNS)
        except Busy as busy:  # a batch, a sequence or focusing runs: it is left alone
            self.log.warning("BATCH.START refused: %s", busy)
            self.batch["START"] = "Off"
            await self.batch.send_setVector(state="Alert", message=str(busy))
            return
        spec = self._spec()
        record = None
        if self.batches is not None:
            try:
                record = await asyncio.to_thread(self.batches.begin, spec)
            except (OSError, ValueError) as exc:
                claim.release()
                said = f"The batch cannot be journalled: {exc}"
                self.log.error("%s", said)
                self.batch["START"] = self.batch["ABORT"] = "Off"
                await self.batch.send_setVector(state="Alert", message=said)
                return
        await self._progress("Busy", 1, 1, 0)
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Ok")
        self._launch(spec, record, claim, resumed=False)

    def _launch(self, spec: BatchSpec, record: RunningBatch | None, claim: Claim, *,
                resumed: bool) -> None:
        self._failure = None
        self._record = record
        self._claim = claim
        self._batch_task = asyncio.create_task(self._run(spec, record, resumed),
                                               name="imager agent batch")
        # Released however the task ends, even cancelled before its first step.
        self._batch_task.add_done_callback(lambda _task: claim.release())

    # -- after a restart -------------------------------------------------------------------

    def unfinished(self) -> RunningBatch | None:
        """The journalled batch that was running when the agent stopped, or None."""
        return self.batches.unfinished() if self.batches is not None else None

    async def resume(self, record: RunningBatch) -> None:
        """Go on with `record` (from `unfinished`) as if START had just been sent, from its
        first frame not taken: IMAGE_NAME, DEVICES, GROUPS and GROUP_nn show its settings,
        PROGRESS Busy at that group and image, BATCH Ok. The agent must be connected (its
        batch vectors defined)."""
        try:
            claim = self.runner.claim(BATCH_RUNS)
        except Busy as busy:
            self.log.error("The batch %s is not continued: %s", record.spec.prefix, busy)
            return
        try:
            spec = record.spec
            self.image_name["IMAGE_FOLDER"] = spec.folder
            self.image_name["IMAGE_PREFIX"] = spec.prefix
            await self.image_name.send_setVector()
            self.devices["CCD"] = spec.ccd
            if spec.wheel:
                self.devices["FILTER"] = spec.wheel
            self.status.data["CCD"].label = self.devices["CCD"]
            self.status.data["FILTER"].label = self.devices["FILTER"]
            await self.devices.send_setVector()
            for vector, settings in zip(self.group_vectors, spec.groups, strict=False):
                vector["IMAGE_COUNT"] = settings.count
                vector["CCD_BINNING"] = settings.binning
                vector["FILTER_SLOT"] = settings.slot
                vector["CCD_EXPOSURE_VALUE"] = settings.exposure
            await self._set_count(len(spec.groups))
            group, image = record.first_to_take() or (1, 1)
            self.log.warning("Continuing the batch %s in %s at group %d image %d after a restart",
                             spec.prefix, spec.folder, group, image)
            await self._progress("Busy", group, image, 0)
            self.batch["START"] = self.batch["ABORT"] = "Off"
            await self.batch.send_setVector(state="Ok")
        except BaseException:
            claim.release()
            raise
        self._launch(spec, record, claim, resumed=True)

    # -- running ---------------------------------------------------------------------------

    async def _run(self, spec: BatchSpec, record: RunningBatch | None, resumed: bool) -> None:
        """The batch. A frame is saved (written whole, then journalled) while the next one
        exposes: the camera waits on no disk, which is most of the dead time between two
        frames of a group; one save at a time, finished before the next is queued and before
        the batch ends (or is aborted: a frame taken is kept)."""
        try:
            await self._batch(spec, record, resumed)
        finally:
            saving = self._saving
            self._saving = None
            if saving is not None and not saving.done():
                await asyncio.gather(saving, return_exceptions=True)
            self._release()

    def _release(self) -> None:
        """The camera free for another run: before the batch's end is said, so a client
        told "Batch done" may start something else at once."""
        claim, self._claim = self._claim, None
        if claim is not None:
            claim.release()

    async def _batch(self, spec: BatchSpec, record: RunningBatch | None,
                     resumed: bool) -> None:
        group = image = 0
        rig: Rig | None = None
        try:
            client = await self.link.client()
            self._using = {name for name in (spec.ccd, spec.wheel) if name}
            rig = await self._rig(client, spec, patient=resumed)
            if resumed:  # an exposure the stopped agent had asked for is not waited for
                await self._abort_camera(rig)
            if rig.wheel is not None:
                await rig.camera.name_devices(wheel=rig.wheel.name)
            async with self._following(client) as show:
                for group, settings in enumerate(spec.groups, 1):
                    todo = [number for number in range(1, settings.count + 1)
                            if record is None or step_id(group, number) not in record.done]
                    if settings.slot > 0 and rig.wheel is not None \
                            and (todo or not settings.count):
                        await self._turn(rig.wheel, settings.slot, patient=resumed)
                        resumed = False  # later turns are the batch's own
                    if not todo:
                        continue
                    # The group's frames as one series: the camera asks for each next
                    # exposure as the previous frame comes, before it is saved here.
                    exposing = iter(todo)
                    image = next(exposing)
                    show(group, image)
                    frames = rig.camera.series(settings.exposure, len(todo),
                                               binning=settings.binning)
                    async with contextlib.aclosing(frames):
                        async for frame in frames:
                            taken, image = image, next(exposing, image)
                            if image != taken:
                                show(group, image)
                            await self._saved()
                            self._saving = asyncio.get_running_loop().create_task(
                                self._save(spec, record, group, taken, frame),
                                name=f"save {group}/{taken}")
            await self._saved()
            await self._journal("finished")
            self._release()
            await self._progress("Ok", group, image, 0, "Batch done")
        except asyncio.CancelledError:
            failure, self._failure = self._failure, None
            if failure is None:
                await self._abort_camera(rig)
                raise
            await self._failed(failure, group, image)
        except RigError as exc:
            await self._failed(exc, group, image)
        except (ConnectionError, OSError) as exc:
            await self._failed(DeviceLost(self.devices["CCD"], str(exc)), group, image)

    async def _rig(self, client: Client, spec: BatchSpec, *, patient: bool) -> Rig:
        """The batch's camera and wheel; `patient` (a batch continued after a restart): a
        device not there yet is waited for by `RESUME_RETRY`."""
        devices = Devices(camera=spec.ccd, wheel=spec.wheel)
        if not patient:
            return await self.open_rig(client, devices)
        try:
            return await RESUME_RETRY.call_with_retry(
                lambda: self.open_rig(client, devices), errors=(DeviceLost,))
        except RetriesExhausted as exhausted:
            cause = exhausted.__cause__
            raise cause if isinstance(cause, DeviceLost) else exhausted

    async def _turn(self, wheel: Wheel, slot: int, *, patient: bool) -> None:
        """The wheel to `slot`; `patient` (its first turn after a restart): a wheel still
        turning where the stopped agent sent it refuses, so `RESUME_RETRY` asks again."""
        if not patient:
            await wheel.select(slot)
            return
        try:
            await RESUME_RETRY.call_with_retry(lambda: wheel.select(slot),
                                               errors=(RigError,))
        except RetriesExhausted as exhausted:
            cause = exhausted.__cause__
            raise cause if isinstance(cause, RigError) else exhausted

    async def _saved(self) -> None:
        """The previous frame's save finished (its error raised here, ending the batch)."""
        saving, self._saving = self._saving, None
        if saving is not None:
            await saving

    async def _save(self, spec: BatchSpec, record: RunningBatch | None, group: int,
                    image: int, frame: Frame) -> None:
        """The frame written whole; journalled when the batch is. It starts `SAVE_DELAY`
        after the frame came, once the next exposure has been asked for, and its bytes are
        read in the thread too (a camera's local file): the thread's reading, hashing,
        writing and fsync then do not compete with that request."""
        try:
            await asyncio.sleep(SAVE_DELAY)
            if record is None:
                path = frame_path(spec.folder, spec.prefix, group, image, frame.format)
                await asyncio.to_thread(lambda: write_atomically(path, frame.data))
            else:
                await asyncio.to_thread(
                    lambda: record.save(group, image, frame.data, frame.format))
        finally:
            frame.discard()  # cancelled before its bytes were read: its file goes

    async def _journal(self, outcome: str, reason: str = "") -> None:
        """The batch's end journalled (finished, aborted, failed); a journal that cannot be
        written is logged (the frames are on disk whatever it says). A frame still being
        saved is saved first (its record before the end's)."""
        saving, self._saving = self._saving, None
        if saving is not None:
            await asyncio.gather(saving, return_exceptions=True)
        record, self._record = self._record, None
        if record is None:
            return
        try:
            if outcome == "finished":
                await asyncio.to_thread(record.finished)
            elif outcome == "aborted":
                await asyncio.to_thread(record.aborted, reason)
            else:
                await asyncio.to_thread(record.failed, reason)
        except (OSError, JournalError) as exc:
            self.log.error("The batch's journal %s: %s", record.journal.path, exc)

    async def _failed(self, failure: RigError, group: int, image: int) -> None:
        """The batch ended on `failure`: its device's light, STATUS, BATCH and PROGRESS
        Alert, each naming it."""
        said = str(failure)
        self.log.error("Batch failed: %s", said)
        await self._journal("failed", said)
        self._release()
        light = self._light_of(failure.device)
        if light is not None:
            self.status[light] = "Alert"
        await self.status.send_setVector(state="Alert", message=said)
        await self._progress("Alert", group, image, 0, said)
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Alert", message=said)

    @contextlib.asynccontextmanager
    async def _following(self, client: Client) -> AsyncIterator[Callable[[int, int], None]]:
        """For a whole batch, PROGRESS's REMAINING_TIME follows the camera's CCD_EXPOSURE;
        the function yielded says which image is next (PROGRESS Busy, its group and image).

        One follower for the batch, and that first PROGRESS a task run at the next wait, so
        between a frame's arrival and the next exposure's request nothing waits: the request
        leaves first and the camera starts again sooner (issue 71's dead time)."""
        camera = self.devices["CCD"]
        now = [0, 0]
        said: list[asyncio.Task[None]] = []

        def show(group: int, image: int) -> None:
            for task in [task for task in said if task.done()]:
                said.remove(task)
                task.result()  # a PROGRESS that could not be sent ends the batch here
            now[:] = [group, image]
            said.append(asyncio.create_task(self._progress("Busy", group, image, 0),
                                            name="imager agent progress"))

        async def follow() -> None:
            async with client.events(maxsize=64) as stream:
                async for event in stream:
                    if isinstance(event, setNumberVector) and event.devicename == camera \
                            and event.vectorname == "CCD_EXPOSURE" \
                            and "CCD_EXPOSURE_VALUE" in event and now[1] \
                            and (event.state is None or event.state.value == "Busy"):
                        # The batch's own task, woken by the same read (a frame come), asks
                        # for the next exposure before this report is written.
                        await asyncio.sleep(0)
                        await self._progress("Busy", now[0], now[1],
                                             float(event["CCD_EXPOSURE_VALUE"]))

        follower = asyncio.create_task(follow(), name="imager agent remaining time")
        try:
            yield show
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await asyncio.gather(*said)

    async def _abort_camera(self, rig: Rig | None) -> None:
        if rig is None:
            return
        try:
            await asyncio.wait_for(rig.camera.abort(), 10)
        except (RigError, TimeoutError) as exc:
            self.log.warning("Aborting the exposure: %s", exc)

    async def _abort(self) -> None:
        task, self._batch_task = self._batch_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._journal("aborted", "aborted by a client")
        await self.progress.send_setVector(state="Alert", message="Batch aborted")
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Ok")

    # -- downloads -----------------------------------------------------------------------

    async def _download(self, group: int, image: int) -> None:
        """indilib's: DOWNLOAD Busy, the file as IMAGE, the file deleted, DOWNLOAD Ok; a file
        that is not there: DOWNLOAD Alert."""
        path = frame_path(self.image_name["IMAGE_FOLDER"], self.image_name["IMAGE_PREFIX"],
                          group, image)
        self.download["GROUP"] = self.download["IMAGE"] = 0
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            await self.download.send_setVector(state="Alert", message="Download failed")
            return
        await self.download.send_setVector(state="Busy", message="Download initiated")
        self.image["IMAGE"] = data
        self.image.set_blobsize("IMAGE", len(data))
        self.image.set_blobformat("IMAGE", path.suffix)
        await self.image.send_setVectorMembers(state="Ok", members=["IMAGE"])
        path.unlink(missing_ok=True)
        await self.download.send_setVector(state="Ok", message="Download finished")


def _number(event: ClientVectorEvent[Any], member: str) -> float:
    """A number a client sent (checked and parsed by the framework: sexagesimal too)."""
    assert isinstance(event, newNumberVector)
    return event.getfloatvalue(member)


def _kind(vector: object, kind: type[_V]) -> _V:
    assert isinstance(vector, kind)
    return vector

