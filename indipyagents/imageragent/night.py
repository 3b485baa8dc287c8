"""`Night`: what the sequencer's face needs from the agent it sits in, and the resume after a
restart.

- The plan read for this install (`parse_for_install`, the face's parse and the command
  line's): a plan asking for autofocus runs where the extra ``[agents]`` (numpy and sep) is
  missing is refused at load, saying which extra to install, and again at START.
- The factory (`SequenceFactory`): a loaded plan's run on the agent's link, its devices opened
  (`open_rig`, with the INDI focuser and mount), the plan checked against them before anything
  moves, its ``[calibration]`` flats added as a target (`flatnight.night_plan`: the dusk
  sky's before its first target, the panel's and the dawn sky's after its last; at half the
  camera's full scale unless the plan says its adu), its frames in
  ``IMAGE_FOLDER/<plan folder>`` (a plan without ``folder``: a folder of
  its own, ``<plan name>-<date of the night's evening, local time>``, never loose in
  IMAGE_FOLDER) and its journal beside them (``.journal/<plan>.journal``, hidden, so no frame
  name can meet it). A journal already there of the very same plan is continued (no frame
  taken twice); one of another plan is refused.
- Autofocus alone (AGENT_START_PROCESS.FOCUSING) on DEVICES' CCD and FOCUSER, numpy and sep
  (the extra ``[agents]``) imported only then.
- The state folder (``--state-dir``, ``INDIPY_AGENT_STATE``, else ``$XDG_STATE_HOME/indipy/
  imager-agent``) holds ``current.json``: the running plan's journal, text and IMAGE_FOLDER. A
  night that was running when the server or the agent died (no finished, aborted or
  client-paused record last) is started again as soon as the agent is up, with no client: the
  journal says where. The restarted agent's IMAGE_FOLDER is its default (a client set it), so
  the resumed run is pinned to the recorded journal and its folder (after midnight too), and
  IMAGE_FOLDER is shown as it was.
- The owner told (a plan's ``[notify]``): the run's journal watched (`notify.NightWatch`), its
  holds, devices lost and back, failures and end sent by the agent's one `Notifier`, off the
  night's path.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from indipyclient import Client
from indipycore.retrypolicy import Retry

from ..astrometry.solver import Solver
from ..calframes.library import DarkLibrary
from ..calframes.tonight import NightLibrary
from ..calframes.tonight import tonight_plan
from ..imager.face import ImagerFace
from ..journal import FrameStore
from ..journal import Journal
from ..journal import JournalError
from ..journal.durable import write_whole
from ..journal.flatbook import FlatBook
from ..link import AgentLink
from ..notify import NightWatch
from ..notify import Notifier
from ..plan import fields
from ..plan.check import AUTOFOCUS_EXTRA
from ..plan.check import RigFacts
from ..plan.check import check_against
from ..plan.check import check_install
from ..plan.fields import Invalid
from ..plan.model import Autofocus
from ..plan.model import Devices
from ..plan.model import Plan
from ..plan.needs import needs
from ..plan.notifying import NotifySettings
from ..plan.notifying import read_notify
from ..plan.steps import frames_folder
from ..plan.steps import night_of
from ..plan.toml import PlanError
from ..plan.toml import load_plan
from ..plan.toml import located
from ..plan.toml import parse_plan
from ..rig.camera import IndiCamera
from ..rig.connect import open_rig
from ..rig.focuser import IndiFocuser
from ..rig.guider import IndiGuider
from ..rig.mount import IndiMount
from ..sequencer.contracts import FocusOutcome
from ..sequencer.contracts import FocusRun
from ..sequencer.contracts import Observer
from ..sequencer.engine import CLIENT_PAUSE
from ..sequencer.engine import DEFAULT_RETRY
from ..sequencer.engine import Sequencer
from .mountsky import Noted
from .mountsky import mount_sky_note

__all__ = ["CLIENT_PAUSE", "ENV_STATE", "Night", "Unfinished", "can_autofocus",
           "check_plan_file", "parse_for_install", "state_folder"]

logger = logging.getLogger(__name__)

ENV_STATE = "INDIPY_AGENT_STATE"


def state_folder(given: str | os.PathLike[str] | None = None) -> Path:
    """Where the agent keeps ``current.json``: `given`, ``INDIPY_AGENT_STATE``, else
    ``$XDG_STATE_HOME/indipy/imager-agent`` (``~/.local/state/...``)."""
    if given:
        return Path(given)
    if os.environ.get(ENV_STATE):
        return Path(os.environ[ENV_STATE])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "indipy" / "imager-agent"


@dataclass(frozen=True)
class Unfinished:
    """A night that was running when the agent stopped: its journal, its plan's text, and
    the IMAGE_FOLDER it was started with ("" in a record written before it was kept)."""

    journal: Path
    plan_text: str
    image_folder: str = ""
    plan_file: str = ""  #: the file it was loaded from ("": uploaded, or an older record)


def _journal_name(plan: Plan) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", plan.name).strip("_") or "plan"


def mount_sky_said(client: Client, mount: str) -> str | None:
    """What a night on a sky clock says at its start about `mount` (`mount_sky_note`, from
    its DRIVER_INFO as `client` knows it): None when it follows the sky clock."""
    info: dict[str, str | None] = {}
    for member in ("DRIVER_EXEC", "DRIVER_NAME"):
        try:
            info[member] = str(client.get(mount, "DRIVER_INFO", member)).strip() or None
        except LookupError:  # no DRIVER_INFO (or not that member): a mount not ours
            info[member] = None
    return mount_sky_note(mount, info["DRIVER_EXEC"], info["DRIVER_NAME"])


def _local_now() -> datetime:
    return datetime.now().astimezone()


def can_autofocus() -> bool:
    """Whether this install can run autofocus: the extra ``[agents]`` (numpy and sep)."""
    return _autofocus_or_none() is not None


def _refuse_for_install(plan: Plan, text: str, source: str) -> None:
    problems = check_install(plan, can_autofocus, text=text, source=source)
    if problems:
        raise PlanError.every(problems)


def parse_for_install(text: str, source: str = "<plan>") -> Plan:
    """`parse_plan`, and the plan refused (`PlanError`, each problem at its line) when it asks
    for what this install cannot do: autofocus without the extra ``[agents]``."""
    plan = parse_plan(text, source)
    _refuse_for_install(plan, text, source)
    return plan


def check_plan_file(path: str | os.PathLike[str]) -> Plan:
    """The plan in the file `path` as `parse_for_install` reads it (the command line's
    ``--plan``, refused before the agent serves); `PlanError` naming the file."""
    plan = load_plan(Path(path))
    _refuse_for_install(plan, Path(path).read_text(encoding="utf-8"), Path(path).name)
    return plan


class Night:
    """The sequencer's factory and autofocus on `link`, reading the folder and the devices
    from the indilib face `imager` (IMAGE_NAME, DEVICES), and `state` for the resume.
    `retry` is how each run retries a step whose device was lost before it pauses naming the
    device (the engine's `DEFAULT_RETRY`: 2, 4, 8, 16 s); `clock` the local time that names a
    plan's own folder by its night (`steps.night_of`); `timing` (``clock``, ``sleep``) is
    handed to each run (a test's simulated night, the schedule's time), the real ones else;
    `solver` is the plate solver a target's centring runs (None: ``solve-field``)."""

    def __init__(self, link: AgentLink, imager: ImagerFace,
                 state: str | os.PathLike[str] | None = None, *,
                 retry: Retry = DEFAULT_RETRY,
                 clock: Callable[[], datetime] | None = None,
                 timing: Mapping[str, Any] | None = None,
                 solver: Solver | None = None, sky_clock: bool = False,
                 plan_file: Callable[[], str] = lambda: "",
                 notifier: Notifier | None = None) -> None:
        self.link = link
        self.solver = solver
        #: Whether the runs follow a sky clock (`timing`'s): a night then says at its start
        #: when its mount keeps the wall's sky (`notes`, the log).
        self.sky_clock = sky_clock
        #: What the nights started said at their start (the mount's sky), newest last.
        self.notes: list[str] = []
        self.timing = dict(timing or {})
        self.imager = imager
        self.state = state_folder(state)
        self.retry = retry
        self.clock = clock or _local_now
        #: The night being resumed: its plan's run goes on in its journal's folder.
        self._pinned: Unfinished | None = None
        #: The plan file a run's plan was loaded from ("" uploaded): kept in current.json,
        #: so AGENT_PLAN names it again after a restart (`make_driver` gives the face's).
        self.plan_file = plan_file
        #: Sends every run's notifications (a plan's [notify]), one queue for the agent.
        self.notifier = notifier or Notifier()

    # -- the factory -----------------------------------------------------------------------

    async def __call__(self, plan: Plan, plan_text: str, observer: Observer) -> Sequencer:
        client = await self.link.client()
        rig = await open_rig(client, plan.devices, focuser=IndiFocuser, mount=IndiMount,
                             guider=IndiGuider)
        if rig.focuser is not None and isinstance(rig.focuser, IndiFocuser):
            await rig.focuser.ready()
        if self.sky_clock and plan.devices.mount:
            note = mount_sky_said(client, plan.devices.mount)
            if note is not None:  # said at the start, not found out at the first flip
                logger.warning("plan %r: %s", plan.name, note)
                self.notes.append(note)
                observer = Noted(observer, note)
        if isinstance(rig.camera, IndiCamera):  # indilib's CCD defines CCD_GAIN late
            for kind in {need.kind for need in needs(plan)} & {"gain", "offset"}:
                await rig.camera.wait_control(kind.upper())
        problems = check_install(plan, can_autofocus, text=plan_text, source=plan.name)
        problems += check_against(plan, RigFacts.of(rig), text=plan_text, source=plan.name)
        if problems:  # every one, each at its line (the face names the plan's file)
            raise PlanError.every(problems)
        plan = tonight_plan(plan, rig.camera.full_scale())  # its [calibration] frames
        calibration = plan.calibration
        image_folder = str(self.imager.image_name["IMAGE_FOLDER"])
        folder = Path(image_folder) / frames_folder(plan, night_of(self.clock()))
        journal_path = folder / ".journal" / f"{_journal_name(plan)}.journal"
        pinned = self._pinned
        if pinned is not None and pinned.plan_text == plan_text:
            journal_path, folder = pinned.journal, pinned.journal.parent.parent
            image_folder = pinned.image_folder
        journal = Journal(journal_path)
        if journal_path.exists():
            recorded = journal.state()
            if recorded.plan_text and recorded.plan_text != plan_text:
                raise ValueError(
                    f"{journal_path} is the journal of another plan {recorded.plan_name!r}: "
                    "give this plan another folder or name")
        self._remember(journal_path, plan_text, image_folder)
        self._pinned = None
        sequencer = Sequencer(plan, rig, journal, FrameStore(folder), plan_text=plan_text,
                              focus=_autofocus_or_none(), observer=observer, retry=self.retry,
                              solver=self.solver, flat_book=FlatBook(self.state / "flats.json"),
                              **self.timing)
        told = sequencer.plan if plan.notify.urls else \
            replace(sequencer.plan, notify=agent_notify(self.state))
        if told.notify.urls:
            # The web client's /night/<folder> names a night by its folder's name.
            journal.watchers.append(NightWatch(told, self.notifier, journal.records,
                                               folder.name))
        if calibration.darks == "library":
            sequencer.hands.night_library = NightLibrary(DarkLibrary(
                self.state / "darks", calibration.dark_max_age_days,
                calibration.dark_temperature_tolerance), folder)
        return sequencer

    # -- autofocus alone -----------------------------------------------------------------

    async def focusing(self, observer: Observer) -> FocusOutcome:
        """AGENT_START_PROCESS.FOCUSING: autofocus on DEVICES' CCD and FOCUSER, the plan's
        default settings (`Autofocus()`)."""
        run = _autofocus_or_none()
        if run is None:
            raise OSError(f"autofocus needs {AUTOFOCUS_EXTRA}")
        client = await self.link.client()
        devices = Devices(camera=str(self.imager.devices["CCD"]),
                          focuser=str(self.imager.devices["FOCUSER"]))
        rig = await open_rig(client, devices, focuser=IndiFocuser)
        assert isinstance(rig.focuser, IndiFocuser)
        await rig.focuser.ready()
        return await run(rig.camera, rig.focuser, Autofocus())

    # -- surviving a restart -----------------------------------------------------------------

    @property
    def current(self) -> Path:
        return self.state / "current.json"

    def _remember(self, journal: Path, plan_text: str, image_folder: str) -> None:
        """current.json replaced whole and durable (`write_whole`: fsynced, renamed, its
        folder fsynced): a power cut right after START must still find it."""
        data = json.dumps({"journal": str(journal), "plan": plan_text,
                           "image_folder": image_folder,
                           "plan_file": self.plan_file()}).encode("utf-8")
        write_whole(self.current, data)

    def unfinished(self) -> Unfinished | None:
        """The night that was running when the agent stopped, or None (nothing recorded, or
        it finished, was aborted or paused by a client: said in the log)."""
        try:
            recorded: dict[str, Any] = json.loads(self.current.read_text())
            journal = Path(recorded["journal"])
            text = str(recorded["plan"])
            image_folder = str(recorded.get("image_folder", ""))
            plan_file = str(recorded.get("plan_file", ""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not journal.exists():
            logger.info("not resuming: %s is gone", journal)
            return None
        try:
            state = Journal(journal).state()
        except (JournalError, OSError) as exc:  # a journal not to be trusted: not resumed
            logger.error("not resuming %s: %s", journal, exc)
            return None
        if state.finished or state.aborted or state.paused == CLIENT_PAUSE:
            why = "finished" if state.finished else "aborted" if state.aborted else \
                "paused by a client"
            logger.info("not resuming the night of %s: it was %s", journal, why)
            return None
        return Unfinished(journal, text, image_folder, plan_file)

    async def pin(self, night: Unfinished) -> None:
        """Resume `night` where it ran: the next run of its plan continues its journal in its
        folder, and IMAGE_FOLDER shows the folder it was started with."""
        self._pinned = night
        if night.image_folder:
            self.imager.image_name["IMAGE_FOLDER"] = night.image_folder
            await self.imager.image_name.send_setVector()


def _autofocus_or_none() -> FocusRun | None:
    """`focus.autofocus.autofocus` when numpy and sep are installed, else None (a plan
    asking for autofocus is then refused: `parse_for_install`, the factory's check)."""
    try:
        from ..focus.autofocus import autofocus
    except ImportError:
        return None
    return autofocus


#: The agent's own ``[notify]``, in its state folder: who is told of a plan without one.
NOTIFY_FILE = "notify.toml"


def agent_notify(state: Path) -> NotifySettings:
    """``STATE/notify.toml``'s ``[notify]`` (as a plan's: issue 93 item 4, "per plan or in the
    agent's configuration"), for a plan that names no URL; none there, nobody is told. A file
    that is not TOML, or a wrong value, refuses the night's start (ValueError, naming the
    file and the line)."""
    path = state / NOTIFY_FILE
    if not path.exists():
        return NotifySettings()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
        return read_notify(fields.table(data, (), "notify"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not TOML: {error}") from None
    except Invalid as error:  # not a PlanError: the face would name the plan's file
        raise ValueError(str(located(str(path), text, error.path, error.reason))) from None
