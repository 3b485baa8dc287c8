"""`BatchRun`: one batch of indilib's face, from BATCH.START (or a restart's resume) to its end.

The groups in order: the wheel turned to the group's slot (0: left alone), the group's frames
as one camera `series` (each next exposure asked for as the previous frame comes), each frame
saved as ``IMAGE_FOLDER/PREFIX_G_NNN.fits`` in a thread while the next one exposes, whole or
not at all, and journalled when the batch is (``batchjournal``). PROGRESS says where it is;
it ends Ok "Batch done", or, a device refusing, with the face's Alert naming it.

A device lost (its driver killed and restarted by the server, disconnected, silent) costs the
frame in hand, not the batch: as a plan's step in the sequencer, the group is tried again by
the project's retry policy (`BATCH_RETRY`), the camera connected and set up again by its
`series`, the wheel turned again, and only the frames not taken yet asked for (none taken
twice, the frames saved kept). A device that does not come back within the policy ends the
batch with the face's Alert naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any

from indipyclient import Client
from indipyclient import delProperty
from indipyclient import setSwitchVector
from indipyclient.model.events import Event
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry

from ..journal import JournalError
from ..link import AgentLink
from ..plan.model import Devices
from ..plan.model import FrameType
from ..rig.camera import FRAME_SWITCHES
from ..rig.protocols import DeviceLost
from ..rig.protocols import Frame
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from ..rig.protocols import Wheel
from ..runner import Claim
from .batchjournal import BatchSpec
from .batchjournal import Group
from .batchjournal import RunningBatch
from .batchjournal import step_id
from .files import frame_path
from .files import write_atomically
from .progress import ProgressReport
from .progress import Show

__all__ = ["BATCH_RESUME_RETRY", "BATCH_RETRY", "SAVE_DELAY", "BatchRun", "RigOpener"]

#: How a batch gets its instruments (`open_rig`; a test may hand its own).
RigOpener = Callable[[Client, Devices], Awaitable[Rig]]
#: A batch continued after a restart waits for its devices (the server starts their drivers
#: beside the agent) by the project's retry policy: after 1, 2, 4, 8, 8 s, then it fails.
BATCH_RESUME_RETRY = Retry(ExponentialBackoff(initial=1.0, cap=8.0, jitter="none"), retries=5)
#: A frame whose device was lost (its driver died, restarted by the server) is tried again
#: after 2, 4, 8, 16 s, the device connected and set up again, then the batch fails naming
#: it: the sequencer's `DEFAULT_RETRY`, so a batch survives what a plan survives.
BATCH_RETRY = Retry(ExponentialBackoff(initial=2.0, cap=30.0), retries=4)
#: Seconds a frame's save waits, so the next exposure is asked for first (`_save`).
SAVE_DELAY = 0.05

#: How the face is told a batch failed: the failure, the group and image it was at.
Failed = Callable[[RigError, int, int], Awaitable[None]]


class BatchRun:
    """The batch `spec` (journalled in `record`, or not) on the instruments `open_rig` gives
    through `link`, holding the agent's camera by `claim` until it ends. `progress` is
    PROGRESS; `failed` says a failure on the face (STATUS, PROGRESS, BATCH Alert); `retry`
    retries a frame whose device was lost (`BATCH_RETRY`)."""

    def __init__(self, spec: BatchSpec, record: RunningBatch | None, claim: Claim, *,
                 link: AgentLink, open_rig: RigOpener, progress: ProgressReport,
                 failed: Failed, log: logging.Logger, retry: Retry = BATCH_RETRY) -> None:
        self.spec = spec
        self.record = record
        self.claim = claim
        self.link = link
        self.open_rig = open_rig
        self.progress = progress
        self._failed = failed
        self.log = log
        #: The devices the batch drives: a loss of another leaves it alone.
        self.using = {name for name in (spec.ccd, spec.wheel) if name}
        self._task: asyncio.Task[None] | None = None
        self._saving: asyncio.Task[None] | None = None  # the last frame's save, at most one
        self.retry = retry
        #: The frames taken (step ids), so a group tried again asks only for the others.
        self._taken: set[str] = set(record.done) if record is not None else set()
        #: The (group, image) the batch is at, for PROGRESS.
        self._at = (0, 0)

    # -- from the face ---------------------------------------------------------------------

    def start(self, *, resumed: bool) -> None:
        """Run as the agent's task; `resumed`: continued after a restart (its devices waited
        for, an exposure the stopped agent asked for aborted)."""
        self._task = asyncio.create_task(self._run(resumed), name="imager agent batch")
        # Released however the task ends, even cancelled before its first step.
        self._task.add_done_callback(lambda _task: self.claim.release())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, reason: str) -> None:
        """Cancelled (ABORT, DISCONNECT): the exposure aborted, a frame being saved kept,
        and the batch journalled as aborted for `reason`."""
        task = self._task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await self._journal("aborted", reason)

    # -- running ---------------------------------------------------------------------------

    async def _run(self, resumed: bool) -> None:
        """The batch. A frame is saved (written whole, then journalled) while the next one
        exposes: the camera waits on no disk, which is most of the dead time between two
        frames of a group; one save at a time, finished before the next is queued and before
        the batch ends (or is aborted: a frame taken is kept)."""
        try:
            await self._batch(resumed)
        finally:
            saving, self._saving = self._saving, None
            if saving is not None and not saving.done():
                await asyncio.gather(saving, return_exceptions=True)
            self.claim.release()

    async def _batch(self, resumed: bool) -> None:
        spec = self.spec
        rig: Rig | None = None
        try:
            client = await self.link.client()
            rig = await self._rig(client, patient=resumed)
            if resumed:  # an exposure the stopped agent had asked for is not waited for
                await self._abort_camera(rig)
            if rig.wheel is not None:
                await rig.camera.name_devices(wheel=rig.wheel.name)
            # One count of failures for the batch, reset by each frame taken: every frame
            # has the policy's whole patience, as each step of a plan has.
            attempts = self.retry.attempts()
            async with self.progress.following(client, spec.ccd) as show:
                for group, settings in enumerate(spec.groups, 1):
                    self._at = (group, self._at[1])
                    turn_patiently = resumed and settings.slot > 0 and rig.wheel is not None

                    async def attempt(group: int = group, settings: Group = settings,
                                      patient: bool = turn_patiently) -> None:
                        assert rig is not None
                        await self._watched(client, self._group(
                            rig, group, settings, show, attempts, patient=patient))

                    await self.retry.call_with_retry(attempt, self._retrying,
                                                     errors=(DeviceLost,), attempts=attempts)
                    if turn_patiently:
                        resumed = False  # later turns are the batch's own
            await self._saved()
            await self._journal("finished")
            self.claim.release()  # before "Batch done": a client told may start another
            await self.progress.say("Ok", *self._at, 0, "Batch done")
        except asyncio.CancelledError:
            await self._abort_camera(rig)
            raise
        except RetriesExhausted as exhausted:
            lost = exhausted.__cause__
            if not isinstance(lost, RigError):
                raise
            tried = f"{lost.reason} (tried {exhausted.failures + 1} times)"
            await self._fail(DeviceLost(lost.device, tried), *self._at)
        except RigError as exc:
            await self._fail(exc, *self._at)
        except (ConnectionError, OSError) as exc:
            await self._fail(DeviceLost(spec.ccd, str(exc)), *self._at)

    async def _group(self, rig: Rig, group: int, settings: Group, show: Show,
                     attempts: Attempts, *, patient: bool) -> None:
        """The frames of `group` not taken yet: the wheel turned to its slot (0: left
        alone), then the frames as one series, the camera asking for each next exposure as
        the previous frame comes, before it is saved here. Tried again after a `DeviceLost`
        (the camera's `series` connects it and sets it up again: binning, upload mode,
        ACTIVE_DEVICES), so only the frames still missing are asked for."""
        todo = [number for number in range(1, settings.count + 1)
                if step_id(group, number) not in self._taken]
        if settings.slot > 0 and rig.wheel is not None and (todo or not settings.count):
            await self._turn(rig.wheel, settings.slot, patient=patient)
        if not todo:
            return
        exposing = iter(todo)
        image = next(exposing)
        self._at = (group, image)
        show(group, image)
        # No frame type of its own, as indilib's agent: the camera's, as a client set it.
        kind = frame_type_of(await self.link.client(), rig.camera.name)
        frames = rig.camera.series(settings.exposure, len(todo), binning=settings.binning,
                                   frame_type=kind)
        async with contextlib.aclosing(frames):
            async for frame in frames:
                attempts.succeeded()
                self._taken.add(step_id(group, image))
                taken, image = image, next(exposing, image)
                if image != taken:
                    self._at = (group, image)
                    show(group, image)
                await self._saved()
                self._saving = asyncio.get_running_loop().create_task(
                    self._save(group, taken, frame), name=f"save {group}/{taken}")

    async def _watched(self, client: Client, work: Coroutine[Any, Any, None]) -> None:
        """`work`, cut short by a `DeviceLost` as soon as a device the batch uses is deleted
        (its driver died) or disconnected: a wheel's answer would otherwise be waited for
        `WHEEL_WAIT`, and a wheel restarted mid-group may not hold the group's filter. The
        events are watched from the start of `work`, so an old loss is not seen again."""
        def lost(event: object) -> bool:
            if not isinstance(event, Event) or event.devicename not in self.using:
                return False
            if isinstance(event, delProperty) and event.vectorname is None:
                raise DeviceLost(event.devicename, "its driver deleted it (gone, or its "
                                                   "driver died)")
            if isinstance(event, setSwitchVector) and event.vectorname == "CONNECTION" \
                    and dict(event).get("CONNECT") == "Off":
                raise DeviceLost(event.devicename, "it was disconnected")
            return False

        with client.waiters.watching(lost) as loss:
            task = asyncio.ensure_future(work)
            try:
                await asyncio.wait({task, loss}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, RigError):
                        await task
            if task.done() and not task.cancelled():
                task.result()  # the work's own end (or error) first: it may say more
                return
            loss.result()  # raises the DeviceLost

    async def _retrying(self, error: BaseException) -> None:
        """A device lost: said on PROGRESS (Busy, where the batch is) while the retry waits."""
        self.log.warning("Batch: %s; retrying", error)
        await self.progress.say("Busy", *self._at, 0, f"retrying: {error}")

    async def _rig(self, client: Client, *, patient: bool) -> Rig:
        """The batch's camera and wheel; `patient` (a batch continued after a restart): a
        device not there yet is waited for by `BATCH_RESUME_RETRY`."""
        devices = Devices(camera=self.spec.ccd, wheel=self.spec.wheel)
        if not patient:
            return await self.open_rig(client, devices)
        try:
            return await BATCH_RESUME_RETRY.call_with_retry(
                lambda: self.open_rig(client, devices), errors=(DeviceLost,))
        except RetriesExhausted as exhausted:
            cause = exhausted.__cause__
            raise cause if isinstance(cause, DeviceLost) else exhausted

    async def _turn(self, wheel: Wheel, slot: int, *, patient: bool) -> None:
        """The wheel to `slot`; `patient` (its first turn after a restart): a wheel still
        turning where the stopped agent sent it refuses, so `BATCH_RESUME_RETRY` asks
        again."""
        if not patient:
            await wheel.select(slot)
            return
        try:
            await BATCH_RESUME_RETRY.call_with_retry(lambda: wheel.select(slot),
                                                     errors=(RigError,))
        except RetriesExhausted as exhausted:
            cause = exhausted.__cause__
            raise cause if isinstance(cause, RigError) else exhausted

    async def _saved(self) -> None:
        """The previous frame's save finished (its error raised here, ending the batch)."""
        saving, self._saving = self._saving, None
        if saving is not None:
            await saving

    async def _save(self, group: int, image: int, frame: Frame) -> None:
        """The frame written whole; journalled when the batch is. It starts `SAVE_DELAY`
        after the frame came, once the next exposure has been asked for, and its bytes are
        read in the thread too (a camera's local file): the thread's reading, hashing,
        writing and fsync then do not compete with that request."""
        spec, record = self.spec, self.record
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
        record, self.record = self.record, None
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

    async def _fail(self, failure: RigError, group: int, image: int) -> None:
        said = str(failure)
        self.log.error("Batch failed: %s", said)
        await self._journal("failed", said)
        self.claim.release()
        await self._failed(failure, group, image)

    async def _abort_camera(self, rig: Rig | None) -> None:
        if rig is None:
            return
        try:
            await asyncio.wait_for(rig.camera.abort(), 10)
        except (RigError, TimeoutError) as exc:
            self.log.warning("Aborting the exposure: %s", exc)


def frame_type_of(client: Client, camera: str) -> FrameType:
    """The frame type `camera`'s CCD_FRAME_TYPE is on (Light where it has none): a batch of
    indilib's face takes what a client set (FRAME_FLAT: flats at the group's exposure), as
    indilib's `indi_imager_agent`, whose groups have no frame type, does."""
    found = client.devices.vector(camera, "CCD_FRAME_TYPE")
    on = {member for member in found if str(found[member]) == "On"} if found else set()
    return next((kind for kind, switch in FRAME_SWITCHES.items() if switch in on), "Light")
