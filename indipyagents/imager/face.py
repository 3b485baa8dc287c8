"""`ImagerFace`: indilib 1.9.9's ``indi_imager_agent`` face and behaviour, as one part (a
`Role`) of an agent device, so that other parts (the sequencer's) can sit beside it.

What a client sees is indilib's (``vectors``): GROUPS, DEVICES, IMAGE_NAME and GROUP_nn from
the start (GROUP_nn deleted and defined again whenever GROUP_COUNT is set), STATUS, PROGRESS,
BATCH, DOWNLOAD and IMAGE once connected. CONNECT connects the controlled devices (STATUS's
lights: Alert, Busy while connecting, Ok). BATCH.START runs the groups in order: the wheel
turned to the group's slot (0: left alone), the camera's binning and exposure set, each frame
saved as ``IMAGE_FOLDER/PREFIX_G_NNN.fits``; PROGRESS says the group, the image and the
exposure's remaining time (Busy, then Ok "Batch done"; Alert "Batch aborted" on ABORT).
DOWNLOAD sends a saved file as IMAGE and deletes it. The batch itself is a `BatchRun`
(``batchrun``), PROGRESS a `ProgressReport`, STATUS `StatusLights`. BATCH.START claims the
agent's `Runner`, which the sequencer's face shares: while a sequence or focusing runs on the
camera, START is refused at once, BATCH Alert naming what runs.

On purpose unlike indilib's: the frame comes to the agent as a BLOB and is written by the
agent, whole or not at all (`files.write_atomically`); before exposing, the camera's
ACTIVE_DEVICES.ACTIVE_FILTER is set to the wheel the agent drives, so the frame's FITS FILTER
card is that wheel's filter (indilib's CCD simulator otherwise reads its own built-in wheel);
and a controlled device that disconnects or dies turns its STATUS light and the vector Alert
(where indilib's waits forever); a batch then takes the frame again once the device is back
(its driver restarted by the server), by the project's retry policy, and ends with BATCH and
PROGRESS Alert naming the device only when it does not come back.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indipyclient import Client
from indipycore.interface import Interface
from indipycore.retrypolicy import Retry
from indipydriver import newNumberVector
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import run_chosen
from indipydriver.vectors import PropertyVector

from ..link import AgentLink
from ..plan.model import Devices
from ..rig.connect import open_rig
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from ..runner import Busy
from ..runner import Claim
from ..runner import Runner
from .batchjournal import BatchLog
from .batchjournal import BatchSpec
from .batchjournal import Group
from .batchjournal import RunningBatch
from .batchrun import BATCH_RETRY
from .batchrun import BatchRun
from .batchrun import RigOpener
from .download import send_frame
from .progress import ProgressReport
from .status import StatusLights
from .vectors import MAX_GROUPS
from .vectors import ImagerVectors
from .vectors import group_vector

__all__ = ["BATCH_RUNS", "ImagerFace", "RigOpener"]

logger = logging.getLogger(__name__)

#: What the agent's `Runner` says runs while a batch does.
BATCH_RUNS = "a batch"
#: Where a camera of this machine writes the batch's frames before the agent saves them under
#: indilib's names (UPLOAD_MODE Local, as indilib's agent has it): no BLOB crosses the server.
INCOMING = Path(tempfile.gettempdir()) / f"indipy-agent-incoming-{os.getuid()}"


async def _open_camera_and_wheel(client: Client, devices: Devices) -> Rig:
    return await open_rig(client, devices, local=INCOMING)


class ImagerFace:
    """indilib's imager agent as a `Role` of an agent `Device`, driving the devices through
    `link` (the agent's client of its own server)."""

    def __init__(self, link: AgentLink, *, rig: RigOpener = _open_camera_and_wheel,
                 batches: BatchLog | None = None, runner: Runner | None = None,
                 retry: Retry = BATCH_RETRY) -> None:
        self.link = link
        #: How a batch retries a frame whose device was lost (`batchrun.BATCH_RETRY`).
        self.retry = retry
        self.open_rig = rig
        #: Where batches are journalled (None: not journalled, as indilib's agent).
        self.batches = batches
        #: One runner at a time on the agent's camera: shared with the sequencer's face.
        self.runner = runner if runner is not None else Runner()
        made = ImagerVectors()
        self.groups, self.devices, self.image_name = made.groups, made.devices, made.image_name
        self.status, self.progress, self.batch = made.status, made.progress, made.batch
        self.download, self.image = made.download, made.image
        self.group_vectors = [group_vector(group) for group in range(1, MAX_GROUPS + 1)]
        for vector in self.group_vectors[1:]:
            vector.enable = False  # defined when GROUP_COUNT grows
        self.always_names = ("GROUPS", "DEVICES", "IMAGE_NAME",
                             *(vector.name for vector in self.group_vectors))
        self.config_names = self.always_names
        self.report = ProgressReport(self.progress)
        self.lights = StatusLights(link, self.status, self.devices, lambda: self.log)
        self._device: RoleDevice | None = None
        self._run: BatchRun | None = None
        self._monitor_task: asyncio.Task[None] | None = None

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
            await run_chosen(event, {"ABORT": self._abort, "START": self._start})
        elif name == "DOWNLOAD":
            await send_frame(str(self.image_name["IMAGE_FOLDER"]),
                             str(self.image_name["IMAGE_PREFIX"]),
                             round(_number(event, "GROUP")), round(_number(event, "IMAGE")),
                             download=self.download, blob=self.image)

    async def connected(self) -> None:
        """As indilib's: the controlled devices connected (STATUS's lights), then watched."""
        self._monitor_task = asyncio.create_task(self.lights.watch(),
                                                 name="imager agent STATUS")

    async def disconnected(self) -> None:
        """The agent DISCONNECTed: a running batch is aborted (as indilib's agent does)."""
        run, self._run = self._run, None
        if run is not None:
            await run.stop("the agent was disconnected")
        task, self._monitor_task = self._monitor_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

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

    # -- the batch -----------------------------------------------------------------------

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
                self.batch["START"] = "Off"
                await self.batch.send_setVector(state="Alert", message=said)
                return
        await self.report.say("Busy", 1, 1)
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Ok")
        self._launch(spec, record, claim, resumed=False)

    def _launch(self, spec: BatchSpec, record: RunningBatch | None, claim: Claim, *,
                resumed: bool) -> None:
        self._run = BatchRun(spec, record, claim, link=self.link, open_rig=self.open_rig,
                             progress=self.report, failed=self._failed, log=self.log,
                             retry=self.retry)
        self._run.start(resumed=resumed)

    async def _failed(self, failure: RigError, group: int, image: int) -> None:
        """The batch ended on `failure`: its device's light, STATUS, BATCH and PROGRESS
        Alert, each naming it."""
        said = str(failure)
        await self.lights.alert(failure)
        await self.report.say("Alert", group, image, 0, said)
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Alert", message=said)

    async def _abort(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            await run.stop("aborted by a client")
        await self.report.alert("Batch aborted")
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Ok")

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
            await self._show(record)
        except BaseException:
            claim.release()
            raise
        self._launch(record.spec, record, claim, resumed=True)

    async def _show(self, record: RunningBatch) -> None:
        """The vectors as `record`'s batch had them, PROGRESS where it goes on."""
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
        await self.report.say("Busy", group, image)
        self.batch["START"] = self.batch["ABORT"] = "Off"
        await self.batch.send_setVector(state="Ok")


def _number(event: ClientVectorEvent[Any], member: str) -> float:
    """A number a client sent (checked and parsed by the framework: sexagesimal too)."""
    assert isinstance(event, newNumberVector)
    return event.getfloatvalue(member)
