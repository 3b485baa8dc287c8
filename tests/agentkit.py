"""The agents' tests' one kit: the agent's device name, plans built from the model (`Plan`,
`Target`, `Batch`) and written with the package's own `plan_to_toml`, and a plan run on an
agent through its vectors. A test that is about the TOML text itself (a parse error and its
line) changes a key of one of the two plan texts here (`NIGHT_TOML`, `SCHEDULED_TOML`, with
`refused_at_line`), or writes its own from its keys with `plan_toml` (the flats' and the
calibration's texts, the benches' plans); every other test builds its plan here, so a change
to the plan's format is made once, in `plan/toml.py`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from collections.abc import Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import cast

from peers import HOST
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import End
from indipyagents.plan.model import FrameType
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

#: The agent's device, as indilib's ``indi_imager_agent`` names it: what a client of either
#: asks for, so the tests spell it out rather than take it from our code.
AGENT = "Imager Agent"


#: A plan taken in order, in the layout of the docs, naming every device of the simulators'
#: rig: the text whose keys the plan's reading tests change one at a time.
NIGHT_TOML = """\
name = "M42 and flats"
folder = "2026-11-27"

[devices]
camera = "CCD Simulator"
wheel = "Filter Simulator"
focuser = "Focuser Simulator"
mount = "Telescope Simulator"

[dither]
every = 3
pixels = 5
method = "pulse"
settle = 2

[autofocus]
at_start = true
every_minutes = 60

[[targets]]
name = "M42"
ra = "05 35 17.3"
dec = "-05 23 28"

[targets.wait]
altitude = 30

[[targets.batches]]
filter = "Red"
count = 10
exposure = 60

[[targets.batches]]
filter = "Green"
count = 10
exposure = 60

[[targets]]
name = "Flats"

[[targets.batches]]
type = "flat"
filter = 1
count = 5
exposure = 0.5
"""

#: A scheduled plan (its [schedule], M42's constraints) whose M42 is centred and its frames
#: solved, M31 neither: the text of the schedule's and the centring's reading tests.
SCHEDULED_TOML = """\
name = "many"
[devices]
mount = "Telescope Simulator"
[schedule]
twilight = "nautical"
horizon = [[0, 20], [90, 10], [180, 15.5], [270, 30]]
min_altitude = 25
[[targets]]
name = "M42"
ra = "05 35 17.3"
dec = "-05 23 28"
centre = true
centre_tolerance = 20
centre_drift = 90
centre_tries = 3
centre_exposure = 2.5
centre_policy = "skip"
solve_frames = true
[targets.constraints]
min_altitude = 30
moon_separation = 40
twilight = "astronomical"
priority = 1
min_minutes = 45
after = 2026-11-27T22:00:00+01:00
before = 2026-11-28T04:00:00Z
[[targets.batches]]
count = 10
exposure = 60
[[targets]]
name = "M31"
ra = 0.712
dec = 41.27
[[targets.batches]]
count = 5
exposure = 120
"""


#: Our own simulators' rig for flats by level: the camera, the wheel and indilib's light panel.
PANEL_RIG = {"camera": "Python CCD Simulator", "wheel": "Python Filter Wheel",
             "panel": "Light Panel Simulator"}


def _toml_keys(keys: Mapping[str, object]) -> str:
    def value(one: object) -> str:
        if isinstance(one, bool):
            return "true" if one else "false"
        return json.dumps(one) if isinstance(one, str) else repr(one)
    return "".join(f"{key} = {value(one)}\n" for key, one in keys.items())


def target_toml(name: str, *batches: dict[str, object], slew: bool = False) -> str:
    """A ``[[targets]]`` of a plan's text, as a user writes it: `name`, ``slew`` and each of
    `batches` (its keys in order) as a ``[[targets.batches]]``."""
    return f"\n[[targets]]\nname = {json.dumps(name)}\nslew = {str(slew).lower()}\n" + "".join(
        "\n[[targets.batches]]\n" + _toml_keys(batch) for batch in batches)


def plan_toml(name: str, devices: dict[str, str], *targets: str, folder: str | None = None,
              **tables: dict[str, object]) -> str:
    """A plan's text as a user writes it, for a test or a bench about the text itself:
    `name` (and `folder`), ``[devices]``, each of `tables` (``calibration=``...) in order,
    then `targets` (`target_toml`'s); keys in the order given, strings quoted, ints as
    ints."""
    head = {"name": name} if folder is None else {"name": name, "folder": folder}
    sections: dict[str, Mapping[str, object]] = {"devices": devices, **tables}
    return _toml_keys(head) + "".join(f"\n[{section}]\n" + _toml_keys(keys)
                                      for section, keys in sections.items()) + "".join(targets)


def night(name: str, *targets: Target, folder: str = "night", camera: str,
          wheel: str = "", focuser: str = "", mount: str = "", dome: str = "",
          park: bool = False, warm: bool = False, close_dome: bool = False,
          **settings: Any) -> Plan:
    """A plan of `targets` on the devices named; by default its end parks, closes and warms
    nothing (a test's night leaves its rig as it was). `settings`: the plan's other parts
    (dither, autofocus, flip, safety, site)."""
    return Plan(name, targets, Devices(camera, wheel, focuser, mount, dome), folder,
                end=End(park=park, warm=warm, close_dome=close_dome), **settings)


def target(name: str, *batches: Batch, ra: float | None = None, dec: float | None = None,
           slew: bool | None = None) -> Target:
    """A target and its batches, in order; slewed to when it has coordinates (unless `slew`
    says), as a plan file that leaves out ``slew`` means."""
    return Target(name, ra, dec, batches, slew=ra is not None if slew is None else slew)


def write_plan(path: Path, plan: Plan) -> Path:
    """`plan` written to `path` as the TOML a user would write; `path`."""
    path.write_text(plan_to_toml(plan))
    return path


async def load_and_start(client: indipyclient.Client, folder: Path, plan: Plan) -> None:
    """The plan written to `folder`/plan.toml, loaded through AGENT_PLAN (which must say Ok),
    then AGENT_START_PROCESS.SEQUENCE."""
    path = write_plan(folder / "plan.toml", plan)
    loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=20)
    assert loaded.state.value == "Ok", loaded
    await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)


def darks_plan(camera: str, wheel: str = "", *, folder: str = "night", filter: str = "",
               count: int = 2, exposure: float = 0.5, kind: str = "") -> str:
    """A plan of `count` frames with no slew (dark frames, or light through `filter` when
    a wheel is named, unless `kind` says), its end warming the camera only."""
    batch = Batch(count, exposure, filter or None,
                  frame_type=cast(FrameType, kind or ("Light" if wheel else "Dark")))
    return plan_to_toml(night("anywhere", target("Here", batch), folder=folder, camera=camera,
                              wheel=wheel, warm=True))


def line_of(text: str, fragment: str, after: int = 0) -> int:
    """The number (from 1) of the first line of `text` past line `after` that holds
    `fragment`."""
    return next(number for number, line in enumerate(text.splitlines(), 1)
                if number > after and fragment in line)


def refused_at_line(plan: str, old: str, new: str, source: str = "night.toml",
                    at: str | None = None) -> PlanError:
    """The refusal of the plan text `plan` with its first `old` made `new` (which must
    change it), said at the line that holds `at`, by default `new`'s last line: a plan-key
    refusal table's one check."""
    text = plan.replace(old, new, 1)
    assert text != plan, f"{old!r} is not in the plan"
    try:
        parse_plan(text, source)
    except PlanError as error:
        assert error.line == line_of(text, at or new.splitlines()[-1]), (error.line, str(error))
        return error
    raise AssertionError(f"the plan with {new!r} was taken")


async def run_plan(port: int, plan: Path, images: Path, timeout: float = 120) -> str:
    """Load `plan` on the agent of the server at `port`, save under `images`, start it and
    return SEQUENCE_STATE's state at its end (with its message on failure)."""
    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(images)}, timeout=10)
        loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(plan)}, timeout=10)
        assert loaded.ok, loaded
        await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        vector = await client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"),
                                       timeout=timeout)
        return f"{vector.state} {vector.message}".strip()


@asynccontextmanager
async def simulator_served(program: str, device: str, *vectors: str
                           ) -> AsyncIterator[tuple[indipyclient.Client, int]]:
    """indilib's simulator `program` under our server, its `device` connected and its
    `vectors` defined; a client of it and the server's port. indilib's simulators write
    ~/.indi: the test takes `tmp_home`."""
    ipy = server()
    ipy.add_exdriver(program, max_restarts=0)
    async with running(ipy), indipyclient.connect(HOST, ipy.port) as client:
        await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        for vector in vectors:
            await client.wait_for(device, vector, timeout=20)
        yield client, ipy.port


def executable_folder(tmp_path: Path, executable: str, module: str) -> str:
    """The folder holding an agent's console script `executable`: this interpreter's (a
    console script of pyproject.toml, once the project is installed again), else a launcher
    written for the test that runs `module`'s `main`, so indiserver finds it on PATH."""
    here = Path(sys.executable).with_name(executable)
    if here.exists():
        return str(here.parent)
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    launcher = folder / executable
    launcher.write_text(f"#!{sys.executable}\nfrom {module} import main\nmain()\n")
    launcher.chmod(0o755)
    return str(folder)


class NightClock:
    """A night of the agent's runs' own (issue 82's tests): real time from `start`, plus every
    sleep's seconds at once, so a wait between two blocks or two nights passes in a moment
    while exposures and slews take theirs. From `hold_from` on (a moment of the night), a
    sleep waits for `release` first (`held` is set then): a test looks at the agent between
    two nights, then lets the day pass or aborts."""

    def __init__(self, start: datetime, hold_from: datetime | None = None) -> None:
        self.start = start
        self.began = time.monotonic()
        self.skipped = 0.0
        self.hold_from = hold_from
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    def clock(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began + self.skipped)

    def begin(self) -> None:
        """The night's `start` from now: a test calls it as it starts the night, so the
        servers' start-up (seconds, longer on a loaded machine) takes none of the night."""
        self.began = time.monotonic()
        self.skipped = 0.0

    async def sleep(self, seconds: float) -> None:
        if self.hold_from is not None and self.clock() >= self.hold_from:
            self.held.set()
            await self.release.wait()
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)
