"""indilib's weather, telescope and dome simulators beside a watchdog: ours in-process under
our server (each simulator an executable driver never restarted, so a killed one stays dead),
or indilib's ``indi_watchdog`` under indilib's ``indiserver -r 0``, both set up by the same
commands (`COMMANDS`: indi_setprop's, or the client's equivalent)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import NamedTuple

from framewatch import FrameWatcher
from peers import getprop
from peers import setprop
from serverkit import running
from serverkit import server
from waiting import until
from watchdogkit import watchdog

import indipyclient
from indipyclient import Client
from indipycore.protocol.framing import Frame
from indipycore.protocol.parser import parse_element

WEATHER = "Weather Simulator"
MOUNT = "Telescope Simulator"
DOME = "Dome Simulator"
SIMULATORS = ("indi_simulator_weather", "indi_simulator_telescope", "indi_simulator_dome")
#: The watchdog's threshold (WATCHDOG_WEATHER_VALUE) and our stale time, in the tests.
THRESHOLD = 2
STALE = 10
#: Seconds a park may take on indilib's telescope simulator from where it starts (it slews
#: at its own pace); a bound on a failure only.
PARK_BOUND = 90.0


def commands(port: int, threshold: int = THRESHOLD) -> list[str]:
    """The indi_setprop commands both watchdogs are given, in indi_watchdog's order."""
    return ["WatchDog.CONNECTION.CONNECT=On",
            f"WatchDog.WATCHDOG_SETTINGS.INDISERVER_PORT={port}",
            f"WatchDog.WATCHDOG_WEATHER.WATCHDOG_WEATHER_VALUE={threshold}",
            "WatchDog.WATCHDOG_SHUTDOWN.PARK_MOUNT=On;PARK_DOME=On",
            "WatchDog.WATCHDOG_Trigger.TRIGGER_WEATHER=On"]


def connect_simulators(port: int) -> None:
    """indi_setprop CONNECT for the three simulators, waited for."""
    for device in (WEATHER, MOUNT, DOME):
        sent = setprop(port, f"{device}.CONNECTION.CONNECT=On", timeout=10)
        assert sent.returncode == 0, sent.describe()
    for device, vector in ((WEATHER, "WEATHER_STATUS"), (MOUNT, "TELESCOPE_PARK"),
                           (DOME, "DOME_PARK")):
        found = getprop(port, f"{device}.{vector}._STATE", timeout=10)
        assert found, (device, vector, found.result.describe())


def configure(port: int, *extra: str, threshold: int = THRESHOLD) -> None:
    """`commands` (and `extra` ones) sent with indi_setprop, one at a time."""
    for spec in (*commands(port, threshold), *extra):
        sent = setprop(port, spec, timeout=10)
        assert sent.returncode == 0, sent.describe()


def parks(port: int) -> tuple[str, str]:
    """The mount's and the dome's PARK switches as indi_getprop reads them, or their vector's
    state while it is not Ok (a park or unpark under way: Busy)."""
    specs = [f"{device}.{vector}.{member}" for device, vector in (
        (MOUNT, "TELESCOPE_PARK"), (DOME, "DOME_PARK")) for member in ("PARK", "_STATE")]
    found = getprop(port, *specs, timeout=5)

    def one(device: str, vector: str) -> str:
        state = found.get(f"{device}.{vector}._STATE", "?")
        return found.get(f"{device}.{vector}.PARK", "?") if state == "Ok" else state

    return one(MOUNT, "TELESCOPE_PARK"), one(DOME, "DOME_PARK")


class Park(NamedTuple):
    """A park vector as `ParkWatcher` saw it come (`at`: monotonic time)."""

    at: float
    device: str
    state: str
    park: str


class Said(NamedTuple):
    """A message as `ParkWatcher` saw it come."""

    at: float
    text: str


def _park_or_message(frame: Frame) -> Park | Said | None:
    if frame.tag == "message":
        return Said(time.monotonic(), frame.attrs.get("message", ""))
    if frame.attrs.get("name") not in ("TELESCOPE_PARK", "DOME_PARK") or \
            frame.tag == "delProperty":
        return None
    event = parse_element(frame.data)
    members = {member.name: str(getattr(member.value, "value", member.value))
               for member in getattr(event, "members", ())}
    if "PARK" not in members:
        return None
    return Park(time.monotonic(), frame.attrs.get("device", ""), frame.attrs.get("state", ""),
                members["PARK"])


class ParkWatcher:
    """A raw INDI client of `port` on a thread: every TELESCOPE_PARK and DOME_PARK the
    simulators send, as (monotonic time, device, state, PARK), in order, and every message.
    Parks too quick to poll (indilib's re-park takes 0.1 s) are seen this way."""

    def __init__(self, port: int) -> None:
        self.frames = FrameWatcher(port, _park_or_message)

    def records(self) -> list[Park]:
        return [seen for seen in self.frames.records() if isinstance(seen, Park)]

    @property
    def messages(self) -> list[Said]:
        """Every message, as (monotonic time, text)."""
        return [seen for seen in self.frames.records() if isinstance(seen, Said)]

    def parked_at(self, device: str, since: float) -> float | None:
        """When `device` was first seen parked (PARK On, Ok) from `since` on."""
        return next((at for at, dev, state, park in self.records()
                     if dev == device and at >= since and park == "On" and state == "Ok"),
                    None)

    def said_at(self, text: str, since: float) -> float | None:
        """When a message holding `text` was first seen from `since` on."""
        return next((at for at, said in self.messages if at >= since and text in said), None)

    def unparked_at(self, device: str, since: float) -> float | None:
        return next((at for at, dev, _state, park in self.records()
                     if dev == device and at >= since and park == "Off"), None)

    def close(self) -> None:
        self.frames.close()


def child_pid(parent: int, program: str) -> int:
    """The pid of `parent`'s child running `program` (indiserver's driver)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(
                    program.encode()):
                return int(pid)
    raise AssertionError(f"no child {program} of {parent}: {children}")


@dataclass
class OurRig:
    """Our watchdog in-process, the simulators' drivers (``pids``), a client of the server."""

    client: Client
    port: int
    pids: dict[str, int]

    def parked(self) -> bool:
        client = self.client
        return all(client.devices.vector(device, vector) is not None
                   and client.get(device, vector, "PARK") == "On"
                   and client.vector(device, vector).state == "Ok"
                   for device, vector in ((MOUNT, "TELESCOPE_PARK"), (DOME, "DOME_PARK")))

    def cause(self) -> str:
        return str(self.client.get("WatchDog", "WATCHDOG_CAUSE", "CAUSE"))

    async def parked_within(self, seconds: float) -> float:
        """Seconds until mount and dome are both parked (Ok), failing after `seconds`."""
        start = time.monotonic()
        await until(self.parked, seconds, lambda: f"mount and dome parked ({self.cause()!r}; "
                    f"{[m.message for m in self.client.messages][-12:]})")
        return time.monotonic() - start


@contextlib.asynccontextmanager
async def our_rig(tmp_path: Path, *extra: str, stale: int = STALE, restarts: int = 0,
                  **options: Any) -> AsyncIterator[OurRig]:
    """Ours with the simulators connected and set up by `configure` (plus WATCHDOG_STALE
    and PAUSE_SEQUENCE off: no sequencer here), safe, before the test does anything; a
    simulator that dies is restarted up to `restarts` times (none by default)."""
    driver = watchdog(tmp_path, **options)
    ours = server(driver)
    drivers = {program: ours.add_exdriver(program, max_restarts=restarts)
               for program in SIMULATORS}
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:
        port = ours.port
        await asyncio.to_thread(connect_simulators, port)
        await asyncio.to_thread(
            configure, port, f"WatchDog.WATCHDOG_STALE.WATCHDOG_STALE_VALUE={stale}",
            "WatchDog.WATCHDOG_SHUTDOWN.PAUSE_SEQUENCE=Off", *extra)
        rig = OurRig(client, port, {program: driver.pid or 0
                                    for program, driver in drivers.items()})
        await unparked_and_safe(rig)
        yield rig


async def unparked_and_safe(rig: OurRig) -> None:
    """The mount and the dome unparked, then the watchdog's SAFE light Ok, waited for."""
    client = rig.client
    await client.wait_for(MOUNT, "TELESCOPE_PARK", timeout=10)
    await client.wait_for(DOME, "DOME_PARK", timeout=10)
    await client.wait_for("WatchDog", "WATCHDOG_STATUS", timeout=10)
    if client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On":
        await client.set(MOUNT, "TELESCOPE_PARK", {"UNPARK": "On"}, timeout=30)
    if client.get(DOME, "DOME_PARK", "PARK") == "On":
        await client.set(DOME, "DOME_PARK", {"UNPARK": "On"}, timeout=30)
    await until(lambda: client.get("WatchDog", "WATCHDOG_STATUS", "SAFE") == "Ok", 20,
                lambda: f"the watchdog safe ({rig.cause()!r})")
