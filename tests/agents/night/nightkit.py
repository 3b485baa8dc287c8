"""Helpers of the night's end-to-end tests (issue 71 items 4-6): the agent hosted by our
server in-process beside executable simulators, a plan written to a file, the agent driven
through its vectors by an indipyclient connection, and the frames read back from disk."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from agentkit import AGENT
from agentkit import load_and_start
from agentkit import target
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imageragent.driver import AgentDriver
from indipyagents.imageragent.driver import make_driver
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.watchdog.agent import make_driver as make_watchdog
from indipycore import astro
from indipycore.fits import read_header
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipyserver import IPyServer
from indipyserver.drivers.executable import ExDriverConnection

CCD = "Python CCD Simulator"
WEATHER = "Weather Simulator"
WATCHDOG = "WatchDog"
PANEL = "Light Panel Simulator"
BIN = Path(sys.executable).parent
#: Our simulators as executables, beside this interpreter.
CCD_PROGRAM = str(BIN / "indipy_simulator_ccd")
FOCUS_PROGRAM = str(BIN / "indipy_simulator_focus")
TELESCOPE_PROGRAM = str(BIN / "indipy_simulator_telescope")
#: A lost device's step tried again after 1 s, twice, then the run pauses: the policy's
#: behaviour with a test's patience (the agent's default waits 2, 4, 8, 16 s).
QUICK_RETRY = Retry(ConstantBackoff(1.0), retries=2)
#: One retry after 1 s: where a test proves what follows the retries spent, not their count
#: (each try of a deleted device waits the agent's 10 s for it to be defined again).
ONE_RETRY = Retry(ConstantBackoff(1.0), retries=1)


@dataclass
class Hosted:
    """The server, the agent it hosts, a client of it, and the test's folders."""

    server: IPyServer
    agent: AgentDriver
    client: indipyclient.Client
    folder: Path
    #: The executable drivers' connections, in the order of `programs`.
    drivers: list[ExDriverConnection]

    @property
    def frames(self) -> Path:
        return self.folder / "frames"


@contextlib.asynccontextmanager
async def hosted(folder: Path, *programs: str | tuple[str, ...], retry: Retry | None = None,
                 max_restarts: int = 10,
                 timing: dict[str, Any] | None = None) -> AsyncIterator[Hosted]:
    """Our server in-process with the agent (its state in `folder`/state) and `programs` as
    executable drivers (a program, or a tuple of a program and its arguments); a client
    connected; IMAGE_FOLDER set to `folder`/frames. `timing`
    (``clock``, ``sleep``): the agent's runs' own (a simulated night)."""
    agent = make_driver(state=folder / "state", retry=retry)
    if timing is not None and agent.night is not None:
        agent.night.timing = dict(timing)
    served = server(agent)
    drivers = [served.add_exdriver(*((program,) if isinstance(program, str) else program),
                                   max_restarts=max_restarts) for program in programs]
    assert all(isinstance(d, ExDriverConnection) for d in drivers)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(AGENT, "IMAGE_NAME", timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder / "frames")},
                         timeout=10)
        yield Hosted(served, agent, client, folder,
                     [d for d in drivers if isinstance(d, ExDriverConnection)])


@contextlib.asynccontextmanager
async def panel_night(folder: Path, plan: Plan, timeout: float) -> AsyncIterator[Hosted]:
    """`plan` run to its end, which must say Ok, with its flats from indilib's light panel:
    `hosted` with our camera's and focuser/wheel's executables and
    ``indi_simulator_lightpanel`` (`PANEL`), the plan's devices those three. Yields the rig,
    still running, for what the test reads of it."""
    from indipysimulators.focus import WHEEL
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))
    async with hosted(folder, CCD_PROGRAM, FOCUS_PROGRAM, "indi_simulator_lightpanel") as rig:
        await load_and_start(rig.client, folder, plan)
        state, message = await sequence_ends(rig.client, timeout)
        assert state == "Ok", message
        yield rig




async def sequence_ends(client: indipyclient.Client, timeout: float,
                        states: tuple[str, ...] = ("Ok", "Alert")) -> tuple[str, str]:
    """SEQUENCE_STATE's state and message once it is one of `states`."""
    def ended() -> bool:
        vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
        return vector is not None and vector.state.value in states

    await until(ended, timeout, f"SEQUENCE_STATE {states}")
    vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
    assert vector is not None
    return vector.state.value, vector.message or ""


def fits_files(folder: Path) -> list[str]:
    """The frames saved below `folder`, by their path relative to it (``lights/Red/...``:
    a folder per frame type); hidden files, the journal's folder, left out."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits")
                  if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def header(path: Path) -> dict[str, object]:
    """A saved frame's primary header, keyword -> value."""
    return dict(read_header(path.read_bytes()).values)


def high_target() -> Target:
    """Three light frames (2 s, Red) of a target high now at our mount's site (Greenwich)."""
    ra = astro.local_sidereal_time(datetime.now(UTC), 0.0)
    return target("High", Batch(3, 2.0, "Red"), ra=round(ra, 4), dec=80.0)


async def rich_field(client: indipyclient.Client) -> tuple[float, float]:
    """(RA hours, Dec) of the richest of a few fields high now at our mount's site: the
    camera draws the real sky, and autofocus and grading need stars bright enough to measure
    (the mount connected to read its site)."""
    from indipysimulators import telescope
    from indipysimulators.starcatalogue import default_catalogue
    await client.set(telescope.DEVICE, "CONNECTION", {"CONNECT": "On"}, timeout=10)
    await client.wait_for(telescope.DEVICE, "GEOGRAPHIC_COORD", timeout=10)
    latitude = float(client.get(telescope.DEVICE, "GEOGRAPHIC_COORD", "LAT"))
    longitude = float(client.get(telescope.DEVICE, "GEOGRAPHIC_COORD", "LONG"))
    lst = astro.local_sidereal_time(datetime.now(UTC), longitude)
    catalogue = default_catalogue()
    return max(((astro.wrap_hours(lst + hours), latitude + degrees)
                for hours in (-0.5, 0.0, 0.5, 1.0) for degrees in (-20.0, -10.0, 0.0)),
               key=lambda field: len(catalogue.cone(field[0] * 15.0, field[1], 0.4,
                                                    mag_limit=9.0)))


async def best_focus_from_here(client: indipyclient.Client, steps: int) -> int:
    """Our focuser simulator connected and its best focus put `steps` from where the focuser
    stands (0: in focus). Returns where it stands."""
    from indipysimulators import focus
    await client.set(focus.FOCUSER, "CONNECTION", {"CONNECT": "On"}, timeout=10)
    await client.wait_for(focus.FOCUSER, "ABS_FOCUS_POSITION", timeout=10)
    here = round(float(client.get(focus.FOCUSER, "ABS_FOCUS_POSITION",
                                  "FOCUS_ABSOLUTE_POSITION")))
    await client.set(focus.FOCUSER, "FOCUS_SIMULATION", {"BEST_POSITION": here + steps},
                     timeout=10)
    return here


@dataclass
class RichField:
    """`rich_field_rig`'s: the client, a rich field high now, and where the focuser stands
    in focus."""

    client: indipyclient.Client
    ra: float
    dec: float
    focus: int


@contextlib.asynccontextmanager
async def rich_field_rig(folder: Path) -> AsyncIterator[RichField]:
    """Our server hosting the imager agent (its state in `folder`/state, its frames in
    `folder`/frames) and our camera, focuser with its wheel and mount in-process; the field
    `rich_field`'s, the focuser in focus (`best_focus_from_here`)."""
    from indipysimulators import ccd
    from indipysimulators import focus
    from indipysimulators import telescope
    served = server(make_driver(state=folder / "state"), ccd.make_driver(),
                    focus.make_driver(), telescope.make_driver())
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(AGENT, "IMAGE_NAME", timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder / "frames")},
                         timeout=10)
        ra, dec = await rich_field(client)
        yield RichField(client, ra, dec, await best_focus_from_here(client, 0))


async def rain(client: indipyclient.Client, falling: bool) -> None:
    """indilib's weather simulator made wet (or dry), then asked to say so at once."""
    await client.set(WEATHER, "WEATHER_CONTROL", {"Precip": 5 if falling else 0}, timeout=10)
    await client.set(WEATHER, "WEATHER_REFRESH", {"REFRESH": "On"}, wait=False)


async def watch_the_weather(client: indipyclient.Client, resume: int, park_mount: bool) -> None:
    """indilib's weather simulator connected and dry, and the watchdog (`watched`) set to
    watch it for the imager agent: unsafe after 1 s of bad weather, safe again `resume` s
    after it clears, its steps holding the night (and parking our mount where `park_mount`).
    Returns once the watchdog says SAFE."""
    from indipysimulators import telescope
    await client.set(WEATHER, "CONNECTION", {"CONNECT": "On"}, timeout=20)
    await rain(client, False)
    await client.set(WATCHDOG, "ACTIVE_DEVICES", {
        "ACTIVE_TELESCOPE": telescope.DEVICE, "ACTIVE_DOME": "", "ACTIVE_WEATHER": WEATHER,
        "ACTIVE_CCD": "", "ACTIVE_SEQUENCER": AGENT}, timeout=10)
    await client.set(WATCHDOG, "WATCHDOG_WEATHER", {"WATCHDOG_WEATHER_VALUE": 1}, timeout=10)
    await client.set(WATCHDOG, "WATCHDOG_RESUME", {"WATCHDOG_RESUME_VALUE": resume}, timeout=10)
    await client.set(WATCHDOG, "WATCHDOG_SHUTDOWN", {
        "PAUSE_SEQUENCE": "On", "PARK_MOUNT": "On" if park_mount else "Off", "PARK_DOME": "Off",
        "EXECUTE_SCRIPT": "Off"}, timeout=10)
    await client.set(WATCHDOG, "WATCHDOG_Trigger", {"TRIGGER_WEATHER": "On"}, timeout=10)
    await until(lambda: client.get(WATCHDOG, "WATCHDOG_STATUS", "SAFE") == "Ok", 30,
                "the watchdog's verdict safe")


def sequence(client: indipyclient.Client) -> tuple[str, str]:
    """SEQUENCE_STATE's state and message, as the client last saw them ("" before)."""
    vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
    return (vector.state.value, vector.message or "") if vector is not None else ("", "")


def watched(tmp_path: Path, *indilib: str) -> IPyServer:
    """One server with the imager agent and the watchdog (their state and configuration under
    `tmp_path`), our camera, focuser and mount simulators, and indilib's programs `indilib`."""
    served = server(make_driver(state=tmp_path / "state"),
                    make_watchdog(config_dir=str(tmp_path / "indi")))
    for program in (CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM, *indilib):
        served.add_exdriver(program)
    return served


def centre_median(path: Path) -> float:
    """The median of a saved frame's middle half (numpy, astropy): a flat's level."""
    import numpy as np
    from astropy.io import fits
    data = fits.getdata(path).astype(np.float64)
    h, w = data.shape
    return float(np.median(data[h // 4:h - h // 4, w // 4:w - w // 4]))


def journal_notes(folder: Path, note: str) -> list[dict[str, Any]]:
    """The data of each journal note `note` of the night in `folder`, in order."""
    import json
    found = []
    for journal in folder.glob(".journal/*.journal"):
        for line in journal.read_text().splitlines():
            record = json.loads(line)
            if record.get("kind") == "note" and record.get("note") == note:
                found.append(record["data"])
    return found
