"""Issue 93 item 4, end to end: a night tells its owner through Apprise, off its path. The
agent hosted in-process beside our camera, wheel and mount (executables), its plan's
``[notify]`` naming a JSON webhook of the test and a service that never answers: the hold, the
safe again and the night's end (with its summary and its page's link) reach the webhook while
the hung service still holds the first message unanswered, so no frame waited on it; once that
service is gone, each of its messages is dropped after the retries with one log line. Then a
real rain: indilib's weather simulator, our watchdog's verdict, the hold and its end at the
webhook; and a camera lost past the retries, then back."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import QUICK_RETRY
from nightkit import TELESCOPE_PROGRAM
from nightkit import fits_files
from nightkit import high_target
from nightkit import hosted
from nightkit import load_and_start
from nightkit import rain
from nightkit import sequence
from nightkit import sequence_ends
from nightkit import watch_the_weather
from nightkit import watched
from notifykit import JsonReceiver
from notifykit import SilentReceiver
from serverkit import running
from waiting import until

import indipyclient
from indipyagents.notify import Notifier
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.notifying import NotifySettings
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry

WHEEL = "Python Filter Wheel"
MOUNT = "Python Mount"
LIGHTS = ["lights/Red/High_Red_Light_001.fits", "lights/Red/High_Red_Light_002.fits",
          "lights/Red/High_Red_Light_003.fits"]


def exposing(client: indipyclient.Client) -> bool:
    vector = client.devices.vector(CCD, "CCD_EXPOSURE")
    return vector is not None and vector.state.value == "Busy"


def told(urls: list[str], **settings: object) -> Plan:
    """Three light frames of a target high now, its owner told at `urls`."""
    plan = night("told", high_target(), camera=CCD, wheel=WHEEL, mount=MOUNT)
    return replace(plan, notify=NotifySettings(urls=tuple(urls), **settings))  # type: ignore[arg-type]


@pytest.mark.timeout(180)
async def test_a_hung_service_delays_no_frame_and_its_messages_are_dropped(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "indipyagents.notify")
    with SilentReceiver().running() as hung, JsonReceiver().running() as hook:
        async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM) as agent:
            assert agent.agent.night is not None
            # Each attempt bounded far past the night (and Apprise's own read timeout too):
            # only the service's end ends the hung attempt.
            notifier = agent.agent.night.notifier = Notifier(
                retry=Retry(ConstantBackoff(0.5), retries=1), bound=150.0)
            plan = told([hung.url() + "?cto=150&rto=150", hook.url()],
                        web="http://observatory.local:8000")
            await load_and_start(agent.client, tmp_path, plan)
            folder = agent.frames / "night"

            def exposing_the_second() -> bool:
                vector = agent.client.devices.vector(CCD, "CCD_EXPOSURE")
                return vector is not None and vector.state.value == "Busy" \
                    and folder.exists() and len(fits_files(folder)) == 1

            await until(exposing_the_second, 90, "the first light saved, the second exposing")
            said = await agent.client.set(AGENT, "AGENT_SAFETY_CAUSE", {"CAUSE": "rain"},
                                          timeout=10)
            assert said.ok, said
            await agent.client.set(AGENT, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=10)
            await until(lambda: sequence(agent.client) == ("Busy", "held: unsafe (rain)"), 60,
                        lambda: f"held, not {sequence(agent.client)}")
            await agent.client.set(AGENT, "AGENT_SAFETY", {"SAFE": "On"}, timeout=10)
            assert await sequence_ends(agent.client, 120) == ("Ok", "done")
            assert fits_files(folder) == LIGHTS
            await until(lambda: len(hook.received) == 3, 30, lambda: hook.titles())
            # The night took its frames and ended while the hold's message to the hung
            # service was still unanswered: nothing of the night waited on it.
            assert hung.open() == 1 and hung.accepted == 1
            assert notifier.dropped == 0
            hung.refuse()
            await notifier.drained()
    assert hook.titles() == ["told: held (unsafe)", "told: safe again", "told: night over"]
    hold, _, end = hook.received
    assert hold["message"] == "The night is held: rain. It goes on by itself once safe."
    assert end["message"] == ("Finished: the plan is done.\nHigh: 3 of 3 frames taken\n\n"
                              "The night: http://observatory.local:8000/night/night")
    warned = [r.getMessage() for r in caplog.records
              if r.name.startswith("indipyagents.notify") and r.levelno >= logging.WARNING]
    assert warned == [f"notification {title!r} to json://127.0.0.1 dropped after 2 tries: "
                      "json://127.0.0.1 did not take it" for title in hook.titles()]
    assert (notifier.sent, notifier.dropped) == (3, 3)


@pytest.mark.timeout(240)
async def test_a_real_rain_tells_the_hold_and_its_end(tmp_path: Path) -> None:
    """indilib's weather simulator wet while the second light is exposed: our watchdog holds
    the night (AGENT_SAFETY), the webhook hears the hold with the watchdog's cause; dry again,
    it hears the night go on, then its end with the three frames taken."""
    served = watched(tmp_path, "indi_simulator_weather")
    with JsonReceiver().running() as hook:
        async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
            await watch_the_weather(client, resume=2, park_mount=False)
            await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                             timeout=10)
            await load_and_start(client, tmp_path, told(
                [hook.url()], events=("hold", "hold_end", "night_end")))
            folder = tmp_path / "frames" / "night"

            def exposing_the_second() -> bool:
                vector = client.devices.vector(CCD, "CCD_EXPOSURE")
                return vector is not None and vector.state.value == "Busy" \
                    and folder.exists() and len(fits_files(folder)) == 1

            await until(exposing_the_second, 90, "the first light saved, the second exposing")
            await rain(client, True)
            await until(lambda: hook.titles() == ["told: held (unsafe)"], 60,
                        lambda: f"the hold told, not {hook.titles()}")
            await rain(client, False)
            assert await sequence_ends(client, 120) == ("Ok", "done")
            await until(lambda: len(hook.received) == 3, 30, lambda: hook.titles())
    assert hook.titles() == ["told: held (unsafe)", "told: safe again", "told: night over"]
    cause = "weather 'Weather Simulator': WEATHER_STATUS is Alert"
    assert hook.received[0]["message"] == (f"The night is held: {cause}. It goes on by itself "
                                           "once safe.")
    assert hook.received[0]["type"] == "warning"
    assert "High: 3 of 3 frames taken" in hook.received[2]["message"]
    assert fits_files(folder) == LIGHTS


@pytest.mark.timeout(120)
async def test_a_camera_lost_and_back_is_told(tmp_path: Path) -> None:
    """The camera's driver killed and not restarted: once the retries are spent the webhook
    hears it lost, with the error; started again, it hears it back, then the night's end."""
    with JsonReceiver().running() as hook:
        async with hosted(tmp_path, CCD_PROGRAM, retry=QUICK_RETRY, max_restarts=0) as agent:
            camera = agent.drivers[0]
            plan = night("told", target("Nowhere", Batch(2, 1), slew=False), camera=CCD)
            await load_and_start(agent.client, tmp_path, replace(
                plan, notify=NotifySettings(urls=(hook.url(),))))
            await until(lambda: agent.client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 1,
                        30, "the first frame saved")
            await until(lambda: exposing(agent.client), 30, "the second frame exposing")
            assert camera.pid is not None
            os.kill(camera.pid, signal.SIGKILL)
            await until(lambda: hook.titles() == [f"told: {CCD} lost"], 45,
                        lambda: f"the camera said lost, not {hook.titles()}")
            agent.server.remove_connection(camera)
            agent.server.add_exdriver(CCD_PROGRAM, max_restarts=0)
            assert await sequence_ends(agent.client, 60, ("Ok",)) == ("Ok", "done")
            await until(lambda: len(hook.received) == 3, 30, lambda: hook.titles())
    assert hook.titles() == [f"told: {CCD} lost", f"told: {CCD} back", "told: night over"]
    lost = hook.received[0]["message"]
    assert lost.startswith(f"{CCD} is lost (") and "tried 3 times" in lost, lost
    assert lost.endswith("The night waits for it to come back.")
    assert "Nowhere: 2 of 2 frames taken" in hook.received[2]["message"]


@pytest.mark.timeout(120)
async def test_the_agents_own_notify_tells_of_a_plan_without_one(tmp_path: Path) -> None:
    """Issue 93 item 4's "or in the agent's configuration": the agent's state folder's
    notify.toml names the webhook; a plan with no [notify] is told through it (the night's
    end); a wrong value there refuses the start at its line."""
    state = tmp_path / "state"
    state.mkdir()
    plan = night("told", target("Nowhere", Batch(1, 0.5), slew=False), camera=CCD)
    with JsonReceiver().running() as hook:
        (state / "notify.toml").write_text(f'[notify]\nurls = ["{hook.url()}"]\n')
        async with hosted(tmp_path, CCD_PROGRAM) as agent:
            await load_and_start(agent.client, tmp_path, plan)
            assert await sequence_ends(agent.client, 60, ("Ok",)) == ("Ok", "done")
            await until(lambda: hook.titles() == ["told: night over"], 30,
                        lambda: f"the night's end told, not {hook.titles()}")
            (state / "notify.toml").write_text('[notify]\nurls = []\nrejected_in_a_row = 0\n')
            (tmp_path / "again").mkdir()
            await load_and_start(agent.client, tmp_path / "again", replace(plan, folder="again"))
            state_, message = await sequence_ends(agent.client, 60)
            assert state_ == "Alert" and "notify.toml, line 3" in message, message
