"""Issue 72 item 3: the shutdown finishes. The steps in order, each Busy then Ok or Alert in
WATCHDOG_STEPS; the sequencer paused by the contract (AGENT_SAFETY_CAUSE, then
AGENT_SAFETY.UNSAFE) and told SAFE once safe for WATCHDOG_RESUME_VALUE; the script given the
cause; a refusing mount retried, then Alert while the rest go on, and parked again later; a
mount unparked while unsafe parked again, and asked again when it loses that park. In-process, against small devices of the test's
own (watchdogkit)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from waiting import until
from watchdogkit import CAMERA
from watchdogkit import MOUNT
from watchdogkit import ROOF
from watchdogkit import SEQUENCER
from watchdogkit import Rig
from watchdogkit import configure
from watchdogkit import heartbeat_shutdown
from watchdogkit import point_at_doubles
from watchdogkit import said
from watchdogkit import served
from watchdogkit import steps_done

from indipyclient import Client

ALL_STEPS = {"PAUSE_SEQUENCE": "On", "ABORT_EXPOSURE": "On", "PARK_MOUNT": "On",
             "PARK_DOME": "On", "WARM_CAMERA": "On", "EXECUTE_SCRIPT": "On"}


def _script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "shutdown.sh"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def test_every_step_in_order_with_the_cause_in_the_scripts_environment(
        tmp_path: Path) -> None:
    """With MOUNT_LOCKS, a heartbeat that stops runs the steps in the contract's order (the
    cause, UNSAFE, abort, park, the roof closed, cooler off, the script), every light Ok; the
    script sees the cause and the device in its environment."""
    rig = Rig()
    seen = tmp_path / "seen.txt"
    script = _script(tmp_path, f'echo "$INDIPY_WATCHDOG_CAUSE|$INDIPY_WATCHDOG_SOURCE" > {seen}')
    async with served(tmp_path, rig) as (_driver, client):
        await point_at_doubles(client)
        await configure(client, WATCHDOG_SETTINGS={"SHUTDOWN_SCRIPT": str(script)},
                        WATCHDOG_SHUTDOWN=ALL_STEPS,
                        WATCHDOG_MOUNT_POLICY={"MOUNT_LOCKS": "On"})
        await heartbeat_shutdown(client)
        steps = await steps_done(client)
        # STOP_GUIDING (on by default) is skipped: no ACTIVE_GUIDER named.
        assert steps == {**dict.fromkeys(ALL_STEPS, "Ok"), "STOP_GUIDING": "Idle"}, steps
        assert rig.order() == ["AGENT_SAFETY_CAUSE", "AGENT_SAFETY", "CCD_ABORT_EXPOSURE",
                               "TELESCOPE_PARK", "DOME_SHUTTER", "CCD_COOLER"], rig.requests
        assert rig.of(SEQUENCER, "AGENT_SAFETY") == [{"UNSAFE": "On"}]
        assert rig.of(SEQUENCER, "AGENT_SAFETY_CAUSE") == [
            {"CAUSE": "client heartbeat: no heartbeat for 1 s"}]
        assert rig.of(ROOF, "DOME_SHUTTER") == [{"SHUTTER_CLOSE": "On"}]
        assert rig.of(CAMERA, "CCD_COOLER") == [{"COOLER_OFF": "On"}]
        assert seen.read_text() == "client heartbeat: no heartbeat for 1 s|client\n"
        assert client.vector("WatchDog", "WATCHDOG_SHUTDOWN").state == "Ok"
        assert client.get("WatchDog", "WATCHDOG_STATUS", "SAFE") == "Alert"
        assert client.vector("WatchDog", "WATCHDOG_CAUSE").state == "Alert"


async def test_safe_again_for_the_resume_time_tells_the_sequencer_safe(tmp_path: Path) -> None:
    """After the heartbeat comes back and stays for WATCHDOG_RESUME_VALUE, the sequencer's
    AGENT_SAFETY is set SAFE; the mount is not unparked (the sequencer re-slews)."""
    rig = Rig()
    async with served(tmp_path, rig) as (_driver, client):
        await point_at_doubles(client)
        await configure(client, WATCHDOG_SHUTDOWN={"PARK_MOUNT": "On"},
                        WATCHDOG_RESUME={"WATCHDOG_RESUME_VALUE": 1})
        await heartbeat_shutdown(client, 2.0)
        await steps_done(client)
        assert rig.of(SEQUENCER, "AGENT_SAFETY") == [{"UNSAFE": "On"}]
        for _ in range(3):  # beats again, within its 2 s each time
            await configure(client, WATCHDOG_HEARTBEAT={"WATCHDOG_HEARTBEAT_VALUE": 2})
            await until(lambda: client.get("WatchDog", "WATCHDOG_STATUS", "SAFE") == "Ok", 5)
        await until(lambda: len(rig.of(SEQUENCER, "AGENT_SAFETY")) == 2, 10,
                    "AGENT_SAFETY SAFE")
        assert rig.of(SEQUENCER, "AGENT_SAFETY")[1] == {"SAFE": "On"}
        assert rig.of(MOUNT, "TELESCOPE_PARK") == [{"PARK": "On"}]
        await configure(client, WATCHDOG_Trigger={"TRIGGER_CLIENT": "Off"})


async def test_a_refused_park_is_retried_then_alert_and_the_rest_go_on(tmp_path: Path) -> None:
    """Item 6: a mount answering the park Alert is asked three times (the policy's two
    retries), its step turns Alert with a message; the roof and the script still run; and the
    watchdog, still watching, parks it again later once the mount takes it."""
    rig = Rig(refuse_park=True)
    ran = tmp_path / "ran"
    script = _script(tmp_path, f"touch {ran}")
    async with served(tmp_path, rig) as (_driver, client):
        await point_at_doubles(client)
        await configure(client, WATCHDOG_SETTINGS={"SHUTDOWN_SCRIPT": str(script)},
                        WATCHDOG_SHUTDOWN={"PARK_MOUNT": "On", "PARK_DOME": "On",
                                           "EXECUTE_SCRIPT": "On", "PAUSE_SEQUENCE": "Off"})
        await heartbeat_shutdown(client)
        steps = await steps_done(client)
        assert steps["PARK_MOUNT"] == "Alert" and steps["PARK_DOME"] == "Ok", steps
        assert steps["EXECUTE_SCRIPT"] == "Ok" and ran.exists()
        assert len(rig.of(MOUNT, "TELESCOPE_PARK")) == 3
        await said(client, "PARK_MOUNT failed", "park refused")
        assert client.vector("WatchDog", "WATCHDOG_SHUTDOWN").state == "Alert"
        rig.refuse_park = False
        await until(lambda: client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On", 15,
                    "the park tried again")
        await until(lambda: client.get("WatchDog", "WATCHDOG_STEPS", "PARK_MOUNT") == "Ok", 5)


async def test_a_park_slower_than_its_bound_is_waited_for_not_asked_again(
        tmp_path: Path) -> None:
    """A mount that takes 5 s to park, with the step's bound 3 s: the retry finds the park
    under way (Busy, PARK on) and waits for it instead of asking again, which would abort it
    on indilib's telescope simulator; the step ends Ok after one PARK, none aborted."""
    rig = Rig(slow_park=5.0)
    async with served(tmp_path, rig) as (_driver, client):
        steps = await parks_after_a_lost_heartbeat(client, dome=False)
    assert steps["PARK_MOUNT"] == "Ok", steps
    assert len(rig.of(MOUNT, "TELESCOPE_PARK")) == 1 and rig.aborted == 0


async def test_a_mount_unparked_while_unsafe_is_parked_again(tmp_path: Path) -> None:
    """While the heartbeat is still missing, a client unparking the mount sees it parked
    again within a few ticks, and the roof opened is closed again."""
    rig = Rig()
    async with served(tmp_path, rig) as (_driver, client):
        await parks_after_a_lost_heartbeat(client, dome=True)
        await client.set(MOUNT, "TELESCOPE_PARK", {"UNPARK": "On"})
        await client.set(ROOF, "DOME_SHUTTER", {"SHUTTER_OPEN": "On"})
        await until(lambda: len(rig.of(MOUNT, "TELESCOPE_PARK")) == 3, 10, "the re-park")
        assert rig.of(MOUNT, "TELESCOPE_PARK")[-1] == {"PARK": "On"}
        await until(lambda: rig.of(ROOF, "DOME_SHUTTER")[-1] == {"SHUTTER_CLOSE": "On"}, 10)
        await said(client, "unparked while unsafe")


async def test_a_re_park_the_mount_loses_is_asked_again(tmp_path: Path) -> None:
    """A re-park answered as indi_watchdog's lost one is (Idle, the mount still unparked:
    "Telescope already unparked.") is not taken for done: the mount is asked again and
    parked, where indi_watchdog, acting on the change to unparked only, leaves it unparked."""
    rig = Rig()
    async with served(tmp_path, rig) as (_driver, client):
        await parks_after_a_lost_heartbeat(client, dome=False)
        rig.lose_parks = 1
        await client.set(MOUNT, "TELESCOPE_PARK", {"UNPARK": "On"})
        await until(lambda: len(rig.of(MOUNT, "TELESCOPE_PARK")) == 4, 10, "the park again")
        await until(lambda: client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On", 5)
        assert rig.lose_parks == 0
        assert rig.of(MOUNT, "TELESCOPE_PARK")[1:] == [{"UNPARK": "On"}, {"PARK": "On"},
                                                      {"PARK": "On"}]


async def test_a_step_whose_device_is_missing_is_alert_at_once(tmp_path: Path) -> None:
    """Item 6: ACTIVE_CCD naming a camera the server lacks is accepted but Alert with a
    message saying so; at shutdown its step is Alert without waiting, the parks still run; a
    step whose device is named "" is skipped (Idle), said once."""
    rig = Rig()
    async with served(tmp_path, rig) as (_driver, client):
        await point_at_doubles(client, ccd="No Such Camera")
        await until(lambda: client.vector("WatchDog", "ACTIVE_DEVICES").state == "Alert", 10)
        assert client.get("WatchDog", "ACTIVE_DEVICES", "ACTIVE_CCD") == "No Such Camera"
        await said(client, "ACTIVE_CCD 'No Such Camera' not on the server")
        await configure(client, WATCHDOG_SHUTDOWN={"ABORT_EXPOSURE": "On", "PARK_MOUNT": "On",
                                                   "PAUSE_SEQUENCE": "On"},
                        ACTIVE_DEVICES={"ACTIVE_SEQUENCER": ""})
        await heartbeat_shutdown(client)
        steps = await steps_done(client)
        assert steps["ABORT_EXPOSURE"] == "Alert" and steps["PARK_MOUNT"] == "Ok", steps
        assert steps["PAUSE_SEQUENCE"] == "Idle"
        await said(client, "PAUSE_SEQUENCE skipped")
        assert rig.of(SEQUENCER, "AGENT_SAFETY") == []


async def test_a_missing_or_unusable_script(tmp_path: Path) -> None:
    """Item 6: SHUTDOWN_SCRIPT missing, then not executable: WATCHDOG_SETTINGS Alert with a
    message each time (the path kept); at shutdown EXECUTE_SCRIPT is Alert and the park runs."""
    rig = Rig()
    plain = tmp_path / "plain.sh"
    plain.write_text("#!/bin/sh\n")
    os.chmod(plain, 0o644)
    async with served(tmp_path, rig) as (_driver, client):
        await point_at_doubles(client)
        await configure(client, WATCHDOG_SETTINGS={"SHUTDOWN_SCRIPT": str(tmp_path / "nope")})
        assert client.vector("WatchDog", "WATCHDOG_SETTINGS").state == "Alert"
        await said(client, "does not exist")
        await configure(client, WATCHDOG_SETTINGS={"SHUTDOWN_SCRIPT": str(plain)})
        assert client.vector("WatchDog", "WATCHDOG_SETTINGS").state == "Alert"
        await said(client, "is not executable")
        await configure(client, WATCHDOG_SHUTDOWN={"PARK_MOUNT": "On", "EXECUTE_SCRIPT": "On",
                                                   "PAUSE_SEQUENCE": "Off"})
        assert client.vector("WatchDog", "WATCHDOG_SHUTDOWN").state == "Alert"
        await heartbeat_shutdown(client)
        steps = await steps_done(client)
        assert steps["EXECUTE_SCRIPT"] == "Alert" and steps["PARK_MOUNT"] == "Ok", steps
        await said(client, "EXECUTE_SCRIPT failed", "not executable")


async def parks_after_a_lost_heartbeat(client: Client, *, dome: bool) -> dict[str, str]:
    """The watchdog pointed at the doubles, set to park the mount (and the dome if `dome`),
    its heartbeat let lapse, and its shutdown's steps once done."""
    await point_at_doubles(client)
    await configure(client, WATCHDOG_SHUTDOWN={"PARK_MOUNT": "On",
                                               "PARK_DOME": "On" if dome else "Off",
                                               "PAUSE_SEQUENCE": "Off"})
    await heartbeat_shutdown(client)
    return await steps_done(client)
