"""The device "Imager Agent" and its driver, assembled (`assembly`): `make_device` composes
the agent's parts (each a `Role`: indilib's face `ImagerFace`, and the sequencer's face beside
it) on one device, `AgentDriver` (on the one agent driver base) resumes what a restart
interrupted, and `make_driver` wires them: one link, one `Runner` both faces share, the `Night`
the sequencer's face builds its runs with.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipycore.skyclock import ENV_SKY_CLOCK
from indipycore.skyclock import SkyClock
from indipycore.skyclock import parse_sky_clock
from indipydriver import Device
from indipydriver.standard.role import Role

from ..assembly import AgentDriverBase
from ..assembly import Description
from ..assembly import make_device as make_agent_device
from ..imager.batchjournal import BatchLog
from ..imager.batchrun import BATCH_RETRY
from ..imager.face import ImagerFace
from ..link import AgentLink
from ..runner import Runner
from ..sequencer.engine import DEFAULT_RETRY
from ..sequencer.face import SequencerFace
from .camerarange import CameraRange
from .night import Night
from .night import Unfinished
from .night import parse_for_install
from .night import state_folder

__all__ = ["DESCRIPTION", "DEVICE", "DRIVER_EXEC", "DRIVER_VERSION", "NIGHT_RESUME_RETRY",
           "AgentDriver", "make_device", "make_driver", "sky_timing"]

logger = logging.getLogger(__name__)

ENV_PLAN = "INDIPY_AGENT_PLAN"
ENV_START = "INDIPY_AGENT_START"

DEVICE = "Imager Agent"
DRIVER_EXEC = "indipy_agent_imager"
#: indilib 1.9.9's agent says 1.2: a client that checks the version finds the same face.
DRIVER_VERSION = "1.2"
#: One imager agent a server: no ``--device`` (nor ``INDIDEV``) renames it.
DESCRIPTION = Description(DEVICE, DRIVER_EXEC, DRIVER_VERSION, renamable=False)
#: A resumed night's rig waited for while its drivers start again (a Raspberry Pi after a
#: power cut): 2, 4, 8, 16, 30, 30 s, then SEQUENCE_STATE Alert names the missing device. (A
#: resumed batch of indilib's face has its own, `imager.batchrun.BATCH_RESUME_RETRY`.)
NIGHT_RESUME_RETRY = Retry(ExponentialBackoff(initial=2.0, cap=30.0), retries=6)


async def _said_resumed(face: SequencerFace, night: Unfinished) -> None:
    """AGENT_PLAN after a restart names the plan the resumed night runs (its file, or the
    journal of an uploaded one), as it did before: a client connecting later sees which."""
    face.plan_file["FILE"] = night.plan_file
    what = night.plan_file or f"the plan of {night.journal.name}"
    await face.plan_file.send_setVector(state="Ok",
                                        message=f"resumed after a restart: {what} runs")


def make_device(parts: Iterable[Role], *, name: str = DEVICE,
                config_dir: str | None = None) -> Device:
    """The agent's device: CONNECTION, DRIVER_INFO (DRIVER_EXEC indipy_agent_imager,
    DRIVER_INTERFACE 0), DEBUG and CONFIG_PROCESS, then each part's vectors; CONNECT and
    DISCONNECT reach every part (`Role.connected`/`disconnected`); CONFIG_SAVE writes to
    `config_dir` (None: ``~/.indi``)."""
    return make_agent_device(DESCRIPTION, parts, name=name, config_dir=config_dir)


class AgentDriver(AgentDriverBase):
    """The agent's driver (`AgentDriverBase`: its devices and their `link`). With a
    `night` and its `sequencer` face, a night the agent was running when it stopped (a power
    cut, SIGKILL) is started again at once, no client needed."""

    def __init__(self, *devices: Device, link: AgentLink, night: Night | None = None,
                 sequencer: SequencerFace | None = None, plan: str | None = None,
                 start: bool = False, imager: ImagerFace | None = None) -> None:
        super().__init__(*devices, link=link)
        self.night = night
        self.sequencer = sequencer
        self.plan = plan
        self.start = start
        self.imager = imager

    async def _show_resumed(self, night: Unfinished) -> None:
        if self.sequencer is not None:
            await _said_resumed(self.sequencer, night)

    async def work(self) -> None:
        """Resumes an unfinished batch and night (else loads, and maybe starts, `plan`)."""
        await self.resume_batch()
        if self.night is not None and self.sequencer is not None:
            unfinished = self.night.unfinished()
            if unfinished is not None:
                await self.link.settled()
                logger.warning("resuming the night of %s after a restart",
                               unfinished.journal)
                await self.night.pin(unfinished)
                await self._show_resumed(unfinished)
                await self.sequencer.resume(unfinished.plan_text,
                                            f"{unfinished.journal.name} (resumed)",
                                            retry=NIGHT_RESUME_RETRY)
            elif self.plan:
                await self.link.settled()
                await self.sequencer.load_file(self.plan, start=self.start)

    async def closing(self) -> None:
        run = self.sequencer.sequencer if self.sequencer is not None else None
        if run is not None:  # its lock let go now, as a process's exit does: an agent
            run.journal.close()  # started again in this process continues the night

    async def resume_batch(self) -> None:
        """A batch of indilib's face that was running when the agent stopped goes on: the
        agent's device connected first (BATCH and PROGRESS exist only then, and a client had
        connected it to START), then the face continues the batch from its journal."""
        imager = self.imager
        record = imager.unfinished() if imager is not None else None
        if record is None or imager is None:
            return
        await self.link.settled()
        try:
            for device in self.values():
                props = device.standard
                if props is not None and any(role is imager for role in props.roles):
                    await props.connect()
                    await imager.resume(record)
                    return
        except Exception:  # a defect: logged, and the agent serves on
            logger.exception("continuing the batch of %s failed", record.journal.path)
        record.journal.close()


def sky_timing(clock: SkyClock) -> dict[str, Any]:
    """The runs' ``clock`` and ``sleep`` on `clock` (`Night`'s `timing`): the sky time at
    the wall's now, a sleep of sky seconds lasting their wall seconds."""
    def now() -> datetime:
        return clock.at(datetime.now(UTC))

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(clock.wall_seconds(seconds))

    return {"clock": now, "sleep": sleep}


def _loaded_from(face: SequencerFace) -> str:
    """The file the loaded plan was read from ("" when it was uploaded since)."""
    path = str(face.plan_file["FILE"])
    return path if path and face.plan_source == Path(path).name else ""


def _sky_clock(given: SkyClock | str | None) -> SkyClock | None:
    """`given`, else ``INDIPY_AGENT_SKY_CLOCK`` read now (a bad one refused: `ValueError`,
    the agent never runs a rehearsal on the real sky's hours by mistake), else None."""
    if isinstance(given, SkyClock):
        return given
    text = given or os.environ.get(ENV_SKY_CLOCK) or None
    if text is None:
        return None
    try:
        return parse_sky_clock(text, datetime.now(UTC))
    except ValueError as exc:
        raise ValueError(f"{ENV_SKY_CLOCK if given is None else '--sky-clock'}: {exc}") \
            from None


def _night_clock(timing: dict[str, Any]) -> Callable[[], datetime]:
    """The local time of `timing`'s sky clock: a plan's folder is named by its night."""
    return lambda: timing["clock"]().astimezone()


def make_driver(host: str | None = None, port: int | None = None, *,
                state: str | os.PathLike[str] | None = None, plan: str | None = None,
                start: bool = False, retry: Retry | None = None,
                sky_clock: SkyClock | str | None = None,
                config_dir: str | None = None) -> AgentDriver:
    """The imager agent (what ``indipyserver indipyagents.imager`` serves): indilib's face
    and the sequencer's, driving the server at `host`:`port`, else ``INDIPY_AGENT_SERVER``,
    else the server hosting it; `state` is where it keeps what a restart resumes
    (`night.state_folder`). `plan` (else ``INDIPY_AGENT_PLAN``) is a plan file loaded at
    start, and run at once with `start` (else ``INDIPY_AGENT_START=1``), unless a night the
    agent was running when it stopped is resumed instead; `retry` replaces the sequencer's
    retry of a lost device's step (`Night`) and the batch's of a lost device's frame
    (`ImagerFace`). `sky_clock` (else ``INDIPY_AGENT_SKY_CLOCK``) is the runs' sky time
    (`indipycore.skyclock`: a night rehearsed with simulators, the same night after a
    restart given the same setting); the real time else. CONFIG_SAVE writes to
    `config_dir` (None: ``~/.indi``)."""
    plan = plan or os.environ.get(ENV_PLAN) or None
    start = start or os.environ.get(ENV_START, "") in ("1", "yes", "true")
    link = AgentLink(host, port)
    runner = Runner()  # one runner at a time on the camera, whichever face starts it
    imager = ImagerFace(link, batches=BatchLog(state_folder(state)), runner=runner,
                        retry=BATCH_RETRY if retry is None else retry)
    sky = _sky_clock(sky_clock)
    timing = None if sky is None else sky_timing(sky)
    if sky is not None and timing is not None:
        logger.warning("the runs' sky time is %s, not the real time (sky clock %s)",
                       timing["clock"]().isoformat(), sky.text())
    # The sequencer's face is made next, from the night: AGENT_PLAN's file is asked of it.
    night = Night(link, imager, state, retry=DEFAULT_RETRY if retry is None else retry,
                  timing=timing, sky_clock=timing is not None,
                  clock=None if timing is None else _night_clock(timing),
                  plan_file=lambda: _loaded_from(sequencer))
    # A plan is read for this install: one asking for what it cannot do is refused at load,
    # as is a flat's adu above the camera's range where the server already shows it.
    sequencer = SequencerFace(night, parse_for_install, focusing=night.focusing,
                              runner=runner, vet=CameraRange(link))
    return AgentDriver(make_device([imager, sequencer], config_dir=config_dir), link=link,
                       night=night, sequencer=sequencer, plan=plan, start=start,
                       imager=imager)
