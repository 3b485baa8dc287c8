"""The watchdog's tests' small rig, in-process under our server: a sequencer with the
contract's AGENT_SAFETY and AGENT_SAFETY_CAUSE (what helper wdseq builds on the Imager Agent),
a mount (TELESCOPE_PARK) that can be told to refuse, a roof (DOME_SHUTTER only), a camera
(CCD_ABORT_EXPOSURE, CCD_COOLER); every request each receives is recorded, in order, in
`Rig.requests`. And the watchdog made with a fast retry policy, and a client to drive it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from agentkit import AGENT
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.watchdog import make_driver
from indipyagents.watchdog.agent import WatchdogDriver
from indipyclient import Client
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector

SEQUENCER = AGENT
MOUNT = "Test Mount"
ROOF = "Test Roof"
CAMERA = "Test Camera"
#: Fast enough for a test: two retries 0.2 s apart, short bounds.
FAST = Retry(ConstantBackoff(0.2), retries=2)
BOUNDS = {"PAUSE_SEQUENCE": 3.0, "STOP_GUIDING": 3.0, "ABORT_EXPOSURE": 3.0, "PARK_MOUNT": 3.0,
          "PARK_DOME": 3.0, "WARM_CAMERA": 3.0, "EXECUTE_SCRIPT": 10.0}


def _switches(name: str, members: list[tuple[str, str]], rule: str = "OneOfMany"
              ) -> SwitchVector:
    return SwitchVector(name, name, "Main", "rw", rule, "Idle",
                        [SwitchMember(member, member, value) for member, value in members])


@dataclass
class Rig:
    """What the doubles received (device, vector, values, monotonic time) and how the mount
    answers a park (`refuse_park`)."""

    requests: list[tuple[str, str, dict[str, str], float]] = field(default_factory=list)
    refuse_park: bool = False
    #: Seconds the mount takes to park (0: at once); a PARK while it parks aborts the park,
    #: as indilib's telescope simulator does, counted in `aborted`.
    slow_park: float = 0.0
    aborted: int = 0
    #: PARKs still to answer as indilib's telescope simulator answers indi_watchdog's lost
    #: re-park (an UNPARK reached it): Idle, UNPARK on, "Telescope already unparked.".
    lose_parks: int = 0

    def of(self, device: str, vector: str) -> list[dict[str, str]]:
        return [values for dev, vec, values, _ in self.requests
                if dev == device and vec == vector]

    def order(self) -> list[str]:
        return [vector for _, vector, _, _ in self.requests]


class Doubles(IPyDriver):
    """The sequencer, mount, roof and camera doubles, answering as indilib's would."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self._parking: asyncio.Task[None] | None = None
        super().__init__(
            Device(SEQUENCER, [
                _switches("AGENT_SAFETY", [("SAFE", "On"), ("UNSAFE", "Off")]),
                TextVector("AGENT_SAFETY_CAUSE", "Cause", "Main", "rw", "Idle",
                           [TextMember("CAUSE", "Cause", "")])]),
            Device(MOUNT, [_switches("TELESCOPE_PARK", [("PARK", "Off"), ("UNPARK", "On")])]),
            Device(ROOF, [_switches("DOME_SHUTTER", [("SHUTTER_OPEN", "On"),
                                                     ("SHUTTER_CLOSE", "Off")], "AtMostOne")]),
            Device(CAMERA, [_switches("CCD_ABORT_EXPOSURE", [("ABORT", "Off")], "AtMostOne"),
                            _switches("CCD_COOLER", [("COOLER_ON", "On"),
                                                     ("COOLER_OFF", "Off")])]))

    async def rxevent(self, event: Any) -> None:
        name = event.vectorname
        if name is None or name == "CONNECTION":
            return
        values = dict(event.items())
        self.rig.requests.append((event.devicename, name, values, time.monotonic()))
        vector = event.vector
        if name == "TELESCOPE_PARK" and self.rig.refuse_park and values.get("PARK") == "On":
            await vector.send_setVector(state="Alert", message="park refused (a test)")
            return
        if name == "TELESCOPE_PARK" and self.rig.lose_parks and values.get("PARK") == "On":
            self.rig.lose_parks -= 1
            vector["PARK"], vector["UNPARK"] = "Off", "On"
            await vector.send_setVector(state="Idle", message="Telescope already unparked.")
            return
        if name == "TELESCOPE_PARK" and self.rig.slow_park and values.get("PARK") == "On":
            await self._slow_park(vector)
            return
        for member, value in values.items():
            vector[member] = value
        if name == "CCD_ABORT_EXPOSURE":
            vector["ABORT"] = "Off"
        await vector.send_setVector(state="Ok")

    async def _slow_park(self, vector: Any) -> None:
        if self._parking is not None and not self._parking.done():
            self._parking.cancel()
            self.rig.aborted += 1
            vector["PARK"], vector["UNPARK"] = "Off", "On"
            await vector.send_setVector(state="Idle", message="Parking/Unparking aborted.")
            return
        vector["PARK"], vector["UNPARK"] = "On", "Off"
        await vector.send_setVector(state="Busy")

        async def parked() -> None:
            await asyncio.sleep(self.rig.slow_park)
            await vector.send_setVector(state="Ok", message="Mount is parked.")

        self._parking = asyncio.create_task(parked())


def watchdog(tmp_path: Path, **options: Any) -> WatchdogDriver:
    """The watchdog with the fast policy, its configuration in `tmp_path`."""
    options = {"retry": FAST, "bounds": BOUNDS, "repark_after": 1.0,
               "config_dir": str(tmp_path / "indi"), **options}
    return make_driver(**options)


@contextlib.asynccontextmanager
async def served(tmp_path: Path, rig: Rig, **options: Any
                 ) -> AsyncIterator[tuple[WatchdogDriver, Client]]:
    """Our server with the watchdog and the doubles, and a client of it."""
    driver = watchdog(tmp_path, **options)
    async with running(server(driver, Doubles(rig))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.wait_for("WatchDog", "WATCHDOG_STEPS", timeout=10)
        await client.wait_for(ROOF, "DOME_SHUTTER", timeout=10)
        yield driver, client


async def configure(client: Client, **settings: dict[str, Any]) -> None:
    """Each vector of the watchdog set and answered (the name as the keyword)."""
    for vector, values in settings.items():
        result = await client.set("WatchDog", vector, values, timeout=10)
        assert result.state in ("Ok", "Alert"), result


async def point_at_doubles(client: Client, *, ccd: str = CAMERA) -> None:
    """ACTIVE_DEVICES naming the doubles (no weather: the heartbeat triggers)."""
    await configure(client, ACTIVE_DEVICES={
        "ACTIVE_TELESCOPE": MOUNT, "ACTIVE_DOME": ROOF, "ACTIVE_WEATHER": "",
        "ACTIVE_CCD": ccd, "ACTIVE_SEQUENCER": SEQUENCER})


async def heartbeat_shutdown(client: Client, seconds: float = 1.0) -> None:
    """The client trigger armed (value first, as indi_watchdog wants); no further beat."""
    await configure(client, WATCHDOG_HEARTBEAT={"WATCHDOG_HEARTBEAT_VALUE": seconds},
                    WATCHDOG_Trigger={"TRIGGER_CLIENT": "On"})


async def steps_done(client: Client, timeout: float = 30.0) -> dict[str, str]:
    """WATCHDOG_STEPS once the shutdown ended (WATCHDOG_SHUTDOWN Ok or Alert after Busy)."""
    await until(lambda: client.vector("WatchDog", "WATCHDOG_SHUTDOWN").state
                in ("Ok", "Alert") and "Busy" not in dict(client.vector("WatchDog",
                                                                          "WATCHDOG_STEPS")
                                                          ).values()
                and any(value != "Idle" for value in dict(
                    client.vector("WatchDog", "WATCHDOG_STEPS")).values()),
                timeout, "the shutdown's end")
    return dict(client.vector("WatchDog", "WATCHDOG_STEPS"))


def messages(client: Client) -> list[str]:
    return [message.message for message in client.messages]


async def said(client: Client, *parts: str, timeout: float = 10.0) -> str:
    """The first message from the server holding every one of `parts`, once it has come."""
    def found() -> str | None:
        return next((text for text in messages(client) if all(p in text for p in parts)), None)

    text: str = await until(found, timeout, lambda: f"a message with {parts}: {messages(client)}")
    return text
