"""Issue 72 item 4, end to end: the sequencer's side of the safety contract as a watchdog
drives it, AGENT_SAFETY_CAUSE then AGENT_SAFETY.UNSAFE, then SAFE, on the agent our server
hosts beside our simulated camera, wheel and mount (executables). A frame being exposed is
aborted and taken again; darks and bias go on while unsafe only when the plan says so; the
night still unsafe past its night_end parks and ends; a client's pause during the hold
stands after SAFE. In-process, indipyclient as the watchdog."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import TELESCOPE_PROGRAM
from nightkit import Hosted
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from waiting import until

from indipyagents.journal import Journal
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Safety
from indipyagents.sequencer.engine import ENDED_UNSAFE
from indipycore import astro

MOUNT = "Python Mount"
#: A target at the sidereal time, Dec 80: high now at our mount's site (Greenwich), a short
#: slew from the pole where the simulated mount starts.
DEC = 80.0


def plan(*, sky_free: bool = False, night_end: datetime | None = None,
         exposure: float = 2.0) -> Plan:
    """Two light frames of a target high now, then two darks and a bias."""
    ra = astro.local_sidereal_time(datetime.now(UTC), 0.0)
    end = None if night_end is None else night_end.replace(microsecond=0)
    return night("safety",
                 target("High", Batch(2, exposure, "Red"), ra=round(ra, 4), dec=DEC),
                 target("Darks", Batch(2, 0.2, frame_type="Dark"),
                        Batch(1, 0, frame_type="Bias"), slew=False),
                 camera=CCD, wheel="Python Filter Wheel", mount=MOUNT, park=True, warm=True,
                 safety=Safety(sky_free_while_unsafe=sky_free, night_end=end))


LIGHTS = ["lights/Red/High_Red_Light_001.fits", "lights/Red/High_Red_Light_002.fits"]
CALIBRATION = ["biases/Darks_NoFilter_Bias_001.fits", "darks/Darks_NoFilter_Dark_001.fits",
               "darks/Darks_NoFilter_Dark_002.fits"]


def state(night: Hosted, vector: str = "SEQUENCE_STATE") -> tuple[str, str]:
    found = night.client.devices.vector(AGENT, vector)
    return (found.state.value, found.message or "") if found is not None else ("", "")


async def exposing_a_light(night: Hosted, saved: int) -> None:
    """`saved` frames on disk and the camera exposing the next."""
    def busy() -> bool:
        vector = night.client.devices.vector(CCD, "CCD_EXPOSURE")
        folder = night.frames / "night"
        return vector is not None and vector.state.value == "Busy" and folder.exists() \
            and len(fits_files(folder)) == saved

    await until(busy, 60, f"{saved} frames saved and the next being exposed")


async def unsafe(night: Hosted, cause: str) -> None:
    """What the watchdog's PAUSE_SEQUENCE step does: the cause, then UNSAFE, answered Ok."""
    said = await night.client.set(AGENT, "AGENT_SAFETY_CAUSE", {"CAUSE": cause}, timeout=10)
    assert said.ok, said
    answer = await night.client.set(AGENT, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=10)
    assert answer.ok and night.client.get(AGENT, "AGENT_SAFETY", "UNSAFE") == "On", answer


async def safe(night: Hosted) -> None:
    answer = await night.client.set(AGENT, "AGENT_SAFETY", {"SAFE": "On"}, timeout=10)
    assert answer.ok and night.client.get(AGENT, "AGENT_SAFETY", "SAFE") == "On", answer


async def held(night: Hosted, cause: str) -> None:
    wanted = ("Busy", f"held: unsafe ({cause})")
    await until(lambda: state(night) == wanted, 60, lambda: f"{wanted}, not {state(night)}")


def journal_records(night: Hosted) -> list[dict[str, object]]:
    journals = list((night.frames / "night" / ".journal").iterdir())
    assert len(journals) == 1, journals
    return Journal(journals[0]).records()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("sky_free", [True, False], ids=["sky free", "not sky free"])
async def test_unsafe_aborts_the_light_in_hand_and_darks_go_on_only_if_the_plan_says(
        tmp_path: Path, sky_free: bool) -> None:
    """UNSAFE while the second light frame is exposed: the camera's exposure is aborted
    (CCD_EXPOSURE leaves Busy, no file), SEQUENCE_STATE Busy "held: unsafe (<cause>)"; with
    sky_free_while_unsafe the darks and the bias are taken meanwhile, without it nothing is.
    SAFE: the plan ends Ok with exactly its six frames, each journalled once; the light cut
    short was begun twice."""
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM) as night:
        await load_and_start(night.client, tmp_path, plan(sky_free=sky_free))
        await exposing_a_light(night, 1)
        await unsafe(night, "weather 'Weather Simulator': rain")
        await held(night, "weather 'Weather Simulator': rain")
        exposure = night.client.devices.vector(CCD, "CCD_EXPOSURE")
        assert exposure is not None and exposure.state.value != "Busy"
        folder = night.frames / "night"
        assert fits_files(folder) == sorted([LIGHTS[0], *(CALIBRATION if sky_free else [])])
        await safe(night)
        assert await sequence_ends(night.client, 90) == ("Ok", "done")
        records = journal_records(night)
    assert fits_files(folder) == sorted([*LIGHTS, *CALIBRATION])
    frames = [r["file"] for r in records if r["kind"] == "frame"]
    assert sorted(map(str, frames)) == sorted([*LIGHTS, *CALIBRATION])
    begun = [r["step"] for r in records if r["kind"] == "begin"]
    assert begun.count("High/0/Red/Light/002") == 2


@pytest.mark.timeout(180)
async def test_still_unsafe_past_night_end_parks_warms_and_ends(tmp_path: Path) -> None:
    """The plan's night_end passes while held: the mount is parked (TELESCOPE_PARK.PARK On),
    SEQUENCE_STATE Alert "ended: unsafe past the end of the night", the journal's last word
    an abort, so the agent resumes nothing after a restart (`Night.unfinished` is None)."""
    end = datetime.now(UTC) + timedelta(seconds=25)
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM) as night:
        await load_and_start(night.client, tmp_path, plan(night_end=end, exposure=4.0))
        await exposing_a_light(night, 0)
        await unsafe(night, "heartbeat lost")
        assert await sequence_ends(night.client, 90) == ("Alert", ENDED_UNSAFE)
        assert datetime.now(UTC) >= end
        assert night.client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On"
        assert fits_files(night.frames / "night") == []
        records = journal_records(night)
        assert records[-1]["kind"] == "aborted" and records[-1]["reason"] == ENDED_UNSAFE
        assert night.agent.night is not None and night.agent.night.unfinished() is None


@pytest.mark.timeout(180)
async def test_a_clients_pause_during_the_hold_stands_after_safe(tmp_path: Path) -> None:
    """PAUSE while held: SEQUENCE_STATE Idle; SAFE then resumes nothing (still Idle, no new
    frame); the client's START continues to exactly the plan's frames."""
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM) as night:
        await load_and_start(night.client, tmp_path, plan())
        await exposing_a_light(night, 1)
        await unsafe(night, "rain")
        await held(night, "rain")
        await night.client.set(AGENT, "AGENT_PAUSE_PROCESS", {"PAUSE": "On"}, wait=False)
        await until(lambda: state(night)[0] == "Idle", 30, lambda: f"Idle, not {state(night)}")
        await safe(night)
        # A round trip after SAFE's answer: anything SAFE had started would show by now.
        await night.client.set(AGENT, "AGENT_SAFETY_CAUSE", {"CAUSE": ""}, timeout=10)
        assert state(night)[0] == "Idle"
        assert night.client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "Off"
        folder = night.frames / "night"
        assert fits_files(folder) == [LIGHTS[0]]
        await night.client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        assert await sequence_ends(night.client, 90) == ("Ok", "done")
    assert fits_files(folder) == sorted([*LIGHTS, *CALIBRATION])
